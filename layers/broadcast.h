#pragma once
// The start of a data-parallel run: every rank takes rank 0's weights, so that identical
// gradients (averaged) keep the ranks identical. Through host memory, one collective a
// tensor dtype group; called once a run.
#include <vector>

#include "core/comm.h"
#include "core/tensor.h"
#include "layers/module.h"

namespace pmsdsen {

// Root's values of `tensors` (any devices and dtypes; same shapes on every rank) to
// every rank, in place. Undefined entries are skipped (on every rank alike).
void broadcast_tensors(const std::vector<Tensor>& tensors, comm::Communicator& comm, int root = 0);

// Every parameter and buffer of `module` (state_dict order).
void broadcast_module(const Module& module, comm::Communicator& comm, int root = 0);

}  // namespace pmsdsen
