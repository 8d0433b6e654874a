#!/usr/bin/env bash
# Data parallelism on this machine's CPU: seconds a training step takes on one process
# (OMP_NUM_THREADS=2) and on two ranks of one thread each (mpirun -np 2), with the
# gradient buckets reduced during backward (overlap) and after it; then what MPI takes
# to all-reduce PMSDSEN's 922,373 float32 gradients between the two ranks.
#   tools/bench_dist.sh [BUILD_DIR]   (default build/; needs Open MPI: tools/setup.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
bin="${1:-build}/bin/pmsdsen"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
export OMP_WAIT_POLICY=passive
mpirun=(mpirun --allow-run-as-root --oversubscribe -np 2 -x OMP_NUM_THREADS=1 -x OMP_WAIT_POLICY=passive)
args=(train --dataset synthetic --synthetic-size 512x256 --synthetic-train 48 --synthetic-val 2 --crop 256x128
      --batch 8 --iters 8 --log-every 1 --val-every -1 --workers 1 --device cpu --sync-bn)

# Mean seconds an iteration over iterations 3..8 (the first two warm the caches).
per_iter() {
  python3 -c "
import json, sys
e = [json.loads(l)['elapsed_s'] for l in open(sys.argv[1]) if '\"train\"' in l]
print('%.3f' % ((e[-1] - e[1]) / (len(e) - 2)))" "$1/log.jsonl"
}

OMP_NUM_THREADS=2 "$bin" "${args[@]}" --out "$work/one" >/dev/null
"${mpirun[@]}" "$bin" "${args[@]}" --out "$work/two" >/dev/null
"${mpirun[@]}" "$bin" "${args[@]}" --grad-overlap off --out "$work/two_off" >/dev/null
echo "step, batch 8 of 256x128, --sync-bn: 1 process x 2 threads $(per_iter "$work/one") s," \
     "2 ranks x 1 thread $(per_iter "$work/two") s (overlap on), $(per_iter "$work/two_off") s (overlap off)"

cat > "$work/allreduce.cpp" <<'CPP'
#include <mpi.h>
#include <cstdio>
#include <vector>
int main(int argc, char** argv) {
  MPI_Init(&argc, &argv);
  int rank;
  MPI_Comm_rank(MPI_COMM_WORLD, &rank);
  for (long n : {922373L, 922373L / 4}) {  // all gradients; one 1 MB bucket
    std::vector<float> v(n, 1.f);
    double best = 1e9;
    for (int rep = 0; rep < 6; ++rep) {
      MPI_Barrier(MPI_COMM_WORLD);
      const double t0 = MPI_Wtime();
      for (int i = 0; i < 20; ++i) MPI_Allreduce(MPI_IN_PLACE, v.data(), n, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
      if (rep > 0 && (MPI_Wtime() - t0) / 20 < best) best = (MPI_Wtime() - t0) / 20;
    }
    if (rank == 0) std::printf("MPI all-reduce of %ld float32 (%.2f MB) between 2 ranks: %.2f ms\n", n, n * 4e-6, best * 1e3);
  }
  MPI_Finalize();
}
CPP
mpicxx -O2 "$work/allreduce.cpp" -o "$work/allreduce"
"${mpirun[@]}" "$work/allreduce"
