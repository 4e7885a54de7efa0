#!/usr/bin/env bash
# Opens the HTML report of the built-in example bundle in headless Chromium (Debian's) and
# saves a screenshot, as proof that the self-contained report and its SVG chart render in a
# real browser. Installs chromium when missing.
#   scripts/html-screenshot.sh [BUNDLE] [OUT_DIR]    (default examples/incident-bundle.json,
#                                                     target/lab-artifacts)
set -euo pipefail
cd "$(dirname "$0")/.."
bundle=${1:-examples/incident-bundle.json}
out=${2:-target/lab-artifacts}
mkdir -p "$out"

browser=$(command -v chromium || command -v chromium-browser || true)
if [ -z "$browser" ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo=sudo
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >/dev/null
  browser=$(command -v chromium)
fi

html="$out/report.html"
# Exit 1 means "a problem was diagnosed", which is what the example holds.
cargo run -q -p kube-doctor -- diagnose "$bundle" -o html >"$html" || [ $? -eq 1 ]
grep -q '<svg' "$html" || { echo "the HTML report has no SVG chart" >&2; exit 1; }

png="$out/report.png"
rm -f "$png"
timeout 120 "$browser" --headless --no-sandbox --disable-gpu --disable-dev-shm-usage \
  --disable-background-networking --no-first-run --hide-scrollbars \
  --window-size=1280,1600 --screenshot="$png" "file://$PWD/$html" >/dev/null 2>&1
[ -s "$png" ] || { echo "chromium wrote no screenshot" >&2; exit 1; }

# The page really rendered: a PNG of the window's size, and not a blank page (a blank
# 1280x1600 PNG compresses to a few kB).
python3 - "$png" <<'EOF'
import struct, sys
data = open(sys.argv[1], "rb").read()
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
w, h = struct.unpack(">II", data[16:24])
assert (w, h) == (1280, 1600), f"unexpected size {w}x{h}"
assert len(data) > 40_000, f"the screenshot looks blank ({len(data)} bytes)"
print(f"screenshot {sys.argv[1]}: {w}x{h}, {len(data)} bytes")
EOF
