#!/usr/bin/env bash
# Installs the Debian packages pmsdsen builds with. Safe to run again: it installs only
# what is missing. The CUDA toolkit (nvcc, cuBLAS, cuDNN, NCCL) is expected under
# /usr/local/cuda. Open MPI: data-parallel training and its two-rank tests (mpirun).
#   tools/setup.sh           build and test dependencies
#   tools/setup.sh --torch   also Debian's PyTorch, for tools/*.py (fixtures, baselines)
#   tools/setup.sh --fuzz    also clang 14 with libFuzzer and its OpenMP, for tools/fuzz.sh
set -euo pipefail

packages=(cmake g++ make libgtest-dev libbenchmark-dev nlohmann-json3-dev libstb-dev libjpeg62-turbo-dev
  openmpi-bin libopenmpi-dev)
for option in "$@"; do
  case "$option" in
    # OpenBLAS: without it Debian's PyTorch falls back to the reference BLAS, several times slower.
    --torch) packages+=(python3-torch python3-numpy libopenblas0-pthread) ;;
    --fuzz) packages+=(clang-14 libclang-rt-14-dev libomp-14-dev) ;;
    *) echo "setup.sh: unknown option $option" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
echo "setup: dependencies present"
