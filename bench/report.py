#!/usr/bin/env python3
"""Turn an encap-bench JSON run into the tables and chart of docs/performance.md.

    encap-bench --benchmark_repetitions=3 --benchmark_report_aggregates_only=true \
                --benchmark_format=json --benchmark_out=run.json
    python3 bench/report.py run.json [more.json ...] --svg docs/performance-chart.svg > table.md

Every ratio is between two entries of the same run (medians of the repetitions):
encap / raw and decap / raw-open per backend, suite and size; decap-forged / decap;
ipsec_mb encap / botan encap; burst / single for encap and decap. The paired
benchmarks (encap-vs-raw, ...) measure a ratio inside one benchmark; their table
prints time(forged) / time(good) for forged-vs-decap.
"""
import json
import sys

args = sys.argv[1:]
def option(flag):
    global args
    if flag not in args:
        return None
    i = args.index(flag)
    value = args[i + 1]
    args = args[:i] + args[i + 2:]
    return value
svg_path = option("--svg")
dpdk_svg_path = option("--dpdk-svg")
runs = [json.load(open(a)) for a in args]
run = runs[0]

med = {}
for r in runs:
    for b in r["benchmarks"]:
        name = b.get("run_name", b["name"])
        if b.get("aggregate_name", "median") != "median":
            continue
        med[name] = b

def rate(name):
    b = med.get(name)
    return b["bytes_per_second"] if b and "bytes_per_second" in b else None

def pps(name):
    b = med.get(name)
    return b.get("packets") if b else None

ctx = run["context"]
print(f"CPU: {ctx.get('cpu_model', '?')} ({ctx['num_cpus']} cores, {ctx['mhz_per_cpu']} MHz); "
      f"{ctx['date']}; library build {ctx.get('library_build_type', '?')}")
print(f"cpu_flags: {ctx.get('cpu_flags', '?')}")
print()
backends = sorted({n.split("/")[0] for n in med if "/" in n and not n.startswith("calc")})
suites = []
for n in med:
    parts = n.split("/")
    if len(parts) == 4 and parts[1] == "raw" and parts[2] not in suites:
        suites.append(parts[2])
sizes = ["64", "512", "1414", "9000", "imix"]

print("| backend | suite | size | raw GB/s | encap GB/s | encap/raw | raw-open GB/s | decap GB/s | decap/raw-open | forged/decap time |")
print("|---|---|---|---|---|---|---|---|---|---|")
for be in backends:
    for s in suites:
        for z in sizes:
            r, e = rate(f"{be}/raw/{s}/{z}"), rate(f"{be}/encap/{s}/{z}")
            ro, d = rate(f"{be}/raw-open/{s}/{z}"), rate(f"{be}/decap/{s}/{z}")
            f = rate(f"{be}/decap-forged/{s}/{z}")
            if not r:
                continue
            print(f"| {be} | {s} | {z} | {r/1e9:.2f} | {e/1e9:.2f} | {e/r:.2f} | {ro/1e9:.2f} | {d/1e9:.2f} | {d/ro:.2f} | {d/f:.2f} |")
print()

def ratio(name):
    b = med.get(name)
    return b.get("ratio") if b else None

print("Paired (alternating batches in one benchmark, robust to the VM's drift):")
print()
print("| backend | suite | size | encap / raw | decap / raw-open | forged / good decap time |")
print("|---|---|---|---|---|---|")
for be in backends:
    for s in suites:
        for z in sizes:
            e, d, f = (ratio(f"{be}/{op}/{s}/{z}") for op in ("encap-vs-raw", "decap-vs-raw-open", "forged-vs-decap"))
            if e:
                print(f"| {be} | {s} | {z} | {e:.2f} | {d:.2f} | {1/f:.2f} |")
