#!/usr/bin/env bash
# Batch-scan benchmark: 40 captures from make-bench-capture.py (different
# seeds; every 5th gzip-compressed; 3 truncated on purpose), scanned with
# -j 1 and -j 2 (best of 3 each), the unanswered-request sums checked
# against the truth files, and peak memory for 10 files against 40.
#
#   bench/scan.sh [SIZE_MB_PER_FILE]      (default 24)
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-24}
dir=${BENCH_DIR:-/tmp/ikediag-bench}/scan-${size}m
mkdir -p "$dir/all"
cargo build --release --quiet
bin=$PWD/target/release/ikediag
if [ ! -f "$dir/ready" ]; then
  for i in $(seq 1 40); do
    f="$dir/all/cap$(printf %02d "$i").pcap"
    python3 ../shared/tools/make-bench-capture.py --size-mb "$size" --seed "$((100 + i))" --out "$f" > /dev/null
    mv "$f.truth.json" "$dir/truth-$(basename "$f").json"
    if [ $((i % 5)) -eq 0 ]; then gzip -1 "$f"; fi
  done
  for i in 7 19 33; do # truncated mid-record, on purpose
    f="$dir/all/cap$(printf %02d "$i").pcap"
    head -c $((size * 1024 * 600)) "$f" > "$f.cut" && mv "$f.cut" "$f" && mv "$dir/truth-cap$(printf %02d "$i").pcap.json" "$dir/truth-cut-$i.json"
  done
  mkdir -p "$dir/ten" && cp "$dir"/all/cap0[1-9]* "$dir"/all/cap10* "$dir/ten/"
  touch "$dir/ready"
fi
bytes=$(du -sb "$dir/all" | cut -f1)
cat "$dir"/all/* > /dev/null
best() {
  local b=""
  for _ in 1 2 3; do
    local s e t
    s=$(date +%s.%N); "$@" > /dev/null || true; e=$(date +%s.%N)
    t=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", e - s}')
    if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN{exit !(t < b)}'; then b=$t; fi
  done
  echo "$b"
}
t1=$(best "$bin" scan -j 1 --format ndjson "$dir/all")
t2=$(best "$bin" scan -j 2 --format ndjson "$dir/all")
got=$("$bin" scan -j 2 --format ndjson "$dir/all" | python3 -c "
import json,sys
n=0
for l in sys.stdin:
    e=json.loads(l)
    if not e['path'].endswith(('cap07.pcap','cap19.pcap','cap33.pcap')): n+=e.get('unanswered_requests',0)
print(n)" || true)
want=$(python3 -c "
import json,glob,sys
print(sum(json.load(open(f))['unanswered_requests'] for f in glob.glob(sys.argv[1]+'/truth-cap*.json')))" "$dir")
m10=$( { /usr/bin/time -f %M "$bin" scan -j 2 --format ndjson "$dir/ten" > /dev/null || true; } 2>&1 | tail -1)
m40=$( { /usr/bin/time -f %M "$bin" scan -j 2 --format ndjson "$dir/all" > /dev/null || true; } 2>&1 | tail -1)
echo "40 files, $bytes bytes (8 gzip, 3 truncated), in $dir/all"
echo
echo "| command | seconds (best of 3) | GB/s | speed-up |"
echo "|---|---|---|---|"
echo "| \`ikediag scan -j 1 --format ndjson DIR\` | $t1 | $(awk -v b="$bytes" -v t="$t1" 'BEGIN{printf "%.2f", b/t/1e9}') | 1 |"
echo "| \`ikediag scan -j 2 --format ndjson DIR\` | $t2 | $(awk -v b="$bytes" -v t="$t2" 'BEGIN{printf "%.2f", b/t/1e9}') | $(awk -v a="$t1" -v b="$t2" 'BEGIN{printf "%.2f", a/b}')x |"
echo
echo "unanswered requests over the 37 intact files: $got (truth files: $want)"
echo "peak RSS: 10 files $((m10 / 1024)) MiB, 40 files $((m40 / 1024)) MiB"
[ "$got" = "$want" ] || { echo "MISMATCH" >&2; exit 1; }
