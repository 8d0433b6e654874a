#pragma once
// The limits of the device the emulator stands in for: an H100 SXM (sm_90), as
// cudaGetDeviceProperties reports them. Launches are checked against these.
#include <cstddef>

namespace pmsdsen::emu::h100 {

constexpr unsigned kMaxThreadsPerBlock = 1024;
constexpr unsigned kMaxBlockDim[3] = {1024, 1024, 64};
constexpr unsigned kMaxGridDim[3] = {2147483647u, 65535, 65535};
constexpr size_t kSharedPerBlock = 48 * 1024;         // without opting in
constexpr size_t kSharedPerBlockOptin = 227 * 1024;   // with cudaFuncSetAttribute
constexpr size_t kMemPitch = 2147483647;              // largest pitch of a 2D copy
constexpr int kMultiProcessors = 132;
constexpr int kL2Bytes = 50 * 1024 * 1024;
constexpr int kMaxThreadsPerMultiProcessor = 2048;
constexpr int kComputeMajor = 9, kComputeMinor = 0;

}  // namespace pmsdsen::emu::h100
