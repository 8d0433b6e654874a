#!/usr/bin/env bash
# Installs what is missing, builds, and runs the whole test suite.
#   tools/test.sh              With a GPU: the real build (build/) and its suite. Without one:
#                              the real build's library and tool compiled (nvcc, when the
#                              toolkit is installed), then the whole suite on the emulated GPU
#                              (build-emu/): every CUDA test runs, on the CPU.
#   tools/test.sh --sanitize   the whole suite on the emulated GPU under AddressSanitizer + UBSan
#   tools/test.sh --race       the CUDA kernels on the emulated GPU under ThreadSanitizer
set -euo pipefail
cd "$(dirname "$0")/.."

tools/setup.sh
# Spinning OpenMP threads are ruinous when test processes share the cores.
export OMP_WAIT_POLICY=passive
case "${1:-}" in
  --sanitize)
    tools/build.sh --sanitize
    export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1
    dir=build-sanitize
    ;;
  --race)
    tools/build.sh --race
    # Halt at the first report (exit code 66, which the race tests expect of a racy kernel).
    # OpenMP is not instrumented: the CPU references run on one thread.
    export TSAN_OPTIONS=halt_on_error=1:exitcode=66 OMP_NUM_THREADS=1
    dir=build-race
    # Every CUDA op, forward and backward, through the gradient-check suite's cases, and the
    # kernels outside it (copies, fills, the caching allocator and its private pools, SGD, the confusion matrix,
    # the ECA convolution), plus the emulator's own tests. The parity tests at realistic
    # sizes run the same kernels and spend their time in the CPU references (minutes each
    # under ThreadSanitizer), so they run in the other two modes only. One process for all
    # of them: ThreadSanitizer's start-up costs seconds, ctest's process a test 16x that.
    race_filter='Emu*:TensorCuda*:CudaMemoryPoolCuda*:LayersCuda*:SgdCuda*:DataMetrics.Cuda*:ConvCuda.ChannelConv*'
    race_filter+=':All/GradSuite.CudaMatchesCpu*:All/GradSuite.CudaGradientsAreDeterministic*'
    race_filter+=':EpilogueCuda*:Conv2dEpilogueCuda*:Conv2dEpilogueIntoCuda*:EcaScaleCuda*'
    ;;
  "")
    if command -v nvidia-smi >/dev/null && nvidia-smi -L 2>/dev/null | grep -q "^GPU"; then
      tools/build.sh
      dir=build
    else
      echo "test: no GPU here: compiling the real build, then the suite on the emulated GPU"
      tools/build.sh --target pmsdsen
      tools/build.sh --emulate
      dir=build-emu
    fi
    ;;
  *) echo "test.sh: unknown option $1 (--sanitize or --race)" >&2; exit 2 ;;
esac
if grep -q 'Mpi.TwoRanks\]=\] "[^"]*mpi' "$dir/tests/CTestTestfile.cmake" 2>/dev/null; then
  echo "test: the data-parallel tests run on 2 ranks (mpirun -np 2: Mpi.TwoRanks, TrainDistributed.*)"
else
  echo "test: the data-parallel tests on 2 ranks: skipped: no MPI (or a sanitizer build)"
fi
cd "$dir"
if [[ -n ${race_filter:-} ]]; then
  exec timeout 1200 bin/pmsdsen_tests --gtest_filter="$race_filter" --gtest_brief=1
fi
ctest --output-on-failure -j "$(nproc)" --timeout 1200
