#!/usr/bin/env bash
# Installs the Debian packages pmsdsen builds with. Safe to run again: it installs only
# what is missing. The CUDA toolkit (nvcc, cuBLAS, cuDNN, NCCL) is expected under
# /usr/local/cuda. Open MPI: data-parallel training and its two-rank tests (mpirun).
#   tools/setup.sh           build and test dependencies
#   tools/setup.sh --torch   also Debian's PyTorch, for tools/*.py (fixtures, baselines)
#   tools/setup.sh --fuzz    also clang 14 with libFuzzer and its OpenMP, for tools/fuzz.sh
# Without a network it falls back to the .debs carried in build-deps/debs/ (tools/setup_carried.sh).
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

install() {
  command -v apt-get >/dev/null || return 1
  local sudo=""
  if [[ $(id -u) -ne 0 ]]; then sudo="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq && $sudo apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

if ((${#missing[@]})); then
  echo "setup: installing ${missing[*]}"
  if ! install "${missing[@]}"; then
    # No network (a lent GPU machine): the .debs carried in build-deps/debs/, if any.
    if ls "$(dirname "$0")"/../build-deps/debs/*.deb >/dev/null 2>&1; then
      echo "setup: apt could not install; using the packages carried in build-deps/debs/"
      exec "$(dirname "$0")/setup_carried.sh"
    fi
    echo "setup: could not install ${missing[*]} (no network?); on a machine without one, carry build-deps/ made by tools/fetch_deps.sh" >&2
    exit 1
  fi
fi
echo "setup: dependencies present"
