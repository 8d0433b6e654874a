// core/file_io: whole-file reads that name the file, atomic writes that leave nothing
// behind when the disk fills, and the writability check commands make up front.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "core/file_io.h"
#include "tests/test_limits.h"
#include "tests/test_util.h"

namespace pmsdsen {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> names_in(const std::string& dir) {
  std::vector<std::string> names;
  for (const auto& e : fs::directory_iterator(dir)) names.push_back(e.path().filename().string());
  std::sort(names.begin(), names.end());
  return names;
}

TEST(FileIo, ReadNamesTheFileAndRefusesFolders) {
  const std::string dir = test::temp_dir("file_io_read");
  EXPECT_EQ(test::error_of([&] { read_file(dir, "weights"); }).rfind("cannot read weights '" + dir + "': is a directory", 0),
            0u)
      << test::error_of([&] { read_file(dir, "weights"); });
  EXPECT_NE(test::error_of([&] { read_file(dir + "/nope", "image"); })
                .find("cannot read image '" + dir + "/nope': No such file or directory"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { read_file("/dev/null", "image"); }).find("is not a regular file"), std::string::npos);
  write_file_atomically(dir + "/a.txt", "hello");
  EXPECT_EQ(read_file(dir + "/a.txt"), "hello");
  fs::remove_all(dir);
}

TEST(FileIo, AtomicWriteOnAFullDiskKeepsTheOldFileAndLeavesNoTemporary) {
  const std::string dir = test::temp_dir("file_io_full");
  const std::string path = dir + "/out.json";
  write_file_atomically(path, "old");
  const std::string err =
      test::error_with_file_limit(1000, [&] { write_file_atomically(path, std::string(5000, 'x')); });
  EXPECT_NE(err.find("cannot write '" + path + "': File too large (nothing written)"), std::string::npos) << err;
  EXPECT_EQ(read_file(path), "old");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"out.json"});

  // A new file: nothing at all is left.
  const std::string fresh = dir + "/fresh.png";
  EXPECT_NE(test::error_with_file_limit(1000, [&] { write_file_atomically(fresh, std::string(5000, 'x')); })
                .find("cannot write '" + fresh + "'"),
            std::string::npos);
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"out.json"});
  // Within the limit all is well.
  EXPECT_EQ(test::error_with_file_limit(10000, [&] { write_file_atomically(fresh, std::string(5000, 'x')); }),
            "no error");
  EXPECT_EQ(read_file(fresh).size(), 5000u);
  fs::remove_all(dir);
}

TEST(FileIo, FilesWrittenTogetherAreAllWrittenOrNone) {
  const std::string dir = test::temp_dir("file_io_together");
  write_file_atomically(dir + "/b.png", "old b");
  const std::vector<std::pair<std::string, std::string>> files = {
      {dir + "/a.png", std::string(500, 'a')}, {dir + "/b.png", std::string(5000, 'b')}, {dir + "/c.png", "c"}};
  const std::string err = test::error_with_file_limit(1000, [&] { write_files_atomically(files); });
  EXPECT_NE(err.find("cannot write '" + dir + "/b.png': File too large"), std::string::npos) << err;
  EXPECT_EQ(names_in(dir), std::vector<std::string>{"b.png"});  // a.png, which fitted, is not left alone
  EXPECT_EQ(read_file(dir + "/b.png"), "old b");
  write_files_atomically(files);
  EXPECT_EQ(names_in(dir), (std::vector<std::string>{"a.png", "b.png", "c.png"}));
  EXPECT_EQ(read_file(dir + "/b.png").size(), 5000u);
  fs::remove_all(dir);
}

TEST(FileIo, CheckWritableCatchesMissingFoldersFoldersAndReadOnlyPlaces) {
  const std::string dir = test::temp_dir("file_io_writable");
  check_writable(dir + "/new.png", "--output");
  EXPECT_EQ(names_in(dir), std::vector<std::string>{});  // the probe is removed
  EXPECT_NE(test::error_of([&] { check_writable(dir + "/no/such/x.png", "--output"); })
                .find("cannot write --output '" + dir + "/no/such/x.png': No such file or directory"),
            std::string::npos);
  EXPECT_NE(test::error_of([&] { check_writable(dir, "--json"); }).find("cannot write --json '" + dir + "': is a directory"),
            std::string::npos);
  if (::geteuid() != 0) {  // root writes anywhere
    fs::create_directories(dir + "/ro");
    fs::permissions(dir + "/ro", fs::perms::owner_read | fs::perms::owner_exec);
    EXPECT_NE(test::error_of([&] { check_writable(dir + "/ro/x.png", "--overlay"); }).find("Permission denied"),
              std::string::npos);
    fs::permissions(dir + "/ro", fs::perms::owner_all);
  }
  fs::remove_all(dir);
}

}  // namespace
}  // namespace pmsdsen
