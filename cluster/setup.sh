#!/usr/bin/env bash
# Installs the Debian packages prunebench needs, if any are missing. Idempotent; retries apt,
# which fails transiently now and then. Needs root (or sudo) only when something is missing.
set -euo pipefail

PACKAGES=(libzmq3-dev libdnnl-dev libopenblas-dev zlib1g-dev libsqlite3-dev libjpeg62-turbo-dev libpng-dev pkg-config dataset-fashion-mnist)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "setup: need root to install: ${missing[*]}" >&2; exit 1; }
  SUDO="sudo"
fi

echo "setup: installing ${missing[*]}" >&2
retry() {
  local n=1
  until "$@"; do
    if [ $n -ge 5 ]; then echo "setup: '$*' failed $n times" >&2; return 1; fi
    echo "setup: '$*' failed (attempt $n), retrying in $((n * 5)) s" >&2
    sleep $((n * 5)); n=$((n + 1))
  done
}
export DEBIAN_FRONTEND=noninteractive
retry $SUDO apt-get update -qq
retry $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
