#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Fit compact kernel-efficiency curves from NVIDIA AIConfigurator's measured kernel tables.

Input:  the package data of the `aiconfigurator-core` 0.12.0 wheel (Apache-2.0), i.e. the
        parquet tables under `aiconfigurator_core/systems/data/<gpu>/<op>/<engine>/<version>/`,
        plus servemath's hardware catalog (peaks and HBM bandwidth).
Output: `kernels.toml` (fitted coefficients only, no table rows) and a markdown report.

Usage:
    python3 tools/kernel-fit/fit.py --wheel-dir DIR \
        --catalog crates/servemath-hardware/catalog/hardware.toml \
        --out crates/servemath-hardware/catalog/kernels.toml \
        --report docs/kernels.md

`DIR` is the unpacked wheel: the folder that holds `aiconfigurator_core/` (the folder
`aiconfigurator_core/` itself is accepted too).

Every curve below has a closed form that servemath's Rust cost model implements verbatim;
the formulas are repeated in `docs/kernels.md` (written by this script) and in
`tools/kernel-fit/README.md`. All fits are bounded least squares on log(time), so the
fitted curve minimises relative error; GEMMs and collectives weight every measured point
equally, the attention, MLA and MoE curves weight large kernels up (`size_weights`) so that
the shapes that decide throughput count at least as much as the launch-bound ones.

The output is deterministic: fixed start points, sorted iteration, numbers printed with
four significant digits.
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
from scipy.optimize import least_squares

WHEEL_NAME = "aiconfigurator-core 0.12.0"

# ----------------------------------------------------------------------------------------
# Hardware: AIConfigurator system folder -> servemath catalog id.
# ----------------------------------------------------------------------------------------
HARDWARE = [
    ("h100_sxm", "h100-sxm"),
    ("h200_sxm", "h200"),
    ("b200_sxm", "b200"),
    ("gb200", "gb200-nvl72"),
    ("gb300", "gb300-nvl72"),
    ("a100_sxm", "a100-sxm"),
]

# SM counts: the AIConfigurator system yamls do not list them, so they come from public
# sources. Shipping SKUs enable fewer SMs than the full die (GB100: 160, GH100: 144,
# GA100: 128), so the full-die figure is NOT the right one for wave quantization.
SM_COUNTS = {
    "h100-sxm": (
        132,
        "NVIDIA H100 Tensor Core GPU Architecture whitepaper (2022): H100 SXM5 has 132 SMs "
        "of the 144-SM GH100 die (not read here); same figure in "
        "https://github.com/lijun99/GPU-Resources/blob/main/NVIDIA_GPU_SM.md (read)",
    ),
    "h200": (
        132,
        "H200 SXM uses the same GH100 configuration as H100 SXM5 (132 SMs; catalog notes: "
        "'same GH100 compute as H100 SXM'); 132 also listed in "
        "https://github.com/lijun99/GPU-Resources/blob/main/NVIDIA_GPU_SM.md (read)",
    ),
    "a100-sxm": (
        108,
        "NVIDIA A100 Tensor Core GPU Architecture whitepaper (2020): A100 has 108 SMs of "
        "the 128-SM GA100 die (not read here)",
    ),
    "b200": (
        148,
        "cudaGetDeviceProperties().multiProcessorCount = 148 on B200, as reported in public "
        "kernel code and issues, e.g. https://github.com/0xSero/blackwell-gpu-wiki/issues/2 "
        "('B200 has 148 SMs enabled'; read); NVIDIA datasheets do not state the product SM count",
    ),
    "gb200-nvl72": (
        152,
        "measured multiProcessorCount reported in public kernel repositories (read via "
        "code search: 'the local GB200 has 152 SMs at 2062 MHz', 'GB200 has 152 SMs'); "
        "consistent with GB200 MIG slices holding more SMs than B200's "
        "(https://github.com/NVIDIA/gpu-operator/pull/1303 vs /pull/1351, read: 2g profile "
        "38 vs 36 SMs). Not the 148 of HGX B200",
    ),
    "gb300-nvl72": (
        152,
        "measured multiProcessorCount reported in public kernel repositories (read via "
        "code search: 'GB300 (152 SMs): driver 580.159.03', 'GB300 has 152 SMs, B300 148'). "
        "NVIDIA's 'Inside NVIDIA Blackwell Ultra' blog (read via excerpts) gives 160 SMs for "
        "the full dual-die chip, which is not the enabled count",
    ),
}

# Engines in order of preference. TensorRT-LLM is the default for every curve; the others
# are only used when no TensorRT-LLM table has usable rows (A100 MoE has no uniform rows).
ENGINES = ("trtllm", "sglang", "vllm")

# Element bytes per dtype key: (activation, weight). Output is always bf16 (2 bytes).
NVFP4_BYTES = 0.5 + 1.0 / 16.0  # 4-bit values + one fp8 scale per 16 elements
FP8_BLOCK_W_BYTES = 1.0 + 4.0 / 128.0**2  # fp8 values + one fp32 scale per 128x128 block
ELEM_BYTES = {
    "bf16": (2.0, 2.0),
    "fp8": (1.0, 1.0),
    "fp8_block": (1.0, FP8_BLOCK_W_BYTES),
    "fp4": (NVFP4_BYTES, NVFP4_BYTES),
}
# Table dtype strings -> servemath dtype keys.
GEMM_DTYPES = {"bfloat16": "bf16", "fp8": "fp8", "fp8_block": "fp8_block", "nvfp4": "fp4"}
MOE_DTYPES = {"bfloat16": "bf16", "fp8": "fp8", "fp8_block": "fp8_block", "nvfp4": "fp4"}
KV_DTYPES = {"bfloat16": "bf16", "float16": "bf16", "fp8": "fp8"}
KV_BYTES = {"bf16": 2.0, "fp8": 1.0}
# MXFP4 experts (gpt-oss checkpoints): 4-bit E2M1 values + one E8M0 (1-byte) scale per 32.
MXFP4_BYTES = 0.5 + 1.0 / 32.0
# The MoE tables name MXFP4 variants by activation precision (`w4a16_mxfp4` = BF16 activations,
# `w4a8_mxfp4_mxfp8` = MXFP8 activations; a plain `mxfp4` or `w4a4_*` would be MXFP4
# activations). `mxfp4_math` maps a table dtype to the math (catalog peak) it runs at.
MXFP4_ACT_MATH = {"16": "bf16", "8": "fp8", "4": "fp4"}
# gpt-oss MoE shapes (label, hidden, inter, experts, topk): the rows the moe.mxfp4 curve is
# fitted on and its spot checks (T x EP, moe_tp = 1).
GPT_OSS_MOE = [
    ("gpt-oss-120b", 2880, 2880, 128, 4),
    ("gpt-oss-20b", 2880, 2880, 32, 4),
]
GPT_OSS_SPOT_T = (1, 64, 1024, 8192)
GPT_OSS_SPOT_EP = (1, 8)


def mxfp4_math(tdtype: str):
    """Math precision ('bf16' | 'fp8' | 'fp4') of an MXFP4 MoE table dtype, None if not MXFP4."""
    if "mxfp4" not in tdtype:
        return None
    m = re.match(r"^w4a(\d+)_", tdtype)
    if m:
        return MXFP4_ACT_MATH.get(m.group(1))
    return "fp4"  # plain `mxfp4`: MXFP4 weights and activations


def mxfp4_order(tdtype: str, has_fp4_cores: bool):
    """Preference among a GPU's MXFP4 variants: the one TensorRT-LLM runs gpt-oss with by default.

    Hopper (no FP4 tensor cores): W4A16 (BF16 math). Blackwell: W4A8 MXFP4 x MXFP8 (FP8 math),
    else MXFP4 activations (FP4 math), else W4A16."""
    math = mxfp4_math(tdtype)
    if has_fp4_cores:
        rank = {"fp8": 0, "fp4": 1, "bf16": 2}[math]
        if math == "fp8" and "mxfp8" not in tdtype:
            rank = 0.5  # an FP8 (non-MX) activation variant ranks after MXFP4 x MXFP8
    else:
        rank = {"bf16": 0, "fp8": 1, "fp4": 2}[math]
    return (rank, tdtype)


def gpt_oss_mask(df):
    m = np.zeros(len(df), dtype=bool)
    for _, d, ff, e, k in GPT_OSS_MOE:
        m |= ((df["hidden_size"] == d) & (df["inter_size"] == ff) & (df["num_experts"] == e)
              & (df["topk"] == k)).to_numpy()
    return m


def gpt_oss_target(df):
    """The gpt-oss spot-check shapes: T in GPT_OSS_SPOT_T, EP in GPT_OSS_SPOT_EP, moe_tp = 1."""
    return (gpt_oss_mask(df) & df["num_tokens"].isin(GPT_OSS_SPOT_T).to_numpy()
            & df["moe_ep_size"].isin(GPT_OSS_SPOT_EP).to_numpy() & (df["moe_tp_size"] == 1).to_numpy())


# Which catalog peak a dtype key computes at.
PEAK_KEY = {
    "bf16": "bf16_dense_flop_per_s",
    "fp8": "fp8_dense_flop_per_s",
    "fp8_block": "fp8_dense_flop_per_s",
    "fp4": "fp4_dense_flop_per_s",
}

# DeepSeek-V3 MLA geometry (the MLA tables are collected with these dimensions).
MLA_KV_LORA_RANK = 512
MLA_ROPE = 64
MLA_NOPE = 128
MLA_V = 128

# GEMM wave-quantization tiles tried; (0, 0) means wave quantization off.
GEMM_TILES = [(128, 128), (64, 128), (128, 256), (0, 0)]


# ----------------------------------------------------------------------------------------
# Small helpers
# ----------------------------------------------------------------------------------------
def version_key(v: str):
    """Sort key for version folder names: 1.3.0rc20 < 1.3.0rc23 < 1.3.0 < 1.3.0.post1."""
    m = re.match(r"^(\d+(?:\.\d+)*)(.*)$", v)
    if not m:
        return ((0,), (0, 0), v)
    nums = tuple(int(x) for x in m.group(1).split("."))
    nums = nums + (0,) * (4 - len(nums))
    rest = m.group(2)
    tag = (0, 0)  # final release
    for pat, rank in ((r"\.?dev(\d+)", -2), (r"rc(\d+)", -1), (r"\.?post(\d+)", 1)):
        mm = re.search(pat, rest)
        if mm:
            tag = (rank, int(mm.group(1)))
            break
    return (nums, tag, v)


def fmt(v: float, sig: int = 4) -> str:
    """A TOML float with `sig` significant digits (always has '.' or 'e')."""
    if v == 0:
        return "0.0"
    s = f"{v:.{sig}g}"
    if "e" in s:
        mant, exp = s.split("e")
        s = f"{mant}e{int(exp):+03d}"
    if not any(c in s for c in ".e"):
        s += ".0"
    return s


def pct(v: float) -> str:
    return f"{100.0 * v:.1f} %"


def errs(model: np.ndarray, meas: np.ndarray):
    """Median and p90 of |t_fit / t_measured - 1|."""
    e = np.abs(model / meas - 1.0)
    return float(np.median(e)), float(np.quantile(e, 0.9))


