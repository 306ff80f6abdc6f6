#!/usr/bin/python3
"""bench/report.py META RAW COMMANDS NOTES BASE: the Markdown, JSON and plots of
one bench/run.sh run. RAW is the tab-separated sample list
(figure cipher path rep value unit load1); every figure is summarised per
(cipher, path) as median and spread, then set against its issue-5 target as
a ratio to OpenSSH measured in the same run."""
import json
import os
import statistics
import subprocess
import sys

meta_f, raw_f, cmds_f, notes_f, base = sys.argv[1:6]
meta = {}
for line in open(meta_f):
    k, _, v = line.rstrip("\n").partition("=")
    meta[k] = v

rows = []
for line in open(raw_f):
    f = line.rstrip("\n").split("\t")
    if len(f) < 7:
        continue
    try:
        rows.append({"figure": f[0], "cipher": f[1], "path": f[2], "rep": f[3],
                     "value": float(f[4]), "unit": f[5], "load1": float(f[6])})
    except ValueError:
        pass

groups = {}
for r in rows:
    groups.setdefault((r["figure"], r["cipher"], r["path"]), []).append(r)


def pct(vals, p):
    v = sorted(vals)
    if not v:
        return None
    return v[int(round((len(v) - 1) * p))]


summary = {}
for key, rs in sorted(groups.items()):
    vals = [r["value"] for r in rs]
    s = {"n": len(vals), "unit": rs[0]["unit"], "median": statistics.median(vals),
         "min": min(vals), "max": max(vals),
         "load1": [min(r["load1"] for r in rs), max(r["load1"] for r in rs)]}
    if key[0] in ("echo", "typing", "setup"):
        s["p50"] = pct(vals, 0.50)
        s["p90"] = pct(vals, 0.90)
        s["p99"] = pct(vals, 0.99)
    else:
        s["values"] = vals
    summary[key] = s


def get(fig, cipher, path, field="median"):
    s = summary.get((fig, cipher, path))
    return None if s is None else s.get(field)


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


ciphers = meta.get("ciphers", "").split()
targets = []


def target(name, value, goal, ok, detail=""):
    targets.append({"figure": name, "value": value, "target": goal,
                    "met": None if ok is None else bool(ok), "detail": detail})


def fmt(v, nd=2):
    return "n/a" if v is None else f"{v:.{nd}f}"


