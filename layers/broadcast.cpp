#include "layers/broadcast.h"

#include <cstring>

namespace pmsdsen {

void broadcast_tensors(const std::vector<Tensor>& tensors, comm::Communicator& comm, int root) {
  if (comm.size() == 1) return;
  // One byte buffer for all: a collective per tensor would cost a round trip each.
  int64_t bytes = 0;
  for (const Tensor& t : tensors)
    if (t.defined()) bytes += static_cast<int64_t>(t.nbytes());
  std::vector<char> buffer(static_cast<size_t>(bytes));
  std::vector<Tensor> hosts;
  hosts.reserve(tensors.size());
  int64_t at = 0;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    hosts.push_back(t.is_cuda() ? t.cpu() : t);
    if (comm.rank() == root) std::memcpy(buffer.data() + at, hosts.back().raw_data(), t.nbytes());
    at += static_cast<int64_t>(t.nbytes());
  }
  comm.broadcast(buffer.data(), bytes, root);
  at = 0;
  size_t k = 0;
  for (const Tensor& t : tensors) {
    if (!t.defined()) continue;
    Tensor& h = hosts[k++];
    if (comm.rank() != root) {
      std::memcpy(h.raw_data(), buffer.data() + at, t.nbytes());
      if (t.is_cuda()) Tensor(t).copy_(h);
    }
    at += static_cast<int64_t>(t.nbytes());
  }
}

void broadcast_module(const Module& module, comm::Communicator& comm, int root) {
  std::vector<Tensor> all;
  for (const auto& [name, t] : module.state_dict()) all.push_back(t);
  broadcast_tensors(all, comm, root);
}

}  // namespace pmsdsen