def ceil_div(a, b):
    return -(-a // b)


@dataclass
class Param:
    name: str  # TOML key
    lo: float  # bound, in fit units
    hi: float
    scale: float  # SI value = fit value * scale
    starts: tuple  # start points, in fit units
    tol: float = 1e-3  # distance to a bound (fit units) that counts as "on the bound"
    # If set: after the fit, the parameter is fixed at this value (fit units) and the others
    # refitted; the fixed fit is kept when its weighted cost is within PREFER_COST_TOL of the
    # free fit. Used for efficiencies that only act as a penalty when free (decode compute).
    prefer: float | None = None


@dataclass
class Fit:
    values: dict  # TOML key -> SI value
    points: int
    median: float
    p90: float
    at_bound: list  # names of parameters on a bound of the fit range
    model: np.ndarray = field(repr=False, default=None)
    median_large: float | None = None  # median error over points with t >= LARGE_T_S
    points_large: int = 0
    weighted: bool = False
    preferred: list = field(default_factory=list)  # parameters fixed at their `prefer` value


# Kernels at least this long are "large" for the weighting and the large-kernel error.
LARGE_T_S = 50e-6
PREFER_COST_TOL = 1e-3


def size_weights(t: np.ndarray) -> np.ndarray:
    """Per-point weights for the log-time least squares that make large kernels count.

    w = 1 + log10(1 + t/10 µs) (1.0 for a 1 µs kernel, 2.0 at 100 µs, 3.0 at 1 ms); then, if
    the points with t >= 50 µs still carry less total weight than the smaller ones, their
    weights are scaled up until both groups weigh the same. Deterministic in t.
    """
    w = 1.0 + np.log10(1.0 + t / 10e-6)
    big = t >= LARGE_T_S
    if big.any() and (~big).any():
        ratio = w[~big].sum() / w[big].sum()
        if ratio > 1.0:
            w = np.where(big, w * ratio, w)
    return w


def _lsq(resid_fn, params, n_starts):
    lo = np.array([p.lo for p in params], dtype=float)
    hi = np.array([p.hi for p in params], dtype=float)
    best = None
    # All combinations of per-parameter starts would explode; use the "diagonal":
    # start i takes the i-th start of every parameter (shorter lists repeat their last).
    for i in range(n_starts):
        x0 = np.array([p.starts[min(i, len(p.starts) - 1)] for p in params], dtype=float)
        x0 = np.clip(x0, lo + 1e-9 * (hi - lo), hi - 1e-9 * (hi - lo))
        r = least_squares(resid_fn, x0, bounds=(lo, hi), method="trf", x_scale="jac", max_nfev=400)
        if best is None or r.cost < best.cost * (1 - 1e-9):
            best = r
    return best


def fit_log(model_fn, t_meas: np.ndarray, params: list[Param], weights: np.ndarray | None = None) -> Fit:
    """Bounded least squares on log(t); model_fn(dict of SI values) -> model times (s).

    `weights` (per point, optional) multiply the squared log residuals."""
    logt = np.log(t_meas)
    sw = np.ones_like(logt) if weights is None else np.sqrt(np.asarray(weights, dtype=float))
    n_starts = max(len(p.starts) for p in params)

    def run(free, fixed):
        def si(x):
            v = {p.name: float(val) * p.scale for p, val in zip(free, x)}
            v.update({p.name: val * p.scale for p, val in fixed})
            return v

        r = _lsq(lambda x: sw * (np.log(model_fn(si(x))) - logt), free, n_starts)
        return r, si(r.x)

    best, values = run(params, [])
    xs = dict(zip((p.name for p in params), best.x))
    preferred = []
    for p in params:
        if p.prefer is None or abs(xs[p.name] - p.prefer) <= p.tol:
            continue
        free = [q for q in params if q is not p]
        r, v = run(free, [(p, p.prefer)])
        if r.cost <= best.cost * (1 + PREFER_COST_TOL) + 1e-12:
            best, values = r, v
            xs = dict(zip((q.name for q in free), r.x))
            xs[p.name] = p.prefer
            preferred.append(p.name)
    model = model_fn(values)
    med, p90 = errs(model, t_meas)
    big = t_meas >= LARGE_T_S
    med_big = float(np.median(np.abs(model[big] / t_meas[big] - 1.0))) if big.any() else None
    at_bound = []
    for p in params:
        v = xs[p.name]
        tol = p.tol
        note = " (fixed there: the data do not need it)" if p.name in preferred else ""
        if v - p.lo <= tol:
            at_bound.append(f"{p.name} at lower bound {fmt(p.lo * p.scale, 3)}{note}")
        elif p.hi - v <= tol:
            at_bound.append(f"{p.name} at upper bound {fmt(p.hi * p.scale, 3)}{note}")
    return Fit(values, int(len(t_meas)), med, p90, at_bound, model, med_big, int(big.sum()),
               weights is not None, preferred)


# Parameter templates (fit units in brackets).
def p_launch():  # [us]
    return Param("launch_s", 0.0, 1000.0, 1e-6, (3.0, 10.0, 1.0))


def p_eff(name):  # [1]
    return Param(name, 1e-3, 1.0, 1.0, (0.6, 0.3, 0.9))


def p_per_seq():  # [us]
    return Param("per_seq_s", 0.0, 10.0, 1e-6, (0.01, 0.1, 0.001), tol=1e-5)


def p_per_seq_head():  # [ns]
    return Param("per_seq_head_s", 0.0, 1000.0, 1e-9, (3.0, 10.0, 0.3), tol=1e-4)


def p_eff_prefer1(name):  # [1]; fixed at 1 when the data do not need it
    return Param(name, 1e-3, 1.0, 1.0, (0.6, 0.3, 0.9), prefer=1.0)


def p_half_seq():  # [tokens]
    return Param("half_seq", 0.0, 1e5, 1.0, (1024.0, 256.0, 4096.0))


# ----------------------------------------------------------------------------------------
# Data access
# ----------------------------------------------------------------------------------------
class Wheel:
    def __init__(self, wheel_dir: Path):
        cands = [wheel_dir / "aiconfigurator_core" / "systems", wheel_dir / "systems"]
        for c in cands:
            if (c / "data").is_dir():
                self.systems = c
                break
        else:
            sys.exit(f"no systems/data under {wheel_dir}")
        self.data = self.systems / "data"
        self._cache = {}

    def versions(self, gpu, op, engine, fname):
        """Version folders holding `fname`, newest first."""
        base = self.data / gpu / op / engine
        if not base.is_dir():
            return []
        vs = [d.name for d in base.iterdir() if (d / fname).is_file()]
        return sorted(vs, key=version_key, reverse=True)

    def read(self, gpu, op, engine, version, fname) -> pd.DataFrame:
        key = (gpu, op, engine, version, fname)
        if key not in self._cache:
            df = pd.read_parquet(self.data / gpu / op / engine / version / fname)
            for c in df.columns:  # plain python strings, whatever the pandas string dtype
                if df[c].dtype != float and df[c].dtype.kind not in "iuf":
                    df[c] = df[c].astype(object)
            self._cache[key] = df
        return self._cache[key]

    def pick(self, notes, label, gpu, op, fname, usable, engines=ENGINES):
        """Newest table (default engine first) whose `usable(df)` is non-empty.

        Returns (filtered rows, path relative to systems/data, engine, version) or None.
        Newer tables passed over, and any fallback away from the default engine, are
        appended to `notes` so the report states every deviation from "newest TRT-LLM".
        """
        skipped = []
        for engine in engines:
            for v in self.versions(gpu, op, engine, fname):
                rows = usable(self.read(gpu, op, engine, v, fname))
                if rows is not None and len(rows):
                    if skipped:
                        notes.append(
                            f"{label}: newer or preferred tables have no usable rows for this curve "
                            f"({', '.join(skipped)}); used `{gpu}/{op}/{engine}/{v}/{fname}`")
                    return rows, f"{gpu}/{op}/{engine}/{v}/{fname}", engine, v
                skipped.append(f"`{engine}/{v}/{fname}`")
            if engine == engines[0] and len(engines) > 1 and not self.versions(gpu, op, engine, fname):
                skipped.append(f"no `{engine}` table")
        return None


def source(rel):
    return f"{WHEEL_NAME}: systems/data/{rel}"


# ----------------------------------------------------------------------------------------
# Curve models. Each `*_model` returns model time (s) for arrays of shapes; each `fit_*`
# selects the rows, fits, and returns (Fit, extra info).
# ----------------------------------------------------------------------------------------
def wave_factor(m, n, tile_m, tile_n, sms):
    """Fraction of SM slots busy over the waves: tiles / (ceil(tiles/sms) * sms)."""
    if tile_m == 0:
        return np.ones_like(m, dtype=float)
    tiles = ceil_div(m, tile_m) * ceil_div(n, tile_n)
    waves = ceil_div(tiles, sms)
    return tiles / (waves * sms)


def gemm_model(v, m, n, k, a, w, peak, hbm, wave):
    flops = 2.0 * m * n * k
    byts = m * k * a + n * k * w + m * n * 2.0
    return v["launch_s"] + np.maximum(
        flops / (peak * v["compute_efficiency"] * wave), byts / (hbm * v["memory_efficiency"])
    )


def fit_gemm(df, key, hw, sms):
    m = df["m"].to_numpy(float)
    n = df["n"].to_numpy(float)
    k = df["k"].to_numpy(float)
    t = df["latency"].to_numpy(float) * 1e-3  # ms -> s
    a, w = ELEM_BYTES[key]
    peak, hbm = hw["peak"][key], hw["hbm"]
    params = [p_launch(), p_eff("compute_efficiency"), p_eff("memory_efficiency")]
    tries = []
    for tm, tn in GEMM_TILES:
        wave = wave_factor(m, n, tm, tn, sms)
        f = fit_log(lambda v: gemm_model(v, m, n, k, a, w, peak, hbm, wave), t, params)
        tries.append(((tm, tn), f))
    # Keep the best median error; ties -> first in GEMM_TILES order.
    best = min(tries, key=lambda x: (round(x[1].median, 6), GEMM_TILES.index(x[0])))
    return best, tries


def decode_model(v, b, L, h, hkv, hd, e_kv, peak, hbm):
    kv_bytes = b * L * 2.0 * hkv * hd * e_kv
    flops = 4.0 * b * h * hd * L
    return (
        v["launch_s"]
        + b * v["per_seq_s"]
        + b * h * v["per_seq_head_s"]
        + np.maximum(kv_bytes / (hbm * v["memory_efficiency"]), flops / (peak * v["compute_efficiency"]))
    )


def seq_ramp(s, half_seq):
    """Compute-efficiency ramp in the sequence length: s/(s + half_seq) (1 when half_seq = 0)."""
    return s / (s + half_seq)


def prefill_model(v, b, s, h, hkv, hd, peak, hbm):
    flops = 4.0 * b * h * hd * s * (s + 1) / 2.0
    byts = b * s * (2.0 * h * hd + 2.0 * hkv * hd) * 2.0
    eff = v["compute_efficiency"] * seq_ramp(s, v["half_seq"])
    return v["launch_s"] + np.maximum(flops / (peak * eff), byts / (hbm * v["memory_efficiency"]))


def mla_decode_model(v, b, L, h, e_kv, peak, hbm):
    r, rope = MLA_KV_LORA_RANK, MLA_ROPE
    flops = b * L * (2.0 * h * (r + rope) + 2.0 * h * r)
    kv_bytes = b * L * (r + rope) * e_kv
    return (
        v["launch_s"]
        + b * v["per_seq_s"]
        + b * h * v["per_seq_head_s"]
        + np.maximum(kv_bytes / (hbm * v["memory_efficiency"]), flops / (peak * v["compute_efficiency"]))
    )


def mla_prefill_model(v, b, s, h, peak, hbm):
    qk, vd = MLA_NOPE + MLA_ROPE, MLA_V
    flops = b * h * (s * (s + 1) / 2.0) * (2.0 * qk + 2.0 * vd)
    byts = b * s * h * (2.0 * qk + 2.0 * vd) * 2.0  # q, k, v, o in bf16
    eff = v["compute_efficiency"] * seq_ramp(s, v["half_seq"])
    return v["launch_s"] + np.maximum(flops / (peak * eff), byts / (hbm * v["memory_efficiency"]))


def decode_kvhead_model(v, b, L, h, hkv, hd, e_kv, peak, hbm):
    """Diagnostic variant: the per-head term counts KV heads (b·h_kv) instead of query heads."""
    return decode_model({**v, "per_seq_head_s": 0.0}, b, L, h, hkv, hd, e_kv, peak, hbm) + b * hkv * v["per_seq_head_s"]


# Decode-attention rows fitted: head dims and query-heads-per-KV-head groups that deployed
# models use; window 0 and beam 1 are selected before. MHA (h/h_kv = 1) is left out of the
# emitted fit (TRT-LLM runs it with a different, slower kernel on Hopper with fp8 KV) and
# reported separately.
DECODE_HEAD_DIMS = (64, 128, 256)
DECODE_GROUPS = (2, 4, 8, 16)


def decode_rows_realistic(df, groups):
    h = df["num_heads"].to_numpy()
    hkv = df["num_key_value_heads"].to_numpy()
    ok = np.isin(df["head_dim"].to_numpy(), DECODE_HEAD_DIMS) & (h % hkv == 0) & np.isin(h // hkv, groups)
    return df[ok]


# MoE spot-check / target shapes: (label, hidden, inter, experts, topk).
MOE_SPOT_SHAPES = [
    ("Mixtral-like (8 experts, top 2, d 4096, ff 14336)", 4096, 14336, 8, 2),
    ("Qwen3-235B-like (128 experts, top 8, d 4096, ff 1536)", 4096, 1536, 128, 8),
]
MOE_SPOT_T = 4096


def moe_target(df):
    m = np.zeros(len(df), dtype=bool)
    for _, d, ff, e, k in MOE_SPOT_SHAPES:
        m |= ((df["hidden_size"] == d) & (df["inter_size"] == ff) & (df["num_experts"] == e)
              & (df["topk"] == k) & (df["num_tokens"] == MOE_SPOT_T)).to_numpy()
    return m


def fit_stats(f: Fit, t, target):
    """(median, p90, median over t >= 50 µs, median signed error on the target shapes)."""
    e = f.model / t - 1.0
    big = t >= LARGE_T_S
    return (float(np.median(np.abs(e))), float(np.quantile(np.abs(e), 0.9)),
            float(np.median(np.abs(e[big]))) if big.any() else None,
            float(np.median(e[target])) if target.any() else None)


def diag(analysis, name, desc, f_emit, t_emit, tgt_emit, f_alt, t_alt, tgt_alt):
    """Record an alternative fit (report only) next to the emitted one."""
    analysis.setdefault("alt", []).append(
        (name, desc, fit_stats(f_emit, t_emit, tgt_emit), fit_stats(f_alt, t_alt, tgt_alt), f_alt.values))


def moe_terms(df, w_bytes):
    T = df["num_tokens"].to_numpy(float)
    d = df["hidden_size"].to_numpy(float)
    ff = df["inter_size"].to_numpy(float) / df["moe_tp_size"].to_numpy(float)
    k = df["topk"].to_numpy(float)
    E = df["num_experts"].to_numpy(float)
    ep = df["moe_ep_size"].to_numpy(float)
    epr = E / ep
    pairs = T * k / ep
    tpe = pairs / epr
    flops = pairs * 2.0 * 3.0 * d * ff
    touched = epr * (1.0 - (1.0 - k / E) ** T)
    wbytes = touched * 3.0 * d * ff * w_bytes
    return tpe, ff, flops, wbytes


def moe_model(v, tpe, ffr, flops, wbytes, peak, hbm):
    eff = (v["compute_efficiency_max"] * tpe / (tpe + v["half_tokens_per_expert"])
           * ffr / (ffr + v["half_ffn_per_rank"]))
    return v["launch_s"] + np.maximum(flops / (peak * eff), wbytes / (hbm * v["memory_efficiency"]))


def moe_sum_model(v, tpe, ffr, flops, wbytes, peak, hbm):
    """Diagnostic variant: expert compute and weight reads add instead of overlapping."""
    eff = (v["compute_efficiency_max"] * tpe / (tpe + v["half_tokens_per_expert"])
           * ffr / (ffr + v["half_ffn_per_rank"]))
    return v["launch_s"] + flops / (peak * eff) + wbytes / (hbm * v["memory_efficiency"])


def ring_model(v, S, n, factor):
    return v["latency_s"] + factor * S / v["bus_bytes_per_s"]


def fit_ring(S, n, t, factor):
    params = [
        Param("latency_s", 0.0, 1e4, 1e-6, (5.0, 20.0, 1.0)),  # [us]
        Param("bus_bytes_per_s", 0.1, 1e5, 1e9, (100.0, 400.0, 20.0)),  # [GB/s]
    ]
    return fit_log(lambda v: ring_model(v, S, n, factor), t, params)


# ----------------------------------------------------------------------------------------
# Per-hardware driver
# ----------------------------------------------------------------------------------------
def only(df, **eq):
    mask = np.ones(len(df), dtype=bool)
    for c, v in eq.items():
        if c in df.columns:
            mask &= (df[c] == v).to_numpy()
    return df[mask]


def window0(df):
    if "window_size" in df.columns:
        df = df[df["window_size"] == 0]
    if "beam_width" in df.columns:
        df = df[df["beam_width"] == 1]
    return df


def main_kernel(df, preferred=("torch_flow", "default")):
    """The engine's default kernel rows: a preferred kernel_source, else the most common."""
    ks = df["kernel_source"].unique().tolist()
    for p in preferred:
        if p in ks:
            return df[df["kernel_source"] == p], p
    counts = df["kernel_source"].value_counts()
    top = sorted(counts.index, key=lambda s: (-counts[s], s))[0]
    return df[df["kernel_source"] == top], top


@dataclass
class Curve:
    kind: str  # gemm, decode_attention, ...
    key: str  # dtype key
    fit: Fit
    src: str  # relative path
    engine: str
    version: str
    extra: dict = field(default_factory=dict)


def run_hardware(wheel: Wheel, gpu: str, hw_id: str, hw: dict, log):
    sms = SM_COUNTS[hw_id][0]
    curves: list[Curve] = []
    notes: list[str] = []
    comm_rows = {"all_reduce": [], "all_to_all": []}
    analysis = {}

    # ---------------- GEMM
    for tdtype, key in GEMM_DTYPES.items():
        got = wheel.pick(notes, f"gemm.{key}", gpu, "gemm", "gemm_perf.parquet",
                         lambda d: only(d, gemm_dtype=tdtype))
        if not got:
            continue
        if hw["peak"].get(key) is None:
            notes.append(f"gemm.{key}: the table has rows but the catalog has no {PEAK_KEY[key]}; not fitted")
            continue
        rows, rel, eng, ver = got
        log(f"  gemm {key}: {len(rows)} rows from {rel}")
        (tile, f), tries = fit_gemm(rows, key, hw, sms)
        curves.append(
            Curve("gemm", key, f, rel, eng, ver,
                  {"table_dtype": tdtype, "tile": tile, "tries": tries,
                   "kernel_source": sorted(rows["kernel_source"].unique()),
                   "t": rows["latency"].to_numpy(float) * 1e-3,
                   "large_shape": ((rows["m"] >= 256) & (rows["n"] >= 2048) & (rows["k"] >= 2048)).to_numpy()})
        )

    # ---------------- decode attention (GQA/MHA generation table)
    def dec_rows(d, kvt):
        d = window0(only(d, kv_cache_dtype=kvt))
        if not len(d):
            return d
        d, _ = main_kernel(d)
        return d

    for kvt in ("bfloat16", "fp8"):
        key = KV_DTYPES[kvt]
        got = wheel.pick(notes, f"decode_attention.{key}", gpu, "attention", "generation_attention_perf.parquet", lambda d: dec_rows(d, kvt))
        if not got:
            continue
        table, rel, eng, ver = got
        peak, hbm = hw["peak"]["bf16"], hw["hbm"]
        e_kv = KV_BYTES[key]

        def arrays(r):
            return (r["batch_size"].to_numpy(float),
                    r["isl"].to_numpy(float) + r["step"].to_numpy(float),  # = cached + 1 new
                    r["num_heads"].to_numpy(float), r["num_key_value_heads"].to_numpy(float),
                    r["head_dim"].to_numpy(float), r["latency"].to_numpy(float) * 1e-3)

        def target(b, L, h, hkv, hd):  # Llama-8B/70B-like large-batch decode shapes
            return (hd == 128) & (hkv == 8) & ((h == 32) | (h == 64)) & (b >= 64) & (L >= 1024)

        def params():
            return [p_launch(), p_per_seq(), p_per_seq_head(), p_eff("memory_efficiency"),
                    p_eff_prefer1("compute_efficiency")]

        rows = decode_rows_realistic(table, DECODE_GROUPS)
        log(f"  decode_attention {key}: {len(rows)} of {len(table)} rows from {rel}")
        b, L, h, hkv, hd, t = arrays(rows)
        f = fit_log(lambda v: decode_model(v, b, L, h, hkv, hd, e_kv, peak, hbm), t, params(), size_weights(t))
        curves.append(Curve("decode_attention", key, f, rel, eng, ver,
                            {"kernel_source": sorted(rows["kernel_source"].unique())}))
        tgt = target(b, L, h, hkv, hd)
        # Diagnostics on the same rows: the previous form (no per-head term, unweighted), the
        # same form unweighted, and a per-(sequence, KV head) term instead of per query head.
        prev = fit_log(lambda v: decode_model({**v, "per_seq_head_s": 0.0}, b, L, h, hkv, hd, e_kv, peak, hbm),
                       t, [p_launch(), p_per_seq(), p_eff("memory_efficiency"), p_eff("compute_efficiency")])
        diag(analysis, f"decode_attention.{key}", "previous form (`b·per_seq_s` only, unweighted)",
             f, t, tgt, prev, t, tgt)
        unw = fit_log(lambda v: decode_model(v, b, L, h, hkv, hd, e_kv, peak, hbm), t, params())
        diag(analysis, f"decode_attention.{key}", "same form, unweighted", f, t, tgt, unw, t, tgt)
        kvh = fit_log(lambda v: decode_kvhead_model(v, b, L, h, hkv, hd, e_kv, peak, hbm),
                      t, params(), size_weights(t))
        diag(analysis, f"decode_attention.{key}", "`b·h_kv·c` (per KV head) instead of `b·h·c`",
             f, t, tgt, kvh, t, tgt)
        # MHA rows (h = h_kv): how the emitted fit does on them, and a fit that includes them.
        mha = decode_rows_realistic(table, (1,))
        if len(mha):
            b1, L1, h1, hkv1, hd1, t1 = arrays(mha)
            m1 = decode_model(f.values, b1, L1, h1, hkv1, hd1, e_kv, peak, hbm)
            big1 = t1 >= LARGE_T_S
            analysis.setdefault("decode_mha", []).append(
                (f"decode_attention.{key}", len(t1), float(np.median(m1 / t1 - 1.0)),
                 float(np.median(m1[big1] / t1[big1] - 1.0)) if big1.any() else None))
            both = decode_rows_realistic(table, (1,) + DECODE_GROUPS)
            b2, L2, h2, hkv2, hd2, t2 = arrays(both)
            fb = fit_log(lambda v: decode_model(v, b2, L2, h2, hkv2, hd2, e_kv, peak, hbm), t2, params(),
                         size_weights(t2))
            diag(analysis, f"decode_attention.{key}", "same form fitted with the MHA rows (h/h_kv = 1) too",
                 f, t, tgt, fb, t2, target(b2, L2, h2, hkv2, hd2))
        # Sanity: decode attention cannot read distinct per-sequence KV faster than HBM.
        # Look at rows whose KV is far larger than any L2 (>= 256 MB).
        ba, La, ha, hkva, hda, ta = arrays(table)
        kv_bytes = ba * La * 2.0 * hkva * hda * e_kv
        big = kv_bytes >= 256e6
        if big.any():
            implied = float(np.max(kv_bytes[big] / ta[big])) / hbm
            analysis.setdefault("decode_bw", {})[key] = (implied, int(big.sum()))
            if implied > 1.02:
                notes.append(
                    f"decode_attention.{key}: rows with >= 256 MB of KV imply up to {implied:.2f}x the "
                    f"catalog HBM bandwidth, impossible if every sequence reads its own KV; the table "
                    f"(`{rel}`) is suspect (a shorter KV than `isl + step`, a 1-byte KV despite the "
                    f"label, or KV blocks shared across the batch) and `memory_efficiency` is clamped "
                    f"at the physical roof")

    # ---------------- prefill attention (context table, no prefix: step == 0)
    def pre_rows(d, at):
        d = window0(only(d, attn_dtype=at, kv_cache_dtype=at))
        d = d[d["step"] == 0] if "step" in d.columns else d
        if not len(d):
            return d
        d, _ = main_kernel(d)
        return d

    for at in ("bfloat16", "fp8"):
        key = KV_DTYPES[at]
        got = wheel.pick(notes, f"prefill_attention.{key}", gpu, "attention", "context_attention_perf.parquet", lambda d: pre_rows(d, at))
        if not got:
            continue
        rows, rel, eng, ver = got
        if hw["peak"].get(key) is None:
            notes.append(f"prefill_attention.{key}: the table has rows but the catalog has no "
                         f"{PEAK_KEY[key]}; not fitted")
            continue
        log(f"  prefill_attention {key}: {len(rows)} rows from {rel}")
        b = rows["batch_size"].to_numpy(float)
        s = rows["isl"].to_numpy(float)
        h = rows["num_heads"].to_numpy(float)
        hkv = rows["num_key_value_heads"].to_numpy(float)
        hd = rows["head_dim"].to_numpy(float)
        t = rows["latency"].to_numpy(float) * 1e-3
        peak, hbm = hw["peak"][key], hw["hbm"]
        params = [p_launch(), p_eff("compute_efficiency"), p_eff("memory_efficiency"), p_half_seq()]
        f = fit_log(lambda v: prefill_model(v, b, s, h, hkv, hd, peak, hbm), t, params, size_weights(t))
        curves.append(Curve("prefill_attention", key, f, rel, eng, ver,
                            {"kernel_source": sorted(rows["kernel_source"].unique())}))
        tgt = (hd == 128) & (hkv == 8) & ((h == 32) | (h == 64)) & (s >= 1024)
        prev = fit_log(lambda v: prefill_model({**v, "half_seq": 0.0}, b, s, h, hkv, hd, peak, hbm), t, params[:3])
        diag(analysis, f"prefill_attention.{key}", "previous form (no ramp, `half_seq = 0`, unweighted)",
             f, t, tgt, prev, t, tgt)
        unw = fit_log(lambda v: prefill_model(v, b, s, h, hkv, hd, peak, hbm), t, params)
        diag(analysis, f"prefill_attention.{key}", "same form, unweighted", f, t, tgt, unw, t, tgt)
        hdf = fit_log(lambda v: prefill_model({**v, "compute_efficiency": v["compute_efficiency"] * hd / (hd + v["half_hd"])},
                                              b, s, h, hkv, hd, peak, hbm),
                      t, params + [Param("half_hd", 0.0, 1e4, 1.0, (32.0, 128.0, 8.0))], size_weights(t))
        diag(analysis, f"prefill_attention.{key}",
             f"compute efficiency × `hd/(hd + hd½)` (fit: η_c {hdf.values['compute_efficiency']:.2f}, "
             f"s½ {hdf.values['half_seq']:.0f}, hd½ {hdf.values['half_hd']:.0f})", f, t, tgt, hdf, t, tgt)

    # ---------------- MLA decode (absorbed) and prefill (not absorbed)
    for kvt in ("bfloat16", "fp8"):
        key = KV_DTYPES[kvt]
        got = wheel.pick(notes, f"mla_decode.{key}", gpu, "mla", "generation_mla_perf.parquet",
                         lambda d: only(d, kv_cache_dtype=kvt, mla_dtype="bfloat16"))
        if not got:
            continue
        rows, rel, eng, ver = got
        log(f"  mla_decode {key}: {len(rows)} rows from {rel}")
        b = rows["batch_size"].to_numpy(float)
        L = rows["isl"].to_numpy(float) + rows["step"].to_numpy(float)
        h = rows["num_heads"].to_numpy(float)  # heads on this rank
        t = rows["latency"].to_numpy(float) * 1e-3
        peak, hbm = hw["peak"]["bf16"], hw["hbm"]
        params = [p_launch(), p_per_seq(), p_per_seq_head(), p_eff("memory_efficiency"),
                  p_eff_prefer1("compute_efficiency")]
        f = fit_log(lambda v: mla_decode_model(v, b, L, h, KV_BYTES[key], peak, hbm), t, params, size_weights(t))
        curves.append(Curve("mla_decode", key, f, rel, eng, ver))
        tgt = (b >= 64) & (L >= 1024)
        prev = fit_log(lambda v: mla_decode_model({**v, "per_seq_head_s": 0.0}, b, L, h, KV_BYTES[key], peak, hbm),
                       t, [p_launch(), p_per_seq(), p_eff("memory_efficiency"), p_eff("compute_efficiency")])
        diag(analysis, f"mla_decode.{key}", "previous form (`b·per_seq_s` only, unweighted)",
             f, t, tgt, prev, t, tgt)
        if f.median > 0.25:
            # Say what the kernel does instead: throughput of the longest single sequence at the
            # most heads, and how flat the latency is in batch.
            hm, Lm = h.max(), L[(h == h.max()) & (b == 1)].max()
            one = (h == hm) & (L == Lm)
            t1 = t[one & (b == 1)].min()
            fl = Lm * (2.0 * hm * (MLA_KV_LORA_RANK + MLA_ROPE) + 2.0 * hm * MLA_KV_LORA_RANK)
            flat = [int(x) for x in sorted(set(b[one])) if t[one & (b == x)].min() <= 1.1 * t1]
            notes.append(
                f"mla_decode.{key}: the measured kernel behaves like neither roof of the formula "
                f"(a slow fallback path?): at h = {hm:.0f}, b = 1, L = {Lm:.0f} it runs {fl / t1 / 1e12:.2f} TFLOP/s "
                f"({fl / t1 / peak:.1%} of the bf16 peak) and moves {Lm * (MLA_KV_LORA_RANK + MLA_ROPE) * KV_BYTES[key] / t1 / hbm:.1%} "
                f"of HBM bandwidth, and its latency stays within 10 % of b = 1 up to b = {max(flat)}")

    got = wheel.pick(notes, "mla_prefill.bf16", gpu, "mla", "context_mla_perf.parquet",
                     lambda d: only(d, kv_cache_dtype="bfloat16", mla_dtype="bfloat16"))
    if got:
        rows, rel, eng, ver = got
        log(f"  mla_prefill bf16: {len(rows)} rows from {rel}")
        b = rows["batch_size"].to_numpy(float)
        s = rows["isl"].to_numpy(float)
        h = rows["num_heads"].to_numpy(float)
        t = rows["latency"].to_numpy(float) * 1e-3
        peak, hbm = hw["peak"]["bf16"], hw["hbm"]
        params = [p_launch(), p_eff("compute_efficiency"), p_eff("memory_efficiency"), p_half_seq()]
        f = fit_log(lambda v: mla_prefill_model(v, b, s, h, peak, hbm), t, params, size_weights(t))
        curves.append(Curve("mla_prefill", "bf16", f, rel, eng, ver))
        tgt = s >= 1024
        prev = fit_log(lambda v: mla_prefill_model({**v, "half_seq": 0.0}, b, s, h, peak, hbm), t, params[:3])
        diag(analysis, "mla_prefill.bf16", "previous form (no ramp, `half_seq = 0`, unweighted)",
             f, t, tgt, prev, t, tgt)

    # ---------------- MoE (uniform = "balanced" rows, gated kernels only)
    def moe_rows(d, tdtype):
        d = only(d, moe_dtype=tdtype)
        d = d[~d["kernel_source"].str.contains("nongated|min_latency", regex=True)]
        d = d[d["distribution"] == "balanced"]
        if not len(d):
            return d
        counts = d["kernel_source"].value_counts()
        top = sorted(counts.index, key=lambda s: (-counts[s], s))[0]
        return d[d["kernel_source"] == top]

    for tdtype, key in MOE_DTYPES.items():
        got = wheel.pick(notes, f"moe.{key}", gpu, "moe", "moe_perf.parquet", lambda d: moe_rows(d, tdtype))
        if not got:
            continue
        if hw["peak"].get(key) is None:
            notes.append(f"moe.{key}: the table has rows but the catalog has no {PEAK_KEY[key]}; not fitted")
            continue
        rows, rel, eng, ver = got
        log(f"  moe {key}: {len(rows)} rows from {rel}")
        tpe, ffr, flops, wbytes = moe_terms(rows, ELEM_BYTES[key][1])
        t = rows["latency"].to_numpy(float) * 1e-3
        peak, hbm = hw["peak"][key], hw["hbm"]
        params = [
            p_launch(),
            Param("compute_efficiency_max", 1e-3, 1.0, 1.0, (0.6, 0.3, 0.9)),
            Param("half_tokens_per_expert", 0.0, 1e5, 1.0, (32.0, 256.0, 4.0)),
            p_eff("memory_efficiency"),
            Param("half_ffn_per_rank", 0.0, 1e5, 1.0, (512.0, 2048.0, 128.0)),
        ]
        f = fit_log(lambda v: moe_model(v, tpe, ffr, flops, wbytes, peak, hbm), t, params, size_weights(t))
        ks = rows["kernel_source"].iloc[0]
        tgt = moe_target(rows)
        prev = fit_log(lambda v: moe_model({**v, "half_ffn_per_rank": 0.0}, tpe, ffr, flops, wbytes, peak, hbm),
                       t, params[:4])
        diag(analysis, f"moe.{key}", "previous form (no `ff/moe_tp` factor, unweighted)", f, t, tgt, prev, t, tgt)
        unw = fit_log(lambda v: moe_model(v, tpe, ffr, flops, wbytes, peak, hbm), t, params)
        diag(analysis, f"moe.{key}", "same form, unweighted", f, t, tgt, unw, t, tgt)
        add = fit_log(lambda v: moe_sum_model(v, tpe, ffr, flops, wbytes, peak, hbm),
                      t, params, size_weights(t))
        diag(analysis, f"moe.{key}",
             f"compute + weight-read time instead of their max (fit: η_c,max "
             f"{add.values['compute_efficiency_max']:.2f}, tpe½ {add.values['half_tokens_per_expert']:.1f}, "
             f"ffr½ {add.values['half_ffn_per_rank']:.0f}, η_m {add.values['memory_efficiency']:.2f})",
             f, t, tgt, add, t, tgt)
        curves.append(Curve("moe", key, f, rel, eng, ver, {"kernel_source": [ks]}))
        # Load-imbalance evidence: same kernel, same shapes, power-law routing vs uniform.
        full = wheel.read(*rel.split("/"))
        full = only(full, moe_dtype=tdtype, kernel_source=ks)
        shape = ["num_tokens", "hidden_size", "inter_size", "topk", "num_experts",
                 "moe_tp_size", "moe_ep_size"]
        bal = full[full["distribution"] == "balanced"][shape + ["latency"]]
        for dist in sorted(full["distribution"].unique()):
            if dist == "balanced":
                continue
            pl = full[full["distribution"] == dist][shape + ["latency"]]
            j = bal.merge(pl, on=shape, suffixes=("_u", "_p"))
            if len(j):
                j = j.assign(ratio=j["latency_p"] / j["latency_u"])
                analysis.setdefault("moe_imbalance", {})[(key, dist)] = (j, rel)

    # ---------------- MoE, MXFP4 experts (gpt-oss): moe.mxfp4
    fit_mxfp4(wheel, gpu, hw, curves, notes, analysis, log)

    # ---------------- all-reduce: TRT-LLM custom kernels and NCCL
    got = wheel.pick(notes, "all_reduce.trtllm-custom", gpu, "comm", "custom_allreduce_perf.parquet",
                     lambda d: only(d, op_name="all_reduce"), engines=("trtllm",))
    if got:
        rows, rel, eng, ver = got
        for n in sorted(rows["num_gpus"].unique()):
            r = rows[rows["num_gpus"] == n]
            # GB300 n = 8/16 rows are the multi-node-NVLink one-shot / two-shot kernels; the
            # runtime picks the faster per message size, so take the per-size minimum.
            r = r.groupby("message_size", as_index=False)["latency"].min()
            S = r["message_size"].to_numpy(float) * 2.0  # elements of bf16
            t = r["latency"].to_numpy(float) * 1e-3
            f = fit_ring(S, n, t, 2.0 * (n - 1) / n)
            impl = "trtllm-custom"
            kss = sorted(rows[rows["num_gpus"] == n]["kernel_source"].unique())
            comm_rows["all_reduce"].append((impl, int(n), f, rel, kss))
    got = wheel.pick(notes, "all_reduce.nccl", gpu, "comm", "nccl_perf.parquet",
                     lambda d: only(d, op_name="all_reduce", nccl_dtype="half"), engines=("nccl",))
    if got:
        rows, rel, eng, ver = got
        for n in sorted(rows["num_gpus"].unique()):
            r = rows[rows["num_gpus"] == n]
            r = r.groupby("message_size", as_index=False)["latency"].median()
            S = r["message_size"].to_numpy(float) * 2.0  # elements of fp16 ('half')
            t = r["latency"].to_numpy(float) * 1e-3
            f = fit_ring(S, n, t, 2.0 * (n - 1) / n)
            comm_rows["all_reduce"].append(("nccl", int(n), f, rel, ["NCCL"]))

    # ---------------- all-to-all: NCCL alltoall, DeepEP (TRT-LLM), TRT-LLM NVLink A2A
    got = wheel.pick(notes, "all_to_all.nccl", gpu, "comm", "nccl_perf.parquet",
                     lambda d: only(d, op_name="alltoall", nccl_dtype="half"), engines=("nccl",))
    if got:
        rows, rel, eng, ver = got
        for n in sorted(rows["num_gpus"].unique()):
            r = rows[rows["num_gpus"] == n]
            r = r.groupby("message_size", as_index=False)["latency"].median()
            S = r["message_size"].to_numpy(float) * 2.0
            t = r["latency"].to_numpy(float) * 1e-3
            f = fit_ring(S, n, t, (n - 1) / n)
            comm_rows["all_to_all"].append(("nccl", int(n), f, rel, ["NCCL"]))
    got = wheel.pick(notes, "all_to_all.deepep", gpu, "comm", "moe_a2a_perf.parquet",
                     lambda d: only(d, op_name="moe_a2a", comm_dtype="bfloat16"), engines=("trtllm",))
    if got:
        rows, rel, eng, ver = got
        for (backend, phase, n), r in sorted(rows.groupby(["comm_backend", "phase", "ep_size"])):
            if r["node_num"].nunique() > 1:
                r = r[r["node_num"] == r["node_num"].min()]
            S = (r["num_tokens"] * r["topk"] * r["hidden_size"]).to_numpy(float) * 2.0
            t = r["latency"].to_numpy(float) * 1e-6  # this table is in MICROseconds
            f = fit_ring(S, n, t, (n - 1) / n)
            impl = backend.replace("_", "-") + "-" + phase
            comm_rows["all_to_all"].append((impl, int(n), f, rel, [f"comm_dtype=bfloat16"]))
    got = wheel.pick(notes, "all_to_all.trtllm-nvlink", gpu, "comm", "trtllm_alltoall_perf.parquet",
                     lambda d: only(d, moe_dtype="bfloat16", distribution="balanced"), engines=("trtllm",))
    if got:
        rows, rel, eng, ver = got
        rows = rows[rows["op_name"].isin(["alltoall_dispatch", "alltoall_combine"])]
        for (ks, op, n), r in sorted(rows.groupby(["kernel_source", "op_name", "moe_ep_size"])):
            S = (r["num_tokens"] * r["topk"] * r["hidden_size"]).to_numpy(float) * 2.0
            t = r["latency"].to_numpy(float) * 1e-3
            f = fit_ring(S, n, t, (n - 1) / n)
            impl = "trtllm-" + ks.lower().replace("nvlink", "nvlink-") + "-" + op.split("_")[1]
            comm_rows["all_to_all"].append((impl, int(n), f, rel, [ks]))

    return curves, comm_rows, notes, analysis


# ----------------------------------------------------------------------------------------
# MXFP4 MoE (gpt-oss)
# ----------------------------------------------------------------------------------------
def moe_tables(wheel: Wheel, gpu):
    """Every `moe/<engine>/<version>/moe_perf.parquet` of a GPU: (rel, {moe_dtype: rows})."""
    out = []
    base = wheel.data / gpu / "moe"
    if not base.is_dir():
        return out
    for eng in sorted(d.name for d in base.iterdir() if d.is_dir()):
        for v in wheel.versions(gpu, "moe", eng, "moe_perf.parquet"):
            df = wheel.read(gpu, "moe", eng, v, "moe_perf.parquet")
            counts = df["moe_dtype"].value_counts()
            out.append((f"{gpu}/moe/{eng}/{v}/moe_perf.parquet",
                        {str(k): int(counts[k]) for k in sorted(counts.index, key=str)}))
    return out


def mxfp4_rows(d, tdtype, gpt_oss_only=True):
    """Uniform-routing, gated rows of one MXFP4 variant (gpt-oss shapes only by default),
    the most common kernel_source."""
    d = only(d, moe_dtype=tdtype)
    d = d[~d["kernel_source"].str.contains("nongated|min_latency", regex=True)]
    d = d[d["distribution"] == "balanced"]
    if gpt_oss_only:
        d = d[gpt_oss_mask(d)]
    if not len(d):
        return d
    counts = d["kernel_source"].value_counts()
    top = sorted(counts.index, key=lambda s: (-counts[s], s))[0]
    return d[d["kernel_source"] == top]


def moe_params(fixed_ffn):
    ps = [
        p_launch(),
        Param("compute_efficiency_max", 1e-3, 1.0, 1.0, (0.6, 0.3, 0.9)),
        Param("half_tokens_per_expert", 0.0, 1e5, 1.0, (32.0, 256.0, 4.0)),
        p_eff("memory_efficiency"),
    ]
    if fixed_ffn is None:
        ps.append(Param("half_ffn_per_rank", 0.0, 1e5, 1.0, (512.0, 2048.0, 128.0)))
    return ps


def fit_moe_rows(rows, peak, hbm, fixed_ffn=None, model=None, weighted=True, extra_params=()):
    """Fit the MoE form to `rows` (MXFP4 weight bytes); `fixed_ffn` fixes half_ffn_per_rank."""
    tpe, ffr, flops, wbytes = moe_terms(rows, MXFP4_BYTES)
    t = rows["latency"].to_numpy(float) * 1e-3
    model = model or moe_model
    fix = {} if fixed_ffn is None else {"half_ffn_per_rank": fixed_ffn}
    f = fit_log(lambda v: model({**v, **fix}, tpe, ffr, flops, wbytes, peak, hbm),
                t, moe_params(fixed_ffn) + list(extra_params), size_weights(t) if weighted else None)
    f.values.update(fix)
    return f, t


def fit_mxfp4(wheel: Wheel, gpu, hw, curves, notes, analysis, log):
    """moe.mxfp4: the MXFP4 variant TensorRT-LLM runs gpt-oss with on this GPU, fitted on the
    gpt-oss shapes; the other variants are fitted for the report only."""
    tables = moe_tables(wheel, gpu)
    analysis["mxfp4_tables"] = tables
    variants = sorted({dt for _, c in tables for dt in c if mxfp4_math(dt)},
                      key=lambda dt: mxfp4_order(dt, hw["peak"].get("fp4") is not None))
    hbm = hw["hbm"]
    by = {(c.kind, c.key): c for c in curves}
    fits = []
    for tdtype in variants:
        math = mxfp4_math(tdtype)
        emit = not fits
        label = "moe.mxfp4" + ("" if emit else f" ({tdtype}, report only)")
        got = wheel.pick(notes, label, gpu, "moe", "moe_perf.parquet", lambda d: mxfp4_rows(d, tdtype))
        if not got:
            continue
        rows, rel, eng, ver = got
        if hw["peak"].get(math) is None:
            notes.append(f"{label}: `{tdtype}` rows need the {math} peak, which the catalog lacks; not fitted")
            continue
        peak = hw["peak"][math]
        log(f"  moe mxfp4 ({tdtype}, {math} math): {len(rows)} rows from {rel}")
        tpe, ffr, flops, wbytes = moe_terms(rows, MXFP4_BYTES)
        # half_ffn_per_rank needs rows at several expert widths per rank; the gpt-oss rows are
        # all moe_tp = 1 (one width), where only compute_efficiency_max * ffr/(ffr + half) is
        # identified. Then the width factor of the same GPU's curve at the same math precision
        # is borrowed (0 = off if there is none) and the other four parameters are fitted.
        fixed, fixed_from = None, None
        if len(np.unique(ffr)) < 2:
            donor = by.get(("moe", math))
            fixed = donor.fit.values["half_ffn_per_rank"] if donor else 0.0
            fixed_from = f"moe.{math}" if donor else None
        f, t = fit_moe_rows(rows, peak, hbm, fixed)
        ks = rows["kernel_source"].iloc[0]
        widths = sorted({int(x) if float(x).is_integer() else float(x) for x in ffr})
        info = {"table_dtype": tdtype, "math": math, "kernel_source": [ks], "rel": rel,
                "fixed_ffn": fixed, "fixed_from": fixed_from, "widths": widths,
                "emitted": emit}
        # The emitted curve on this variant's other (non-gpt-oss) rows of the same table.
        full = wheel.read(*rel.split("/"))
        other = mxfp4_rows(full, tdtype, gpt_oss_only=False)
        other = other[(other["kernel_source"] == ks).to_numpy() & ~gpt_oss_mask(other)]
        if len(other):
            o = moe_terms(other, MXFP4_BYTES)
            to = other["latency"].to_numpy(float) * 1e-3
            e = moe_model(f.values, *o, peak, hbm) / to - 1.0
            shapes = sorted({(int(a), int(b), int(c), int(d)) for a, b, c, d in
                             other[["hidden_size", "inter_size", "num_experts", "topk"]].to_numpy()})
            info["other"] = (len(to), float(np.median(np.abs(e))), float(np.median(e)), shapes)
        # Newer tables skipped for this curve: how they compare on the shapes they share.
        newer = [v for v in wheel.versions(gpu, "moe", eng, "moe_perf.parquet")
                 if version_key(v) > version_key(ver)]
        cmp_rows = []
        for v in newer:
            nd = mxfp4_rows(wheel.read(gpu, "moe", eng, v, "moe_perf.parquet"), tdtype, gpt_oss_only=False)
            if not len(nd):
                continue
            od = mxfp4_rows(full, tdtype, gpt_oss_only=False)
            keys = ["num_tokens", "hidden_size", "inter_size", "topk", "num_experts", "moe_tp_size",
                    "moe_ep_size"]
            j = od[keys + ["latency"]].merge(nd[keys + ["latency"]], on=keys, suffixes=("_u", "_n"))
            if len(j):
                r = (j["latency_n"] / j["latency_u"]).to_numpy()
                cmp_rows.append((v, len(nd), int(gpt_oss_mask(nd).sum()), len(j), float(np.median(r)),
                                 float(np.quantile(r, 0.1)), float(np.quantile(r, 0.9))))
        info["newer"] = cmp_rows
        fits.append((tdtype, f, rel, eng, ver, info))
        if fixed is not None and emit:
            notes.append(
                f"moe.mxfp4: `half_ffn_per_rank` is not identified by the fitted rows (one expert width "
                f"per rank, ffr = {', '.join(str(w) for w in widths)}: the gpt-oss rows are all "
                f"moe_tp = 1); fixed at " + (f"{fixed_from}'s {fmt(fixed)} (same math precision, "
                                             f"same GPU)" if fixed_from else "0 (no width factor)")
                + " and the other parameters fitted")
        if not emit:
            continue
        curves.append(Curve("moe", "mxfp4", f, rel, eng, ver, info))
        tgt = gpt_oss_target(rows)
        unw, _ = fit_moe_rows(rows, peak, hbm, fixed, weighted=False)
        diag(analysis, "moe.mxfp4", "same form, unweighted", f, t, tgt, unw, t, tgt)
        add, _ = fit_moe_rows(rows, peak, hbm, fixed, model=moe_sum_model)
        diag(analysis, "moe.mxfp4",
             f"compute + weight-read time instead of their max (fit: η_c,max "
             f"{add.values['compute_efficiency_max']:.2f}, tpe½ {add.values['half_tokens_per_expert']:.1f}, "
             f"η_m {add.values['memory_efficiency']:.2f})", f, t, tgt, add, t, tgt)
        T = rows["num_tokens"].to_numpy(float)
        ptok, _ = fit_moe_rows(
            rows, peak, hbm, fixed,
            model=lambda v, *a: moe_model(v, *a) + T * v["per_token_s"],
            extra_params=[Param("per_token_s", 0.0, 1000.0, 1e-9, (10.0, 50.0, 1.0), tol=1e-4)])
        diag(analysis, "moe.mxfp4",
             f"`+ T·per_token_s` (T = tokens before EP routing; fit: {ptok.values['per_token_s'] * 1e9:.1f} ns, "
             f"launch {us(ptok.values['launch_s'])} µs, η_c,max {ptok.values['compute_efficiency_max']:.2f}, "
             f"η_m {ptok.values['memory_efficiency']:.2f})", f, t, tgt, ptok, t, tgt)
        allr = mxfp4_rows(full, tdtype, gpt_oss_only=False)
        allr = allr[allr["kernel_source"] == ks]
        if len(allr) > len(rows):
            fa, ta = fit_moe_rows(allr, peak, hbm)
            diag(analysis, "moe.mxfp4",
                 f"fitted on all {len(ta)} `{tdtype}` rows of the table (gpt-oss and other shapes; "
                 f"fit: η_c,max {fa.values['compute_efficiency_max']:.2f}, tpe½ "
                 f"{fa.values['half_tokens_per_expert']:.1f}, ffr½ {fa.values['half_ffn_per_rank']:.0f}, "
                 f"η_m {fa.values['memory_efficiency']:.2f})",
                 f, t, tgt, fa, ta, gpt_oss_target(allr))
        # Load-imbalance evidence, as for the other MoE curves (all shapes of the variant).
        fk = only(full, moe_dtype=tdtype, kernel_source=ks)
        shape = ["num_tokens", "hidden_size", "inter_size", "topk", "num_experts",
                 "moe_tp_size", "moe_ep_size"]
        bal = fk[fk["distribution"] == "balanced"][shape + ["latency"]]
        for dist in sorted(fk["distribution"].unique()):
            if dist == "balanced":
                continue
            pl = fk[fk["distribution"] == dist][shape + ["latency"]]
            j = bal.merge(pl, on=shape, suffixes=("_u", "_p"))
            if len(j):
                j = j.assign(ratio=j["latency_p"] / j["latency_u"])
                analysis.setdefault("moe_imbalance", {})[("mxfp4", dist)] = (j, rel)
    analysis["mxfp4"] = fits


# ----------------------------------------------------------------------------------------
# Engine comparisons and spot checks (report only)
# ----------------------------------------------------------------------------------------
def compare_engines(wheel: Wheel, gpu, op, fname, keys, base_filter, base_rel):
    """Median ratio t(other engine)/t(base table) on identical shapes, per kernel_source."""
    base = base_filter(wheel.read(*base_rel.split("/")))
    out = []
    for eng in ("vllm", "sglang"):
        vs = wheel.versions(gpu, op, eng, fname)
        if not vs:
            continue
        v = vs[0]
        other = wheel.read(gpu, op, eng, v, fname)
        other = other.copy()
        if "window_size" not in other.columns and "window_size" in keys:
            other["window_size"] = 0
        if "beam_width" not in other.columns and "beam_width" in keys:
            other["beam_width"] = 1
        for ks in sorted(other["kernel_source"].unique()):
            o = other[other["kernel_source"] == ks]
            j = base[keys + ["latency"]].merge(o[keys + ["latency"]], on=keys, suffixes=("_b", "_o"))
            if not len(j):
                continue
            r = (j["latency_o"] / j["latency_b"]).to_numpy()
            out.append((eng, v, ks, j, r))
    return out


LLAMA8B_GEMMS = [
    ("qkv_proj 4096->6144", 6144, 4096),
    ("o_proj 4096->4096", 4096, 4096),
    ("MLP up stand-in 4096->16384", 16384, 4096),
    ("MLP down stand-in 16384->4096", 4096, 16384),
]


# ----------------------------------------------------------------------------------------
# Output writers
# ----------------------------------------------------------------------------------------
KIND_ORDER = ["gemm", "decode_attention", "prefill_attention", "mla_decode", "mla_prefill", "moe"]
KEY_ORDER = ["bf16", "fp8", "fp8_block", "fp4", "mxfp4"]


def sort_curves(curves):
    return sorted(curves, key=lambda c: (KIND_ORDER.index(c.kind), KEY_ORDER.index(c.key)))


def toml_for(hw_id, engine_str, curves, comm_rows):
    sm, sm_src = SM_COUNTS[hw_id]
    L = [f"[{hw_id}]", 'confidence = "measured"', f'engine = "{engine_str}"', f"sm_count = {sm}",
         f'sm_count_source = "{sm_src}"', ""]
    for c in sort_curves(curves):
        v, f = c.fit.values, c.fit
        L.append(f"[{hw_id}.{c.kind}.{c.key}]")
        if c.kind == "gemm":
            L.append(f'table_dtype = "{c.extra["table_dtype"]}"')
        if c.kind == "moe" and c.key == "mxfp4":
            # The MXFP4 variant fitted and the math (catalog peak) its efficiencies refer to.
            L.append(f'table_dtype = "{c.extra["table_dtype"]}"')
            L.append(f'math = "{c.extra["math"]}"')
        order = {
            "gemm": ["launch_s", "compute_efficiency", "memory_efficiency"],
            "decode_attention": ["launch_s", "per_seq_s", "per_seq_head_s", "memory_efficiency",
                                 "compute_efficiency"],
            "mla_decode": ["launch_s", "per_seq_s", "per_seq_head_s", "memory_efficiency", "compute_efficiency"],
            "prefill_attention": ["launch_s", "compute_efficiency", "memory_efficiency", "half_seq"],
            "mla_prefill": ["launch_s", "compute_efficiency", "memory_efficiency", "half_seq"],
            "moe": ["launch_s", "compute_efficiency_max", "half_tokens_per_expert", "half_ffn_per_rank",
                    "memory_efficiency"],
        }[c.kind]
        for k in order:
            L.append(f"{k} = {fmt(v[k])}")
        if c.kind == "gemm":
            L.append(f"tile_m = {c.extra['tile'][0]}")
            L.append(f"tile_n = {c.extra['tile'][1]}")
        L.append(f"points = {f.points}")
        L.append(f"median_abs_error = {fmt(f.median, 3)}")
        L.append(f"p90_abs_error = {fmt(f.p90, 3)}")
        if f.weighted and f.median_large is not None:
            L.append(f"median_abs_error_large = {fmt(f.median_large, 3)}")
        L.append(f'source = "{source(c.src)}"')
        L.append("")
    for kind in ("all_reduce", "all_to_all"):
        for impl, n, f, rel, _ in comm_rows[kind]:
            L.append(f"[[{hw_id}.{kind}]]")
            L.append(f'implementation = "{impl}"')
            L.append(f"gpus = {n}")
            L.append(f"latency_s = {fmt(f.values['latency_s'])}")
            L.append(f"bus_bytes_per_s = {fmt(f.values['bus_bytes_per_s'])}")
            L.append(f"points = {f.points}")
            L.append(f"median_abs_error = {fmt(f.median, 3)}")
            L.append(f'source = "{source(rel)}"')
            L.append("")
    return "\n".join(L)


def md_table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(x) for x in r) + " |")
    return "\n".join(out)


