//! Collective and point-to-point communication times over the scale-up and scale-out networks.
//!
//! Groups are laid out contiguously from the start of a scale-up domain: a group of `n` GPUs
//! has `min(n, domain)` of them per domain and spans `ceil(n / domain)` domains. Inside a
//! domain traffic moves at scale-up bandwidth; between domains at scale-out bandwidth (each GPU
//! has its own NIC). All bandwidths are per GPU, one direction, times `comm_efficiency`.
//!
//! All-reduce inside a domain is what engines run: a measured table per GPU count and
//! implementation where one exists (TensorRT-LLM custom all-reduce, NCCL), the fastest
//! implementation at each size; otherwise the cheaper of a one-shot and a two-shot all-reduce
//! with a small-message latency that is nearly flat in the GPU count (SGLang's custom
//! all-reduce on H100 takes 3.7/4.8/5.9 us at 512 B for TP 2/4/8,
//! <https://github.com/sgl-project/sglang/pull/2904>), never the (n-1)·alpha of a ring.

use servemath_hardware::kernels::CollectiveCurve;

/// The network a replica sees, with efficiencies applied.
#[derive(Debug, Clone, PartialEq)]
pub struct Network {
    /// GPUs in one scale-up domain ([`Hardware::scale_up_domain`](servemath_hardware::Hardware::scale_up_domain)).
    pub domain: u32,
    /// Scale-up bandwidth per GPU, one direction, times `comm_efficiency`, bytes/s.
    pub up_bytes_per_s: f64,
    /// Fixed cost α of one collective step inside a domain, seconds.
    pub up_latency_s: f64,
    /// Scale-out bandwidth per GPU, one direction, times `comm_efficiency`, bytes/s; infinite
    /// when the hardware publishes none and the replica fits in one domain. Groups that span
    /// domains without a published scale-out figure were rejected earlier.
    pub out_bytes_per_s: f64,
    /// Fixed cost α of one collective step across domains, seconds.
    pub out_latency_s: f64,
    /// Small-message all-reduce latency inside a domain (without a measured table).
    pub all_reduce_latency_s: f64,
    /// Fixed latency of one expert-parallel dispatch or combine inside a domain.
    pub all_to_all_latency_s: f64,
    /// Measured all-reduce rows (`t = latency + 2(n-1)/n · S / bus`), any GPU counts.
    pub all_reduce_table: Vec<CollectiveCurve>,
    /// Measured expert-parallel dispatch and combine rows (DeepEP, NVLink two-sided):
    /// `t = latency + (n-1)/n · S / bus` with `S = tokens · top-k · hidden · 2`.
    pub all_to_all_table: Vec<CollectiveCurve>,
}

/// The half of an expert-parallel exchange.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// Tokens sent to the ranks holding their experts (FP8 payload with DeepEP).
    Dispatch,
    /// Expert outputs sent back to the tokens' ranks (BF16 payload).
    Combine,
}

impl Network {
    /// `(GPUs per domain, domains)` of a group of `n`.
    fn split(&self, n: u32) -> (f64, f64) {
        let inside = n.min(self.domain).max(1);
        let domains = n.div_ceil(inside);
        (f64::from(inside), f64::from(domains))
    }

    /// Whether a group of `n` GPUs spans more than one scale-up domain.
    pub fn spans(&self, n: u32) -> bool {
        n > self.domain
    }

