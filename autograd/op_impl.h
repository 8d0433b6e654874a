#pragma once
// What an op's implementation (autograd/ops_<family>.cpp) is written with: the backends
// (on_backend, on_device), the tape (Node, record, GradList), under their short names in
// pmsdsen::ops. Included by those files only.
#include "autograd/backend.h"
#include "autograd/node.h"

namespace pmsdsen::ops {

using autograd::data_or_null;
using autograd::GradList;
using autograd::Node;
using autograd::on_backend;
using autograd::on_device;
using autograd::record;

}  // namespace pmsdsen::ops
