//! Finding an entry by name: ids, aliases, any spelling, and suggestions on a miss.

use servemath_hardware::{Catalog, HardwareError};

fn check(given: &str, expect_id: &str) {
    match Catalog::builtin().get(given) {
        Ok(h) => assert_eq!(h.id, expect_id, "{given}"),
        Err(e) => panic!("{given}: {e}"),
    }
}

fn check_miss(given: &str, expect_suggestion: Option<&str>) {
    match Catalog::builtin().get(given) {
        Err(HardwareError::Unknown { suggestion, .. }) => {
            assert_eq!(suggestion.as_deref(), expect_suggestion, "{given}")
        }
        other => panic!("{given}: expected an unknown-hardware error, got {other:?}"),
    }
}

#[test]
fn ids_and_aliases_resolve_in_any_spelling() {
    let cases = [
        ("h100-sxm", "h100-sxm"),
        ("H100-SXM", "h100-sxm"),
        ("h100_sxm", "h100-sxm"),
        ("H100 SXM", "h100-sxm"),
        ("h100", "h100-sxm"),
        ("a100", "a100-sxm"),
        ("h200-sxm", "h200"),
        ("gb200", "gb200-nvl72"),
        ("gb300", "gb300-nvl72"),
        ("rubin", "rubin-nvl72"),
        ("MI300X", "mi300x"),
        ("tpu7x", "tpu-v7"),
        ("ironwood", "tpu-v7"),
        ("trillium", "tpu-v6e"),
        ("v5e", "tpu-v5e"),
        ("tpu_v5p", "tpu-v5p"),
    ];
    for (given, id) in cases {
        check(given, id);
    }
}

#[test]
fn misspelt_names_suggest_the_nearest() {
    check_miss("h100-sxn", Some("h100-sxm"));
    check_miss("gb20", Some("gb200"));
    check_miss("mi30x", Some("mi300x"));
    check_miss("trilium", Some("trillium"));
    check_miss("banana-phone", None);
}

#[test]
fn unknown_names_say_what_was_meant() {
    let err = Catalog::builtin().get("h100-sxn").err();
    let message = err.map(|e| e.to_string()).unwrap_or_default();
    assert_eq!(
        message,
        "unknown hardware `h100-sxn` (did you mean `h100-sxm`?)"
    );
}

#[test]
fn aliases_are_listed_per_entry() {
    let catalog = Catalog::builtin();
    assert!(catalog.aliases_of("tpu-v7").contains(&"tpu7x"));
    assert!(catalog.aliases_of("h100-sxm").contains(&"h100"));
}
