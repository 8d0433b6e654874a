#!/usr/bin/env bash
# Everything on a GPU machine in one script: build for the device's architecture, the
# whole test suite, compute-sanitizer (memcheck) over the CUDA tests, both benchmarks,
# the PyTorch baseline, and a summary table. Each step logs to OUTDIR/<step>.log; a
# failing step is reported and the script goes on with the next where that makes sense.
#
#   bench/run_gpu.sh OUTDIR [--steps LIST] [--pack DIR] [--arch SM] [--quick]
#
#   --steps LIST  comma-separated subset (default: all, in this order):
#                 env,deps,build,tests,sanitize,sanitize_bench,kernels1,kernels12,model,torch,cpu,summary
#   --pack DIR    after every step, copy the summary, the JSON files and one archive of all
#                 logs into DIR (at most 8 files: what a lent machine's $OUT brings back,
#                 also when the call is cut off)
#   --arch SM     CUDA architecture to build (default: the GPU's, from nvidia-smi; else 90)
#   --quick       shorter kernel benchmarks (fewer reps)
#
# Steps (time on an H100 machine with 16 cores, estimated: not yet measured):
#   env             machine, driver, toolkit, PyTorch versions (read-only queries)      < 10 s
#   deps            tools/setup.sh (apt, or the .debs carried in build-deps/)            < 1 min
#   build           tools/build.sh --arch native: the GPU's architecture only           3-5 min
#   tests           ctest, the whole suite (the GPU tests run)                          2-5 min
#   sanitize        compute-sanitizer memcheck over the CUDA tests (*Cuda*)             2-5 min
#   sanitize_bench  memcheck over `bench kernels` at 1x3x512x1024, 1 rep, no cuDNN       1-4 min
#   kernels1/12     pmsdsen-bench kernels --device cuda, per network input              1-3 min each
#   model           pmsdsen-bench model --device cuda (and --all-heads inference)       1-2 min
#   torch           tools/bench_torch.py --device cuda (eager and CUDA graphs)          1-2 min
#   cpu             CPU inference at 1x3x512x1024, ours and PyTorch's, for context       1 min
#   summary         bench/summarize.py: OUTDIR/summary.md, also printed                   0
# A lent machine runs one command for at most 10 minutes: run the steps in several calls,
# one right after the other (the machine keeps build/ and OUTDIR while it stays warm):
#   bench/run_gpu.sh /tmp/gpu --steps env,deps,build --pack $OUT
#   bench/run_gpu.sh /tmp/gpu --steps tests --pack $OUT
#   bench/run_gpu.sh /tmp/gpu --steps sanitize,sanitize_bench --pack $OUT
#   bench/run_gpu.sh /tmp/gpu --steps kernels1,kernels12 --pack $OUT
#   bench/run_gpu.sh /tmp/gpu --steps model,torch,cpu,summary --pack $OUT
#
# Set-up and build are the project's own (tools/setup.sh, tools/build.sh): without a
# network tools/setup.sh unpacks the .debs carried in build-deps/debs/ (made by
# tools/fetch_deps.sh on a machine with one; name build-deps in the device call's carry
# list), and tools/build.sh finds PyTorch's cuDNN when the system has none.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)

usage() { sed -n '2,40p' "$0" | sed 's/^# \{0,1\}//'; }
[[ $# -ge 1 && "$1" != -* ]] || { usage; exit 2; }
OUT=$(realpath -m "$1"); shift
STEPS="env,deps,build,tests,sanitize,sanitize_bench,kernels1,kernels12,model,torch,cpu,summary"
PACK="" ARCH="" QUICK=0
while (($#)); do
  case "$1" in
    --steps) STEPS="$2"; shift ;;
    --pack) PACK=$(realpath -m "$2"); shift ;;
    --arch) ARCH="$2"; shift ;;
    --quick) QUICK=1 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run_gpu.sh: unknown option $1" >&2; usage; exit 2 ;;
  esac
  shift
done
mkdir -p "$OUT"
BIN="$ROOT/build/bin/pmsdsen"
BENCH="$ROOT/build/bin/pmsdsen-bench"
TESTS="$ROOT/build/bin/pmsdsen_tests"
STEPLOG="$OUT/steps.tsv"

want() { [[ ",$STEPS," == *",$1,"* ]]; }
now() { date +%s; }

