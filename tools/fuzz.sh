#!/usr/bin/env bash
# libFuzzer targets under AddressSanitizer + UndefinedBehaviorSanitizer (tests/fuzz/):
# safetensors, image, label, config, checkpoint. Built CPU-only with clang in build-fuzz/.
#   tools/fuzz.sh build                  configure and build the targets
#   tools/fuzz.sh run TARGET [SECONDS]   fuzz TARGET (default 600 s) from its committed corpus;
#                                        new inputs go to build-fuzz/work/TARGET, findings to
#                                        build-fuzz/findings/TARGET (copy them into the corpus)
#   tools/fuzz.sh regress [SECONDS]      every target for SECONDS (default 30) each, two at a
#                                        time, from its corpus; fails on any finding (CI)
#   tools/fuzz.sh seeds                  rewrite the seed-* files of tests/fuzz/corpus
set -euo pipefail
cd "$(dirname "$0")/.."

targets=(safetensors image label config checkpoint)
dir=build-fuzz
corpus=tests/fuzz/corpus

build() {
  tools/setup.sh --fuzz
  cmake -S . -B "$dir" -DCMAKE_CXX_COMPILER=clang++-14 -DCMAKE_BUILD_TYPE=RelWithDebInfo -DPMSDSEN_CUDA=OFF \
    -DPMSDSEN_SANITIZE=ON -DPMSDSEN_FUZZ=ON -DPMSDSEN_TESTS=OFF -DPMSDSEN_BENCH=OFF -DPMSDSEN_NATIVE=OFF >/dev/null
  # clang's warnings on the engine are many and not this build's business: a log.
  if ! cmake --build "$dir" -j "$(nproc)" --target "${targets[@]/#/fuzz_}" fuzz_make_seeds >"$dir/build.log" 2>&1; then
    grep -E "error|Error" -A5 "$dir/build.log" | head -60 >&2
    exit 1
  fi
  echo "fuzz: built ${targets[*]} in $dir/bin"
}

# fuzz TARGET SECONDS LOG: libFuzzer on the committed corpus, writing new inputs elsewhere.
fuzz() {
  local target=$1 seconds=$2 log=$3
  mkdir -p "$dir/work/$target" "$dir/findings/$target"
  ASAN_OPTIONS=detect_leaks=1:allocator_may_return_null=1 UBSAN_OPTIONS=print_stacktrace=1 \
    "$dir/bin/fuzz_$target" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -max_len=65536 \
    -print_final_stats=1 -artifact_prefix="$dir/findings/$target/" \
    "$dir/work/$target" "$corpus/$target" >"$log" 2>&1
}

case "${1:-}" in
  build) build ;;
  run)
    target=${2:?usage: tools/fuzz.sh run TARGET [SECONDS]}
    seconds=${3:-600}
    log="$dir/fuzz_$target.log"
    echo "fuzz: $target for $seconds s (log $log)"
    if fuzz "$target" "$seconds" "$log"; then status=0; else status=$?; fi
    grep -E "DONE|^stat::number_of_executed_units" "$log" | tail -2
    if ((status != 0)); then
      grep -E "ERROR|runtime error|SUMMARY|uncaught|deadly|Test unit written" "$log" | head -6 >&2
      echo "fuzz: $target FINDING (exit $status); input in $dir/findings/$target/" >&2
    fi
    exit "$status"
    ;;
  regress)
    seconds=${2:-30}
    start=$SECONDS
    failed=()
    pids=()
    names=()
    for target in "${targets[@]}"; do
      fuzz "$target" "$seconds" "$dir/regress_$target.log" &
      pids+=($!)
      names+=("$target")
      if ((${#pids[@]} == 2)); then
        wait "${pids[0]}" || failed+=("${names[0]}")
        pids=("${pids[@]:1}")
        names=("${names[@]:1}")
      fi
    done
    for i in "${!pids[@]}"; do wait "${pids[$i]}" || failed+=("${names[$i]}"); done
    for target in "${targets[@]}"; do
      echo "fuzz $target: $(grep -E "^#[0-9]+.*DONE" "$dir/regress_$target.log" | tail -1)"
    done
    if ((${#failed[@]})); then
      for target in "${failed[@]}"; do
        echo "fuzz: $target FAILED; log $dir/regress_$target.log, input in $dir/findings/$target/" >&2
        grep -E "ERROR|runtime error|SUMMARY|uncaught|deadly" "$dir/regress_$target.log" | head -5 >&2 || true
      done
      exit 1
    fi
    echo "fuzz: all ${#targets[@]} targets ran ${seconds} s each without a finding ($((SECONDS - start)) s)"
    ;;
  seeds) "$dir/bin/fuzz_make_seeds" "$corpus" ;;
  *) sed -n '2,12p' "$0" >&2; exit 2 ;;
esac
