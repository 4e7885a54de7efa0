"""Draws bench/investigate.sh's results: wall time, API requests, bytes read and peak RSS of
kube-doctor (and the kubectl script's time and bytes) against cluster size, as one SVG."""
import csv
import sys

rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
tools = sorted({r["tool"] for r in rows})
panels = [("median_s", "wall time (s)"), ("bytes_down", "bytes read from the API server"),
          ("api_requests", "API requests"), ("peak_rss_mib", "peak RSS (MiB)")]
W, H, PW, PH = 1000, 640, 400, 240
colors = {"kube-doctor": "#c62828", "kubectl script": "#1565c0"}
out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{H}" viewBox="0 0 {W} {H}" font-family="sans-serif">',
       f'<rect width="{W}" height="{H}" fill="#fff"/>']


def num(v):
    """A plain number, or None ("17 commands" is not comparable with API requests)."""
    try:
        return float(str(v))
    except ValueError:
        return None


for i, (key, title) in enumerate(panels):
    ox, oy = 60 + (i % 2) * (PW + 60), 40 + (i // 2) * (PH + 70)
    pts = {t: [(num(r["pods"]), num(r[key])) for r in rows if r["tool"] == t and num(r[key]) is not None] for t in tools}
    xs = [x for p in pts.values() for x, _ in p] or [1]
    ys = [y for p in pts.values() for _, y in p] or [1]
    xmax, ymax = max(xs) * 1.05, max(ys) * 1.15 or 1
    out.append(f'<text x="{ox}" y="{oy - 12}" font-size="13" font-weight="bold">{title}</text>')
    out.append(f'<rect x="{ox}" y="{oy}" width="{PW}" height="{PH}" fill="none" stroke="#ccc"/>')
    for f in (0, 0.5, 1):
        y = oy + PH - f * PH
        out.append(f'<text x="{ox - 5}" y="{y + 4}" font-size="10" text-anchor="end">{ymax * f:.3g}</text>')
    for x in sorted(set(xs)):
        px = ox + x / xmax * PW
        out.append(f'<text x="{px}" y="{oy + PH + 14}" font-size="10" text-anchor="middle">{int(x)}</text>')
    for t, p in pts.items():
        if not p:
            continue
        p.sort()
        path = " ".join(f"{ox + x / xmax * PW:.1f},{oy + PH - y / ymax * PH:.1f}" for x, y in p)
        out.append(f'<polyline fill="none" stroke="{colors.get(t, "#555")}" stroke-width="2" points="{path}"/>')
        for x, y in p:
            out.append(f'<circle cx="{ox + x / xmax * PW:.1f}" cy="{oy + PH - y / ymax * PH:.1f}" r="3" fill="{colors.get(t, "#555")}"/>')
out.append(f'<text x="{W / 2}" y="{H - 8}" font-size="11" text-anchor="middle">pods in the cluster · '
           + " · ".join(f'<tspan fill="{colors.get(t, "#555")}">■ {t}</tspan>' for t in tools) + "</text>")
out.append("</svg>")
open(sys.argv[2], "w").write("\n".join(out))
