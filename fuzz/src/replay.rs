//! Replays a committed regression set through a harness: every file of
//! `fuzz/regressions/<target>/` and its `crashes/` must come back without a panic. The crates'
//! `tests/` include this file by path next to the harness of their target.

use std::path::{Path, PathBuf};

/// What a replay saw: how many files, and how many of them the parser accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Replayed {
    pub files: usize,
    pub accepted: usize,
}

/// Feeds every file of the regression set of `target` (found from the crate's manifest
/// directory) to `run`, which returns how many readings accepted the input.
pub fn replay(manifest_dir: &str, target: &str, run: impl Fn(&[u8]) -> usize) -> Replayed {
    let dir = Path::new(manifest_dir)
        .join("../../fuzz/regressions")
        .join(target);
    let mut seen = Replayed {
        files: 0,
        accepted: 0,
    };
    for path in files(&dir) {
        let data = std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        seen.files += 1;
        seen.accepted += usize::from(run(&data) > 0);
    }
    seen
}

/// Replays the set of `target` and checks it was there and reached the parser: at least two
/// files, and at least one accepted (the seeds are real files, so a set none of which parses
/// no longer reaches the parser's accepting paths). Panics, failing the test, otherwise.
#[track_caller]
pub fn check(manifest_dir: &str, target: &str, run: impl Fn(&[u8]) -> usize) {
    let seen = replay(manifest_dir, target, run);
    assert!(
        seen.files >= 2,
        "regression set of {target} is missing: {seen:?}"
    );
    assert!(
        seen.accepted > 0,
        "no input of {target} was accepted: {seen:?}"
    );
}

/// The set's files in name order, then those of its `crashes/`.
fn files(dir: &Path) -> Vec<PathBuf> {
    let list = |d: &Path| -> Vec<PathBuf> {
        let Ok(entries) = std::fs::read_dir(d) else {
            return Vec::new();
        };
        let mut v: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        v.sort();
        v
    };
    let mut all = list(dir);
    all.extend(list(&dir.join("crashes")));
    all
}
