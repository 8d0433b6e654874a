#!/usr/bin/env bash
# Configures and builds pmsdsen. The CUDA backend is built whenever nvcc is found.
#   tools/build.sh                 Release build in build/ (binary: build/bin/pmsdsen)
#   tools/build.sh --sanitize      CPU-only ASan + UBSan build in build-sanitize/
# Extra arguments after -- go to cmake (e.g. -- -DCMAKE_CUDA_ARCHITECTURES=90).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
args=(-DCMAKE_BUILD_TYPE=Release)
while (($#)); do
  case "$1" in
    --sanitize) dir=build-sanitize; args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo -DPMSDSEN_CUDA=OFF -DPMSDSEN_SANITIZE=ON -DPMSDSEN_BENCH=OFF) ;;
    --) shift; args+=("$@"); break ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

cmake -S . -B "$dir" "${args[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)"
echo "build: $dir/bin/pmsdsen"
