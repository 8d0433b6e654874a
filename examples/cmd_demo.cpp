// pmsdsen demo: trains PMSDSEN on the built-in synthetic street scenes for a few
// minutes, compares the validation mIoU of the untrained and the trained network with
// the colour-only baseline, segments a held-out scene, and says where everything is.
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <tuple>

#include "core/device.h"
#include "core/error.h"
#include "data/augment.h"
#include "data/baseline.h"
#include "data/image.h"
#include "data/palette.h"
#include "examples/cli.h"
#include "examples/model_file.h"
#include "models/predict.h"
#include "examples/clock.h"
#include "examples/train_checkpoint.h"
#include "examples/train_progress.h"
#include "examples/train_setup.h"
#include "examples/trainer.h"
#include "models/weights.h"

namespace pmsdsen::cli {
namespace {

namespace fs = std::filesystem;

std::string pct(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%5.1f%%", 100.0 * v);
  return buf;
}

// The demo's settings: small enough for a few minutes on a 2-core CPU.
train::TrainConfig demo_config(const Args& args, const std::string& out, Device device, int64_t iters) {
  train::TrainConfig c;
  c.dataset = "synthetic";
  std::tie(c.synthetic_width, c.synthetic_height) = args.get_size("scene");
  c.synthetic_train = args.get_int("train-scenes");
  c.synthetic_val = args.get_int("val-scenes");
  std::tie(c.crop_width, c.crop_height) = args.get_size("crop");
  c.scale_range = "0.5,1";  // the measured demo: scenes at half to full size, no colour jitter
  c.jitter = "off";
  c.batch = args.get_int("batch");
  c.lr = args.get_double("lr");
  c.iters = iters;
  c.val_every = std::max<int64_t>(1, iters / 4);
  c.val_at_start = true;
  c.log_every = std::max<int64_t>(1, iters / 100);
  c.device = device.str();
  c.seed = 0;
  c.out = out;
  return c;
}

int run_demo(const std::vector<std::string>& argv) {
  Args args("demo",
            {{"out", "DIR", "where the run and the pictures go", "runs/demo"},
             device_flag("where to train"),
             {"iters", "N", "training iterations (0: 300 on the CPU, 3000 on a GPU)", "0"},
             {"scene", "WxH", "size of the synthetic scenes", "256x128"},
             {"train-scenes", "N", "synthetic training scenes", "200"},
             {"val-scenes", "N", "synthetic validation scenes", "40"},
             {"crop", "WxH", "training crop", "128x64"},
             {"batch", "N", "crops per iteration", "8"},
             {"lr", "X", "base learning rate (poly schedule)", "0.1"},
             {"workers", "N", "loader threads (0: min(4, cores))", "0"}},
            argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen demo [--out DIR] [--device auto|cpu|cuda] [--iters N]\n\n"
                 "Trains PMSDSEN on the built-in synthetic street scenes (no download) for a few minutes,\n"
                 "reports the validation mIoU before and after beside the colour-only baseline, and segments\n"
                 "a held-out scene. tools/demo.sh sets up, builds and runs this.\n\n"
              << args.usage();
    return 0;
  }
  const Device device = args.get_device();
  int64_t iters = args.get_int("iters");
  if (iters == 0) iters = device.is_cuda() ? 3000 : 300;
  const std::string out = args.get("out");
  fs::create_directories(out);
  train::TrainConfig config = demo_config(args, out, device, iters);
  config.workers = args.get_int("workers");

  std::cout << "== PMSDSEN demo on " << (device.is_cuda() ? cuda_device_description() : "the CPU") << "\n"
            << "synthetic street scenes " << config.synthetic_width << "x" << config.synthetic_height << ": "
            << config.synthetic_train << " to train on, " << config.synthetic_val
            << " to validate on, a held-out test scene to segment\n";

  // The yardsticks, fitted on the training scenes: nearest class mean colour, and the
  // most frequent class of each (quantised) colour, the best any per-pixel colour rule does.
  const auto train_set = train::open_dataset(config, "train");
  const auto val_set = train::open_dataset(config, "val");
  const double baseline = data::colour_baseline_miou(*train_set, *val_set);
  const double ceiling = data::colour_histogram_confusion(*train_set, *val_set).miou();
  std::cout << "colour-only baselines: nearest class mean colour mIoU " << pct(baseline)
            << ", most frequent class per colour mIoU " << pct(ceiling) << "\n\n";

  const double t0 = now_s();
  const train::TrainResult r = train::run_training(config);
  const double train_s = now_s() - t0;
  if (r.status != train::TrainStatus::Finished) return r.exit_code();

  // Segment a scene of the test split, which neither training nor validation saw.
  const auto test_set = train::open_dataset(config, "test");
  const data::Sample scene = test_set->sample(0);
  const std::unique_ptr<PMSDSEN> net = train::load_model_file(r.best_checkpoint, test_set->num_classes());
  PMSDSEN& model = *net;
  model.to(device);
  model.eval();
  const data::LabelMap pred = data::label_map_from_tensor(Predictor(model).class_ids(data::image_tensor(scene.image)));
  int64_t right = 0, counted = 0;
  for (size_t i = 0; i < pred.ids.size(); ++i) {
    if (scene.label.ids[i] == data::kIgnoreLabel) continue;
    ++counted;
    right += pred.ids[i] == scene.label.ids[i];
  }
  const auto& palette = test_set->palette();
  const std::string input_png = (fs::path(out) / "heldout_input.png").string();
  const std::string truth_png = (fs::path(out) / "heldout_truth.png").string();
  const std::string pred_png = (fs::path(out) / "heldout_prediction.png").string();
  const std::string overlay_png = (fs::path(out) / "heldout_overlay.png").string();
  data::write_png(input_png, scene.image);
  data::write_png(truth_png, data::colorize(scene.label, palette));
  data::write_png(pred_png, data::colorize(pred, palette));
  data::write_png(overlay_png, data::overlay(scene.image, pred, palette));

  std::cout << "\n== result: validation mIoU on " << config.synthetic_val << " synthetic scenes\n"
            << "  colour-only baseline   " << pct(baseline) << "   (nearest class mean colour)\n"
            << "  colour-only ceiling    " << pct(ceiling) << "   (most frequent class of each colour)\n"
            << "  untrained network      " << pct(r.start_miou) << "\n"
            << "  trained network        " << pct(r.last_miou) << "   (best " << pct(r.best_miou) << "; "
            << r.iteration << " iterations of " << config.batch << " crops " << config.crop_width << "x"
            << config.crop_height << " in " << train::format_duration(train_s) << " on " << device.str() << ")\n"
            << "  held-out scene " << scene.id << ": pixel accuracy " << pct(counted ? double(right) / counted : 0)
            << "\n";
  const double yardstick = std::max(baseline, ceiling);
  if (r.best_miou > yardstick + 0.05)
    std::cout << "the trained network beats the best colour-only rule by " << pct(r.best_miou - yardstick)
              << " mIoU\n";
  else
    std::cout << "warning: the trained network does not clearly beat the colour-only baseline; train longer "
                 "(--iters)\n";
  std::cout << "\nfiles:\n"
            << "  prediction   " << pred_png << "\n"
            << "  overlay      " << overlay_png << "\n"
            << "  input, truth " << input_png << ", " << truth_png << "\n"
            << "  curves       " << (fs::path(out) / "curves.svg").string() << "  (open in a browser)\n"
            << "  checkpoint   " << r.best_checkpoint << "  (best), " << r.last_checkpoint << " (last)\n"
            << "  log          " << (fs::path(out) / "log.jsonl").string() << "\n"
            << "evaluate again: pmsdsen eval --weights " << r.best_checkpoint
            << " --dataset synthetic --synthetic-size " << config.synthetic_width << "x" << config.synthetic_height
            << " --synthetic-val " << config.synthetic_val << " --split val\n";
  return 0;
}

}  // namespace

PMSDSEN_COMMAND("demo", "train on built-in synthetic scenes for a few minutes and show the result", run_demo);

}  // namespace pmsdsen::cli
