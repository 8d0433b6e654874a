#pragma once
// Every differentiable op, and the autograd entry points.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_conv.h"
#include "autograd/ops_nn.h"
