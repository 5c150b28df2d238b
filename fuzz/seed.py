#!/usr/bin/env python3
"""Fills corpus/<target>/ (scratch, git-ignored) from the project's real inputs and writes
dict/<target>.dict from the keys those inputs use. Run from anywhere:

    python3 fuzz/seed.py

Big files are cut into small slices (whole entries or the first rows) so each run is fast.
"""
import hashlib, json, pathlib, re

FUZZ = pathlib.Path(__file__).resolve().parent
ROOT = FUZZ.parent
SHARED = ROOT.parent / "shared"
MAX = 64 * 1024


def put(target, data):
    if isinstance(data, str):
        data = data.encode()
    if not data or len(data) > MAX:
        return
    d = FUZZ / "corpus" / target
    d.mkdir(parents=True, exist_ok=True)
    (d / hashlib.sha1(data).hexdigest()).write_bytes(data)


def dictionary(target, words):
    d = FUZZ / "dict"
    d.mkdir(exist_ok=True)
    lines = sorted({escape(w) for w in words if w and len(w.encode()) < 64})
    (d / f"{target}.dict").write_text("\n".join(lines) + "\n")


def escape(word):
    """A libFuzzer dictionary entry: printable ASCII as is, other bytes as \\xHH."""
    out = "".join(
        chr(b) if 32 <= b < 127 and chr(b) not in '"\\' else f"\\x{b:02x}"
        for b in word.encode()
    )
    return f'"{out}"'


def toml_sections(text, header):
    """The text before the first `header` line, then each block starting at one."""
    parts, cur = [], []
    for line in text.splitlines(keepends=True):
        if line.startswith(header) and cur:
            parts.append("".join(cur))
            cur = []
        cur.append(line)
    parts.append("".join(cur))
    return parts


def toml_keys(text):
    keys = set(re.findall(r"^\s*#?\s*([A-Za-z_][A-Za-z0-9_.-]*)\s*=", text, re.M))
    keys |= set(re.findall(r"^\s*\[\[?([^\]]+)\]\]?", text, re.M))
    return keys | {f"[{k}]" for k in keys} | {"=", "[[", "]]", '"', "true", "false", "inf", "nan", "-1", "1e308", "0"}


def json_keys(value, out):
    if isinstance(value, dict):
        for k, v in value.items():
            out.add(k)
            json_keys(v, out)
    elif isinstance(value, list):
        for v in value:
            json_keys(v, out)
    elif isinstance(value, str):
        out.add(value)
    return out


# ---- model_config: every config.json; snapshots as config NUL hf_quant_config ------------
keys = set()
for base in [ROOT / "crates/servemath-model/configs", SHARED / "models"]:
    for f in sorted(base.glob("*.json")):
        put("model_config", f.read_bytes())
        json_keys(json.loads(f.read_text().replace("NaN", "null").replace("Infinity", "1e308")), keys)
    for d in sorted(p for p in base.iterdir() if p.is_dir()):
        cfg = (d / "config.json").read_bytes()
        put("model_config", cfg)
        q = d / "hf_quant_config.json"
        if q.exists():
            put("model_config", cfg + b"\0" + q.read_bytes())
            json_keys(json.loads(q.read_text()), keys)
        json_keys(json.loads(cfg), keys)
dictionary("model_config", {f'"{k}"' for k in keys} | {"NaN", "Infinity", "-Infinity", "null", "true", "false", "1e308", "-1", "{", "}", "[", "]", "\0"})

# ---- hardware: the catalog whole and entry by entry; kernels whole and id by id ---------
cat_dir = ROOT / "crates/servemath-hardware/catalog"
text = (cat_dir / "hardware.toml").read_text()
put("hardware_catalog", text)
for part in toml_sections(text, "[[hardware]]"):
    put("hardware_catalog", part)
put("hardware_catalog", (ROOT / "examples/hardware.toml").read_text())
dictionary("hardware_catalog", toml_keys(text) | toml_keys((ROOT / "examples/hardware.toml").read_text()))
text = (cat_dir / "kernels.toml").read_text()
put("hardware_kernels", text)
ids = toml_sections(text, "[")
# Group each id's tables: a block starting at `[<id>]` up to the next top-level id.
groups, cur, cur_id = [], [], None
for part in ids:
    m = re.match(r"\[+([^.\]]+)", part)
    pid = m.group(1) if m else None
    if pid != cur_id and cur:
        groups.append("".join(cur))
        cur = []
    cur_id = pid
    cur.append(part)
groups.append("".join(cur))
for g in groups:
    put("hardware_kernels", g)
dictionary("hardware_kernels", toml_keys(text))

# ---- cost: the calibration file; --params files (flat name = value tables) -------------
cal = (ROOT / "crates/servemath-cost/calibration.toml").read_text()
put("cost_calibration", cal)
for part in toml_sections(cal, "[family."):
    put("cost_calibration", part)
