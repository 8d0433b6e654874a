#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
#   tools/test.sh              Release build (CUDA backend compiled; GPU tests skip without a GPU)
#   tools/test.sh --sanitize   CPU-only build under AddressSanitizer + UBSan, CPU tests
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
if [[ "${1:-}" == "--sanitize" ]]; then
  tools/build.sh --sanitize
  export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
  dir=build-sanitize
else
  tools/build.sh
  dir=build
fi
cd "$dir"
# Spinning OpenMP threads are ruinous when test processes share the cores.
export OMP_WAIT_POLICY=passive
ctest --output-on-failure -j "$(nproc)" --timeout 900