    /// All-reduce of `bytes` on each of `k` GPUs inside one domain.
    ///
    /// With a measured table: the fastest implementation measured at the nearest GPU count at
    /// or above `k` (the largest measured below it when none is above). Without: the cheaper of
    /// one-shot (`alpha + (k−1)·S/bw`: every GPU reads every peer's buffer) and two-shot
    /// (`2·alpha + 2(k−1)/k · S/bw`: reduce-scatter then all-gather).
    pub fn all_reduce_in_domain(&self, k: u32, bytes: f64) -> f64 {
        if k <= 1 || bytes <= 0.0 {
            return 0.0;
        }
        let kf = f64::from(k);
        let ring = 2.0 * (kf - 1.0) / kf * bytes;
        if !self.all_reduce_table.is_empty() {
            let above = self
                .all_reduce_table
                .iter()
                .filter(|r| r.gpus >= k)
                .map(|r| r.gpus)
                .min();
            let at = above.unwrap_or_else(|| {
                self.all_reduce_table
                    .iter()
                    .map(|r| r.gpus)
                    .max()
                    .unwrap_or(k)
            });
            let best = self
                .all_reduce_table
                .iter()
                .filter(|r| r.gpus == at)
                .map(|r| r.latency_s + ring / r.bus_bytes_per_s)
                .fold(f64::INFINITY, f64::min);
            if best.is_finite() {
                return best;
            }
        }
        let a = self.all_reduce_latency_s;
        let one_shot = a + (kf - 1.0) * bytes / self.up_bytes_per_s;
        let two_shot = 2.0 * a + ring / self.up_bytes_per_s;
        one_shot.min(two_shot)
    }

    /// All-reduce of `bytes` on each of `n` GPUs: inside one domain as
    /// [`Network::all_reduce_in_domain`]; across domains, hierarchical: the in-domain
    /// all-reduce plus a ring all-reduce of each GPU's `1/n_in` shard across the `m` domains
    /// (`2(m−1)/m · S/n_in / bw_out + (m−1) · alpha_out`).
    pub fn all_reduce(&self, n: u32, bytes: f64) -> f64 {
        if n <= 1 || bytes <= 0.0 {
            return 0.0;
        }
        let (k, m) = self.split(n);
        let inside = self.all_reduce_in_domain(k as u32, bytes);
        let across = if m > 1.0 {
            2.0 * (m - 1.0) / m * (bytes / k) / self.out_bytes_per_s
                + (m - 1.0) * self.out_latency_s
        } else {
            0.0
        };
        inside + across
    }

    /// All-to-all where each of `n` GPUs sends `bytes` spread evenly over all `n` destinations:
    /// `(n−1)/n · bytes / bw + latency`. Across domains the in-domain and cross-domain shares
    /// move in parallel over their own links and the slower one sets the time, and the
    /// scale-out latency adds to the kernel's own.
    pub fn all_to_all(&self, n: u32, bytes: f64) -> f64 {
        if n <= 1 || bytes <= 0.0 {
            return 0.0;
        }
        let (k, m) = self.split(n);
        let nf = f64::from(n);
        let inside = (k - 1.0) / nf * bytes / self.up_bytes_per_s;
        if m > 1.0 {
            let cross = (nf - k) / nf * bytes / self.out_bytes_per_s;
            inside.max(cross) + self.all_to_all_latency_s + self.out_latency_s
        } else {
            inside + self.all_to_all_latency_s
        }
    }

    /// The measured rows (latency, bus bandwidth) that price a dispatch or combine on `n` GPUs
    /// inside one domain: every implementation measured at the nearest GPU count at or above
    /// `n` (the largest below when none is). Empty when none is measured or the group spans
    /// domains. Resolved once per deployment.
    pub fn ep_rows(&self, n: u32, phase: Phase) -> Vec<(f64, f64)> {
        if n <= 1 || self.spans(n) {
            return Vec::new();
        }
        let tag = match phase {
            Phase::Dispatch => "dispatch",
            Phase::Combine => "combine",
        };
        let rows = || {
            self.all_to_all_table
                .iter()
                .filter(move |r| r.implementation.ends_with(tag))
        };
        let above = rows().filter(|r| r.gpus >= n).map(|r| r.gpus).min();
        let Some(at) = above.or_else(|| rows().map(|r| r.gpus).max()) else {
            return Vec::new();
        };
        rows()
            .filter(|r| r.gpus == at)
            .map(|r| (r.latency_s, r.bus_bytes_per_s))
            .collect()
    }

