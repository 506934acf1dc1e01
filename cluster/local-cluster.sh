#!/usr/bin/env bash
# A coordinator plus N worker daemons on this host, over loopback: the cluster path of the
# product without other machines. Usage:
#   cluster/local-cluster.sh [-n WORKERS] [-s SLOTS] [-d DIR] [-- COORDINATOR/GRID OPTIONS...]
# e.g. cluster/local-cluster.sh -n 2 -- --profile smoke --leaderboard cifar100.resnet18.global_protected
# Writes DIR/journal.db, DIR/results.jsonl and DIR/leaderboard/; logs in DIR/*.log.
# Threads per job = cores / (WORKERS x SLOTS), so jobs never oversubscribe the cores.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=2 slots=1 dir=runs/local-cluster port=${PRUNEBENCH_PORT:-5555}
while getopts "n:s:d:" opt; do
  case $opt in n) workers=$OPTARG ;; s) slots=$OPTARG ;; d) dir=$OPTARG ;; *) exit 2 ;; esac
done
shift $((OPTIND - 1)); [ "${1:-}" = "--" ] && shift
./cluster/setup.sh >/dev/null
swift build -c release --product prunebench >/dev/null
bin=$PWD/.build/release/prunebench
mkdir -p "$dir"
threads=$(( $(nproc) / (workers * slots) )); [ "$threads" -ge 1 ] || threads=1
"$bin" coordinator --journal "$dir/journal.db" --bind "tcp://127.0.0.1:$port" --exit-when-done \
  --results-out "$dir/results.jsonl" "$@" >"$dir/coordinator.log" 2>&1 &
coordinator=$!
pids=()
for i in $(seq 1 "$workers"); do
  "$bin" worker --connect "tcp://127.0.0.1:$port" --id "local$i" --slots "$slots" --threads "$threads" \
    --work "$dir/worker$i" --exit-when-complete 2>"$dir/worker$i.log" &
  pids+=($!)
done
trap 'kill $coordinator "${pids[@]}" 2>/dev/null; wait' INT TERM
echo "coordinator pid $coordinator, $workers workers x $slots slots x $threads threads; status: $bin status --journal $dir/journal.db"
# A bar with rate and ETA on a terminal, a log line every 10% otherwise; `status` shows the details.
"$bin" status --journal "$dir/journal.db" --follow --interval 5 || true
wait "$coordinator"
# Workers leave when the coordinator says the sweep is complete; one that connected after it left
# (a re-run of a finished sweep) is idle and is stopped here.
sleep 2
kill "${pids[@]}" 2>/dev/null || true
wait "${pids[@]}" || true
"$bin" leaderboard --results "$dir/results.jsonl" --out "$dir/leaderboard"
