#!/usr/bin/env bash
# Throughput benchmark: ikediag against `cat` and tshark on the same file, in
# the same run. Writes a Markdown table to stdout (paste it into
# docs/PERFORMANCE.md with the command line).
#
#   bench/run.sh [SIZE_MB] [SEED]      (default 1024 MB, seed 1)
#
# The capture comes from ../shared/tools/make-bench-capture.py and is kept in
# $BENCH_DIR (default /tmp/ikediag-bench); its truth file gives the number of
# IKE messages ikediag must list. tshark is optional (skipped when missing).
set -euo pipefail
cd "$(dirname "$0")/.."
size=${1:-1024}
seed=${2:-1}
dir=${BENCH_DIR:-/tmp/ikediag-bench}
mkdir -p "$dir"
cap="$dir/bench-${size}m-s${seed}.pcap"
if [ ! -f "$cap.truth.json" ]; then
  python3 ../shared/tools/make-bench-capture.py --size-mb "$size" --seed "$seed" --out "$cap" >&2
fi
cargo build --release --quiet
bin=target/release/ikediag
bytes=$(stat -L -c %s "$cap")
want=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['ike_messages'])" "$cap.truth.json")

cat "$cap" > /dev/null # warm the page cache

# best of N wall-clock seconds for a shell command
best() {
  local n=$1; shift
  local b=""
  for _ in $(seq "$n"); do
    local s e t
    s=$(date +%s.%N); bash -c "$*" > /dev/null; e=$(date +%s.%N)
    t=$(awk -v s="$s" -v e="$e" 'BEGIN{printf "%.3f", e - s}')
    if [ -z "$b" ] || awk -v t="$t" -v b="$b" 'BEGIN{exit !(t < b)}'; then b=$t; fi
  done
  echo "$b"
}

got=$("$bin" messages --format json "$cap" | wc -l)
# analyze must agree with the truth file too
read -r una inc <<< "$("$bin" analyze --format json "$cap" | python3 -c "import json,sys; s=json.load(sys.stdin)['stats']; print(s['unanswered_requests'], s['incomplete_fragment_sets'])")"
want_una=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['unanswered_requests'])" "$cap.truth.json")
want_inc=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['incomplete_fragment_sets'])" "$cap.truth.json")
peak_kb=$( { /usr/bin/time -f "%M" "$bin" messages --format json "$cap" > /dev/null; } 2>&1 | tail -1)
t_cat=$(best 5 "cat '$cap' > /dev/null")
t_ike=$(best 5 "'$bin' messages --format json '$cap' > /dev/null")
t_ana=$(best 5 "'$bin' analyze --format json '$cap' > /dev/null")
# analyze exits 1 when it finds an Error (the bench capture has failures by design)
peak_ana_kb=$( { /usr/bin/time -f "%M" "$bin" analyze --format json "$cap" > /dev/null || true; } 2>&1 | tail -1)
if command -v tshark > /dev/null; then
  t_tshark=$(best 1 "tshark -r '$cap' -Y isakmp -T fields -e frame.number > /dev/null 2>&1")
else
  t_tshark=""
fi

gbps() { awk -v b="$bytes" -v t="$1" 'BEGIN{printf "%.2f", b / t / 1e9}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f", a / b}'; }
echo "file: $cap ($bytes bytes), truth ike_messages=$want, ikediag listed $got"
echo
echo "| command | seconds (best of runs) | GB/s | ikediag speed as a ratio |"
echo "|---|---|---|---|"
echo "| \`cat FILE > /dev/null\` | $t_cat | $(gbps "$t_cat") | $(ratio "$t_cat" "$t_ike")x of cat |"
echo "| \`ikediag messages --format json FILE\` | $t_ike | $(gbps "$t_ike") | 1 |"
echo "| \`ikediag analyze --format json FILE\` | $t_ana | $(gbps "$t_ana") | $(ratio "$t_ana" "$t_ike")x the time of messages |"
if [ -n "$t_tshark" ]; then
  echo "| \`tshark -r FILE -Y isakmp -T fields -e frame.number\` | $t_tshark | $(gbps "$t_tshark") | ikediag is $(ratio "$t_tshark" "$t_ike")x faster |"
fi
echo
echo "ikediag peak RSS: messages $((peak_kb / 1024)) MiB, analyze $((peak_ana_kb / 1024)) MiB"
echo "analyze: unanswered_requests $una (truth $want_una), incomplete_fragment_sets $inc (truth $want_inc)"
if [ "$una" != "$want_una" ] || [ "$inc" != "$want_inc" ]; then
  echo "MISMATCH: analyze stats differ from the truth file" >&2
  exit 1
fi
if [ "$got" != "$want" ]; then
  echo "MISMATCH: ikediag listed $got IKE messages, truth says $want" >&2
  exit 1
fi