def us(x):
    return f"{x * 1e6:.2f}"


def coef_str(c: Curve):
    v = c.fit.values
    parts = []
    if "launch_s" in v:
        parts.append(f"launch {us(v['launch_s'])} µs")
    if "per_seq_s" in v:
        parts.append(f"per_seq {v['per_seq_s'] * 1e9:.1f} ns")
    if "per_seq_head_s" in v:
        parts.append(f"per_seq_head {v['per_seq_head_s'] * 1e9:.2f} ns")
    for k, lab in (("compute_efficiency", "η_c"), ("compute_efficiency_max", "η_c,max"),
                   ("memory_efficiency", "η_m")):
        if k in v:
            parts.append(f"{lab} {v[k]:.3f}")
    if "half_tokens_per_expert" in v:
        parts.append(f"tpe½ {v['half_tokens_per_expert']:.1f}")
    if "half_ffn_per_rank" in v:
        parts.append(f"ffr½ {v['half_ffn_per_rank']:.0f}")
    if "half_seq" in v:
        parts.append(f"s½ {v['half_seq']:.0f}")
    if c.kind == "gemm":
        tm, tn = c.extra["tile"]
        parts.append(f"tile {tm}×{tn}" if tm else "no wave quant.")
    if c.kind == "moe" and c.key == "mxfp4":
        if c.extra.get("fixed_ffn") is not None:
            parts[-1] += f" (fixed, {c.extra['fixed_from'] or 'off'})"
        parts.append(f"`{c.extra['table_dtype']}`, {c.extra['math']} math")
    return ", ".join(parts)