# run_step NAME TIMEOUT_S COMMAND...: logs to OUT/NAME.log, records status and duration.
run_step() {
  local name=$1 limit=$2; shift 2
  local log="$OUT/$name.log" t0 rc
  t0=$(now)
  echo "== [$name] started $(date -u +%H:%M:%S) (limit ${limit}s, log $log)"
  # Steps are shell functions: run each in a child bash (exported below) under timeout,
  # which signals the step's whole process group when it runs over.
  timeout --kill-after=10 "$limit" bash -c "$*" >"$log" 2>&1
  rc=$?
  local dt=$(( $(now) - t0 ))
  local status=ok
  if ((rc == 124 || rc == 137)); then status="TIMEOUT"; elif ((rc != 0)); then status="FAILED (exit $rc)"; fi
  printf '%s\t%s\t%s\t%s\n' "$name" "$status" "$dt" "$log" >>"$STEPLOG"
  echo "== [$name] $status after ${dt}s"
  if [[ $status != ok ]]; then echo "   last lines of $log:"; tail -n 15 "$log" | sed 's/^/   | /'; fi
  return $rc
}

skip_step() {  # NAME REASON
  printf '%s\t%s\t0\t-\n' "$1" "skipped: $2" >>"$STEPLOG"
  echo "== [$1] skipped: $2"
}

# ---- env: what the machine is (read-only queries) ----------------------------------
step_env() {
  echo "date: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
  echo "git: $(git -C "$ROOT" rev-parse HEAD 2>/dev/null || echo '?') $(git -C "$ROOT" status --porcelain 2>/dev/null | wc -l) changed files"
  echo "host: $(uname -a)"; echo "cores: $(nproc)"; free -g 2>/dev/null | head -2
  grep -m1 PRETTY_NAME /etc/os-release 2>/dev/null
  command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,utilization.gpu --format=csv
  command -v nvidia-smi >/dev/null && nvidia-smi
  echo; (command -v nvcc && nvcc --version) || ls /usr/local/cuda/bin/nvcc
  echo; cmake --version | head -1
  command -v compute-sanitizer || ls /usr/local/cuda/bin/compute-sanitizer
  python3 -c 'import torch; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "cudnn", torch.backends.cudnn.version())' 2>&1
  return 0
}

# ---- deps and build: the project's set-up and build scripts ----------------------------
step_deps() { "$ROOT/tools/setup.sh"; }

step_build() {
  "$ROOT/tools/build.sh" --arch "${ARCH:-native}" || return 1
  grep -E 'PMSDSEN_WITH_CUDNN' "$ROOT/build/CMakeFiles/pmsdsen_bench_lib.dir/flags.make" >/dev/null 2>&1 &&
    echo "cuDNN baselines: built" || echo "cuDNN baselines: NOT built (no cuDNN found by CMake)"
  "$BIN" --help >/dev/null && "$BENCH" --help >/dev/null
}

# ---- tests: the whole suite (GPU tests run here) -------------------------------------
step_tests() {
  cd "$ROOT/build" && ctest --output-on-failure -j "$(nproc)" --timeout 600
}

# ---- sanitize: memcheck over the CUDA tests, then over the kernel bench at real shapes --
sanitizer() { command -v compute-sanitizer || echo /usr/local/cuda/bin/compute-sanitizer; }

step_sanitize() {
  local cs; cs=$(sanitizer)
  [[ -x $cs ]] || { echo "ERROR: compute-sanitizer not found"; return 1; }
  # cuDNN's algorithm search under memcheck is slow and checks cuDNN, not us: the bench's
  # cuDNN test is left to the plain test step (sanitize_bench covers our kernels).
  local filter='*Cuda*:-BenchCuda.EveryKernelRunsAndCudnnAgrees'
  echo "--- memcheck: pmsdsen_tests --gtest_filter='$filter'"
  "$cs" --tool memcheck --error-exitcode 99 --print-limit 50 "$TESTS" --gtest_filter="$filter" --gtest_brief=1
}

step_sanitize_bench() {
  local cs; cs=$(sanitizer)
  [[ -x $cs ]] || { echo "ERROR: compute-sanitizer not found"; return 1; }
  echo "--- memcheck: pmsdsen-bench kernels at 1x3x512x1024 (our kernels at the real shapes, 1 rep)"
  "$cs" --tool memcheck --error-exitcode 99 --print-limit 50 "$BENCH" kernels --device cuda \
    --config 1x512x1024 --quick --reps 1 --sets 1 --no-cudnn
}

