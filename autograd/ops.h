#pragma once
// Every differentiable op, and the autograd entry points.
#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "autograd/ops_activation.h"
#include "autograd/ops_argmax.h"
#include "autograd/ops_basic.h"
#include "autograd/ops_conv.h"
#include "autograd/ops_loss.h"
#include "autograd/ops_norm.h"
#include "autograd/ops_pool.h"
#include "autograd/ops_resize.h"