FORMULAS_MD = r"""
## Formulas (what the Rust side implements)

Units are SI. `P` is the dense tensor peak of the dtype's math precision and `HBM` the HBM
bandwidth, both read from `catalog/hardware.toml` (`bf16_dense_flop_per_s`,
`fp8_dense_flop_per_s` (also for fp8_block), `fp4_dense_flop_per_s`, `hbm_bytes_per_s`).
Element bytes: bf16 2, fp8 1, fp8_block 1 (activations) and 1 + 4/128² (weights: one fp32
scale per 128×128 block), nvfp4 0.5 + 1/16 (weights and activations: one fp8 scale per 16),
mxfp4 0.5 + 1/32 (`moe.mxfp4` expert weights: one E8M0 scale per 32).

- **GEMM** (m, n, k): `C = 2·m·n·k`, `bytes = m·k·a + n·k·w + m·n·2` (a, w: activation and
  weight element bytes; output bf16).
  `wave = tiles / (ceil(tiles/sm_count)·sm_count)`, `tiles = ceil(m/tile_m)·ceil(n/tile_n)`,
  or `wave = 1` when `tile_m = 0`.
  `t = launch_s + max(C / (P·compute_efficiency·wave), bytes / (HBM·memory_efficiency))`.
- **Decode attention** (one layer; batch b, attended length L, query heads h on the rank,
  kv heads h_kv, head dim hd): `kv_bytes = b·L·2·h_kv·hd·e_kv` (e_kv 2 for bf16 KV, 1 for fp8
  KV), `flops = 4·b·h·hd·L`,
  `t = launch_s + b·per_seq_s + b·h·per_seq_head_s + max(kv_bytes/(HBM·memory_efficiency), flops/(P_bf16·compute_efficiency))`.
  `compute_efficiency = 1` means the flops roof is not needed (it is then never binding).
  **L = isl + step** in the generation table, i.e. the number of keys attended: the
  collector stores `isl = 1` and `step` = the number of tokens already in the KV cache, and
  the new token's key/value is appended before attention (so the table's `step = 4095` is L = 4096).
- **Prefill attention** (causal, no prefix; s = isl): `flops = 4·b·h·hd·s(s+1)/2`,
  `bytes = b·s·(2·h·hd + 2·h_kv·hd)·2` (q, o, k, v in bf16),
  `t = launch_s + max(flops/(P·compute_efficiency·s/(s + half_seq)), bytes/(HBM·memory_efficiency))`
  (`half_seq` in tokens; 0 = no ramp), P = bf16 peak (fp8 peak for the `fp8` key, FP8 context FMHA).
- **MLA decode** (absorbed; r = kv_lora_rank 512, rope 64; h = heads on the rank, the
  table's `num_heads`; L = isl + step as above): `flops = b·L·(2h(r+rope) + 2h·r)`,
  `kv_bytes = b·L·(r+rope)·e_kv`, same form as decode attention (with `b·h·per_seq_head_s`).
- **MLA prefill** (not absorbed; nope 128, rope 64, v 128):
  `flops = b·h·(s(s+1)/2)·(2·(nope+rope) + 2·v)`, `bytes = b·s·h·(2·(nope+rope) + 2·v)·2`
  (q, k, v, o in bf16), same form as prefill attention (with the `half_seq` ramp).
- **All-reduce** (n GPUs, message S bytes): `t = latency_s + 2(n−1)/n · S / bus_bytes_per_s`.
- **All-to-all** (n GPUs): `t = latency_s + (n−1)/n · S / bus_bytes_per_s`, with S the bytes
  one rank holds for the exchange: the nccl-tests buffer for `nccl`; for the MoE
  dispatch/combine kernels (DeepEP, TRT-LLM NVLink A2A) `S = tokens_on_rank · topk · hidden · 2`
  (bf16 payload, before any per-rank de-duplication), n = EP size.
- **MoE** (per rank; E experts, top-k, T tokens, hidden d, inter ff, moe_tp, moe_ep):
  `experts_per_rank = E/ep`, `pairs = T·k/ep`, `tpe = pairs/experts_per_rank`,
  `ffr = ff/moe_tp`, `flops = pairs·2·3·d·ffr`, `touched = experts_per_rank·(1 − (1 − k/E)^T)`,
  `weight_bytes = touched·3·d·ffr·w`,
  `eff = compute_efficiency_max · tpe/(tpe + half_tokens_per_expert) · ffr/(ffr + half_ffn_per_rank)`
  (`half_ffn_per_rank = 0` turns the width factor off),
  `t = launch_s + max(flops/(P·eff), weight_bytes/(HBM·memory_efficiency))`.
  `moe.mxfp4` (MXFP4 experts, gpt-oss) uses the same form with `w = 0.5 + 1/32` and P the
  peak named by its `math` key: `bf16` (W4A16: BF16 activations, the weights dequantized into
  BF16 MMAs; Hopper), `fp8` (W4A8 MXFP4 × MXFP8 activations; Blackwell), `fp4` (MXFP4
  activations). See "MXFP4 MoE experts" below for the rows and conventions.

Fit: bounded least squares on log(t). GEMM and the collectives weight every measured point
equally. Decode attention, prefill attention, MLA and MoE weight each point by
`w = 1 + log10(1 + t/10 µs)`, and if the points with t ≥ 50 µs still weigh less in total than
the smaller ones, their weights are scaled up until both groups weigh the same, so that the
large kernels that decide throughput count at least as much as the launch-bound ones.
Decode `compute_efficiency` is then fixed at 1 (and the others refitted) when that costs
less than 0.1 % of the weighted residual. Bounds: `launch_s` [0, 1 ms], `per_seq_s`
[0, 10 µs], `per_seq_head_s` [0, 1 µs], efficiencies [0.001, 1], `half_tokens_per_expert`,
`half_ffn_per_rank` and `half_seq` [0, 1e5]. Decode attention rows: window 0, beam 1,
head_dim ∈ {64, 128, 256}, h/h_kv ∈ {2, 4, 8, 16} (MHA rows are checked separately, see
below). Errors are |t_fit/t_measured − 1| over the fitted points, unweighted; "large" is
the median over the points with t ≥ 50 µs.
"""