have_torch_cuda() { python3 -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' >/dev/null 2>&1; }

step_kernels() {  # CONFIG JSON
  local q=(); ((QUICK)) && q=(--quick)
  "$BENCH" kernels --device cuda --config "$1" "${q[@]}" --json "$OUT/$2"
}
step_kernels1() { step_kernels 1x512x1024 kernels_cuda_1.json; }
step_kernels12() { step_kernels 12x256x512 kernels_cuda_12.json; }

step_model() {
  local rc=0
  "$BENCH" model --device cuda --json "$OUT/model_cuda.json" || rc=1
  echo; echo "--- inference with all three heads (as the PyTorch model's forward)"
  "$BENCH" model --device cuda --records inference --all-heads --json "$OUT/model_cuda_3heads.json" || rc=1
  return $rc
}

step_torch() {
  python3 "$ROOT/tools/bench_torch.py" --device cuda --json "$OUT/torch_cuda.json"
}

step_cpu() {
  local rc=0 threads
  threads=$(nproc)
  "$BENCH" model --device cpu --quick --threads "$threads" --json "$OUT/model_cpu.json" || rc=1
  if python3 -c 'import torch' >/dev/null 2>&1; then
    python3 "$ROOT/tools/bench_torch.py" --quick --threads "$threads" --json "$OUT/torch_cpu.json" || rc=1
  else
    echo "no PyTorch: no CPU baseline"
  fi
  return $rc
}

torch_step() {
  if have_torch_cuda; then
    run_step torch 600 step_torch
  else
    skip_step torch "PyTorch with CUDA is not importable here ($(python3 -c 'import torch; print(torch.__version__)' 2>&1 | tail -1))"
  fi
}

step_summary() {
  python3 "$ROOT/bench/summarize.py" "$OUT" >"$OUT/summary.md" || return 1
  cat "$OUT/summary.md"
}

pack() {
  [[ -n $PACK ]] || return 0
  mkdir -p "$PACK"
  tar -czf "$PACK/gpu_logs.tar.gz" -C "$(dirname "$OUT")" "$(basename "$OUT")" 2>/dev/null
  local f
  for f in summary.md kernels_cuda_1.json kernels_cuda_12.json model_cuda.json model_cuda_3heads.json torch_cuda.json steps.tsv; do
    [[ -f "$OUT/$f" ]] && cp "$OUT/$f" "$PACK/"
  done
  return 0
}

export ROOT OUT BIN BENCH TESTS QUICK ARCH
export -f step_env step_deps step_build step_tests sanitizer step_sanitize step_sanitize_bench \
  have_torch_cuda step_kernels step_kernels1 step_kernels12 step_model step_torch step_cpu

T0=$(now)
echo "run_gpu.sh: steps $STEPS -> $OUT"
# Limits keep every step inside a lent machine's 10-minute call.
if want env; then run_step env 60 step_env; pack; fi
if want deps; then run_step deps 300 step_deps; pack; fi
if want build; then
  run_step build 570 step_build || echo "!! the build failed: the steps that need it will be skipped"
  pack
fi
built=0; [[ -x $BIN && -x $BENCH && -x $TESTS ]] && built=1
for s in tests sanitize sanitize_bench kernels1 kernels12 model torch cpu; do
  want "$s" || continue
  if [[ $s == torch ]]; then torch_step; pack; continue; fi
  if ((built == 0)); then skip_step "$s" "no build ($BIN missing)"; continue; fi
  case $s in
    tests) run_step tests 570 step_tests ;;
    sanitize) run_step sanitize 420 step_sanitize ;;
    sanitize_bench) run_step sanitize_bench 300 step_sanitize_bench ;;
    kernels1) run_step kernels1 420 step_kernels1 ;;
    kernels12) run_step kernels12 420 step_kernels12 ;;
    model) run_step model 300 step_model ;;
    cpu) run_step cpu 240 step_cpu ;;
  esac
  pack
done
if want summary; then
  echo; echo "== [summary]"
  printf '%s\t%s\t%s\t%s\n' summary ok 0 "$OUT/summary.md" >>"$STEPLOG"
  step_summary
  pack
fi
echo "run_gpu.sh: done in $(( $(now) - T0 ))s; results in $OUT${PACK:+, packed into $PACK}"
