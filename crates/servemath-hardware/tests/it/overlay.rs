//! User files laid over the catalog: partial overrides inherit, new entries must be complete.

use servemath_hardware::{figure, Catalog, HardwareError};

use crate::{assert_close, builtin};

fn overlaid(toml: &str) -> Catalog {
    let mut catalog = Catalog::builtin();
    if let Err(e) = catalog.overlay(toml, "mine.toml") {
        panic!("overlay failed: {e}");
    }
    catalog
}

fn overlay_err(toml: &str) -> String {
    let mut catalog = Catalog::builtin();
    match catalog.overlay(toml, "mine.toml") {
        Ok(()) => panic!("overlay unexpectedly succeeded:\n{toml}"),
        Err(e) => {
            // A failed overlay leaves the catalog as it was.
            assert_eq!(catalog, Catalog::builtin());
            e.to_string()
        }
    }
}

#[test]
fn partial_override_changes_one_figure_and_inherits_the_rest() {
    let catalog = overlaid(
        r#"
[[hardware]]
id = "h100-sxm"
hbm_bytes_per_s = 3.0e12
"#,
    );
    let before = builtin("h100-sxm");
    let after = catalog
        .get("h100")
        .cloned()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_close("overridden bandwidth", 3.0e12, after.hbm_bytes_per_s, 1e-12);
    assert_eq!(
        after.source(figure::HBM_BYTES_PER_S),
        Some("mine.toml: user override (no source given)")
    );
    // Everything else is inherited unchanged, sources included.
    let restored = servemath_hardware::Hardware {
        hbm_bytes_per_s: before.hbm_bytes_per_s,
        sources: before.sources.clone(),
        ..after.clone()
    };
    assert_eq!(restored, before);
    assert_eq!(catalog.entries().len(), Catalog::builtin().entries().len());
}

#[test]
fn override_by_alias_keeps_the_id_and_its_own_source() {
    let catalog = overlaid(
        r#"
[[hardware]]
id = "rubin"
hbm_bytes_per_s = 22e12
[hardware.sources]
hbm_bytes_per_s = "NVIDIA CES 2026 launch figure"
"#,
    );
    let h = catalog
        .get("rubin-nvl72")
        .cloned()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_close("rubin launch bandwidth", 22e12, h.hbm_bytes_per_s, 1e-12);
    assert_eq!(
        h.source(figure::HBM_BYTES_PER_S),
        Some("NVIDIA CES 2026 launch figure")
    );
}

#[test]
fn price_override_replaces_source_and_date() {
    let catalog = overlaid("[[hardware]]\nid = \"h100\"\nusd_per_gpu_hour = 2.0\n");
    let price = catalog.get("h100").ok().and_then(|h| h.price.clone());
    let price = price.unwrap_or_else(|| panic!("no price"));
    assert_close("price", 2.0, price.usd_per_gpu_hour, 1e-12);
    assert_eq!(price.source, "mine.toml: user override (no source given)");
    assert_eq!(price.date, "unspecified");
}

const NEW_ENTRY: &str = r#"
[[hardware]]
id = "my-asic"
aliases = ["asic"]
name = "My ASIC"
vendor = "Me"
family = "other"
bf16_dense_flop_per_s = 500e12
hbm_bytes = 64e9
hbm_bytes_per_s = 2e12
scale_up_domain = 16
scale_up_bytes_per_s_per_dir = 200e9
scale_up_latency_s = 2e-6
scale_out_latency_s = 5e-6
"#;

#[test]
fn a_complete_new_entry_is_added_with_sources_naming_the_file() {
    let catalog = overlaid(NEW_ENTRY);
    let h = catalog
        .get("ASIC")
        .cloned()
        .unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(h.id, "my-asic");
    assert_eq!(catalog.ids().last(), Some("my-asic"));
    for key in h.stated_figures() {
        assert_eq!(
            h.source(key),
            Some("mine.toml: user override (no source given)"),
            "{key}"
        );
    }
}

#[test]
fn an_incomplete_new_entry_is_refused() {
    let toml = NEW_ENTRY.replace("hbm_bytes = 64e9\n", "");
    assert_eq!(
        overlay_err(&toml),
        "mine.toml: entry `my-asic`: missing required field `hbm_bytes`"
    );
}

#[test]
fn an_invalid_override_names_file_entry_field_and_value() {
    let message = overlay_err("[[hardware]]\nid = \"h100-sxm\"\nhbm_bytes_per_s = 0.0\n");
    assert_eq!(
        message,
        "mine.toml: entry `h100-sxm`: field `hbm_bytes_per_s` = 0: must be positive"
    );
}

#[test]
fn a_new_alias_may_not_take_another_entrys_name() {
    let toml = NEW_ENTRY.replace(r#"aliases = ["asic"]"#, r#"aliases = ["h100"]"#);
    assert!(overlay_err(&toml).contains("field `aliases` = \"h100\": already names `h100-sxm`"));
}

#[test]
fn a_later_error_undoes_the_earlier_entries_of_the_same_file() {
    let toml = format!("{NEW_ENTRY}\n[[hardware]]\nid = \"h100\"\ntdp_w = -1\n");
    let message = overlay_err(&toml);
    assert!(
        message.contains("entry `h100-sxm`: field `tdp_w` = -1: must be positive"),
        "{message}"
    );
}

#[test]
fn overlay_syntax_errors_are_parse_errors() {
    let mut catalog = Catalog::builtin();
    let err = catalog
        .overlay("[[hardware]]\nid = \"h100\"\nhbm_gb = 80\n", "mine.toml")
        .err();
    assert!(matches!(err, Some(HardwareError::Parse { .. })), "{err:?}");
}
