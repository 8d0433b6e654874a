// pmsdsen info, run as users run it.
#include "tests/test_model_cmd_util.h"

using namespace pmsdsen;

TEST(CmdInfo, PrintsParametersAndMacs) {
  auto r = test::run_tool("info --height 48 --width 64");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "parameters: 922,373 (state dict: 1,898 tensors)");
  EXPECT_OUTPUT_HAS(r, "multiply-accumulates at 1 x 3 x 48 x 64: 66,900,224");  // macs.json total_macs_at 48x64
  EXPECT_OUTPUT_HAS(r, "layer3.5       PMSDSE             128 x 6 x 8");
  EXPECT_OUTPUT_HAS(r, "seg_head_x8    SegHead            19 x 6 x 8");
  EXPECT_EQ(r.output.find("MSSE_.x2.1"), std::string::npos);  // per-layer rows only with --layers

  r = test::run_tool("info --act prelu --classes 11 --height 48 --width 64 --layers");
  ASSERT_EQ(r.status, 0) << r.output;
  EXPECT_OUTPUT_HAS(r, "PMSDSEN: 11 classes, prelu activations");
  EXPECT_OUTPUT_HAS(r, "parameters: 929,469");  // 930,437 - 8 * 121
  EXPECT_OUTPUT_HAS(r, "MSSE_.x2.1");
  EXPECT_OUTPUT_HAS(r, "(307 convolutions");
}

TEST(CmdInfo, RejectsBadArguments) {
  auto r = test::run_tool("info --height 50 --width 64");
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "multiples of 8, got 50 x 64");
  r = test::run_tool("info --act relu");
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "unknown activation 'relu'");
  r = test::run_tool("info --classes 0");
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "info: --classes 0 is out of range: expected 1 to 255");
  r = test::run_tool("info --classes 1000000");  // refused before a model is built
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "info: --classes 1000000 is out of range: expected 1 to 255");
  r = test::run_tool("info --widht 64");
  EXPECT_EQ(r.status, 1);
  EXPECT_OUTPUT_HAS(r, "unknown option --widht");
  r = test::run_tool("info --help");
  EXPECT_EQ(r.status, 0);
  EXPECT_OUTPUT_HAS(r, "--layers");
}