dictionary("cost_calibration", toml_keys(cal))
params = (ROOT / "examples/params.toml").read_text()
put("cost_params", params)
for part in toml_sections(cal, "["):
    body = "".join(l for l in part.splitlines(keepends=True) if not l.startswith("["))
    put("cost_params", body)
dictionary("cost_params", toml_keys(cal) | toml_keys(params))

# ---- econ: --costs files (flat tables cut from data/costs.toml); the price list --------
costs = (ROOT / "crates/servemath-econ/data/costs.toml").read_text()
for part in toml_sections(costs, "["):
    body = "".join(l for l in part.splitlines(keepends=True) if not l.startswith("["))
    body = "".join(l for l in body.splitlines(keepends=True) if "source" not in l)
    put("econ_costs", body)
    put("econ_costs", body + 'mode = "owned"\n')
put("econ_costs", 'mode = "rental"\nrental_usd_per_gpu_hour = 2.5\nprepaid_fraction = 0.5\n')
dictionary("econ_costs", toml_keys(costs) | {"mode", '"owned"', '"rental"'})
prices = (ROOT / "crates/servemath-econ/data/prices.toml").read_text()
put("econ_prices", prices)
for part in toml_sections(prices, "[[price]]")[1:]:
    put("econ_prices", part)
dictionary("econ_prices", toml_keys(prices))

# ---- scenario: the example, and the example with every commented-out key set -----------
scen = (ROOT / "examples/scenario.toml").read_text()
put("scenario", scen)
uncommented = re.sub(r"^# (\w+ = )", r"\1", scen, flags=re.M)
uncommented = uncommented.replace("# [deployment.param]", "[deployment.param]")
put("scenario", uncommented)
for part in toml_sections(uncommented, "["):
    put("scenario", part)
dictionary("scenario", toml_keys(uncommented))

# ---- trace: the first rows of every shipped trace, and a Vidur-format table ------------
traces = [ROOT / "examples/azure-conv-2min.csv"] + sorted(SHARED.glob("traces/*.csv")) + sorted(SHARED.glob("traces/*.jsonl"))
words = set()
for f in traces:
    lines = f.read_text().splitlines(keepends=True)
    for n in (2, 5, 20):
        put("trace", "".join(lines[:n]))
    words |= set(re.split(r"[,\s:{}\[\]\"]+", lines[0]))
put("trace", "arrived_at,num_prefill_tokens,num_decode_tokens\n0.0,374,44\n4.314579,396,109\n4.541877,879,55\n")
dictionary("trace", words | {"arrived_at", "\r\n", "\n", ",", "\"", "{", "}", "[", "]", "2023-11-16 18:15:46.6805900", "1e308", "NaN", "-1", "4294967296"})

# ---- workload_spec: the forms the docs and tests use ------------------------------------
daily = ",".join(["0.5"] * 6 + ["1"] * 12 + ["2"] * 6)
for s in ["128", "fixed:128", "uniform:100,900", "lognormal:2000,1.0", "lognormal:300,0.8",
          "poisson:40", "gamma:40,2.0", f"poisson:40+daily:{daily}", f"gamma:40,2+daily:{daily}",
          f"daily:{daily}", daily, "fixed:1000000", "lognormal:1,0", "gamma:1e-9,100"]:
    put("workload_spec", s)
dictionary("workload_spec", {"fixed:", "uniform:", "lognormal:", "poisson:", "gamma:", "+daily:", "daily:", ",", "e", "inf", "NaN", "-", "1e308", "0.", "1000000"})

# ---- request_text: the application layer's text values, and workload requests of them ----
for s in ["90s\nfixed:2000\nfixed:300\npoisson:40\n1000\n\n2s\n50ms",
          "10m\nlognormal:2000,1.0\nlognormal:300,0.8\n\n\n8\n1.5s\n",
          "1h\nuniform:100,900\nfixed:128\ngamma:40,2.0\n500",
          "0,600\n10m,20m\n5,\n1e9tok/day\n50000req/day\n1000 req/h\nflat\ndiurnal\n" + daily,
          "bf16\nfp8\nnvfp4\nmxfp4\nfp8-block128\nint4\nfp16\nbfloat16",
          "500ms\n1.5h\n3d\n-1s\n1e308s\n0"]:
    put("request_text", s)
dictionary("request_text", {"ms", "s", "m", "h", "us", "µs", ",", "\n", "tok/day", "req/day", "req/h", "tok/s",
                            "flat", "diurnal", "fixed:", "uniform:", "lognormal:", "poisson:", "gamma:", "+daily:",
                            "bf16", "fp8", "fp4", "nvfp4", "int8", "1e308", "inf", "NaN", "-", "0.", "1e9"})
