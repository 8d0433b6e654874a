#pragma once
// cub::DeviceRadixSort::SortKeys for the emulated CUDA build (cuda/emu/radix_sort.cpp):
// CUB's calling convention (a size query with null temporary storage, then the sort),
// its key order (floats numerically, -0 and +0 equal, NaNs at the ends by sign) and its
// stability, checked against the temporary storage it asked for.
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "cuda_runtime_api.h"

namespace pmsdsen::emu {
enum class KeyKind { Unsigned, Signed, Floating };
cudaError_t radix_sort_keys(KeyKind kind, size_t key_bytes, void* temp, size_t& temp_bytes, const void* keys_in,
                            void* keys_out, int64_t count, int begin_bit, int end_bit, cudaStream_t stream);
}  // namespace pmsdsen::emu

namespace cub {

struct DeviceRadixSort {
  template <class KeyT, class NumItemsT>
  static cudaError_t SortKeys(void* d_temp_storage, size_t& temp_storage_bytes, const KeyT* d_keys_in,
                              KeyT* d_keys_out, NumItemsT num_items, int begin_bit = 0,
                              int end_bit = sizeof(KeyT) * 8, cudaStream_t stream = nullptr) {
    static_assert(std::is_arithmetic_v<KeyT> && sizeof(KeyT) <= 8, "emulated CUB sorts arithmetic keys");
    using pmsdsen::emu::KeyKind;
    const KeyKind kind = std::is_floating_point_v<KeyT> ? KeyKind::Floating
                         : std::is_signed_v<KeyT>       ? KeyKind::Signed
                                                        : KeyKind::Unsigned;
    return pmsdsen::emu::radix_sort_keys(kind, sizeof(KeyT), d_temp_storage, temp_storage_bytes, d_keys_in,
                                         d_keys_out, static_cast<int64_t>(num_items), begin_bit, end_bit, stream);
  }
};

}  // namespace cub
