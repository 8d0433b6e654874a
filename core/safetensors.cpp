#include "core/safetensors.h"

#include <cstring>
#include <limits>
#include <nlohmann/json.hpp>

#include "core/file_io.h"
#include "core/json_parse.h"

namespace pmsdsen {
namespace {

// Our headers are tens of kilobytes; nlohmann's tree takes several times the text.
constexpr uint64_t kMaxHeaderBytes = 16u << 20;
// {name: {"shape": [...]}} is three levels; nothing legitimate nests deeper.
constexpr int kMaxHeaderNesting = 3;

const char* st_dtype(DType t) {
  switch (t) {
    case DType::F32: return "F32";
    case DType::F64: return "F64";
    case DType::I32: return "I32";
    case DType::I64: return "I64";
    case DType::U8: return "U8";
  }
  return "?";
}

// Size in bytes of one element of a safetensors dtype we can read; 0 for others.
size_t st_size(const std::string& d) {
  if (d == "F32" || d == "I32") return 4;
  if (d == "F64" || d == "I64") return 8;
  if (d == "F16" || d == "BF16") return 2;
  if (d == "U8") return 1;
  return 0;
}

float half_to_float(uint16_t h) {
  const uint32_t sign = (h & 0x8000u) << 16;
  uint32_t exp = (h >> 10) & 0x1f, mant = h & 0x3ffu, bits;
  if (exp == 0) {
    if (mant == 0) {
      bits = sign;
    } else {  // subnormal: renormalise
      exp = 127 - 15 + 1;
      while ((mant & 0x400u) == 0) {
        mant <<= 1;
        --exp;
      }
      bits = sign | (exp << 23) | ((mant & 0x3ffu) << 13);
    }
  } else if (exp == 31) {
    bits = sign | 0x7f800000u | (mant << 13);
  } else {
    bits = sign | ((exp + 127 - 15) << 23) | (mant << 13);
  }
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

float bf16_to_float(uint16_t b) {
  const uint32_t bits = static_cast<uint32_t>(b) << 16;
  float f;
  std::memcpy(&f, &bits, 4);
  return f;
}

}  // namespace

Safetensors parse_safetensors(const std::string& file, const std::string& path) {
  PMSDSEN_CHECK(file.size() >= 8, "'", path, "' is not a safetensors file: ", file.size(),
                " bytes, shorter than the 8-byte header length");
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | static_cast<unsigned char>(file[i]);
  PMSDSEN_CHECK(header_len <= file.size() - 8, "'", path, "' is truncated or not a safetensors file: header of ",
                header_len, " bytes in a file of ", file.size(), " bytes");
  PMSDSEN_CHECK(header_len <= kMaxHeaderBytes, "'", path, "': safetensors header of ", header_len,
                " bytes, more than the ", kMaxHeaderBytes, " this reader accepts");
  const nlohmann::json header = parse_json(file.substr(8, header_len), kMaxHeaderNesting,
                                           str("'", path, "': malformed safetensors header"));
  PMSDSEN_CHECK(header.is_object(), "'", path, "': safetensors header is not a JSON object");
  const char* data = file.data() + 8 + header_len;
  const uint64_t data_size = file.size() - 8 - header_len;

  Safetensors out;
  uint64_t claimed = 0;  // data bytes the entries claim: more than the file holds means overlaps
  for (auto it = header.begin(); it != header.end(); ++it) {
    const std::string& name = it.key();
    const nlohmann::json& e = it.value();
    if (name == "__metadata__") {
      PMSDSEN_CHECK(e.is_object(), "'", path, "': __metadata__ is not an object");
      for (auto m = e.begin(); m != e.end(); ++m) {
        // The format's metadata is a string-to-string map; anything else is refused
        // unprinted (printing a hostile value could recurse as deep as it nests).
        PMSDSEN_CHECK(m.value().is_string(), "'", path, "': __metadata__ value of '", m.key(), "' is a ",
                      m.value().type_name(), "; safetensors metadata values must be strings");
        out.metadata[m.key()] = m.value().get<std::string>();
      }
      continue;
    }
    const std::string where = str("'", path, "', tensor '", name, "'");
    PMSDSEN_CHECK(e.is_object() && e.contains("dtype") && e.contains("shape") && e.contains("data_offsets") &&
                      e["dtype"].is_string() && e["shape"].is_array() && e["data_offsets"].is_array() &&
                      e["data_offsets"].size() == 2,
                  where, ": entry needs dtype, shape and data_offsets [begin, end]");
    const std::string dtype = e["dtype"].get<std::string>();
    const size_t elem = st_size(dtype);
    PMSDSEN_CHECK(elem > 0, where, ": unsupported dtype ", dtype,
                  " (supported: F32, F64, F16, BF16, I32, I64, U8)");
    Shape shape;
    uint64_t numel = 1;
    for (const auto& d : e["shape"]) {
      PMSDSEN_CHECK(d.is_number_integer() && d.get<int64_t>() >= 0, where, ": bad dimension ",
                    d.is_primitive() ? d.dump() : d.type_name());
      const uint64_t v = d.get<uint64_t>();
      PMSDSEN_CHECK(v == 0 || numel <= std::numeric_limits<uint64_t>::max() / 16 / v, where,
                    ": shape too large");
      numel *= v;
      shape.push_back(static_cast<int64_t>(v));
    }
    const auto& off = e["data_offsets"];
    PMSDSEN_CHECK(off[0].is_number_unsigned() && off[1].is_number_unsigned(), where,
                  ": data_offsets must be non-negative integers");
    const uint64_t begin = off[0].get<uint64_t>(), end = off[1].get<uint64_t>();
    PMSDSEN_CHECK(begin <= end && end <= data_size, where, ": data [", begin, ", ", end,
                  ") lies outside the file's ", data_size, " data bytes (truncated file?)");
    PMSDSEN_CHECK(end - begin == numel * elem, where, ": ", end - begin, " data bytes for shape ",
                  shape_str(shape), " of ", dtype);
    claimed += end - begin;
    PMSDSEN_CHECK(claimed <= data_size, where, ": the tensors claim more than the file's ", data_size,
                  " data bytes: their data ranges overlap");
    const char* src = data + begin;
    Tensor t;
    if (dtype == "F16" || dtype == "BF16") {
      t = Tensor::empty(shape, DType::F32);
      float* dst = t.data<float>();
      for (uint64_t i = 0; i < numel; ++i) {
        uint16_t h;
        std::memcpy(&h, src + 2 * i, 2);
        dst[i] = dtype == "F16" ? half_to_float(h) : bf16_to_float(h);
      }
    } else {
      const DType dt = dtype == "F32" ? DType::F32 : dtype == "F64" ? DType::F64
                     : dtype == "I32" ? DType::I32 : dtype == "I64" ? DType::I64 : DType::U8;
      t = Tensor::empty(shape, dt);
      if (numel) std::memcpy(t.raw_data(), src, numel * elem);
    }
    out.tensors.emplace(name, std::move(t));
  }
  return out;
}

Safetensors load_safetensors(const std::string& path) {
  return parse_safetensors(read_file(path, "safetensors file"), path);
}

void save_safetensors(const std::string& path, const std::map<std::string, Tensor>& tensors,
                      const std::map<std::string, std::string>& metadata) {
  nlohmann::json header = nlohmann::json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<Tensor> host;
  uint64_t offset = 0;
  for (const auto& [name, t] : tensors) {
    PMSDSEN_CHECK(t.defined(), "save_safetensors '", path, "': tensor '", name, "' is undefined");
    PMSDSEN_CHECK(name != "__metadata__", "save_safetensors: reserved tensor name __metadata__");
    host.push_back(t.cpu());
    header[name] = {{"dtype", st_dtype(t.dtype())},
                    {"shape", t.shape()},
                    {"data_offsets", {offset, offset + t.nbytes()}}};
    offset += t.nbytes();
  }
  std::string head = header.dump();
  head.append((8 - head.size() % 8) % 8, ' ');
  std::string bytes;
  bytes.reserve(8 + head.size() + offset);
  for (int i = 0; i < 8; ++i) bytes.push_back(static_cast<char>((uint64_t(head.size()) >> (8 * i)) & 0xff));
  bytes += head;
  for (const Tensor& t : host) bytes.append(static_cast<const char*>(t.raw_data()), t.nbytes());
  write_file_atomically(path, bytes);
}

}  // namespace pmsdsen
