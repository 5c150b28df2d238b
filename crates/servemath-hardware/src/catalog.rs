//! The catalog: the embedded `catalog/hardware.toml`, user overlays on it, and lookup by name.
//!
//! Pure: files arrive as `&str` with the name to quote in errors; reading them is the caller's
//! business.

use std::collections::BTreeMap;

use crate::accelerator::{Hardware, HardwareError};
use crate::raw::{self, normalize_name, RawEntry, Resolved};

const BUILTIN_TOML: &str = include_str!("../catalog/hardware.toml");

/// The name errors in the embedded catalog are reported under.
pub const BUILTIN_FILE: &str = "<builtin>/catalog/hardware.toml";

/// Validated accelerator entries, in catalog order, with their aliases.
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    entries: Vec<Hardware>,
    /// Normalized alias -> id of the entry it names. Never holds an id as a key.
    aliases: BTreeMap<String, String>,
}

impl Catalog {
    /// The catalog compiled into the binary.
    ///
    /// # Panics
    /// Only if the embedded file is invalid, which the unit test `builtin_catalog_parses`
    /// rules out for every build that passes its tests: the file is part of this crate, so a
    /// failure here is a build defect, not a user error.
    pub fn builtin() -> Catalog {
        Catalog::parse(BUILTIN_TOML, BUILTIN_FILE).expect(
            "the embedded catalog/hardware.toml is valid (tested by builtin_catalog_parses)",
        )
    }

    /// Parses a complete catalog file. Strict: every entry states every required field and a
    /// source for every figure, and ids are unique. `file` is the name quoted in errors.
    pub fn parse(toml: &str, file: &str) -> Result<Catalog, HardwareError> {
        let raw_file = raw::parse_file(toml, file)?;
        let mut catalog = Catalog {
            entries: Vec::new(),
            aliases: BTreeMap::new(),
        };
        for (index, entry) in raw_file.hardware.into_iter().enumerate() {
            let resolved = raw::resolve(entry, file, index)?;
            if catalog.position(&resolved.hardware.id).is_some() {
                return Err(duplicate(file, &resolved.hardware.id));
            }
            catalog.insert(resolved, file)?;
        }
        Ok(catalog)
    }

    /// Lays a user file over the catalog. An entry whose id (or alias) names an existing entry
    /// overrides it field by field and inherits the rest, so `id = "h100-sxm"` with
    /// `hbm_bytes_per_s = 3.0e12` changes only the bandwidth; any other entry is added and must
    /// be complete. Figures without a source get one naming `file`. On error the catalog is
    /// unchanged.
    pub fn overlay(&mut self, toml: &str, file: &str) -> Result<(), HardwareError> {
        let raw_file = raw::parse_file(toml, file)?;
        let mut next = self.clone();
        let mut seen: Vec<String> = Vec::new();
        for (index, mut entry) in raw_file.hardware.into_iter().enumerate() {
            entry.fill_missing_sources(file);
            let base = entry
                .id
                .as_deref()
                .and_then(|given| next.resolve_id(&normalize_name(given)).map(str::to_string));
            let entry = match &base {
                Some(id) => {
                    // Resolve an alias to the id it names, then inherit from that entry.
                    let raw_base = next.raw_entry(id);
                    RawEntry {
                        id: Some(id.clone()),
                        ..entry
                    }
                    .over(raw_base)
                }
                None => entry,
            };
            let resolved = raw::resolve(entry, file, index)?;
            if seen.contains(&resolved.hardware.id) {
                return Err(duplicate(file, &resolved.hardware.id));
            }
            seen.push(resolved.hardware.id.clone());
            next.insert(resolved, file)?;
        }
        *self = next;
        Ok(())
    }

    /// The entry named `name`: an id or alias, any case, `_` or space for `-`. On a miss the
    /// error suggests the nearest name when one is close.
    pub fn get(&self, name: &str) -> Result<&Hardware, HardwareError> {
        let key = normalize_name(name);
        self.resolve_id(&key)
            .and_then(|id| self.position(id))
            .map(|i| &self.entries[i])
            .ok_or_else(|| HardwareError::Unknown {
                given: name.to_string(),
                suggestion: self.suggest(&key),
            })
    }

    /// Every entry, in catalog order.
    pub fn entries(&self) -> &[Hardware] {
        &self.entries
    }

    /// Every entry id, in catalog order.
    pub fn ids(&self) -> impl Iterator<Item = &str> {
        self.entries.iter().map(|h| h.id.as_str())
    }