for c in ciphers:
    cs = c.split("@")[0]
    for fig, label in (("tp_up", "bulk exec up"), ("tp_down", "bulk exec down")):
        b, j, d = get(fig, c, "bastion"), get(fig, c, "jump"), get(fig, c, "direct")
        rj, rd = ratio(b, j), ratio(b, d)
        if b is None:
            continue
        target(f"{label} ({cs})", f"{fmt(rj)}x -J, {fmt(rd)}x direct", ">= 1.0x -J and >= 0.75x direct",
               rj is not None and rd is not None and rj >= 1.0 and rd >= 0.75,
               f"bastion {b:.0f} MB/s, -J {fmt(j, 0)}, direct {fmt(d, 0)}")
    for fig, label in (("sftp_get", "sftp get"), ("sftp_put", "sftp put")):
        b, j = get(fig, c, "bastion"), get(fig, c, "jump")
        if b is None:
            continue
        rj = ratio(b, j)
        target(f"{label} ({cs})", f"{fmt(rj)}x -J", ">= 1.0x -J", rj is not None and rj >= 1.0,
               f"bastion {b:.0f} MB/s, -J {fmt(j, 0)}, direct {fmt(get(fig, c, 'direct'), 0)}")
    for fig, label in (("rtt_up", "25 ms RTT up"), ("rtt_down", "25 ms RTT down")):
        b, j = get(fig, c, "bastion"), get(fig, c, "jump")
        if b is None:
            continue
        rj = ratio(b, j)
        target(f"{label} ({cs})", f"{fmt(rj)}x -J", ">= 1.0x -J", rj is not None and rj >= 1.0,
               f"bastion {b:.1f} MB/s, -J {fmt(j, 1)}, direct {fmt(get(fig, c, 'direct'), 1)}")
    b, j = get("setup", c, "bastion"), get("setup", c, "jump")
    if b is not None:
        rj = ratio(b, j)
        target(f"set-up to exec true ({cs})", f"{fmt(rj)}x -J", "<= 1.1x -J", rj is not None and rj <= 1.1,
               f"bastion {b:.1f} ms, -J {fmt(j, 1)} ms, direct {fmt(get('setup', c, 'direct'), 1)} ms (medians)")
    b50, d50 = get("echo", c, "bastion", "p50"), get("echo", c, "direct", "p50")
    b99, d99 = get("echo", c, "bastion", "p99"), get("echo", c, "direct", "p99")
    if b50 is not None and d50 is not None:
        a50, a99 = b50 - d50, b99 - d99
        target(f"echo added over direct ({cs})", f"p50 +{a50:.0f} us, p99 +{a99:.0f} us",
               "p50 <= 50 us, p99 <= 500 us", a50 <= 50 and a99 <= 500,
               f"bastion p50 {b50:.0f} p99 {b99:.0f} us; direct p50 {d50:.0f} p99 {d99:.0f}; "
               f"-J p50 {fmt(get('echo', c, 'jump', 'p50'), 0)} p99 {fmt(get('echo', c, 'jump', 'p99'), 0)}"
               + ("" if get("echo", c, "relay", "p50") is None else
                  f"; floor, direct through a plain TCP relay process (bench/tcp-relay.c): "
                  f"p50 +{get('echo', c, 'relay', 'p50') - d50:.0f} us, p99 +{get('echo', c, 'relay', 'p99') - d99:.0f} us"))
    m = get("mem", c, "bastion")
    if m is not None:
        target("memory per idle session (PSS)", f"{m / 1024:.2f} MiB", "<= 1.5 MiB", m <= 1536,
               f"-J sshd: {fmt(None if get('mem', c, 'jump') is None else get('mem', c, 'jump') / 1024)} MiB; "
               f"{fmt(get('mem_procs', c, 'bastion'))} processes per bastion session")
    h = get("idle_held", c, "bastion")
    if h is not None:
        target("idle sessions held", f"{h:.0f}", ">= 1000", h >= 1000)
    t99 = get("typing", c, "bastion", "p99")
    if t99 is not None:
        target("typing sessions, echo p99", f"{t99 / 1000:.1f} ms", "<= 50 ms", t99 <= 50000,
               f"direct p99 {fmt(None if get('typing', c, 'direct', 'p99') is None else get('typing', c, 'direct', 'p99') / 1000, 1)} ms, "
               f"-J p99 {fmt(None if get('typing', c, 'jump', 'p99') is None else get('typing', c, 'jump', 'p99') / 1000, 1)} ms")
    sh = get("recorder_cpu_share", c, "bastion")
    if sh is not None:
        target("recorder CPU share on bulk (zeros)", f"{sh:.1f} %", "<= 5 %", sh <= 5,
               f"CPU per GiB: bastion {fmt(get('cpu_per_gib', c, 'bastion'))} s, -J sshd {fmt(get('cpu_per_gib', c, 'jump'))} s; "
               f"zstd alone {fmt(get('zstd_cpu_share', c, 'bastion'), 1)} %")
    for p in ("text", "random"):
        sh = get("recorder_cpu_share_" + p, c, "bastion")
        if sh is not None:
            target(f"recorder CPU share on bulk ({p})", f"{sh:.1f} %", "<= 5 %", sh <= 5,
                   f"bastion {fmt(get('cpu_per_gib_' + p, c, 'bastion'))} s CPU per GiB; "
                   f"zstd alone {fmt(get('zstd_cpu_share_' + p, c, 'bastion'), 1)} %")
r = get("rec_hour", "-", "bastion")
if r is not None:
    target("recording size, moderate hour", f"{r:.0f} KB", "<= 200 KB", r <= 200,
           f"random-output variant {fmt(get('rec_hour_random', '-', 'bastion'), 0)} KB (bench/rec-bench.c)")

sx = get("seek_max", "-", "bastion")
if sx is not None:
    target("seek in a 4-hour heavy recording", f"max {sx:.0f} ms", "<= 100 ms", sx <= 100,
           f"median {fmt(get('seek_median', '-', 'bastion'), 1)} ms, p99 {fmt(get('seek_p99', '-', 'bastion'), 1)} ms; "
           f"first seek before the keyframe cache exists {fmt(get('seek_first_uncached', '-', 'bastion'), 0)} ms "
           "(bench/play-bench.c)")

notes = [l.rstrip("\n") for l in open(notes_f)]
cmds = [l.rstrip("\n") for l in open(cmds_f)]

