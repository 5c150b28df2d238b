//! What every plot shares: the output format chosen by the file's extension and the embedded
//! font.

use anyhow::bail;
use std::path::Path;

/// DejaVu Sans (Bitstream Vera license, see assets/DejaVuSans-LICENSE.txt): the bitmap and SVG
/// backends measure text with it, so the plot does not depend on fonts installed on the host.
pub const FONT: &[u8] = include_bytes!("../../assets/DejaVuSans.ttf");
pub const FAMILY: &str = "sans-serif";
/// The image format of `--plot FILE`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Svg,
    Png,
}

impl Kind {
    /// The format a path's extension asks for; anything but `.svg` or `.png` is refused, as is
    /// a path whose directory does not exist (checked before any work is done).
    pub fn from_path(path: &Path) -> anyhow::Result<Kind> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase);
        let dir = path.parent().filter(|d| !d.as_os_str().is_empty());
        if let Some(dir) = dir.filter(|d| !d.is_dir()) {
            bail!(
                "--plot {}: directory `{}` does not exist",
                path.display(),
                dir.display()
            );
        }
        match ext.as_deref() {
            Some("svg") => Ok(Kind::Svg),
            Some("png") => Ok(Kind::Png),
            Some(other) => bail!(
                "--plot {}: unsupported extension `.{other}`; use .svg or .png",
                path.display()
            ),
            None => bail!(
                "--plot {}: no file extension; use .svg or .png",
                path.display()
            ),
        }
    }
}
