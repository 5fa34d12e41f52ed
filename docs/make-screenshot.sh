#!/usr/bin/env bash
# Renders the HTML report of the lab's mtu_blackhole_reply capture and
# screenshots it with headless Chromium into docs/report-mtu_blackhole_reply.png.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo build --release --quiet
tmp=$(mktemp -d)
target/release/ikediag analyze -o "$tmp/report.html" ../shared/corpus/lab/mtu_blackhole_reply.pcap || true
chromium --headless --no-sandbox --disable-gpu --disable-background-networking --disable-component-update \
  --disable-sync --no-first-run --user-data-dir="$tmp/profile" --window-size=1200,1500 \
  --screenshot="$PWD/docs/report-mtu_blackhole_reply.png" "$tmp/report.html" 2> /dev/null
rm -rf "$tmp"
echo "wrote docs/report-mtu_blackhole_reply.png"