# ---- plots ------------------------------------------------------------------
plots = []
have_gnuplot = subprocess.call(["sh", "-c", "command -v gnuplot >/dev/null"]) == 0
if have_gnuplot:
    dat = base + ".tp.dat"
    nbars = 0
    with open(dat, "w") as f:
        f.write("figure direct jump bastion\n")
        for fig in ("tp_up", "tp_down", "sftp_get", "sftp_put", "rtt_up", "rtt_down"):
            for c in ciphers:
                vals = [get(fig, c, p) for p in ("direct", "jump", "bastion")]
                if all(v is None for v in vals):
                    continue
                f.write(f"{fig}/{c.split('-')[0]} " + " ".join("0" if v is None else f"{v:.1f}" for v in vals) + "\n")
                nbars += 1
    png = base + "-throughput.png"
    gp = f"""set terminal pngcairo size 1100,500
set output '{png}'
set title 'Throughput, median MB/s (higher is better)'
set style data histograms
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set key top right
set ylabel 'MB/s'
plot '{dat}' using 2:xtic(1) title 'direct', '' using 3 title 'ssh -J', '' using 4 title 'gatehouse'
"""
    if nbars > 0:
        p = subprocess.run(["gnuplot"], input=gp.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode == 0:
            plots.append(os.path.basename(png))
    os.unlink(dat)
    for fig, title in (("echo", "Keystroke echo round trip (one session)"),
                       ("typing", "Echo round trip, concurrent typing sessions")):
        files = []
        for pth in ("direct", "relay", "jump", "bastion"):
            vals = sorted(r["value"] for r in rows if r["figure"] == fig and r["path"] == pth)
            if not vals:
                continue
            fn = f"{base}.{fig}-{pth}.dat"
            with open(fn, "w") as f:
                n = len(vals)
                step = max(1, n // 2000)
                for i in range(0, n, step):
                    f.write(f"{vals[i]:.1f} {(i + 1) / n:.5f}\n")
                f.write(f"{vals[-1]:.1f} 1.0\n")
            files.append((pth, fn))
        if not files:
            continue
        png = f"{base}-{fig}-cdf.png"
        names = {"direct": "direct", "relay": "direct via tcp-relay (floor)", "jump": "ssh -J", "bastion": "gatehouse"}
        gp = f"""set terminal pngcairo size 900,500
set output '{png}'
set title '{title}: CDF'
set logscale x
set xlabel 'microseconds'
set ylabel 'fraction of samples'
set key bottom right
set grid
plot """ + ", ".join(f"'{fn}' using 1:2 with lines lw 2 title '{names[pth]}'" for pth, fn in files) + "\n"
        p = subprocess.run(["gnuplot"], input=gp.encode(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if p.returncode == 0:
            plots.append(os.path.basename(png))
        for _, fn in files:
            os.unlink(fn)

# ---- JSON -------------------------------------------------------------------
out = {"meta": meta, "commands": cmds, "notes": notes, "targets": targets,
       "figures": [dict(figure=k[0], cipher=k[1], path=k[2], **v) for k, v in summary.items()],
       "plots": plots}
with open(base + ".json", "w") as f:
    json.dump(out, f, indent=1)

# ---- Markdown ---------------------------------------------------------------
L = []
L.append(f"# Gatehouse benchmark, {meta.get('date', '')} on {meta.get('host', '')}")
L.append("")
L.append(f"- machine: {meta.get('nproc')} cores, {meta.get('cpu')}, kernel {meta.get('kernel')}")
L.append(f"- versions: {meta.get('ssh')}; libssh {meta.get('libssh')}; zstd {meta.get('zstd')}; "
         f"gatehouse {meta.get('gatehouse')} ({meta.get('build')})")
L.append(f"- run: quick={meta.get('quick')}, {meta.get('reps')} interleaved repetitions, transfers of "
         f"{meta.get('size_mb')} MiB")
L.append(f"- client ciphers (forced on every hop): {meta.get('ciphers')}; bastion -> target leg negotiated "
         f"{meta.get('target_leg_cipher')} (kex {meta.get('target_leg_kex')})")
L.append("- paths: direct = ssh to the target sshd; -J = OpenSSH ProxyJump through a second sshd; "
         "gatehouse = gatehoused with recording on, public-key operator (bench_allow_no_totp)")
L.append("")
L.append("## Targets (issue 5)")
L.append("")
L.append("| figure | measured | target | met | detail |")
L.append("|---|---|---|---|---|")
for t in targets:
    met = "n/a" if t["met"] is None else ("yes" if t["met"] else "**no**")
    L.append(f"| {t['figure']} | {t['value']} | {t['target']} | {met} | {t['detail']} |")
L.append("")
L.append("## All figures (median [min..max] over repetitions; latency: percentiles of pooled samples)")
L.append("")
L.append("| figure | cipher | path | n | median | spread / percentiles | unit | load1 |")
L.append("|---|---|---|---|---|---|---|---|")
for k, s in summary.items():
    if "p99" in s:
        spread = f"p90 {s['p90']:.1f}, p99 {s['p99']:.1f}, max {s['max']:.1f}"
    else:
        spread = f"{s['min']:.1f} .. {s['max']:.1f}"
    L.append(f"| {k[0]} | {k[1].split('@')[0]} | {k[2]} | {s['n']} | {s['median']:.1f} | {spread} | {s['unit']} | "
             f"{s['load1'][0]:.2f}-{s['load1'][1]:.2f} |")
L.append("")
if plots:
    L.append("## Plots")
    L.append("")
    for p in plots:
        L.append(f"![{p}]({p})")
    L.append("")
L.append("## Notes")
L.append("")
for n in notes:
    L.append(f"- {n}")
L.append("")
L.append("## Commands")
L.append("")
L.append("```")
L.extend(cmds)
L.append("```")
L.append("")
with open(base + ".md", "w") as f:
    f.write("\n".join(L))
