#!/usr/bin/env bash
# Configures and builds pmsdsen. The CUDA backend is built whenever nvcc is found.
#   tools/build.sh                 Release build in build/ (binary: build/bin/pmsdsen)
#   tools/build.sh --emulate       Release build in build-emu/ whose CUDA backend runs on the
#                                  emulated GPU (cuda/emu): every CUDA test runs without a GPU
#   tools/build.sh --sanitize      the emulated build under AddressSanitizer + UBSan, in build-sanitize/
#   tools/build.sh --race          the emulated build under ThreadSanitizer (race mode), in build-race/
#   tools/build.sh --target T      build target T only (e.g. pmsdsen: the library and the tool)
# Extra arguments after -- go to cmake (e.g. -- -DCMAKE_CUDA_ARCHITECTURES=90).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
args=(-DCMAKE_BUILD_TYPE=Release)
targets=()
# The sanitizer builds leave out the benchmarks (their own tests need a real GPU's timings).
sanitized=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPMSDSEN_CUDA_EMULATE=ON -DPMSDSEN_BENCH=OFF)
while (($#)); do
  case "$1" in
    --emulate) dir=build-emu; args=(-DCMAKE_BUILD_TYPE=Release -DPMSDSEN_CUDA_EMULATE=ON) ;;
    --sanitize) dir=build-sanitize; args=("${sanitized[@]}" -DPMSDSEN_SANITIZE=ON) ;;
    --race) dir=build-race; args=("${sanitized[@]}" -DPMSDSEN_TSAN=ON) ;;
    --target) shift; targets+=(--target "${1:?--target needs a name}") ;;
    --) shift; args+=("$@"); break ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

cmake -S . -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
echo "build: $dir/bin/pmsdsen"
