#!/usr/bin/env bash
# A test cluster of several "hosts" on one machine: network namespaces pb0..pbN joined by a bridge,
# each with its own address (10.77.0.1 = coordinator, 10.77.0.2.. = workers), CURVE keys and an
# allowlist, a real TCP path between them. Needs root (ip netns). Usage:
#   cluster/netns-cluster.sh up N          # create the namespaces and the bridge
#   cluster/netns-cluster.sh run N DIR [-- GRID OPTIONS...]   # coordinator in pb0, a worker in each of pb1..pbN
#   cluster/netns-cluster.sh down N
set -euo pipefail
cd "$(dirname "$0")/.."
action=$1 n=${2:-2}
bridge=pbbr0
up() {
  ip link show "$bridge" >/dev/null 2>&1 || { ip link add "$bridge" type bridge; ip link set "$bridge" up; }
  for i in $(seq 0 "$n"); do
    ns=pb$i
    ip netns list | grep -qw "$ns" && continue
    ip netns add "$ns"
    ip link add "veth$i" type veth peer name eth0 netns "$ns"
    ip link set "veth$i" master "$bridge" up
    ip -n "$ns" addr add "10.77.0.$((i + 1))/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
  done
  echo "namespaces pb0..pb$n up on $bridge (10.77.0.1-$((n + 1)))"
}
down() {
  for i in $(seq 0 "$n"); do ip netns del "pb$i" 2>/dev/null || true; ip link del "veth$i" 2>/dev/null || true; done
  ip link del "$bridge" 2>/dev/null || true
}
run() {
  local dir=$1; shift; [ "${1:-}" = "--" ] && shift
  bin=$PWD/.build/release/prunebench
  [ -x "$bin" ] || swift build -c release --product prunebench
  mkdir -p "$dir/keys"
  [ -f "$dir/keys/coordinator.key" ] || "$bin" keygen coordinator --dir "$dir/keys" >/dev/null
  : > "$dir/keys/allow.txt"
  for i in $(seq 1 "$n"); do
    [ -f "$dir/keys/host$i.key" ] || "$bin" keygen "host$i" --dir "$dir/keys" >/dev/null
    cat "$dir/keys/host$i.pub" >> "$dir/keys/allow.txt"
  done
  ip netns exec pb0 "$bin" coordinator --journal "$dir/journal.db" --bind tcp://10.77.0.1:5555 \
    --key "$dir/keys/coordinator.key" --allow "$dir/keys/allow.txt" --exit-when-done \
    --results-out "$dir/results.jsonl" "$@" 2>"$dir/coordinator.log" &
  local coordinator=$! pids=()
  for i in $(seq 1 "$n"); do
    ip netns exec "pb$i" "$bin" worker --connect tcp://10.77.0.1:5555 --id "host$i" --threads 1 --work "$dir/host$i" \
      --key "$dir/keys/host$i.key" --server-key "$dir/keys/coordinator.pub" --exit-when-complete 2>"$dir/host$i.log" &
    pids+=($!)
  done
  wait "$coordinator"; wait "${pids[@]}" || true
  echo "results: $(wc -l < "$dir/results.jsonl") in $dir/results.jsonl"
}
case $action in
  up) up ;;
  down) down ;;
  run) up; run "${3:?DIR}" "${@:4}" ;;
  *) echo "usage: $0 up|run|down N [DIR] [-- GRID OPTIONS]" >&2; exit 2 ;;
esac
