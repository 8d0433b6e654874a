#!/usr/bin/env bash
# Configures and builds pmsdsen. The CUDA backend is built whenever nvcc is found.
#   tools/build.sh                 Release build in build/ (binary: build/bin/pmsdsen)
#   tools/build.sh --emulate       Release build in build-emu/ whose CUDA backend runs on the
#                                  emulated GPU (cuda/emu): every CUDA test runs without a GPU
#   tools/build.sh --sanitize      the emulated build under AddressSanitizer + UBSan, in build-sanitize/
#   tools/build.sh --race          the emulated build under ThreadSanitizer (race mode), in build-race/
#   tools/build.sh --target T      build target T only (e.g. pmsdsen: the library and the tool)
#   tools/build.sh --arch SM       CUDA architectures (e.g. 90); "native": this machine's GPU
#                                  (nvidia-smi), 90 when there is none
# Packages unpacked by tools/setup_carried.sh (build-deps/root/) are used when present, and
# PyTorch's cuDNN (pip nvidia-cudnn) when the system has none.
# Extra arguments after -- go to cmake (e.g. -- -DCMAKE_CUDA_ARCHITECTURES=90).
set -euo pipefail
cd "$(dirname "$0")/.."

dir=build
arch=""
extra=()
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
    --arch) shift; arch="${1:?--arch needs SM or native}" ;;
    --) shift; extra=("$@"); break ;;
    *) echo "build.sh: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

if [[ $arch == native ]]; then
  arch=$(nvidia-smi --query-gpu=compute_cap --format=csv,noheader 2>/dev/null | head -1 | tr -d ' .')
  arch=${arch:-90}
fi
[[ -z $arch ]] || args+=(-DCMAKE_CUDA_ARCHITECTURES="$arch")
if [[ -d build-deps/root/usr ]]; then
  args+=(-DCMAKE_PREFIX_PATH="$PWD/build-deps/root/usr" -DSTB_INCLUDE_DIR="$PWD/build-deps/root/usr/include/stb")
fi
if [[ ! -f /usr/local/cuda/include/cudnn.h && ! -f /usr/include/cudnn.h && ! -f /usr/include/x86_64-linux-gnu/cudnn.h ]]; then
  cudnn=$(python3 -c 'import nvidia.cudnn as m; print(list(m.__path__)[0])' 2>/dev/null || true)
  lib=$(ls "$cudnn"/lib/libcudnn.so* 2>/dev/null | head -1 || true)
  if [[ -n $cudnn && -f $cudnn/include/cudnn.h && -n $lib ]]; then
    echo "build: cuDNN from PyTorch's package ($cudnn)"
    args+=(-DCUDNN_INCLUDE_DIR="$cudnn/include" -DCUDNN_LIBRARY="$lib")
  fi
fi

cmake -S . -B "$dir" "${args[@]}" "${extra[@]}" >/dev/null
cmake --build "$dir" -j "$(nproc)" "${targets[@]}"
echo "build: $dir/bin/pmsdsen"
