#!/usr/bin/env bash
# The main job: the PruningBench grid on the embedded default sweep (Fashion-MNIST stand-ins,
# cluster/sweeps/fashion.yaml) on a local cluster: a coordinator and worker daemons on this machine
# over ZeroMQ, then the leaderboards. Arguments after the script go to the coordinator (grid filters,
# --profile). Default: the smoke profile, the whole grid (603 runnable experiments, about 25 min on
# 2 cores). `--profile default` gives accuracies worth reading (days on 2 cores; use more machines,
# docs/operations.md). Re-running resumes: finished experiments are kept in the journal.
set -euo pipefail
cd "$(dirname "$0")/.."
workers=${PRUNEBENCH_WORKERS:-$(nproc)}
args=("$@")
[[ " ${args[*]:-} " == *" --profile "* ]] || args=(--profile smoke "${args[@]}")
exec ./cluster/local-cluster.sh -n "$workers" -d runs/fashion-sweep -- "${args[@]}"
