#pragma once
// What nvcc makes visible to every .cu file, for the emulated CUDA build: the runtime
// API, the device language (emu/device.h) and the kernel launcher (emu/launch.h). The
// emulated build compiles cuda/*.cu as C++ with this header included first.
#include "cuda_runtime_api.h"
#include "emu/device.h"
#include "emu/launch.h"
