//! Prefix caching (vLLM's automatic prefix caching, by prompt-block hash): blocks of prompts
//! stay in the hash table while sequences use them and, after that, for as long as the free
//! memory they sit in is not reallocated (least recently used goes first). Later prompts that
//! start with the same blocks skip computing them. The cache is trimmed to free memory when
//! the batch changes (admissions, completions, preemptions), not inside a run of decode steps.

use std::collections::{BTreeMap, HashMap};

#[derive(Debug, Clone, Copy)]
struct Entry {
    last_use: u64,
    /// Running sequences holding the block.
    refs: u32,
}

/// A replica's cache of prompt-prefix blocks.
#[derive(Debug, Default)]
pub(crate) struct PrefixCache {
    entries: HashMap<u64, Entry>,
    /// Unreferenced blocks by last use, oldest first: the eviction order.
    idle: BTreeMap<u64, u64>,
    clock: u64,
    /// Tokens per hashed block, from the prompts seen (Mooncake traces: 512).
    pub block_tokens: u32,
    /// Prompt tokens looked up, and of those found cached.
    pub lookup_tokens: u64,
    pub hit_tokens: u64,
}

impl PrefixCache {
    /// Leading blocks of `hashes` present in the cache.
    pub fn leading_hits(&self, hashes: &[u64]) -> usize {
        hashes
            .iter()
            .take_while(|h| self.entries.contains_key(h))
            .count()
    }

    /// A sequence starts using `hashes` (inserting those not cached yet).
    pub fn pin(&mut self, hashes: &[u64], block_tokens: u32) {
        self.block_tokens = self.block_tokens.max(block_tokens);
        for &h in hashes {
            self.clock += 1;
            let e = self.entries.entry(h).or_insert(Entry {
                last_use: self.clock,
                refs: 0,
            });
            if e.refs == 0 {
                self.idle.remove(&e.last_use);
            }
            e.refs += 1;
            e.last_use = self.clock;
        }
    }

    /// A sequence stops using `hashes`: they stay cached, evictable.
    pub fn unpin(&mut self, hashes: &[u64]) {
        for &h in hashes {
            if let Some(e) = self.entries.get_mut(&h) {
                e.refs = e.refs.saturating_sub(1);
                if e.refs == 0 {
                    self.idle.insert(e.last_use, h);
                }
            }
        }
    }

    pub fn record(&mut self, tokens: u32, hit: u32) {
        self.lookup_tokens += u64::from(tokens);
        self.hit_tokens += u64::from(hit);
    }

    /// Evicts least recently used idle blocks until at most `max_idle` remain.
    pub fn shrink_idle_to(&mut self, max_idle: usize) {
        while self.idle.len() > max_idle {
            let Some((_, hash)) = self.idle.pop_first() else {
                break;
            };
            self.entries.remove(&hash);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pinned_blocks_survive_and_idle_ones_go_lru() {
        let mut c = PrefixCache::default();
        c.pin(&[1, 2, 3], 512);
        c.unpin(&[1, 2, 3]);
        c.pin(&[1, 4], 512);
        assert_eq!(c.leading_hits(&[1, 2, 9, 3]), 2);
        // Idle: 2 then 3 (1 is pinned again); keep one idle block -> 2 goes.
        c.shrink_idle_to(1);
        assert_eq!(c.leading_hits(&[2]), 0);
        assert_eq!(c.leading_hits(&[3]), 1);
        c.shrink_idle_to(0);
        assert_eq!(
            c.leading_hits(&[1, 4]),
            2,
            "pinned blocks are never evicted"
        );
    }
}
