#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "core/safetensors.h"
#include "tests/test_util.h"

using namespace pmsdsen;
namespace fs = std::filesystem;

namespace {

struct TempDir {
  fs::path path;
  TempDir() {
    path = fs::temp_directory_path() / ("pmsdsen_st_" + std::to_string(::getpid()) + "_" +
                                        std::to_string(reinterpret_cast<uintptr_t>(this)));
    fs::create_directories(path);
  }
  ~TempDir() { fs::remove_all(path); }
};

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return std::string((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
}

void write(const fs::path& p, const std::string& s) {
  std::ofstream out(p, std::ios::binary);
  out << s;
}

// A file with a hand-written header around `data`.
std::string make_file(const std::string& header, const std::string& data) {
  std::string s;
  for (int i = 0; i < 8; ++i) s.push_back(static_cast<char>((header.size() >> (8 * i)) & 0xff));
  return s + header + data;
}

std::string load_error(const fs::path& p) {
  try {
    load_safetensors(p.string());
  } catch (const Error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(Safetensors, RoundTripKeepsNamesShapesDtypesAndMetadata) {
  TempDir dir;
  const fs::path file = dir.path / "a.safetensors";
  std::map<std::string, Tensor> in{
      {"w", Tensor::from_vector<float>({1.5f, -2.f, 3.25f, 4.f, 5.f, 6.f}, {2, 3})},
      {"d", Tensor::from_vector<double>({1e-300, 2.0}, {2})},
      {"n", Tensor::from_vector<int64_t>({42}, {})},
      {"empty", Tensor::empty({0, 4})}};
  save_safetensors(file.string(), in, {{"iteration", "17"}});
  Safetensors out = load_safetensors(file.string());
  ASSERT_EQ(out.tensors.size(), 4u);
  EXPECT_EQ(out.metadata.at("iteration"), "17");
  EXPECT_EQ(out.tensors.at("w").shape(), (Shape{2, 3}));
  EXPECT_EQ(out.tensors.at("w").to_vector<float>(), in.at("w").to_vector<float>());
  EXPECT_EQ(out.tensors.at("d").to_vector<double>(), in.at("d").to_vector<double>());
  EXPECT_EQ(out.tensors.at("n").item<int64_t>(), 42);
  EXPECT_EQ(out.tensors.at("n").dim(), 0);
  EXPECT_EQ(out.tensors.at("empty").numel(), 0);
  // The header is padded to 8 bytes, as the format recommends.
  const std::string bytes = read(file);
  uint64_t n = 0;
  for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(bytes[i]);
  EXPECT_EQ(n % 8, 0u);
  EXPECT_FALSE(fs::exists(file.string() + ".tmp." + std::to_string(::getpid())));
}

TEST(Safetensors, HalfAndBfloat16AreConvertedToFloat32) {
  TempDir dir;
  // F16: 1.0 = 0x3c00, -2.0 = 0xc000, 65504 = 0x7bff, smallest subnormal 0x0001 = 2^-24
  // BF16: 1.0 = 0x3f80, -0.5 = 0xbf00
  std::string f16 = std::string("\x00\x3c\x00\xc0\xff\x7b\x01\x00", 8);
  std::string bf16 = std::string("\x80\x3f\x00\xbf", 4);
  std::string header = R"({"a":{"dtype":"F16","shape":[4],"data_offsets":[0,8]},)"
                       R"("b":{"dtype":"BF16","shape":[2],"data_offsets":[8,12]}})";
  write(dir.path / "h.safetensors", make_file(header, f16 + bf16));
  Safetensors st = load_safetensors((dir.path / "h.safetensors").string());
  EXPECT_EQ(st.tensors.at("a").dtype(), DType::F32);
  EXPECT_EQ(st.tensors.at("a").to_vector<float>(),
            (std::vector<float>{1.f, -2.f, 65504.f, std::ldexp(1.f, -24)}));
  EXPECT_EQ(st.tensors.at("b").to_vector<float>(), (std::vector<float>{1.f, -0.5f}));
}

TEST(Safetensors, TruncatedFileIsRefusedWithTheFileName) {
  TempDir dir;
  const fs::path file = dir.path / "cut.safetensors";
  save_safetensors(file.string(), {{"w", Tensor::ones({64})}});
  const std::string bytes = read(file);
  for (size_t keep : {size_t(0), size_t(5), size_t(8), size_t(20), bytes.size() - 1}) {
    write(file, bytes.substr(0, keep));
    const std::string err = load_error(file);
    EXPECT_NE(err.find("cut.safetensors"), std::string::npos) << "kept " << keep << ": " << err;
  }
}

TEST(Safetensors, MalformedHeadersAreErrorsNotCrashes) {
  TempDir dir;
  const fs::path file = dir.path / "bad.safetensors";
  const std::string data(16, '\0');
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "malformed"},
      {R"([1,2])", "not a JSON object"},
      {R"({"a":{"dtype":"F32","shape":[2]}})", "data_offsets"},
      {R"({"a":{"dtype":"F32","shape":[2],"data_offsets":[0,12]}})", "12 data bytes"},
      {R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[8,24]}})", "outside"},
      {R"({"a":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}})", "bad dimension"},
      {R"({"a":{"dtype":"C64","shape":[1],"data_offsets":[0,8]}})", "unsupported dtype"},
      {R"({"a":{"dtype":"F32","shape":[4611686018427387904,4],"data_offsets":[0,16]}})", "too large"},
  };
  for (const auto& [header, expected] : cases) {
    write(file, make_file(header, data));
    const std::string err = load_error(file);
    EXPECT_NE(err.find(expected), std::string::npos) << header << " -> " << err;
    EXPECT_NE(err.find("bad.safetensors"), std::string::npos) << err;
  }
  // A header length larger than the file.
  write(file, std::string("\xff\xff\x00\x00\x00\x00\x00\x00{}", 10));
  EXPECT_NE(load_error(file).find("truncated"), std::string::npos);
  EXPECT_NE(load_error(dir.path / "missing.safetensors").find("missing.safetensors"), std::string::npos);
}

