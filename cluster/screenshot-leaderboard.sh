#!/bin/sh
# Builds the leaderboards from a results file or artifact directory and takes a headless
# Chromium screenshot of the HTML page (installs Debian's chromium if missing).
# Usage: cluster/screenshot-leaderboard.sh RESULTS OUT_DIR PNG [--board KEY ...]
set -e
if [ $# -lt 3 ]; then
  echo "usage: $0 RESULTS OUT_DIR PNG [--board KEY ...]" >&2
  exit 2
fi
results=$1; out=$2; png=$3; shift 3
cd "$(dirname "$0")/.."
bin=${PRUNEBENCH:-.build-lb/debug/prunebench}
if [ ! -x "$bin" ]; then
  swift build --scratch-path .build-lb --product prunebench
fi
"$bin" leaderboard --results "$results" --out "$out" "$@"
if ! command -v chromium >/dev/null 2>&1; then
  for attempt in 1 2 3; do
    if apt-get install -y chromium; then break; fi
    echo "apt-get install chromium failed (attempt $attempt); retrying" >&2
    apt-get update || true
    sleep 5
  done
fi
command -v chromium >/dev/null 2>&1 || { echo "chromium is not available" >&2; exit 1; }
page="file://$(cd "$out" && pwd)/index.html"
mkdir -p "$(dirname "$png")"
chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1400,1800 \
  --screenshot="$png" "$page" 2>/dev/null
echo "screenshot: $png"
