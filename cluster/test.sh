#!/usr/bin/env bash
# The project's test command: installs missing system packages, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./cluster/setup.sh
swift build --build-tests
swift test --skip-build
