#include "models/tensor_file.h"

namespace pmsdsen {

const Tensor& tensor_in_file(const Safetensors& file, const std::string& name, const std::string& path) {
  auto it = file.tensors.find(name);
  if (it != file.tensors.end()) return it->second;
  std::string held;
  size_t n = 0;
  for (const auto& [k, v] : file.tensors) {
    if (n++ == 8) {
      held += ", ...";
      break;
    }
    held += (held.empty() ? "" : ", ") + k;
  }
  PMSDSEN_FAIL("'", path, "' has no tensor '", name, "' (it holds ", file.tensors.size(), " tensors",
               held.empty() ? std::string() : ": " + held, ")");
}

}  // namespace pmsdsen