    /// A measured expert-parallel dispatch or combine on `n` GPUs of `tokens` tokens per GPU
    /// each sent to `top_k` experts of width `hidden`, with the rows of [`Network::ep_rows`]:
    /// the fastest implementation, `latency + (n−1)/n · S / bus` with `S = tokens · top_k ·
    /// hidden · 2`. `None` without rows.
    pub fn ep_exchange_with(
        rows: &[(f64, f64)],
        n: u32,
        tokens: f64,
        top_k: f64,
        hidden: f64,
    ) -> Option<f64> {
        if tokens <= 0.0 {
            return None;
        }
        let size = tokens * top_k * hidden * 2.0;
        let nf = f64::from(n);
        rows.iter()
            .map(|(lat, bw)| lat + (nf - 1.0) / nf * size / bw)
            .reduce(f64::min)
    }

    /// [`Network::ep_rows`] and [`Network::ep_exchange_with`] in one call.
    pub fn ep_exchange(
        &self,
        n: u32,
        phase: Phase,
        tokens: f64,
        top_k: f64,
        hidden: f64,
    ) -> Option<f64> {
        Network::ep_exchange_with(&self.ep_rows(n, phase), n, tokens, top_k, hidden)
    }

    /// One point-to-point transfer of `bytes`, over scale-out when `crosses`.
    pub fn p2p(&self, bytes: f64, crosses: bool) -> f64 {
        if crosses {
            bytes / self.out_bytes_per_s + self.out_latency_s
        } else {
            bytes / self.up_bytes_per_s + self.up_latency_s
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hgx() -> Network {
        // H100 HGX: 450 GB/s per direction NVLink, 50 GB/s per direction NIC; latencies 5 us / 10 us;
        // a flat 6 us small-message all-reduce, 20 us all-to-all.
        Network {
            domain: 8,
            up_bytes_per_s: 450e9,
            up_latency_s: 5e-6,
            out_bytes_per_s: 50e9,
            out_latency_s: 10e-6,
            all_reduce_latency_s: 6e-6,
            all_to_all_latency_s: 20e-6,
            all_reduce_table: Vec::new(),
            all_to_all_table: Vec::new(),
        }
    }

    fn close(a: f64, b: f64) -> bool {
        ((a - b) / b).abs() < 1e-9
    }

    #[test]
    fn small_all_reduce_is_one_shot_and_flat_in_gpus() {
        // 16 KB on 8 GPUs: one-shot 6 us + 7·16e3/450e9 = 6.249 us; two-shot 12 us + 2·7/8·16e3/450e9.
        let t = hgx().all_reduce(8, 16e3);
        assert!(close(t, 6e-6 + 7.0 * 16e3 / 450e9), "{t}");
        // On 2 GPUs: 6 us + 16e3/450e9: almost the same.
        assert!(close(hgx().all_reduce(2, 16e3), 6e-6 + 16e3 / 450e9));
        assert!(hgx().all_reduce(1, 16e6).abs() < f64::MIN_POSITIVE);
    }

    #[test]
    fn large_all_reduce_is_two_shot() {
        // 16 MB on 8 GPUs: two-shot 12 us + 2·7/8·16e6/450e9 = 62.222 us -> 74.222 us.
        let t = hgx().all_reduce(8, 16e6);
        assert!(close(t, 12e-6 + 2.0 * 7.0 / 8.0 * 16e6 / 450e9), "{t}");
    }

    #[test]
    fn a_measured_table_takes_the_fastest_implementation_at_the_next_count_up() {
        let row = |imp: &str, gpus: u32, lat: f64, bw: f64| CollectiveCurve {
            implementation: imp.into(),
            gpus,
            latency_s: lat,
            bus_bytes_per_s: bw,
            median_abs_error: 0.0,
            source: String::new(),
        };
        let net = Network {
            all_reduce_table: vec![
                row("custom", 4, 5e-6, 200e9),
                row("nccl", 4, 15e-6, 350e9),
                row("custom", 8, 7e-6, 200e9),
            ],
            ..hgx()
        };
        // 1 KB on 4: custom 5 us + 1.5·1e3/200e9 = 5.0075 us beats NCCL's 15 us.
        assert!(close(net.all_reduce(4, 1e3), 5e-6 + 1.5e3 / 200e9));
        // 64 MB on 4: NCCL 15 us + 1.5·64e6/350e9 = 289.3 us beats custom's 485 us.
        assert!(close(net.all_reduce(4, 64e6), 15e-6 + 1.5 * 64e6 / 350e9));
        // 3 GPUs use the 4-GPU rows (traffic at 3): 5 us + 2·2/3·1e3/200e9.
        assert!(close(
            net.all_reduce(3, 1e3),
            5e-6 + 4.0 / 3.0 * 1e3 / 200e9
        ));
    }

    #[test]
    fn measured_ep_exchange_takes_the_fastest_kernel() {
        let row = |imp: &str, lat: f64, bw: f64| CollectiveCurve {
            implementation: imp.into(),
            gpus: 8,
            latency_s: lat,
            bus_bytes_per_s: bw,
            median_abs_error: 0.0,
            source: String::new(),
        };
        let net = Network {
            all_to_all_table: vec![
                row("deepep-ll-dispatch", 30e-6, 50e9),
                row("deepep-ht-dispatch", 80e-6, 200e9),
                row("deepep-ll-combine", 40e-6, 50e9),
            ],
            ..hgx()
        };
        // 16 tokens · 8 · 7168 · 2 B = 1.835 MB: LL 30 us + 7/8·1.835e6/50e9 = 62.1 us beats HT's 88.0 us.
        let s = 16.0 * 8.0 * 7168.0 * 2.0;
        let t = net.ep_exchange(8, Phase::Dispatch, 16.0, 8.0, 7168.0);
        assert!(t.is_some_and(|t| close(t, 30e-6 + 7.0 / 8.0 * s / 50e9)));
        // 4096 tokens: HT 80 us + 7/8·470 MB/200e9 = 2.43 ms beats LL's 9.4 ms.
        let s = 4096.0 * 8.0 * 7168.0 * 2.0;
        let t = net.ep_exchange(8, Phase::Dispatch, 4096.0, 8.0, 7168.0);
        assert!(t.is_some_and(|t| close(t, 80e-6 + 7.0 / 8.0 * s / 200e9)));
        // Across domains there is no measured row.
        assert!(net
            .ep_exchange(16, Phase::Combine, 16.0, 8.0, 7168.0)
            .is_none());
    }

    #[test]
    fn hierarchical_all_reduce_across_domains() {
        // 16 GPUs = 2 domains of 8, 16 MB: inside 74.222 us; across: 2·1/2·(16e6/8)/50e9 = 40 us + 10 us.
        let t = hgx().all_reduce(16, 16e6);
        let want = 12e-6 + 2.0 * 7.0 / 8.0 * 16e6 / 450e9 + 2e6 / 50e9 + 10e-6;
        assert!(close(t, want), "{t} vs {want}");
    }

    #[test]
    fn all_to_all_crossing_racks_is_limited_by_scale_out() {
        // 8 GPUs inside: 7/8·8 MB/450 GB/s = 15.556 us + 20 us.
        assert!(close(
            hgx().all_to_all(8, 8e6),
            7.0 / 8.0 * 8e6 / 450e9 + 20e-6
        ));
        // 16 GPUs over 2 domains: cross share 8/16·8 MB/50 GB/s = 80 us dominates the
        // 7/16·8MB/450GB/s = 7.8 us; plus 20 us + 10 us.
        assert!(close(hgx().all_to_all(16, 8e6), 0.5 * 8e6 / 50e9 + 30e-6));
    }
}
