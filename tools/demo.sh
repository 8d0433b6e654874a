#!/usr/bin/env bash
# The main job in one command, on a fresh machine: installs what is missing, builds
# (with CUDA when nvcc is present), then `pmsdsen demo`: trains PMSDSEN on the built-in
# synthetic street scenes for a few minutes (the GPU when present), reports validation
# mIoU before/after beside the colour-only baseline, segments a held-out scene and
# prints where the pictures, curves and checkpoint are.
#   tools/demo.sh                   defaults (runs/demo)
#   tools/demo.sh --iters 600       options after the script go to `pmsdsen demo`
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
tools/build.sh
exec build/bin/pmsdsen demo "$@"
