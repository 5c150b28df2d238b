//! Memory fit per device: weights + KV cache + activation workspace + runtime reserve against usable HBM.

use crate::deployment::Deployment;
use serde::Serialize;

/// The memory budget of the busiest device for a batch at a context length.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct MemoryFit {
    /// HBM × `hbm_usable_fraction`.
    pub usable_bytes: f64,
    /// Weights held by the busiest device, bytes.
    pub weight_bytes: f64,
    /// KV cache (and recurrent state) of this batch on the busiest device, bytes.
    pub kv_bytes: f64,
    /// Activation workspace for one step of `max_batched_tokens`, bytes.
    pub activation_bytes: f64,
    /// `runtime_reserve_bytes`: CUDA context, NCCL buffers, graphs.
    pub reserve_bytes: f64,
    /// Usable bytes left for the KV cache after weights, activations and reserve (may be negative).
    pub kv_budget_bytes: f64,
    /// KV bytes per sequence on one device at this context.
    pub kv_bytes_per_seq: f64,
    /// Largest batch whose KV cache fits at this context (0: not even one sequence).
    pub max_batch: u64,
    /// Whether the weights, activations and reserve leave room and this batch's KV cache fits
    /// in it.
    pub fits: bool,
}

/// Bytes in decimal units with one decimal: `35.3 GB`, `1.2 TB`, `4.0e3 PB` beyond.
fn bytes(b: f64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e15, "PB"), (1e12, "TB"), (1e9, "GB"), (1e6, "MB")];
    match UNITS.iter().find(|(scale, _)| b.abs() >= *scale) {
        Some((scale, unit)) if b.abs() < 1e3 * scale || *unit != "PB" => {
            format!("{:.1} {unit}", b / scale)
        }
        Some((scale, unit)) => format!("{:.1e} {unit}", b / scale),
        None => format!("{:.1} MB", b / 1e6),
    }
}

impl MemoryFit {
    /// One sentence saying why it does not fit, or `None` when it does.
    pub fn reason(&self) -> Option<String> {
        if self.fits {
            return None;
        }
        if self.kv_budget_bytes <= 0.0 {
            return Some(format!(
                "weights need {} per GPU plus {} activations and reserve; only {} usable",
                bytes(self.weight_bytes),
                bytes(self.activation_bytes + self.reserve_bytes),
                bytes(self.usable_bytes)
            ));
        }
        Some(format!(
            "KV cache needs {} per GPU; {} left after weights; max batch {} at this context",
            bytes(self.kv_bytes),
            bytes(self.kv_budget_bytes),
            self.max_batch
        ))
    }
}

impl Deployment {
    /// Memory of the busiest device for `batch` sequences of `context` tokens.
    pub fn memory(&self, batch: f64, context: f64) -> MemoryFit {
        let usable = self.hardware().hbm_bytes * self.params().hbm_usable_fraction;
        let weights = self.weight_bytes_per_device();
        let act = self.activation_bytes_per_device();
        let reserve = self.params().runtime_reserve_bytes;
        let per_seq = self.kv_bytes_per_seq_per_device(context);
        let kv = per_seq * self.seqs_per_device(batch).ceil();
        let budget = usable - weights - act - reserve;
        let per_rank = if per_seq > 0.0 && budget > 0.0 {
            (budget / per_seq).floor()
        } else {
            0.0
        };
        let max_batch =
            (per_rank * f64::from(self.parallelism().dp_attn)).min(u64::MAX as f64) as u64;
        MemoryFit {
            usable_bytes: usable,
            weight_bytes: weights,
            kv_bytes: kv,
            activation_bytes: act,
            reserve_bytes: reserve,
            kv_budget_bytes: budget,
            kv_bytes_per_seq: per_seq,
            max_batch,
            fits: budget > 0.0 && kv <= budget,
        }
    }

    /// Largest batch that fits at `context` tokens per sequence.
    pub fn max_batch(&self, context: f64) -> u64 {
        self.memory(1.0, context).max_batch
    }
}

#[cfg(test)]
mod tests {
    use super::bytes;

    #[test]
    fn reasons_print_bytes_in_readable_units() {
        assert_eq!(bytes(35.3e9), "35.3 GB");
        assert_eq!(bytes(1.64e14), "164.0 TB");
        assert_eq!(bytes(2.6e5), "0.3 MB");
        assert_eq!(bytes(4.0e18), "4.0e3 PB");
    }
}
