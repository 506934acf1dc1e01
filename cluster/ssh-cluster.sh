#!/usr/bin/env bash
# Starts worker daemons on many hosts over ssh, from a hosts file, against a coordinator that is
# already running (see docs/operations.md). Hosts file: one 'HOST [SLOTS]' per line, '#' comments.
# Each host needs prunebench installed at $PRUNEBENCH_REMOTE_BIN (default: prunebench on PATH) and,
# with CURVE, its key at ~/.prunebench/HOST.key plus the coordinator's public key at
# ~/.prunebench/coordinator.pub. Usage:
#   cluster/ssh-cluster.sh HOSTS_FILE tcp://COORDINATOR:5555 [start|stop]
set -euo pipefail
hosts=$1 endpoint=$2 action=${3:-start}
bin=${PRUNEBENCH_REMOTE_BIN:-prunebench}
curve=${PRUNEBENCH_CURVE:-1}
grep -v '^\s*#' "$hosts" | while read -r host slots; do
  [ -n "$host" ] || continue
  slots=${slots:-1}
  if [ "$action" = stop ]; then
    ssh -n "$host" "pkill -TERM -f 'prunebench worker' || true" && echo "$host: stopped"
    continue
  fi
  keys=""
  [ "$curve" = 1 ] && keys="--key ~/.prunebench/$host.key --server-key ~/.prunebench/coordinator.pub"
  ssh -n "$host" "mkdir -p ~/prunebench-work && nohup $bin worker --connect $endpoint --id $host --slots $slots $keys \
      --work ~/prunebench-work > ~/prunebench-work/worker.log 2>&1 < /dev/null &" && echo "$host: worker started ($slots slots)"
done