def write_report(path, results, wheel: Wheel, hwinfo):
    W = []
    W.append("# Kernel-efficiency curves fitted from NVIDIA AIConfigurator tables")
    W.append("")
    W.append(
        "Generated by `tools/kernel-fit/fit.py` from the measured kernel tables shipped as package "
        f"data of `{WHEEL_NAME}` (NVIDIA AIConfigurator, Apache-2.0; see "
        "`crates/servemath-hardware/catalog/NOTICE-aiconfigurator.md`). Do not edit by hand: "
        "re-run the script. The coefficients are in `crates/servemath-hardware/catalog/kernels.toml`."
    )
    W.append("")
    W.append(
        "Data selection: for every curve the TensorRT-LLM (`trtllm`) table of the newest version "
        "folder that has usable rows for it; other engines only where no TRT-LLM table has any. "
        "Every deviation from \"newest TRT-LLM\" is listed under the hardware it concerns. Rows used: "
        "GEMM all shapes of the dtype; attention `window_size = 0`, `beam_width = 1`, the engine's "
        "default kernel (`torch_flow`; Blackwell's extra `torch_flow_flashinfer` rows are left out); "
        "prefill `step = 0` (no prefix), attention and KV dtype equal; MLA `mla_dtype = bfloat16`; "
        "MoE `distribution = balanced` (uniform routing) and gated (SwiGLU) kernels only (the "
        "`*_nongated` Relu² rows and the `min_latency` NVFP4 variant are left out; INT4 MoE "
        "dtypes are not fitted; MXFP4 experts: gpt-oss shapes only, see \"MXFP4 MoE experts\"); all-reduce `bfloat16` (custom kernels; GB300's 8/16-GPU MNNVL "
        "one-shot/two-shot rows merged by taking the faster per message size) and `half` (NCCL); "
        "all-to-all bf16 payloads (TRT-LLM's one-sided NVLink A2A is only measured with NVFP4 "
        "payloads and is not fitted). Latencies are milliseconds in every table except "
        "`moe_a2a_perf` (microseconds); NCCL and custom all-reduce `message_size` counts 2-byte "
        "elements."
    )
    W.append("")
    W.append(FORMULAS_MD)
    W.append("## SM counts (wave quantization)")
    W.append("")
    W.append(md_table(["hardware", "SMs", "source"],
                      [(h, SM_COUNTS[h][0], SM_COUNTS[h][1]) for _, h in HARDWARE if h in results]))
    W.append("")

    bad = []
    flagged = []
    for gpu, hw_id in HARDWARE:
        if hw_id not in results:
            continue
        res = results[hw_id]
        curves, comm, notes = res["curves"], res["comm"], res["notes"]
        hw = hwinfo[hw_id]
        W.append(f"## {hw_id} (`{gpu}`)")
        W.append("")
        peaks = ", ".join(f"{k} {hw['peak'][k] / 1e12:.0f} TFLOP/s" for k in ("bf16", "fp8", "fp4")
                          if hw["peak"].get(k))
        W.append(f"Catalog: {peaks}; HBM {hw['hbm'] / 1e12:.2f} TB/s; {SM_COUNTS[hw_id][0]} SMs; "
                 f"engine `{res['engine']}`.")
        W.append("")
        rows = []
        for c in sort_curves(curves):
            f = c.fit
            flag = "; ".join(f.at_bound) if f.at_bound else ""
            if f.at_bound:
                flagged.append((hw_id, f"{c.kind}.{c.key}", flag))
            if f.median > 0.25:
                bad.append((hw_id, f"{c.kind}.{c.key}", f.median))
            large = (f"{pct(f.median_large)} ({f.points_large})"
                     if f.weighted and f.median_large is not None else "–")
            rows.append((f"{c.kind}.{c.key}", coef_str(c), f.points, pct(f.median), pct(f.p90), large,
                         flag or "–", f"`{c.src}`" + (f" ({', '.join(c.extra['kernel_source'])})"
                                                     if c.extra.get("kernel_source") else "")))
        W.append(md_table(["curve", "coefficients", "points", "median err", "p90 err",
                           "median err, t ≥ 50 µs (points)", "on a bound", "table (kernel_source)"], rows))
        W.append("")
        # GEMM tile alternatives
        trows = []
        for c in sort_curves(curves):
            if c.kind != "gemm":
                continue
            big, tt = c.extra["large_shape"], c.extra["t"]
            for (tm, tn), f in c.extra["tries"]:
                v = f.values
                chosen = "**kept**" if (tm, tn) == c.extra["tile"] else ""
                e = f.model[big] / tt[big] - 1.0
                lg = (f"{pct(float(np.median(np.abs(e))))} / {pct(float(np.quantile(np.abs(e), 0.9)))} / "
                      f"{float(np.median(e)):+.1%} ({int(big.sum())})") if big.any() else "–"
                trows.append((c.key, f"{tm}×{tn}" if tm else "off", us(v["launch_s"]),
                              f"{v['compute_efficiency']:.3f}", f"{v['memory_efficiency']:.3f}",
                              pct(f.median), pct(f.p90), lg, chosen))
        if trows:
            W.append("GEMM wave-quantization tiles tried (best median error over all shapes kept). "
                     "The large-shape column restricts the same fit to m ≥ 256, n ≥ 2048, k ≥ 2048 "
                     "(median |err| / p90 |err| / median signed err, points):")
            W.append("")
            W.append(md_table(["dtype", "tile", "launch µs", "η_c", "η_m", "median", "p90",
                               "large shapes", ""], trows))
            W.append("")
        # Collectives
        crow = []
        for kind in ("all_reduce", "all_to_all"):
            for impl, n, f, rel, kss in comm[kind]:
                crow.append((kind, impl, n, us(f.values["latency_s"]),
                             f"{f.values['bus_bytes_per_s'] / 1e9:.1f}", f.points, pct(f.median),
                             pct(f.p90), f"`{rel}`"))
                if f.median > 0.25:
                    bad.append((hw_id, f"{kind}.{impl}.n{n}", f.median))
                if f.at_bound:
                    flagged.append((hw_id, f"{kind}.{impl}.n{n}", "; ".join(f.at_bound)))
        if crow:
            W.append(md_table(["collective", "implementation", "GPUs", "latency µs", "bus GB/s",
                               "points", "median err", "p90 err", "table"], crow))
            W.append("")
        for n in notes:
            W.append(f"- {n}")
        if notes:
            W.append("")
        mha = res["analysis"].get("decode_mha", [])
        if mha:
            W.append("Decode attention on the MHA rows (h = h_kv, not fitted): median signed error of "
                     "the emitted curve, all rows / t ≥ 50 µs: "
                     + "; ".join(f"{n} {m:+.1%} / {('–' if mb is None else f'{mb:+.1%}')} ({k} rows)"
                                 for n, k, m, mb in mha) + ".")
            W.append("")
        # Spot checks
        W.append(f"### Spot checks ({hw_id}): Llama-8B/70B-like, Mixtral-like and Qwen3-235B-like shapes")
        W.append("")
        W.extend(spot_checks(res, hw, hw_id))
        W.append("")

    # Fit quality summary
    W.append("## Fit quality: bad fits and parameters on a bound")
    W.append("")
    if bad:
        W.append("Curves whose median error exceeds 25 % (the coefficients are still emitted; the "
                 "Rust side implements only the formulas above):")
        W.append("")
        W.append(md_table(["hardware", "curve", "median err"], [(h, c, pct(m)) for h, c, m in bad]))
        W.append("")
    else:
        W.append("No curve has a median error above 25 %.")
        W.append("")
    if flagged:
        W.append("Parameters that landed on a bound of the fit range (the fitted value is the bound; "
                 "treat it as 'not identified by the data' or 'the formula wants more'):")
        W.append("")
        W.append(md_table(["hardware", "curve", "bound"], flagged))
        W.append("")
    W.extend(alt_section(results))
    W.append("")
    W.extend(READING_NOTES)
    W.append("")
    estats = engine_stats(results, wheel)
    W.extend(observations(results, estats))
    W.append("")
    W.extend(engine_section(estats))
    W.append("")
    W.extend(moe_section(results))
    W.append("")
    W.extend(mxfp4_section(results, hwinfo))
    W.append("")
    Path(path).write_text("\n".join(W).rstrip() + "\n")