    /// The aliases of entry `id` (exact id), sorted.
    pub fn aliases_of(&self, id: &str) -> Vec<&str> {
        self.aliases
            .iter()
            .filter(|(_, target)| *target == id)
            .map(|(alias, _)| alias.as_str())
            .collect()
    }

    /// The id a normalized name denotes, if it denotes one.
    fn resolve_id<'a>(&'a self, key: &'a str) -> Option<&'a str> {
        if self.position(key).is_some() {
            return Some(key);
        }
        self.aliases.get(key).map(String::as_str)
    }

    fn position(&self, id: &str) -> Option<usize> {
        self.entries.iter().position(|h| h.id == id)
    }

    fn raw_entry(&self, id: &str) -> RawEntry {
        let aliases = self
            .aliases_of(id)
            .into_iter()
            .map(str::to_string)
            .collect();
        match self.position(id) {
            Some(i) => RawEntry::from_hardware(&self.entries[i], aliases),
            None => RawEntry::default(),
        }
    }

    /// Adds `resolved`, or replaces the entry with its id in place, after checking that no name
    /// it brings already names another entry.
    fn insert(&mut self, resolved: Resolved, file: &str) -> Result<(), HardwareError> {
        let Resolved { hardware, aliases } = resolved;
        let id = hardware.id.clone();
        if let Some(owner) = self.aliases.get(&id).filter(|owner| **owner != id) {
            return Err(HardwareError::Invalid {
                file: file.to_string(),
                id: id.clone(),
                field: "id".to_string(),
                value: format!("{id:?}"),
                reason: format!("is already an alias of `{owner}`"),
            });
        }
        for alias in &aliases {
            let taken_by = if self.position(alias).is_some() {
                Some(alias.as_str())
            } else {
                self.aliases
                    .get(alias)
                    .map(String::as_str)
                    .filter(|owner| *owner != id)
            };
            if let Some(owner) = taken_by {
                return Err(HardwareError::Invalid {
                    file: file.to_string(),
                    id: id.clone(),
                    field: "aliases".to_string(),
                    value: format!("{alias:?}"),
                    reason: format!("already names `{owner}`"),
                });
            }
        }
        self.aliases.retain(|_, owner| *owner != id);
        for alias in aliases {
            self.aliases.insert(alias, id.clone());
        }
        match self.position(&id) {
            Some(i) => self.entries[i] = hardware,
            None => self.entries.push(hardware),
        }
        Ok(())
    }

    /// The id or alias nearest to a misspelt name, ids first.
    fn suggest(&self, key: &str) -> Option<String> {
        let names: Vec<&str> = self
            .entries
            .iter()
            .flat_map(|h| {
                std::iter::once(h.id.as_str()).chain(
                    self.aliases
                        .iter()
                        .filter(move |(_, owner)| **owner == h.id)
                        .map(|(alias, _)| alias.as_str()),
                )
            })
            .collect();
        servemath_model::nearest(key, &names).map(str::to_string)
    }
}

fn duplicate(file: &str, id: &str) -> HardwareError {
    HardwareError::Invalid {
        file: file.to_string(),
        id: id.to_string(),
        field: "id".to_string(),
        value: format!("{id:?}"),
        reason: "appears twice in this file".to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtin_catalog_parses() {
        // The invariant behind `Catalog::builtin`'s `expect`.
        let parsed = Catalog::parse(BUILTIN_TOML, BUILTIN_FILE);
        assert!(parsed.is_ok(), "{:?}", parsed.err());
    }

    #[test]
    fn figures_nine_orders_below_their_ceiling_are_refused() {
        // Audit D12: `hbm_bytes_per_s = 1` in a hardware file priced a step in hours; `3.35`
        // (TB/s written as a number of TB) is the usual slip. The floor is the ceiling 1e15 B/s
        // divided by 1e9.
        let mut c = Catalog::builtin();
        for bad in ["1", "3.35"] {
            let toml = format!("[[hardware]]\nid = \"h100-sxm\"\nhbm_bytes_per_s = {bad}\n");
            let e = c
                .overlay(&toml, "hw.toml")
                .err()
                .map(|e| e.to_string())
                .unwrap_or_default();
            assert!(
                e.contains("hbm_bytes_per_s") && e.contains("plausible minimum 1e6"),
                "{e}"
            );
        }
        let ok = "[[hardware]]\nid = \"h100-sxm\"\nhbm_bytes_per_s = 3.35e12\n";
        assert!(c.overlay(ok, "hw.toml").is_ok());
    }
}
