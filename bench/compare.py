#!/usr/bin/python3
"""bench/compare.py RUN.json...: several bench/run.sh results side by side,
for A/B experiments (two builds, two libssh, run alternately). For every
figure and cipher the bastion's median is shown with its ratio to -J and to
direct measured in the same run: the ratios are comparable between runs,
the absolute numbers only roughly (the machine's speed drifts)."""
import json
import os
import sys


def label(path):
    """The BENCH_TAG of a result file: 2026-11-21-vm-TAG.json -> TAG."""
    base = os.path.basename(path)[: -len(".json")]
    parts = base.split("-", 4)
    return parts[4] if len(parts) == 5 else base


def cells(run):
    by = {}
    for f in run["figures"]:
        by.setdefault((f["figure"], f["cipher"]), {})[f["path"]] = f
    out = {}
    for key, paths in by.items():
        b = paths.get("bastion")
        if b is None:
            continue
        text = f"{b['median']:.4g} {b['unit']}"
        # Throughput-like figures (MB/s): higher is better, ratios as in report.py.
        if b["unit"] == "MB/s":
            for p, name in (("jump", "-J"), ("direct", "direct")):
                if p in paths and paths[p]["median"] > 0:
                    text += f", {b['median'] / paths[p]['median']:.2f}x {name}"
        out[key] = text
    return out


def main():
    if len(sys.argv) < 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    runs = []
    for path in sys.argv[1:]:
        try:
            with open(path) as fh:
                runs.append((label(path), cells(json.load(fh))))
        except (OSError, ValueError, KeyError) as e:
            print(f"compare: {path}: {e}", file=sys.stderr)
            return 1
    keys = sorted({k for _, c in runs for k in c})
    print("| figure | cipher | " + " | ".join(t for t, _ in runs) + " |")
    print("|---|---|" + "---|" * len(runs))
    for fig, cipher in keys:
        row = [c.get((fig, cipher), "-") for _, c in runs]
        print(f"| {fig} | {cipher.split('@')[0]} | " + " | ".join(row) + " |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
