#!/usr/bin/env bash
# The project's test command: installs missing system packages, builds, runs every test.
set -euo pipefail
cd "$(dirname "$0")/.."
./cluster/setup.sh
swift build --build-tests
# XCTest only: the suite has no swift-testing tests, and its empty "0 tests" summary would close the output.
swift test --skip-build --disable-swift-testing
