// The tests that need several processes: run under `mpirun -np 2` (ctest: Mpi.TwoRanks)
// and also alone (Mpi.OneProcess), where every collective is the single-process one.
// Each test computes what one process would, locally, and compares: every rank runs
// every test in the same order, so the collectives line up.
#include <gtest/gtest.h>

#include <cstdio>

#include "core/comm.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  pmsdsen::comm::Communicator& world = pmsdsen::comm::world();
  // A test that fails on one rank must not leave the other waiting for minutes.
  pmsdsen::comm::set_timeout(60);
  std::printf("pmsdsen MPI tests: %s\n", world.describe().c_str());
  const int failed = RUN_ALL_TESTS() != 0 ? 1 : 0;
  // Both ranks report the same result, so mpirun's exit status is either's.
  return pmsdsen::comm::all_reduce_value(world, failed, pmsdsen::comm::ReduceOp::Max);
}
