//! Collective and point-to-point communication times over the scale-up and scale-out networks.
//!
//! Groups are laid out contiguously from the start of a scale-up domain: a group of `n` GPUs
//! has `min(n, domain)` of them per domain and spans `ceil(n / domain)` domains. Inside a
//! domain traffic moves at scale-up bandwidth; between domains at scale-out bandwidth (each GPU
//! has its own NIC). All bandwidths are per GPU, one direction, times `comm_efficiency`.

/// The network a replica sees, with efficiencies applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Network {
    pub domain: u32,
    pub up_bytes_per_s: f64,
    pub up_latency_s: f64,
    /// `None`: no published scale-out figure; groups that span domains were rejected earlier.
    pub out_bytes_per_s: f64,
    pub out_latency_s: f64,
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

    /// Ring all-reduce of `bytes` on each of `n` GPUs: `2(n−1)/n · bytes / bw + (n−1) · latency`
    /// inside a domain; across domains, hierarchical: reduce-scatter and all-gather inside each
    /// domain plus an all-reduce of each GPU's `1/n_in` shard across the `m` domains.
    pub fn all_reduce(&self, n: u32, bytes: f64) -> f64 {
        if n <= 1 || bytes <= 0.0 {
            return 0.0;
        }
        let (k, m) = self.split(n);
        let inside =
            2.0 * (k - 1.0) / k * bytes / self.up_bytes_per_s + (k - 1.0) * self.up_latency_s;
        let across = if m > 1.0 {
            2.0 * (m - 1.0) / m * (bytes / k) / self.out_bytes_per_s
                + (m - 1.0) * self.out_latency_s
        } else {
            0.0
        };
        inside + across
    }

    /// All-to-all where each of `n` GPUs holds `bytes` spread evenly over all `n` destinations:
    /// `(n−1)/n · bytes / bw + latency`. Across domains the in-domain and cross-domain shares
    /// move in parallel over their own links and the slower one sets the time.
    pub fn all_to_all(&self, n: u32, bytes: f64) -> f64 {
        if n <= 1 || bytes <= 0.0 {
            return 0.0;
        }
        let (k, m) = self.split(n);
        let nf = f64::from(n);
        let inside = (k - 1.0) / nf * bytes / self.up_bytes_per_s;
        if m > 1.0 {
            let cross = (nf - k) / nf * bytes / self.out_bytes_per_s;
            inside.max(cross) + self.out_latency_s
        } else {
            inside + self.up_latency_s
        }
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
        // H100 HGX: 450 GB/s per direction NVLink, 50 GB/s per direction NIC; latencies 5 us / 10 us.
        Network {
            domain: 8,
            up_bytes_per_s: 450e9,
            up_latency_s: 5e-6,
            out_bytes_per_s: 50e9,
            out_latency_s: 10e-6,
        }
    }

    fn close(a: f64, b: f64) -> bool {
        ((a - b) / b).abs() < 1e-9
    }

    #[test]
    fn ring_all_reduce_inside_a_domain() {
        // 8 GPUs, 16 MB: 2·7/8·16e6/450e9 = 62.222 us, + 7·5 us = 35 us -> 97.222 us.
        let t = hgx().all_reduce(8, 16e6);
        assert!(close(t, 2.0 * 7.0 / 8.0 * 16e6 / 450e9 + 35e-6), "{t}");
        assert!(hgx().all_reduce(1, 16e6).abs() < f64::MIN_POSITIVE);
    }

    #[test]
    fn hierarchical_all_reduce_across_domains() {
        // 16 GPUs = 2 domains of 8, 16 MB: inside 97.222 us; across: 2·1/2·(16e6/8)/50e9 = 40 us + 10 us.
        let t = hgx().all_reduce(16, 16e6);
        let want = 2.0 * 7.0 / 8.0 * 16e6 / 450e9 + 35e-6 + 2e6 / 50e9 + 10e-6;
        assert!(close(t, want), "{t} vs {want}");
    }

    #[test]
    fn all_to_all_crossing_racks_is_limited_by_scale_out() {
        // 8 GPUs inside: 7/8·8 MB/450 GB/s = 15.556 us + 5 us.
        assert!(close(
            hgx().all_to_all(8, 8e6),
            7.0 / 8.0 * 8e6 / 450e9 + 5e-6
        ));
        // 16 GPUs over 2 domains: cross share 8/16·8 MB/50 GB/s = 80 us dominates the 7/16·8MB/450GB/s = 7.8 us.
        assert!(close(hgx().all_to_all(16, 8e6), 0.5 * 8e6 / 50e9 + 10e-6));
    }
}
