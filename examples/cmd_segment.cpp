// pmsdsen segment: one image in, its colour prediction, an overlay and (optionally) the
// raw class ids out. Any image size.
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <future>
#include <iostream>

#include "data/augment.h"
#include "data/image.h"
#include "data/palette.h"
#include "data/png_encode.h"
#include "core/file_io.h"
#include "examples/cli.h"
#include "examples/model_file.h"
#include "models/predict.h"

namespace pmsdsen::cli {
namespace {

// "dir/frankfurt_000000.png" -> "frankfurt_000000"
std::string stem(const std::string& path) {
  const size_t slash = path.find_last_of('/');
  std::string name = slash == std::string::npos ? path : path.substr(slash + 1);
  const size_t dot = name.find_last_of('.');
  return dot == std::string::npos || dot == 0 ? name : name.substr(0, dot);
}

int run_segment(const std::vector<std::string>& argv) {
  Args args("segment",
            {{"weights", "FILE", "weights (.safetensors: a training checkpoint such as runs/x/best.safetensors, "
                                 "weights saved by pmsdsen, or the authors' converted with tools/convert_checkpoint.py)",
              ""},
             {"image", "FILE", "the image to segment (PNG or JPEG, any size)", ""},
             {"output", "FILE", "colour prediction (PNG)", "<image name>_pred.png"},
             {"overlay", "FILE", "prediction blended over the image (PNG)", "<image name>_overlay.png"},
             {"ids", "FILE", "also write the class ids as an 8-bit grey PNG", ""},
             {"palette", "cityscapes|camvid", "colours (default: cityscapes for 19 classes, camvid for 11)", ""},
             {"scale", "S", "resize the image by S before the network and the prediction back (bilinear, "
                            "align_corners as the authors' evaluation; they use 0.5 for Cityscapes)", "1"},
             {"alpha", "A", "overlay opacity of the prediction, in [0, 1]", "0.5"},
             device_flag("where to run"),
             {"max-pixels", "N", "refuse larger images (read from the file's header before decoding)",
              std::to_string(data::kDefaultMaxPixels)}},
            argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen segment --weights W.safetensors --image in.png|jpg [--output pred.png]\n"
                 "                       [--overlay overlay.png] [--ids ids.png] [--palette cityscapes|camvid]\n"
                 "                       [--scale S] [--device auto|cpu|cuda] [--max-pixels N]\n\n"
                 "Segments one image: normalised with the ImageNet mean and std, padded to a multiple of 8\n"
                 "(the prediction is cropped back), or resized by --scale and the prediction resized back.\n\n"
              << args.usage();
    return 0;
  }
  PMSDSEN_CHECK(args.positional().empty(), "segment: unexpected argument '", args.positional().at(0), "'");
  for (const char* required : {"weights", "image"})
    PMSDSEN_CHECK(args.has(required), "segment: --", required, " is required (see 'pmsdsen segment --help')");
  const std::string weights_path = args.get("weights"), image_path = args.get("image");
  const std::string output_path = args.has("output") ? args.get("output") : stem(image_path) + "_pred.png";
  const std::string overlay_path = args.has("overlay") ? args.get("overlay") : stem(image_path) + "_overlay.png";
  const double scale = args.get_double("scale");
  PMSDSEN_CHECK(scale > 0 && scale <= 8, "segment: --scale must be in (0, 8], got ", scale);
  const double alpha = args.get_double("alpha");
  PMSDSEN_CHECK(alpha >= 0 && alpha <= 1, "segment: --alpha must be in [0, 1], got ", alpha);
  const Device device = args.get_device();
  std::string palette_name = args.get("palette");
  PMSDSEN_CHECK(palette_name.empty() || palette_name == "cityscapes" || palette_name == "camvid",
                "segment: unknown --palette '", palette_name, "': expected cityscapes or camvid");

  const data::DecodeLimits limits{args.get_int("max-pixels", 1, INT64_MAX)};
  // Every output is checked before the work, and written only when all are ready.
  std::vector<std::pair<std::string, std::string>> outputs = {{"--output", output_path}, {"--overlay", overlay_path}};
  if (args.has("ids")) outputs.push_back({"--ids", args.get("ids")});
  for (size_t i = 0; i < outputs.size(); ++i) {
    for (size_t j = 0; j < i; ++j)
      PMSDSEN_CHECK(outputs[i].second != outputs[j].second, "segment: ", outputs[j].first, " and ", outputs[i].first,
                    " name the same file '", outputs[i].second, "'");
    check_writable(outputs[i].second, outputs[i].first);
  }

  const data::Image image = data::read_image(image_path, limits);
  std::unique_ptr<PMSDSEN> model = train::load_model_file(weights_path);
  const int64_t classes = model->config().classes;
  if (palette_name.empty()) {
    PMSDSEN_CHECK(classes == 19 || classes == 11, "segment: '", weights_path, "' has ", classes,
                  " classes; choose the colours with --palette cityscapes (19) or camvid (11)");
    palette_name = classes == 19 ? "cityscapes" : "camvid";
  }
  const std::vector<data::Rgb>& palette =
      palette_name == "cityscapes" ? data::cityscapes_palette() : data::camvid_palette();
  PMSDSEN_CHECK(static_cast<int64_t>(palette.size()) >= classes, "segment: the ", palette_name, " palette has ",
                palette.size(), " colours, '", weights_path, "' has ", classes, " classes");
  model->to(device);
  model->eval();

  const auto start = std::chrono::steady_clock::now();
  const Tensor ids = Predictor(*model).class_ids(data::image_tensor(image), scale);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();

  const data::LabelMap label = data::label_map_from_tensor(ids);
  // PNG compression is single-threaded and, on large images, a good part of the run:
  // the pictures are encoded side by side, then written together (none if one fails).
  auto colour = std::async(std::launch::async, [&] { return data::encode_png(data::colorize(label, palette), output_path); });
  auto blend = std::async(std::launch::async,
                          [&] { return data::encode_png(data::overlay(image, label, palette, alpha), overlay_path); });
  std::vector<std::pair<std::string, std::string>> files;
  std::string ids_png = args.has("ids") ? data::encode_png(label, args.get("ids")) : "";
  files.emplace_back(output_path, colour.get());
  files.emplace_back(overlay_path, blend.get());
  if (args.has("ids")) files.emplace_back(args.get("ids"), std::move(ids_png));
  write_files_atomically(files);

  std::printf("%s: %lld x %lld, %lld classes (%s), %.3f s on %s\n", image_path.c_str(),
              static_cast<long long>(image.width), static_cast<long long>(image.height),
              static_cast<long long>(classes), palette_name.c_str(), seconds, device.str().c_str());
  std::printf("wrote %s, %s%s%s\n", output_path.c_str(), overlay_path.c_str(), args.has("ids") ? ", " : "",
              args.has("ids") ? args.get("ids").c_str() : "");
  return 0;
}

}  // namespace

PMSDSEN_COMMAND("segment", "segment an image with PMSDSEN: colour prediction, overlay, class ids", run_segment);

}  // namespace pmsdsen::cli