def spot_checks(res, hw, hw_id):
    out = []
    by = {(c.kind, c.key): c for c in res["curves"]}
    sms = SM_COUNTS[hw_id][0]
    rows = []
    for key in ("bf16", "fp8"):
        c = by.get(("gemm", key))
        if not c:
            continue
        df = res["tables"][c.src]
        df = only(df, gemm_dtype=c.extra["table_dtype"])
        a, w = ELEM_BYTES[key]
        for label, n, k in LLAMA8B_GEMMS:
            for m in (1, 64, 1024, 8192):
                r = df[(df["m"] == m) & (df["n"] == n) & (df["k"] == k)]
                if not len(r):
                    continue
                meas = float(r["latency"].iloc[0]) * 1e-3
                arr = np.array([m], float)
                wave = wave_factor(arr, np.array([n], float), *c.extra["tile"], sms)
                mod = float(gemm_model(c.fit.values, arr, np.array([n], float), np.array([k], float),
                                       a, w, hw["peak"][key], hw["hbm"], wave)[0])
                rows.append((f"gemm.{key}", f"{label}, m={m}", us(meas), us(mod), f"{mod / meas - 1:+.0%}"))
    if rows:
        out.append("GEMM (Llama-3-8B projections). The MLP shapes of Llama-3-8B (4096→28672 gate+up, "
                   "14336→4096 down) are not in the GEMM grid; 4096→16384 and 16384→4096 stand in for them.")
        out.append("")
        out.append(md_table(["curve", "shape", "measured µs", "fit µs", "fit/meas − 1"], rows))
        out.append("")

    # Decode attention at large batch: Llama-8B-like (32/8) and Llama-70B-like (64/8) heads,
    # hd 128. The collector's grid stops at a KV budget, so b = 256 reaches only short L;
    # the fit is still shown there ("–" = shape not in the table).
    rows = []
    for key, tdt in (("bf16", "bfloat16"), ("fp8", "fp8")):
        c = by.get(("decode_attention", key))
        if not c:
            continue
        df = window0(only(res["tables"][c.src], kv_cache_dtype=tdt))
        df = df[df["kernel_source"] == c.extra["kernel_source"][0]]
        for h in (32, 64):
            for b, L in ((64, 2048), (128, 2048), (256, 1024), (256, 2048), (64, 8192)):
                r = df[(df["batch_size"] == b) & (df["isl"] + df["step"] == L) & (df["num_heads"] == h)
                       & (df["num_key_value_heads"] == 8) & (df["head_dim"] == 128)]
                mod = float(decode_model(c.fit.values, *(np.array([x], float) for x in (b, L, h, 8, 128)),
                                         KV_BYTES[key], hw["peak"]["bf16"], hw["hbm"])[0])
                kv = b * L * 2 * 8 * 128 * KV_BYTES[key]
                if len(r):
                    meas = float(r["latency"].iloc[0]) * 1e-3
                    rows.append((f"decode_attention.{key}", f"b={b}, L={L}, {h}/8 heads", us(meas), us(mod),
                                 f"{mod / meas - 1:+.0%}", f"{kv / meas / 1e9:.0f}", f"{kv / mod / 1e9:.0f}"))
                else:
                    rows.append((f"decode_attention.{key}", f"b={b}, L={L}, {h}/8 heads", "–", us(mod), "–",
                                 "–", f"{kv / mod / 1e9:.0f}"))
    if rows:
        out.append("Decode attention, hd 128 (KV GB/s = kv_bytes/t; HBM "
                   f"{hw['hbm'] / 1e9:.0f} GB/s; '–' = shape not in the table):")
        out.append("")
        out.append(md_table(["curve", "shape", "measured µs", "fit µs", "fit/meas − 1", "measured KV GB/s",
                             "fit KV GB/s"], rows))
        out.append("")

    rows = []
    for key, tdt in (("bf16", "bfloat16"), ("fp8", "fp8")):
        c = by.get(("prefill_attention", key))
        if not c:
            continue
        df = window0(only(res["tables"][c.src], attn_dtype=tdt, kv_cache_dtype=tdt))
        df = df[(df["kernel_source"] == c.extra["kernel_source"][0]) & (df["step"] == 0)]
        for h in (32, 64):
            for b, s_ in ((1, 1024), (1, 4096), (1, 8192), (8, 4096)):
                r = df[(df["batch_size"] == b) & (df["isl"] == s_) & (df["num_heads"] == h)
                       & (df["num_key_value_heads"] == 8) & (df["head_dim"] == 128)]
                if not len(r):
                    continue
                meas = float(r["latency"].iloc[0]) * 1e-3
                mod = float(prefill_model(c.fit.values, *(np.array([x], float) for x in (b, s_, h, 8, 128)),
                                          hw["peak"][key], hw["hbm"])[0])
                rows.append((f"prefill_attention.{key}", f"b={b}, s={s_}, {h}/8 heads", us(meas), us(mod),
                             f"{mod / meas - 1:+.0%}"))
    if rows:
        out.append("Prefill attention, hd 128:")
        out.append("")
        out.append(md_table(["curve", "shape", "measured µs", "fit µs", "fit/meas − 1"], rows))
        out.append("")

    rows = []
    for key in KEY_ORDER:
        c = by.get(("moe", key))
        if not c or key == "mxfp4":  # gpt-oss spot checks: MXFP4 section
            continue
        tdt = [k for k, v in MOE_DTYPES.items() if v == key][0]
        df = only(res["tables"][c.src], moe_dtype=tdt, kernel_source=c.extra["kernel_source"][0])
        df = df[df["distribution"] == "balanced"]
        for label, d, ff, e, k in MOE_SPOT_SHAPES:
            r = df[(df["hidden_size"] == d) & (df["inter_size"] == ff) & (df["num_experts"] == e)
                   & (df["topk"] == k) & (df["num_tokens"] == MOE_SPOT_T)]
            r = r.sort_values(["moe_tp_size", "moe_ep_size"])
            r = r[r["moe_tp_size"] * r["moe_ep_size"] <= 8]
            if not len(r):
                continue
            tpe, ffr, fl, wb = moe_terms(r, ELEM_BYTES[key][1])
            mod = moe_model(c.fit.values, tpe, ffr, fl, wb, hw["peak"][key], hw["hbm"])
            meas = r["latency"].to_numpy(float) * 1e-3
            for i in range(len(r)):
                rows.append((f"moe.{key}", label.split(" (")[0],
                             f"tp {r['moe_tp_size'].iloc[i]}, ep {r['moe_ep_size'].iloc[i]}", us(meas[i]),
                             us(mod[i]), f"{mod[i] / meas[i] - 1:+.0%}",
                             f"{fl[i] / meas[i] / hw['peak'][key]:.2f}"))
    if rows:
        out.append(f"MoE at T = {MOE_SPOT_T} tokens, uniform routing, tp·ep ≤ 8 "
                   + "; ".join(f"{lab}" for lab, *_ in MOE_SPOT_SHAPES)
                   + " (last column: measured flops / (t·P)):")
        out.append("")
        out.append(md_table(["curve", "shape", "parallelism", "measured µs", "fit µs", "fit/meas − 1",
                             "measured η"], rows))
    return out


