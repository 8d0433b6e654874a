// cub::DeviceRadixSort::SortKeys for the emulated device: keys copied into the
// temporary storage the size query asked for (so an undersized buffer is an overrun
// there), then stably ordered by the bits [begin_bit, end_bit) of their radix-sortable
// form, as CUB orders them.
#include <cub/cub.cuh>

#include <algorithm>
#include <cstring>
#include <numeric>
#include <string>
#include <vector>

#include "cuda/emu/device_memory.h"
#include "cuda/emu/errors.h"
#include "cuda/emu/queue.h"

namespace pmsdsen::emu {
namespace {

// Unsigned bits whose order is the keys' numeric order.
uint64_t radix_bits(KeyKind kind, size_t bytes, const unsigned char* key) {
  uint64_t u = 0;
  std::memcpy(&u, key, bytes);
  const unsigned bits = static_cast<unsigned>(bytes * 8);
  const uint64_t sign = uint64_t(1) << (bits - 1);
  const uint64_t all = bits == 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
  switch (kind) {
    case KeyKind::Unsigned: return u;
    case KeyKind::Signed: return u ^ sign;
    case KeyKind::Floating:
      if (u == sign) u = 0;  // -0 sorts as +0
      return (u & sign) ? (~u & all) : (u | sign);
  }
  return u;
}

}  // namespace

cudaError_t radix_sort_keys(KeyKind kind, size_t key_bytes, void* temp, size_t& temp_bytes, const void* keys_in,
                            void* keys_out, int64_t count, int begin_bit, int end_bit, cudaStream_t stream) {
  const char* api = "cub::DeviceRadixSort::SortKeys";
  const size_t needed = static_cast<size_t>(std::max<int64_t>(count, 0)) * key_bytes + 256;
  if (temp == nullptr) {
    temp_bytes = needed;
    return cudaSuccess;
  }
  if (count < 0) return fail(cudaErrorInvalidValue, std::string(api) + ": negative item count");
  if (begin_bit < 0 || end_bit > static_cast<int>(key_bytes * 8) || begin_bit > end_bit)
    return fail(cudaErrorInvalidValue, std::string(api) + ": bit range [" + std::to_string(begin_bit) + ", " +
                                           std::to_string(end_bit) + ") outside the key");
  if (temp_bytes < needed)
    return fail(cudaErrorInvalidValue, std::string(api) + ": " + std::to_string(temp_bytes) +
                                           " bytes of temporary storage, the size query asked for " +
                                           std::to_string(needed));
  if (count == 0) return cudaSuccess;
  const size_t bytes = static_cast<size_t>(count) * key_bytes;
  for (auto [name, p, n] : {std::tuple<const char*, const void*, size_t>{"temporary storage", temp, needed},
                            {"input keys", keys_in, bytes}, {"output keys", keys_out, bytes}}) {
    const std::string why = check_device_range(p, n);
    if (!why.empty()) return fail(cudaErrorIllegalAddress, std::string(api) + ": " + name + ": " + why);
  }
  return submit(stream, api, [=] {
    DeviceAccess access;
    unsigned char* staged = static_cast<unsigned char*>(temp);
    std::memcpy(staged, keys_in, bytes);
    const uint64_t width = static_cast<uint64_t>(end_bit - begin_bit);
    const uint64_t mask = width >= 64 ? ~uint64_t(0) : (uint64_t(1) << width) - 1;
    std::vector<uint64_t> digit(static_cast<size_t>(count));
    for (int64_t i = 0; i < count; ++i) digit[i] = (radix_bits(kind, key_bytes, staged + i * key_bytes) >> begin_bit) & mask;
    std::vector<int64_t> order(static_cast<size_t>(count));
    std::iota(order.begin(), order.end(), int64_t{0});
    std::stable_sort(order.begin(), order.end(), [&](int64_t a, int64_t b) { return digit[a] < digit[b]; });
    unsigned char* out = static_cast<unsigned char*>(keys_out);
    for (int64_t i = 0; i < count; ++i) std::memcpy(out + i * key_bytes, staged + order[i] * key_bytes, key_bytes);
    return cudaSuccess;
  });
}

}  // namespace pmsdsen::emu