print()
if "ipsec_mb" in backends:
    print("| suite | size | ipsec_mb encap / botan encap | ipsec_mb encap / ipsec_mb raw |")
    print("|---|---|---|---|")
    for s in suites:
        for z in sizes:
            a, b, r = rate(f"ipsec_mb/encap/{s}/{z}"), rate(f"botan/encap/{s}/{z}"), rate(f"ipsec_mb/raw/{s}/{z}")
            if a and b:
                print(f"| {s} | {z} | {a/b:.2f} | {a/r:.2f} |")
    print()
print("| backend | suite | burst | encap: burst / single (packets/s) | decap: burst / single |")
print("|---|---|---|---|---|")
for be in backends:
    for s in suites:
        for n in ["1", "8", "32", "64"]:
            cells = []
            for op in ("encap", "decap"):
                b, o = pps(f"{be}/burst-{op}/{s}/1414/{n}"), pps(f"{be}/single-{op}/{s}/1414/{n}")
                cells.append(f"{b/o:.2f}" if b and o else "")
            if any(cells):
                print(f"| {be} | {s} | {n} | {cells[0]} | {cells[1]} |")
print()
print("| calculator | calls/s |")
print("|---|---|")
for n, b in med.items():
    if n.startswith("calc/"):
        print(f"| {n} | {b['calls']/1e6:.1f} M |")
for k, v in ctx.items():
    if k.endswith("_sa_bytes_aes-256-gcm-16"):
        print(f"\nPer-SA memory, {k.replace('_sa_bytes_', ' ')}: {v} bytes of heap (plus the esp_sa object itself)")
    if k == "ipsec_mb_thread_bytes":
        print(f"\nPer thread, shared by all its ipsec_mb SAs: {v} bytes (two job managers)")

# ---- side by side: issue 11's goals, DPDK, two threads --------------------------------

def goal_rows():
    """(what, backend, suite, size, measured, goal) for the paired ratios the goals name."""
    goals = {("ipsec_mb", "encap-vs-raw", "1414"): 0.95, ("ipsec_mb", "encap-vs-raw", "64"): 0.85,
             ("ipsec_mb", "decap-vs-raw-open", "1414"): 0.92, ("ipsec_mb", "decap-vs-raw-open", "64"): 0.80,
             ("botan", "encap-vs-raw", "1414"): 0.95, ("botan", "encap-vs-raw", "64"): 0.85}
    at_1414_only = {"aes-256-cbc,hmac-sha1-96", "chacha20-poly1305"}  # ipsec-mb: the 1414-byte goals only
    for (be, op, z), g in goals.items():
        for s in ("aes-256-gcm-16", "aes-128-gcm-16", "aes-256-cbc,hmac-sha1-96", "chacha20-poly1305"):
            if be == "ipsec_mb" and s in at_1414_only and z != "1414":
                continue
            if be == "botan" and s in at_1414_only:
                continue
            v = ratio(f"{be}/{op}/{s}/{z}")
            if v:
                yield op, be, s, z, v, g

rows = list(goal_rows())
if rows:
    print("Goals (paired ratios, typed endpoint; the run-time one is this times runtime-vs-typed). "
          "floor: the same ratio for the hand-written floor of the reference stack (floor-vs-raw, "
          "floor-decap-vs-raw-open), the most any encapsulator reaches with one packet per call; "
          "of floor: encap-vs-floor, decap-vs-floor-decap:")
    print()
    print("| ratio | backend | suite | size | measured | goal | | floor | of floor |")
    print("|---|---|---|---|---|---|---|---|---|")
    for op, be, s, z, v, g in rows:
        enc = op == "encap-vs-raw"
        rt = ratio(f"{be}/runtime-vs-typed-{'encap' if enc else 'decap'}/{s}/{z}")
        rt_s = f" (run-time {v * rt:.2f})" if rt else ""
        fl = ratio(f"{be}/{'floor-vs-raw' if enc else 'floor-decap-vs-raw-open'}/{s}/{z}")
        of = ratio(f"{be}/{'encap-vs-floor' if enc else 'decap-vs-floor-decap'}/{s}/{z}")
        fl_s = f"{fl:.2f}{' (below the goal)' if fl < g else ''}" if fl else ""
        of_s = f"{of:.2f}" if of else ""
        print(f"| {op} | {be} | {s} | {z} | {v:.2f}{rt_s} | {g:.2f} | {'met' if v >= g else 'not met'} | {fl_s} | {of_s} |")
    print()