READING_NOTES = [
    "## Reading the fits",
    "",
    "- The formulas are roofline-plus-launch forms with one efficiency per roof. They hold best "
    "in the two asymptotes (large compute-bound and large memory-bound shapes) and carry most of "
    "their error at the knee and in the launch-dominated corner, where real kernels switch tile "
    "shapes, split-K and kernel variants (the GEMM grid deliberately samples m = 16/17, 32/33, ... "
    "on both sides of tile edges).",
    "- `launch_s` is a fitted intercept, not a measured launch latency: it absorbs everything that "
    "does not scale with the work (CUDA-graph replay floor, quantize/routing/permute/finalize "
    "kernels timed with the op, barriers).",
    "- An efficiency on its upper bound 1 means the data want more than the catalog roof (L2-cache "
    "hits, or a suspect table; see the notes under each hardware), except decode "
    "`compute_efficiency`, which is fixed at 1 on purpose when the flops roof is not needed. "
    "The previous decode form had no per-head term and its fitted compute efficiency (~0.02) acted "
    "as a per-query-head penalty; `b·h·per_seq_head_s` now carries that cost explicitly.",
    "- A single `memory_efficiency` per decode curve averages kernels that differ by head_dim and "
    "group size (h/h_kv) and a bandwidth that is lower with few sequences; the target-shape column "
    "of the comparison table and the spot checks show what that average means at the Llama-like "
    "large-batch shapes.",
    "- The percentile errors are over the whole measured grid, which includes many shapes no "
    "deployment runs (1 query head, moe_tp = 32 with 16-wide experts, ...). The spot checks show "
    "the error on realistic shapes.",
]


def alt_section(results):
    W = ["## Emitted forms against alternatives (diagnostics, not emitted)",
         "",
         "Each row fits an alternative to the rows of the emitted curve (its own rows where stated) "
         "and compares: median / p90 |error|, median |error| over t ≥ 50 µs, and the median signed "
         "error on the target shapes: decode hd 128, 32/8 and 64/8 heads, b ≥ 64, L ≥ 1024; MLA "
         "decode b ≥ 64, L ≥ 1024; prefill hd 128, 32/8 and 64/8 heads, s ≥ 1024; MLA prefill "
         f"s ≥ 1024; MoE T = {MOE_SPOT_T} on the Mixtral-like and Qwen3-235B-like shapes (all tp/ep); "
         "`moe.mxfp4` the gpt-oss shapes at T ∈ {1, 64, 1024, 8192}, EP 1 and 8, moe_tp 1. "
         "The alternative's coefficients are not written to `kernels.toml`.",
         ""]

    def st(x):
        m, p, ml, tg = x
        return (f"{pct(m)} / {pct(p)} / {pct(ml) if ml is not None else '–'}",
                f"{tg:+.1%}" if tg is not None else "–")

    rows = []
    for _, hw_id in HARDWARE:
        if hw_id not in results:
            continue
        for name, desc, se, sa, va in results[hw_id]["analysis"].get("alt", []):
            e0, t0 = st(se)
            e1, t1 = st(sa)
            rows.append((hw_id, name, desc, e0, t0, e1, t1))
    W.append(md_table(["hardware", "curve", "alternative", "emitted: median / p90 / large",
                       "emitted: target bias", "alternative: median / p90 / large",
                       "alternative: target bias"], rows))
    W.append("")
    W.append("Other forms worth trying: (GEMM) a smooth maximum `(x^p + y^p)^(1/p)` instead of `max` "
             "and a compute efficiency rising with m for skinny GEMMs; (decode attention) the "
             "per-head term inside the `max` (a throughput roof rather than an additive cost) and "
             "a memory efficiency per head_dim / group size; (prefill attention) a compute "
             "efficiency rising with the CTA count `b·h·ceil(s/128)` until the GPU is full; (MoE) "
             "a steeper saturation than `x/(x + half)` in tokens per expert, since the wide-expert "
             "shapes reach a higher efficiency than one `compute_efficiency_max` allows; "
             "(collectives) two segments (latency-bound, bandwidth-bound) with a switch size, since "
             "the custom all-reduce changes algorithm with message size.")
    return W


def engine_stats(results, wheel):
    """t(other engine)/t(TRT-LLM) on identical shapes, per hardware / table / kernel."""
    out = []
    for gpu, hw_id in HARDWARE:
        if hw_id not in results:
            continue
        by = {(c.kind, c.key): c for c in results[hw_id]["curves"]}
        c = by.get(("gemm", "bf16"))
        if c:
            for eng, v, ks, j, r in compare_engines(
                    wheel, gpu, "gemm", "gemm_perf.parquet", ["gemm_dtype", "m", "n", "k"],
                    lambda d: d, c.src):
                for dt in sorted(j["gemm_dtype"].unique()):
                    sel = (j["gemm_dtype"] == dt).to_numpy()
                    rr = r[sel]
                    small = rr[(j[sel]["m"] <= 16).to_numpy()]
                    out.append({"hw": hw_id, "op": "gemm", "dtype": dt, "engine": eng, "version": v,
                                "kernel": ks, "n": len(rr), "med": float(np.median(rr)),
                                "p10": float(np.quantile(rr, .1)), "p90": float(np.quantile(rr, .9)),
                                "small": float(np.median(small)) if len(small) else None})
        c = by.get(("decode_attention", "bf16"))
        if c:
            keys = ["batch_size", "isl", "step", "num_heads", "num_key_value_heads", "head_dim",
                    "kv_cache_dtype", "window_size"]
            for eng, v, ks, j, r in compare_engines(
                    wheel, gpu, "attention", "generation_attention_perf.parquet", keys,
                    lambda d: window0(d[d["kernel_source"] == "torch_flow"]), c.src):
                j = j[j["window_size"] == 0]
                r = (j["latency_o"] / j["latency_b"]).to_numpy()
                for kv in sorted(j["kv_cache_dtype"].unique()):
                    sel = (j["kv_cache_dtype"] == kv).to_numpy()
                    rr = r[sel]
                    if not len(rr):
                        continue
                    small = rr[(j[sel]["batch_size"] <= 8).to_numpy()]
                    out.append({"hw": hw_id, "op": "decode", "dtype": kv, "engine": eng, "version": v,
                                "kernel": ks, "n": len(rr), "med": float(np.median(rr)),
                                "p10": float(np.quantile(rr, .1)), "p90": float(np.quantile(rr, .9)),
                                "small": float(np.median(small)) if len(small) else None})
    return out


def engine_section(estats):
    W = ["## vLLM / SGLang tables against TRT-LLM",
         "",
         "Median (p10-p90) of t(other engine)/t(TRT-LLM) over identical shapes, the newest version "
         "of each engine's table on the same GPU; below 1 the other engine's kernel is faster. The "
         "last column restricts to m ≤ 16 (GEMM) or batch ≤ 8 (decode attention).",
         ""]
    rows = []
    for e in estats:
        table = f"GEMM {e['dtype']}" if e["op"] == "gemm" else f"decode attn, KV {e['dtype']}"
        rows.append((e["hw"], table, f"{e['engine']} {e['version']} ({e['kernel']})", e["n"],
                     f"{e['med']:.2f} ({e['p10']:.2f}-{e['p90']:.2f})",
                     f"{e['small']:.2f}" if e["small"] is not None else "–"))
    W.append(md_table(["hardware", "table", "other engine (kernel)", "shared shapes",
                       "median (p10-p90)", "median, small m / b"], rows))
    return W


def _rng(xs, f="{:.2f}"):
    xs = [x for x in xs if x is not None]
    if not xs:
        return "–"
    lo, hi = min(xs), max(xs)
    return f.format(lo) if abs(hi - lo) < 1e-9 else f"{f.format(lo)}-{f.format(hi)}"


def observations(results, estats):
    """Data-driven observations: every number below is computed from the tables and fits."""
    W = ["## Observations", ""]
    hws = [h for _, h in HARDWARE if h in results]
    by = {h: {(c.kind, c.key): c for c in results[h]["curves"]} for h in hws}

    # GEMM: launch floors and peak fractions.
    lb = [by[h][("gemm", "bf16")].fit.values["launch_s"] * 1e6 for h in hws if ("gemm", "bf16") in by[h]]
    l8 = [by[h][("gemm", "fp8")].fit.values["launch_s"] * 1e6 for h in hws if ("gemm", "fp8") in by[h]]
    cb = [by[h][("gemm", "bf16")].fit.values["compute_efficiency"] for h in hws if ("gemm", "bf16") in by[h]]
    c4 = [by[h][("gemm", "fp4")].fit.values["compute_efficiency"] for h in hws if ("gemm", "fp4") in by[h]]
    W.append(f"- **GEMM.** bf16 reaches {_rng(cb)} of the dense peak at scale with a {_rng(lb, '{:.1f}')} µs "
             f"floor. The per-tensor fp8 table has a {_rng(l8, '{:.1f}')} µs floor: the collector "
             f"times TRT-LLM's `Linear.forward` on a bf16 input, so the fp8 op includes quantizing "
             f"the activation, and small-m fp8 GEMMs are no faster than bf16 ones in this table."
             + (f" NVFP4 reaches {_rng(c4)} of the fp4 peak (its activation quantization is "
                f"timed with the op too)." if c4 else ""))
    g = [e for e in estats if e["op"] == "gemm"]
    bf = [e["med"] for e in g if e["dtype"] == "bfloat16"]
    f8 = [e["small"] for e in g if e["dtype"] == "fp8"]
    slow = [e for e in g if e["med"] > 3.0]
    line = (f"- **GEMM across engines.** bf16: vLLM and SGLang medians are {_rng(bf)}× TRT-LLM "
            f"(all three time a torch/cuBLAS linear). Per-tensor fp8 at m ≤ 16: {_rng(f8)}× "
            f"TRT-LLM: the other engines' fp8 GEMM rows are faster where TRT-LLM's op carries its "
            f"activation-quantize kernels.")
    if slow:
        line += (" Outliers: " + "; ".join(f"{e['hw']} {e['engine']} {e['kernel']} {e['dtype']} "
                                          f"{e['med']:.1f}×" for e in slow)
                 + ": far outside every other engine/dtype ratio; treat these rows as suspect "
                 "(a fallback or JIT path timed?) rather than as a kernel property.")
    W.append(line)
    # Decode attention.
    d = [e for e in estats if e["op"] == "decode"]
    hop = [e for e in d if e["hw"] in ("h100-sxm", "h200")]
    bw = [e for e in d if e["hw"] in ("b200", "gb200-nvl72", "gb300-nvl72")]
    me = {h: by[h][("decode_attention", "bf16")].fit.values["memory_efficiency"]
          for h in hws if ("decode_attention", "bf16") in by[h]}
    W.append(
        "- **Decode attention.** TRT-LLM's XQA/trtllm-gen kernels reach a fitted "
        + ", ".join(f"{h} {v:.2f}" for h, v in me.items())
        + " of HBM bandwidth with bf16 KV. Other engines, bf16 KV: Hopper "
        f"{_rng([e['med'] for e in hop if e['dtype'] == 'bfloat16'])}×, Blackwell "
        f"{_rng([e['med'] for e in bw if e['dtype'] == 'bfloat16'])}× TRT-LLM. fp8 KV: Hopper "
        f"{_rng([e['med'] for e in hop if e['dtype'] == 'fp8'])}× (at parity with bf16 KV, so their "
        f"fp8-KV path turns much less of the halved bytes into time than TRT-LLM's), Blackwell "
        f"{_rng([e['med'] for e in bw if e['dtype'] == 'fp8'])}×.")
    r = []
    for h in hws:
        c8, c16 = by[h].get(("decode_attention", "fp8")), by[h].get(("decode_attention", "bf16"))
        if c8 and c16:
            r.append(f"{h} {c8.fit.values['memory_efficiency'] / c16.fit.values['memory_efficiency']:.2f}")
    if r:
        W.append("- **fp8 KV cache.** Ratio of fitted memory efficiency fp8/bf16 KV (1.00 = fp8 KV "
                 "halves the attention time): " + ", ".join(r) + ". Below 1 the kernel does not "
                 "turn the halved bytes into halved time (dequantization, smaller tiles).")
    mh = [(h, n, mb) for h in hws for n, _, _, mb in results[h]["analysis"].get("decode_mha", [])
          if mb is not None]
    if mh:
        W.append("- **Decode attention, MHA (h = h_kv).** Not fitted; the GQA curves predict the MHA "
                 "rows with t ≥ 50 µs at a median of "
                 + ", ".join(f"{h} {n.split('.')[1]} {mb:+.0%}" for h, n, mb in mh)
                 + ". A large negative value means the MHA kernel is slower than the GQA one "
                 "(TRT-LLM's fp8-KV MHA path on Hopper moves ~0.6-0.7 of HBM bandwidth where GQA "
                 "moves ~0.85); fitting both with one `memory_efficiency` would make every GQA "
                 "model pessimistic instead (see the comparison table).")
    # MLA.
    mla = [(h, by[h][("mla_decode", "bf16")].fit.values["memory_efficiency"]) for h in hws
           if ("mla_decode", "bf16") in by[h]]
    if mla:
        W.append("- **MLA decode** (DeepSeek shapes, absorbed): fitted HBM efficiency "
                 + ", ".join(f"{h} {v:.2f}" for h, v in mla) + ".")
    # Sanity notes collected per hardware.
    for h in hws:
        for key, (implied, n) in sorted(results[h]["analysis"].get("decode_bw", {}).items()):
            if implied > 1.02:
                W.append(f"- **{h} decode attention ({key} KV) table is suspect:** {n} rows with "
                         f"≥ 256 MB of KV imply up to {implied:.2f}× the HBM bandwidth.")
    # MoE imbalance summary.
    hot, cold = [], []
    for h in hws:
        for (key, dist), (j, rel) in results[h]["analysis"].get("moe_imbalance", {}).items():
            if dist != "power_law_1.2":
                continue
            x = j[(j["num_tokens"] >= 4096) & (j["moe_ep_size"] >= 8)]["ratio"]
            y = j[j["num_tokens"] <= 16]["ratio"]
            if len(x):
                hot.append(float(np.median(x)))
            if len(y):
                cold.append(float(np.median(y)))
    if hot:
        W.append(f"- **MoE imbalance** (power law α = 1.2 vs uniform, all hardware and dtypes): "
                 f"with T ≥ 4096 tokens and EP ≥ 8 the timed rank is {_rng(hot)}× slower (median "
                 f"per hardware/dtype); with T ≤ 16 it is {_rng(cold)}× (skewed routing touches "
                 f"fewer distinct experts, so fewer weights are read). The uniform curve is the "
                 f"right base; imbalance is a separate multiplier that grows with T and EP.")
    return W


