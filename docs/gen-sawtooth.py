#!/usr/bin/env python3
"""Draw docs/overhead-sawtooth.svg: overhead versus inner packet size (the ESP padding
sawtooth) for CBC, GCM and ChaCha20 suites, from tunnel-mtu's own JSON.

    python3 docs/gen-sawtooth.py build/default/examples/tunnel-mtu > docs/overhead-sawtooth.svg
"""
import json
import subprocess
import sys

TOOL = sys.argv[1] if len(sys.argv) > 1 else "build/default/examples/tunnel-mtu"
LO, HI, MTU = 1340, 1440, 1500
STACKS = [
    ("AES-256-CBC + HMAC-SHA1-96", "ipv4/esp(aes-256-cbc,hmac-sha1-96)/ipv4/gre", "#d62728"),
    ("AES-256-GCM-16", "ipv4/esp(aes-256-gcm-16)/ipv4/gre", "#1f77b4"),
    ("ChaCha20-Poly1305 (same sizes as GCM-16)", "ipv4/esp(chacha20-poly1305)/ipv4/gre", "#2ca02c"),
    ("AES-128-GCM-8", "ipv4/esp(aes-128-gcm-8)/ipv4/gre", "#9467bd"),
]

W, H, L, R, T, B = 860, 420, 60, 20, 40, 50
series = []
for name, spec, colour in STACKS:
    out = subprocess.run([TOOL, "--json", "--mtu", str(MTU), "--sweep", f"{LO}..{HI}", spec],
                         check=True, capture_output=True, text=True).stdout
    data = json.loads(out)
    series.append((name, colour, data["max_inner"], [(p["inner"], p["wire"] - p["inner"], p["fits"]) for p in data["sweep"]]))

ymin = min(o for *_, pts in series for _, o, _ in pts) - 2
ymax = max(o for *_, pts in series for _, o, _ in pts) + 2
x = lambda n: L + (n - LO) * (W - L - R) / (HI - LO)
y = lambda o: T + (ymax - o) * (H - T - B) / (ymax - ymin)

svg = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" font-family="sans-serif" font-size="12">',
       f'<rect width="{W}" height="{H}" fill="white"/>',
       f'<text x="{W/2}" y="20" text-anchor="middle" font-size="14">Overhead vs inner packet size: GRE over ESP tunnel mode, IPv4, underlay MTU {MTU}</text>']
for o in range(ymin - ymin % 4 + 4, ymax + 1, 4):
    svg.append(f'<line x1="{L}" x2="{W-R}" y1="{y(o):.1f}" y2="{y(o):.1f}" stroke="#eee"/>')
    svg.append(f'<text x="{L-6}" y="{y(o)+4:.1f}" text-anchor="end">{o}</text>')
for n in range(LO, HI + 1, 10):
    svg.append(f'<line x1="{x(n):.1f}" x2="{x(n):.1f}" y1="{T}" y2="{H-B}" stroke="#eee"/>')
    svg.append(f'<text x="{x(n):.1f}" y="{H-B+16}" text-anchor="middle">{n}</text>')
svg.append(f'<text x="{W/2}" y="{H-10}" text-anchor="middle">inner packet size (bytes)</text>')
svg.append(f'<text x="15" y="{H/2}" text-anchor="middle" transform="rotate(-90 15 {H/2})">overhead (bytes)</text>')
legend = [f'<rect x="{L+4}" y="{T+2}" width="470" height="{16*len(series)+6}" fill="white" fill-opacity="0.9" stroke="#ccc"/>']
for i, (name, colour, max_inner, pts) in enumerate(series):
    path = " ".join(f"{'M' if j == 0 else 'L'}{x(n):.1f},{y(o):.1f}" for j, (n, o, _) in enumerate(pts))
    svg.append(f'<path d="{path}" fill="none" stroke="{colour}" stroke-width="{5 if "GCM-16" in name else 1.6}" stroke-opacity="{0.45 if "GCM-16" in name else 1}"/>')
    svg.append(f'<line x1="{x(max_inner):.1f}" x2="{x(max_inner):.1f}" y1="{T}" y2="{H-B}" stroke="{colour}" stroke-dasharray="4 3"/>')
    ly = T + 16 + 16 * i
    legend.append(f'<line x1="{L+10}" x2="{L+30}" y1="{ly-4}" y2="{ly-4}" stroke="{colour}" stroke-width="2"/>')
    legend.append(f'<text x="{L+36}" y="{ly}">{name} (max inner {max_inner}, dashed)</text>')
svg += legend
svg.append("</svg>")
print("\n".join(svg))