dpdk = sorted(n for n in med if n.startswith("encap-vs-dpdk/"))
if dpdk:
    print("encap (intel-ipsec-mb, typed endpoint) against DPDK librte_ipsec, same packets, same run; "
          "ratio = DPDK time / encap time (above 1: encap is faster), then DPDK / encap / crypto-alone ns and, "
          "after 'floor', DPDK time / crypto-alone time: the most any encapsulator over this intel-ipsec-mb could reach:")
    print()
    cols = [("cpu-crypto", "burst1"), ("cpu-crypto", "burst32"), ("lookaside", "burst1"), ("lookaside", "burst32")]
    print("| suite | size | direction | CPU-crypto, burst 1 | CPU-crypto, burst 32 | lookaside, burst 1 | lookaside, burst 32 |")
    print("|---|---|---|---|---|---|---|")
    for s in ("aes-256-gcm-16", "aes-128-cbc,hmac-sha1-96"):
        for z in ("64", "1414", "imix"):
            for d in ("outbound", "inbound"):
                cells = []
                for mode, burst in cols:
                    b = med.get(f"encap-vs-dpdk/{d}/{mode}/{burst}/{s}/{z}")
                    floor = f" / {b['crypto_ns']:.0f} ns, floor {b['floor_ratio']:.2f}" if b and "floor_ratio" in b else " ns"
                    cells.append(f"**{b['ratio']:.2f}** ({b['dpdk_ns']:.0f} / {b['encap_ns']:.0f}{floor})" if b else "")
                if any(cells):
                    print(f"| {s} | {z} | {d} | " + " | ".join(cells) + " |")
    print()

threads = [n for n in med if "/threads-" in n and n.endswith("threads:1")]
if threads:
    print("| backend | operation | suite | size | 1 thread Mpps | 2 threads Mpps | scaling |")
    print("|---|---|---|---|---|---|---|")
    for n in sorted(threads):
        one, two = pps(n), pps(n[:-1] + "2")
        be, op, s, z = n.split("/")[:4]
        if one and two:
            print(f"| {be} | {op[8:]} | {s} | {z} | {one/1e6:.2f} | {two/1e6:.2f} | {two/one:.2f} |")
    print()

if dpdk_svg_path and dpdk:
    # one bar per CPU-crypto entry: DPDK time / encap time (above the 1.0 line: encap is faster)
    groups = [n for n in dpdk if "/cpu-crypto/" in n]
    W, H, L, T, B = 980, 420, 60, 40, 100
    ymax = max(2.6, max(med[n]["ratio"] for n in groups) * 1.1)
    gw = (W - L - 20) / len(groups)
    y = lambda v: T + (ymax - v) * (H - T - B) / ymax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="11">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{W / 2}" y="20" text-anchor="middle" font-size="14">DPDK librte_ipsec time / encap time, same run, '
           f'CPU-crypto mode (above 1: encap is faster)</text>']
    v = 0.0
    while v <= ymax:
        out.append(f'<line x1="{L}" x2="{W-20}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{L-6}" y="{y(v)+4:.1f}" text-anchor="end">{v:.1f}</text>')
        v += 0.5
    for i, n in enumerate(groups):
        _, d, _, burst, s, z = n.split("/")
        x0 = L + i * gw
        val = med[n]["ratio"]
        colour = "#1f77b4" if burst == "burst1" else "#ff7f0e"
        out.append(f'<rect x="{x0 + 3:.1f}" y="{y(val):.1f}" width="{gw - 6:.1f}" height="{y(0) - y(val):.1f}" fill="{colour}"/>')
        out.append(f'<text x="{x0 + gw / 2:.1f}" y="{y(val) - 3:.1f}" text-anchor="middle" font-size="9">{val:.2f}</text>')
        label = f"{'out' if d == 'outbound' else 'in'} {'gcm' if 'gcm' in s else 'cbc'} {z} b{burst[5:]}"
        out.append(f'<text x="{x0 + gw / 2:.1f}" y="{H - B + 10}" text-anchor="end" '
                   f'transform="rotate(-60 {x0 + gw / 2:.1f} {H - B + 10})">{label}</text>')
    out.append(f'<line x1="{L}" x2="{W-20}" y1="{y(1):.1f}" y2="{y(1):.1f}" stroke="black" stroke-dasharray="4 2"/>')
    out.append(f'<text x="{W-24}" y="{T + 12}" text-anchor="end"><tspan fill="#1f77b4">■ one packet per call</tspan>'
               f'  <tspan fill="#ff7f0e">■ bursts of 32</tspan></text>')
    out.append("</svg>")
    open(dpdk_svg_path, "w").write("\n".join(out))

