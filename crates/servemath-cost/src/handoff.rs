//! The one rule for the link a prefill pool hands KV caches to a decode pool over: scale-up
//! links when both pools sit in one scale-up domain of the same hardware, else the scale-out
//! network; the sending replica's GPUs send in parallel.

use servemath_hardware::{Hardware, HardwareError};

/// Which network a KV hand-off crosses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LinkKind {
    /// Inside one scale-up domain (NVLink, XGMI).
    ScaleUp,
    /// Across domains, on the scale-out network.
    ScaleOut,
}

impl LinkKind {
    /// `scale_up` or `scale_out`.
    pub fn name(self) -> &'static str {
        match self {
            LinkKind::ScaleUp => "scale_up",
            LinkKind::ScaleOut => "scale_out",
        }
    }
}

/// The link one sequence's KV cache moves over from a prefill replica to a decode replica.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct KvLink {
    /// Which network it crosses.
    pub kind: LinkKind,
    /// Bytes per second one hand-off moves at: the sending replica's GPUs × the per-GPU,
    /// one-direction bandwidth of that network.
    pub bytes_per_s: f64,
    /// Seconds added to every hand-off (the network's per-step latency).
    pub latency_s: f64,
}

/// The link from a prefill replica of `sending_gpus` GPUs on `prefill` to a decode replica on
/// `decode`, when both pools together hold `total_gpus` GPUs: scale-up when the two share the
/// hardware and `total_gpus` fits one of its scale-up domains, else scale-out.
///
/// # Errors
/// The hand-off needs the scale-out network and `prefill` publishes no scale-out bandwidth.
pub fn kv_link(
    prefill: &Hardware,
    decode: &Hardware,
    sending_gpus: u32,
    total_gpus: u64,
) -> Result<KvLink, HardwareError> {
    let gpus = f64::from(sending_gpus);
    if prefill.id == decode.id && total_gpus <= u64::from(prefill.scale_up_domain) {
        return Ok(KvLink {
            kind: LinkKind::ScaleUp,
            bytes_per_s: gpus * prefill.scale_up_bytes_per_s,
            latency_s: prefill.scale_up_latency_s,
        });
    }
    Ok(KvLink {
        kind: LinkKind::ScaleOut,
        bytes_per_s: gpus * prefill.scale_out()?,
        latency_s: prefill.scale_out_latency_s,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testkit::h100;

    #[test]
    fn the_link_is_scale_up_inside_a_domain_and_scale_out_beyond() {
        let hw = h100();
        // 2 prefill GPUs + 2 decode GPUs = 4 ≤ 8: NVLink, 2 × 450 GB/s one way = 900 GB/s.
        let up = kv_link(&hw, &hw, 2, 4).expect("scale-up");
        assert_eq!(up.kind, LinkKind::ScaleUp);
        assert!((up.bytes_per_s - 2.0 * hw.scale_up_bytes_per_s).abs() < 1e-6);
        // 16 GPUs span two domains: the scale-out network, 2 × its per-GPU bandwidth.
        let out = kv_link(&hw, &hw, 2, 16).expect("scale-out");
        assert_eq!(out.kind, LinkKind::ScaleOut);
        let per_gpu = hw.scale_out_bytes_per_s.expect("h100 has a NIC figure");
        assert!((out.bytes_per_s - 2.0 * per_gpu).abs() < 1e-6);
        // No published scale-out bandwidth: refused, not an infinite link.
        let mut island = hw.clone();
        island.scale_out_bytes_per_s = None;
        assert!(kv_link(&island, &island, 2, 16).is_err());
        // Different hardware never shares a scale-up domain.
        let mut other = hw.clone();
        other.id = "other".into();
        assert_eq!(
            kv_link(&hw, &other, 1, 2).map(|l| l.kind).ok(),
            Some(LinkKind::ScaleOut)
        );
    }
}
