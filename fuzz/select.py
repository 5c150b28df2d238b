#!/usr/bin/env python3
"""Copies a regression set out of a minimized corpus into regressions/<target>/ (crashes/ is
left alone): at most 200 files and 2 MB, spread evenly over the corpus sorted by size, so the
set keeps short malformed inputs and long, nearly valid ones alike; the largest are dropped
first when over 2 MB. Run after
`cargo fuzz cmin`:

    python3 fuzz/select.py TARGET
"""
import pathlib, shutil, sys

FUZZ = pathlib.Path(__file__).resolve().parent
MAX_FILES, MAX_BYTES = 200, 2 * 1024 * 1024

target = sys.argv[1]
corpus = sorted((p for p in (FUZZ / "corpus" / target).iterdir() if p.is_file()),
                key=lambda p: (p.stat().st_size, p.name))
out = FUZZ / "regressions" / target
out.mkdir(parents=True, exist_ok=True)
for old in out.iterdir():
    if old.is_file():
        old.unlink()
step = max(1, len(corpus) / MAX_FILES)
picked = [corpus[int(i * step)] for i in range(min(MAX_FILES, len(corpus)))]
while sum(p.stat().st_size for p in picked) > MAX_BYTES:
    picked.pop()
for p in picked:
    shutil.copy(p, out / p.name)
total = sum(p.stat().st_size for p in picked)
print(f"{target}: {len(picked)} of {len(corpus)} files, {total} bytes")
