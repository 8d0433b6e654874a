// pmsdsen eval: the mIoU of a weights file (or a training checkpoint) on a dataset
// split, with the authors' protocol (data/evaluate.h).
#include <cmath>
#include <cstdio>
#include <iostream>

#include "core/error.h"
#include "core/file_io.h"
#include "data/datasets.h"
#include "data/evaluate.h"
#include "examples/cli.h"
#include "examples/model_file.h"
#include "models/predict.h"
#include "examples/train_checkpoint.h"
#include "examples/train_config.h"
#include "examples/train_progress.h"
#include "models/weights.h"

namespace pmsdsen::cli {
namespace {

int run_eval(const std::vector<std::string>& argv) {
  Args args("eval",
            {{"weights", "FILE", "weights (.safetensors, e.g. converted from the authors' .pth) or a training "
                                 "checkpoint (last/best.safetensors)", ""},
             {"dataset", "NAME", "cityscapes, camvid or synthetic", "cityscapes"},
             {"root", "DIR", "dataset folder (not used by synthetic)", ""},
             {"split", "NAME", "split to evaluate", "val"},
             {"scale", "S", "resize factor before the network, logits resized back (bilinear, align_corners); "
                            "auto: 0.5 for cityscapes (the authors' protocol), 1 otherwise", "auto"},
             device_flag("where the network runs"),
             {"json", "FILE", "also write {\"miou\", \"pixel_accuracy\", \"iou\": {class: value}} (values in [0, 1])",
              ""},
             {"skip-bad", "", "skip (and count) unreadable samples instead of stopping", ""},
             {"limit", "N", "only the first N images (0: all)", "0"},
             {"workers", "N", "decoding threads", "2"},
             {"synthetic-size", "WxH", "size of the synthetic scenes", "512x256"},
             {"synthetic-val", "N", "synthetic scenes per evaluation split", "40"},
             {"max-pixels", "N", "refuse larger images (read from each file's header before decoding)",
              std::to_string(data::kDefaultMaxPixels)}},
            argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen eval --weights FILE [--dataset NAME --root DIR] [--split val] [--scale S]\n"
                 "                    [--device auto|cpu|cuda] [--json out.json] [--skip-bad]\n\n"
                 "Prints the per-class IoU table, the mIoU and the pixel accuracy of a split.\n\n"
              << args.usage();
    return 0;
  }
  PMSDSEN_CHECK(args.has("weights"), "eval: --weights FILE is required");
  const std::string weights_path = args.get("weights");
  const std::string dataset_name = args.get("dataset");
  PMSDSEN_CHECK(dataset_name == "synthetic" || args.has("root"), "eval: --dataset ", dataset_name,
                " needs --root DIR");
  const Device device = args.get_device();

  data::EvalOptions eo;
  eo.scale = args.get("scale") == "auto" ? (dataset_name == "cityscapes" ? 0.5 : 1.0) : args.get_double("scale");
  PMSDSEN_CHECK(eo.scale > 0 && eo.scale <= 8, "eval: --scale must be in (0, 8], got ", eo.scale);
  eo.workers = static_cast<int>(args.get_int("workers", 1, train::kMaxWorkers));
  eo.limit = args.get_int("limit", 0, INT64_MAX);
  if (args.has("json")) check_writable(args.get("json"), "--json");  // before the evaluation, not after

  data::DatasetOptions options;
  options.skip_bad = args.flag("skip-bad");
  options.limits.max_pixels = args.get_int("max-pixels", 1, INT64_MAX);
  const auto [sw, sh] = args.get_size("synthetic-size");
  PMSDSEN_CHECK(sw <= train::kMaxSide && sh <= train::kMaxSide, "eval: --synthetic-size: at most ", train::kMaxSide,
                " a side");
  options.synthetic.width = sw;
  options.synthetic.height = sh;
  options.synthetic.val_size = options.synthetic.test_size = args.get_int("synthetic-val", 1, train::kMaxScenes);
  const std::unique_ptr<data::Dataset> dataset =
      data::make_dataset(dataset_name, args.get("root"), args.get("split"), options);

  const std::unique_ptr<PMSDSEN> net = train::load_model_file(
      weights_path, dataset->num_classes(), std::nullopt, str("the ", dataset_name, " dataset has"));
  PMSDSEN& model = *net;
  model.to(device);
  model.eval();

  const bool tty = train::Progress::stdout_is_terminal();
  eo.progress = [tty](int64_t done, int64_t total) {
    if (!tty) return;
    std::printf("\r\033[Kevaluating %lld/%lld", static_cast<long long>(done), static_cast<long long>(total));
    std::fflush(stdout);
  };
  const data::EvalResult result = data::evaluate(*dataset, Predictor(model), eo);
  if (tty) std::printf("\r\033[K");
  std::cout << data::format_iou_table(result);
  if (!result.skipped.empty()) {
    std::cout << result.skipped.size() << " samples skipped (--skip-bad):\n";
    for (const std::string& s : result.skipped) std::cout << "  " << s << "\n";
  }
  if (args.has("json")) {
    data::write_eval_json(args.get("json"), result);
    std::cout << "wrote " << args.get("json") << "\n";
  }
  return 0;
}

}  // namespace

PMSDSEN_COMMAND("eval", "mIoU of weights on a dataset split (per-class IoU table, --json)", run_eval);

}  // namespace pmsdsen::cli