TEST(Safetensors, AtomicWriteReplacesWholeFile) {
  TempDir dir;
  const fs::path file = dir.path / "ckpt.safetensors";
  save_safetensors(file.string(), {{"w", Tensor::full({8}, 1.0)}});
  save_safetensors(file.string(), {{"w", Tensor::full({3}, 2.0)}});
  Safetensors st = load_safetensors(file.string());
  EXPECT_EQ(st.tensors.at("w").to_vector<float>(), (std::vector<float>{2, 2, 2}));
  EXPECT_THROW(save_safetensors((dir.path / "no_such_dir" / "x.safetensors").string(), {}), Error);
}

TEST(Safetensors, MetadataValuesMustBeStringsAndNestingIsLimited) {
  TempDir dir;
  const fs::path file = dir.path / "meta.safetensors";
  // 100,000 nested arrays (200 KB): refused by the parser's nesting limit, no recursion.
  const std::string deep = "{\"__metadata__\":{\"a\":" + std::string(100000, '[') + std::string(100000, ']') + "}}";
  write(file, make_file(deep, ""));
  std::string err = load_error(file);
  EXPECT_NE(err.find("nested more than 3 deep"), std::string::npos) << err.substr(0, 300);
  EXPECT_NE(err.find("meta.safetensors"), std::string::npos) << err.substr(0, 300);

  for (const std::string value : {"5", "{}", "[\"x\"]", "null", "true"}) {
    write(file, make_file("{\"__metadata__\":{\"classes\":" + value + "}}", ""));
    err = load_error(file);
    EXPECT_NE(err.find("__metadata__ value of 'classes' is a"), std::string::npos) << value << ": " << err;
    EXPECT_NE(err.find("must be strings"), std::string::npos) << err;
  }
  write(file, make_file(R"({"__metadata__":{"classes":"19"}})", ""));
  EXPECT_EQ(load_error(file), "");
}

TEST(Safetensors, OverlappingTensorsAndHugeHeadersAreRefused) {
  TempDir dir;
  const fs::path file = dir.path / "overlap.safetensors";
  // Two entries over the same 16 bytes: the file would turn 16 bytes into 32 (or, with
  // thousands of entries, gigabytes).
  write(file, make_file(R"({"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]},)"
                        R"("b":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})",
                        std::string(16, '\0')));
  EXPECT_NE(load_error(file).find("overlap"), std::string::npos) << load_error(file);

  std::string big = "{\"__metadata__\":{\"x\":\"" + std::string(17 << 20, 'a') + "\"}}";
  write(file, make_file(big, ""));
  EXPECT_NE(load_error(file).find("more than the 16777216 this reader accepts"), std::string::npos)
      << load_error(file).substr(0, 300);
}

TEST(Safetensors, AFolderIsRefusedNamingIt) {
  TempDir dir;
  const std::string err = load_error(dir.path);
  EXPECT_NE(err.find("'" + dir.path.string() + "': is a directory"), std::string::npos) << err;
}