def moe_section(results):
    W = ["## MoE load imbalance: power-law routing vs uniform",
         "",
         "AIConfigurator times every MoE shape with uniform (`balanced`) routing and with "
         "power-law expert popularity, α = 1.01 and 1.2. Its generator draws tokens-per-expert from "
         "a power law and then moves the most-loaded EP rank's experts onto the rank being timed, "
         "so the power-law rows are the straggler rank's time. t(power_law)/t(uniform) on identical "
         "shapes (same kernel, same table) is therefore a direct measurement of the imbalance cost "
         "that the uniform MoE curve above leaves out.",
         ""]
    Ts = [1, 16, 128, 1024, 8192]
    summary = []
    for gpu, hw_id in HARDWARE:
        if hw_id not in results:
            continue
        imb = results[hw_id]["analysis"].get("moe_imbalance", {})
        items = sorted(imb.items(), key=lambda x: (KEY_ORDER.index(x[0][0]), x[0][1]))
        shown = False
        for (key, dist), (j, rel) in items:
            def med(mask):
                x = j[mask]["ratio"]
                return f"{np.median(x):.2f}" if len(x) else "–"
            T, ep = j["num_tokens"], j["moe_ep_size"]
            summary.append((hw_id, key, dist, med(T <= 16), med((T >= 64) & (T <= 512)),
                            med((T >= 4096) & (ep == 1)), med((T >= 4096) & (ep >= 8)),
                            f"{j['ratio'].max():.2f}", len(j)))
            # Full T x EP table for the first dtype of each hardware, alpha = 1.2.
            if shown or dist != "power_law_1.2":
                continue
            shown = True
            rows = []
            for e in sorted(j["moe_ep_size"].unique()):
                jj = j[j["moe_ep_size"] == e]
                cells = []
                for t in Ts:
                    x = jj[jj["num_tokens"] == t]["ratio"]
                    cells.append(f"{np.median(x):.2f}" if len(x) else "–")
                rows.append([f"EP {e}"] + cells + [f"{np.median(jj['ratio']):.2f}", len(jj)])
            W.append(f"**{hw_id}, moe.{key}, {dist}**: median ratio over shapes (`{rel}`)")
            W.append("")
            W.append(md_table(["", *[f"T={t}" for t in Ts], "all T", "shapes"], rows))
            W.append("")
    W.append("All hardware, dtypes and both exponents (median ratio over shapes in each slice):")
    W.append("")
    W.append(md_table(["hardware", "dtype", "distribution", "T ≤ 16", "T 64-512", "T ≥ 4096, EP 1",
                       "T ≥ 4096, EP ≥ 8", "max", "shapes"], summary))
    return W


MXFP4_MD = """## MXFP4 MoE experts (gpt-oss): `moe.mxfp4`

gpt-oss checkpoints store the routed experts in MXFP4 (E2M1 values, one E8M0 scale per 32:
`w = 0.5 + 1/32` bytes per weight). AIConfigurator's TensorRT-LLM MoE collector times them
with gpt-oss's SwiGLU (`swigluoai`: α 1.702, β 1, limit 7) and per-expert biases, gated:
w1 and w3 are `inter_size × hidden`, w2 is `hidden × inter_size`, so `inter_size` is the
width of one branch and `flops = pairs·2·3·d·ffr` counts the gate, up and down GEMMs as for
the other MoE curves. The bias adds (2·ffr + d per pair) and bias bytes (bf16, (2·ffr + d)·2
per touched expert, 0.1 % of the MXFP4 weight bytes at d = ff = 2880) are left out, as are the
swiglu clamp and the activation quantization (in `launch_s` like the other curves).

The emitted curve is the variant TensorRT-LLM runs gpt-oss with by default on the GPU: W4A16
(`w4a16_mxfp4`, BF16 activations; the Triton MoE backend) on Hopper, which has no FP4 tensor
cores, so the efficiencies are fractions of the BF16 peak (`math = "bf16"`); on Blackwell W4A8
MXFP4 × MXFP8 (`w4a8_mxfp4_mxfp8`, the TRT-LLM-gen MoE), fractions of the FP8 peak
(`math = "fp8"`). A variant with MXFP4 activations would use the FP4 peak (`math = "fp4"`);
none is in the tables. Other variants a GPU has are fitted below for reference and not emitted.
Rows: uniform routing, gated kernels, the gpt-oss shapes only (d = ff = 2880, top-4, 128 experts
(120b) and 32 experts (20b), moe_tp 1, every EP and T of the table), from the newest TRT-LLM table
holding them; the MXFP4 rows of other shapes in the same tables (DeepSeek-V4/Kimi-like, d 4096
and 7168) are not fitted, and the error of the emitted curve on them is listed. The gpt-oss rows
have a single expert width per rank (moe_tp 1), so `half_ffn_per_rank` is not identified by
them; it is fixed at the value of the same GPU's MoE curve at the same math precision (the
per-hardware notes say which) and the other four parameters are fitted with the same weighting
as the other MoE curves.
"""


def mxfp4_section(results, hwinfo):
    W = [MXFP4_MD, "MoE dtypes of every `moe_perf.parquet` per GPU (rows, all distributions; MXFP4 "
         "variants in bold):", ""]
    rows = []
    for gpu, hw_id in HARDWARE:
        if hw_id not in results:
            continue
        for rel, counts in results[hw_id]["analysis"].get("mxfp4_tables", []):
            cells = [(f"**{k}** {n}" if mxfp4_math(k) else f"{k} {n}") for k, n in counts.items()]
            rows.append((hw_id, f"`{rel}`", ", ".join(cells)))
    W.append(md_table(["hardware", "table", "moe_dtype (rows)"], rows))
    W.append("")
    W.append("Fits (the gpt-oss rows of each variant; 'other shapes': the emitted form with these "
             "coefficients on the variant's non-gpt-oss rows of the same table, median |error| / median "
             "signed error):")
    W.append("")
    rows, newer, spot = [], [], []
    for gpu, hw_id in HARDWARE:
        if hw_id not in results:
            continue
        hw = hwinfo[hw_id]
        for tdtype, f, rel, eng, ver, info in results[hw_id]["analysis"].get("mxfp4", []):
            c = Curve("moe", "mxfp4", f, rel, eng, ver, info)
            oth = info.get("other")
            ostr = (f"{oth[0]}: {pct(oth[1])} / {oth[2]:+.1%} ("
                    + "; ".join(f"{a}/{b}/{e}/top{k}" for a, b, e, k in oth[3]) + ")") if oth else "–"
            large = f"{pct(f.median_large)} ({f.points_large})" if f.median_large is not None else "–"
            rows.append((hw_id, f"`{tdtype}`", info["math"], "**emitted**" if info["emitted"] else "report only",
                         coef_str(c), f.points, pct(f.median), pct(f.p90), large, ostr, f"`{rel}`"))
            for v, n, ngo, nj, med, p10, p90 in info.get("newer", []):
                newer.append(f"- {hw_id} `{tdtype}`: newer table `{eng}/{v}` has {n} uniform rows of this "
                             f"variant, {ngo} at gpt-oss shapes, so it is not used; on the {nj} shapes it "
                             f"shares with `{eng}/{ver}`, t({v})/t({ver}) = {med:.3f} median "
                             f"({p10:.2f}-{p90:.2f} p10-p90).")
            # Spot checks: T x EP at the gpt-oss shapes.
            full = results[hw_id]["tables"].get(rel)
            if full is None:
                continue
            df = mxfp4_rows(full, tdtype)
            peak = hw["peak"][info["math"]]
            for label, d, ff, e, k in GPT_OSS_MOE:
                for ep in GPT_OSS_SPOT_EP:
                    r = df[(df["hidden_size"] == d) & (df["inter_size"] == ff) & (df["num_experts"] == e)
                           & (df["topk"] == k) & (df["moe_tp_size"] == 1) & (df["moe_ep_size"] == ep)]
                    cells = []
                    for T in GPT_OSS_SPOT_T:
                        x = r[r["num_tokens"] == T]
                        if not len(x):
                            cells.append("–")
                            continue
                        tpe, ffr, fl, wb = moe_terms(x, MXFP4_BYTES)
                        mod = float(moe_model(f.values, tpe, ffr, fl, wb, peak, hw["hbm"])[0])
                        meas = float(x["latency"].iloc[0]) * 1e-3
                        cells.append(f"{us(meas)} / {us(mod)} ({mod / meas - 1:+.0%}; η {fl[0] / meas / peak:.2f})")
                    spot.append((hw_id, f"`{tdtype}`" + ("" if info["emitted"] else " (not emitted)"),
                                 f"{label} ({e} experts, top {k})", f"EP {ep}", *cells))
    W.append(md_table(["hardware", "variant", "math", "", "coefficients", "points", "median err", "p90 err",
                       "median err, t ≥ 50 µs (points)", "other shapes (points: median / signed; d/ff/E/k)",
                       "table"], rows))
    W.append("")
    if newer:
        W.extend(newer)
        W.append("")
    W.append("Spot checks at the gpt-oss shapes (moe_tp 1, uniform routing): measured µs / fit µs "
             "(fit/measured − 1; measured η = flops/(t·P) at the variant's math peak); '–' = shape not "
             "in the table.")
    W.append("")
    W.append(md_table(["hardware", "variant", "model", "EP", *[f"T = {t}" for t in GPT_OSS_SPOT_T]], spot))
    return W


# ----------------------------------------------------------------------------------------
def read_catalog(path):
    cat = tomllib.loads(Path(path).read_text())
    out = {}
    for h in cat.get("hardware", []):
        out[h["id"]] = {
            "peak": {
                "bf16": h.get("bf16_dense_flop_per_s"),
                "fp8": h.get("fp8_dense_flop_per_s"),
                "fp8_block": h.get("fp8_dense_flop_per_s"),
                "fp4": h.get("fp4_dense_flop_per_s"),
            },
            "hbm": h["hbm_bytes_per_s"],
        }
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--wheel-dir", required=True, type=Path)
    ap.add_argument("--catalog", required=True, type=Path)
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--report", required=True, type=Path)
    ap.add_argument("--only", default=None, help="comma-separated catalog ids (debugging)")
    ap.add_argument("--quiet", action="store_true")
    args = ap.parse_args(argv)

    def log(msg):
        if not args.quiet:
            print(msg, file=sys.stderr, flush=True)

    wheel = Wheel(args.wheel_dir)
    catalog = read_catalog(args.catalog)
    only_ids = set(args.only.split(",")) if args.only else None

    results = {}
    for gpu, hw_id in HARDWARE:
        if only_ids and hw_id not in only_ids:
            continue
        if hw_id not in catalog:
            log(f"skip {gpu}: catalog has no id {hw_id!r}")
            continue
        if not (wheel.data / gpu).is_dir():
            log(f"skip {gpu}: not in the wheel")
            continue
        log(f"{gpu} -> {hw_id}")
        curves, comm, notes, analysis = run_hardware(wheel, gpu, hw_id, catalog[hw_id], log)
        # The hardware's `engine` names the version of its GEMM table (the default engine).
        g = [c for c in curves if c.kind == "gemm"]
        engine = f"{g[0].engine} {g[0].version}" if g else "trtllm"
        tables = {c.src: wheel.read(*c.src.split("/")) for c in curves}
        results[hw_id] = {"curves": curves, "comm": comm, "notes": notes, "analysis": analysis,
                          "engine": engine, "tables": tables}

    header = [
        "# servemath kernel-efficiency curves: closed-form coefficients per hardware and kernel class.",
        "# Produced by tools/kernel-fit/fit.py from the measured kernel tables in the package data of",
        f"# {WHEEL_NAME} (NVIDIA AIConfigurator, Apache-2.0; see NOTICE-aiconfigurator.md). Only fitted",
        "# coefficients are stored here, no table rows. Formulas, data selection and fit quality:",
        "# docs/kernels.md. Units: SI (seconds, bytes/s); efficiencies are fractions of the catalog",
        "# peaks (hardware.toml). Do not edit by hand; re-run the script.",
        "",
    ]
    body = [toml_for(h, results[h]["engine"], results[h]["curves"], results[h]["comm"])
            for _, h in HARDWARE if h in results]
    text = "\n".join(header) + "\n".join(body).rstrip() + "\n"
    tomllib.loads(text)  # must parse
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(text)
    args.report.parent.mkdir(parents=True, exist_ok=True)
    write_report(args.report, results, wheel, catalog)
    log(f"wrote {args.out} and {args.report}")


if __name__ == "__main__":
    main()
