#pragma once
// Reading the named tensors the commands exchange with users (safetensors files): clear
// errors naming the file and the tensor.
#include <string>

#include "core/safetensors.h"

namespace pmsdsen {

// The tensor `name` of a loaded file; missing: an error naming the file and listing
// (the first few of) the tensors it does hold.
const Tensor& tensor_in_file(const Safetensors& file, const std::string& name, const std::string& path);

}  // namespace pmsdsen
