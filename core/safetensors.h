#pragma once
// Reading and writing safetensors files: an 8-byte little-endian header length, a JSON
// header {name: {dtype, shape, data_offsets}, "__metadata__": {str: str}}, then the raw
// little-endian data. Every offset and size is validated before it is used, so a
// truncated or malformed file is an Error naming the file, never a crash.
#include <map>
#include <string>

#include "core/file_io.h"  // write_file_atomically, which save_safetensors uses
#include "core/tensor.h"

namespace pmsdsen {

struct Safetensors {
  std::map<std::string, Tensor> tensors;  // CPU tensors
  std::map<std::string, std::string> metadata;
};

// Loads every tensor onto the CPU. F32, F64, I32, I64 and U8 keep their dtype; F16 and
// BF16 are converted to F32; any other dtype is an error naming the tensor.
Safetensors load_safetensors(const std::string& path);
// The same from the file's bytes; `path` names it in errors.
Safetensors parse_safetensors(const std::string& bytes, const std::string& path);

// Writes atomically: to a temporary file beside `path`, flushed to disk, then renamed
// over it, so a crash at any moment leaves either the old or the new file whole.
// Tensors on the GPU are copied to the host first.
void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata = {});

}  // namespace pmsdsen