if svg_path:
    W, H, L, R, T, B = 980, 460, 70, 320, 40, 50
    xs = ["64", "512", "1414", "9000"]
    lines = []
    colours = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf", "#bcbd22"]
    for be in backends:
        for k, s in enumerate(suites):
            pts = [rate(f"{be}/encap/{s}/{z}") for z in xs]
            if all(pts):  # colour: the suite; dashed: Botan, solid: intel-ipsec-mb
                lines.append((f"{be} {s}", [p / 1e9 for p in pts], "4 2" if be == "botan" else "", colours[k % len(colours)]))
    ymax = max(max(v) for _, v, _, _ in lines) * 1.1
    x = lambda i: L + i * (W - L - R) / (len(xs) - 1)
    y = lambda v: T + (ymax - v) * (H - T - B) / ymax
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
           f'<rect width="{W}" height="{H}" fill="white"/>',
           f'<text x="{(W - R + L) / 2}" y="20" text-anchor="middle" font-size="14">encap throughput (reference stack, one core) vs inner packet size</text>']
    step = 0.5 if ymax < 4 else 1.0
    v = 0.0
    while v <= ymax:
        out.append(f'<line x1="{L}" x2="{W-R}" y1="{y(v):.1f}" y2="{y(v):.1f}" stroke="#eee"/>')
        out.append(f'<text x="{L-6}" y="{y(v)+4:.1f}" text-anchor="end">{v:.1f}</text>')
        v += step
    for i, z in enumerate(xs):
        out.append(f'<text x="{x(i):.1f}" y="{H-B+18}" text-anchor="middle">{z}</text>')
    out.append(f'<text x="{(W - R + L) / 2}" y="{H-12}" text-anchor="middle">inner packet size (bytes)</text>')
    out.append(f'<text x="16" y="{H/2}" text-anchor="middle" transform="rotate(-90 16 {H/2})">GB/s (inner bytes)</text>')
    for k, (label, vals, dash, c) in enumerate(lines):
        path = " ".join(f"{'M' if i == 0 else 'L'}{x(i):.1f},{y(v):.1f}" for i, v in enumerate(vals))
        out.append(f'<path d="{path}" fill="none" stroke="{c}" stroke-width="2" stroke-dasharray="{dash}"/>')
        ly = T + 10 + 18 * k
        out.append(f'<line x1="{W-R+10}" x2="{W-R+34}" y1="{ly-4}" y2="{ly-4}" stroke="{c}" stroke-width="2" stroke-dasharray="{dash}"/>')
        out.append(f'<text x="{W-R+40}" y="{ly}">{label}</text>')
    out.append("</svg>")
    open(svg_path, "w").write("\n".join(out))
