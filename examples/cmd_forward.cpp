// pmsdsen forward: evaluates PMSDSEN on a tensor from a safetensors file and writes the
// three outputs (and, given labels, the loss and every parameter's gradient): how users
// check our numbers against their PyTorch.
#include <cstdio>
#include <iostream>

#include "autograd/engine.h"
#include "autograd/grad_mode.h"
#include "core/file_io.h"
#include "examples/cli.h"
#include "examples/model_file.h"
#include "models/loss.h"
#include "models/predict.h"
#include "models/tensor_file.h"
#include "models/weights.h"

namespace pmsdsen::cli {
namespace {

int run_forward(const std::vector<std::string>& argv) {
  Args args("forward",
            {{"weights", "FILE", "weights (.safetensors: a training checkpoint, saved weights or the authors' converted)",
              ""},
             {"input", "FILE", "file holding the tensor 'input', N x 3 x H x W float (H, W multiples of 8)", ""},
             {"output", "FILE", "where to write 'logits', 'aux_x4', 'aux_x8' (and 'loss', 'grad.*')", ""},
             {"train", "", "batch normalisation with batch statistics, as PyTorch's training mode", ""},
             {"act", "gelu|prelu", "activation (default: what the weights are for)", ""},
             {"classes", "N", "number of classes (default: what the weights are for)", ""},
             device_flag("where to run"),
             {"target", "FILE", "file holding 'target', N x H x W integer labels (255 ignored): also write "
                                "'loss' (sum of the three cross-entropies) and 'grad.<parameter>'", ""}},
            argv);
  if (args.help_requested()) {
    std::cout << "usage: pmsdsen forward --weights W.safetensors --input X.safetensors --output Y.safetensors\n"
                 "                       [--train] [--act gelu|prelu] [--classes N] [--device auto|cpu|cuda]\n"
                 "                       [--target T.safetensors]\n\n"
                 "Runs PMSDSEN on the tensor 'input' and writes 'logits', 'aux_x4' and 'aux_x8' (each\n"
                 "N x classes x H x W, float32). With --target also 'loss' and the gradient of every\n"
                 "parameter as 'grad.<name>'. Evaluation mode (running BN statistics) unless --train.\n\n"
              << args.usage();
    return 0;
  }
  PMSDSEN_CHECK(args.positional().empty(), "forward: unexpected argument '", args.positional().at(0), "'");
  for (const char* required : {"weights", "input", "output"})
    PMSDSEN_CHECK(args.has(required), "forward: --", required, " is required (see 'pmsdsen forward --help')");
  const std::string weights_path = args.get("weights"), input_path = args.get("input"),
                    output_path = args.get("output");
  std::optional<int64_t> classes;
  if (args.has("classes")) classes = args.get_int("classes", 1, kPmsdsenMaxClasses);
  std::optional<Activation> act;
  if (args.has("act")) act = parse_activation(args.get("act"));
  const Device device = args.get_device();
  const bool train = args.flag("train");
  check_writable(output_path, "--output");  // before the work

  // Inputs first: a bad input file is reported before the (slower) model load.
  const Safetensors input_file = load_safetensors(input_path);
  Tensor input = tensor_in_file(input_file, "input", input_path);
  PMSDSEN_CHECK(is_floating(input.dtype()), "'", input_path, "': 'input' must be floating point, got ", input.str());
  PMSDSEN_CHECK(input.dim() == 4 && input.size(1) == 3, "'", input_path,
                "': 'input' must be N x 3 x H x W, got ", shape_str(input.shape()));
  PMSDSEN_CHECK(input.size(2) % 8 == 0 && input.size(3) % 8 == 0 && input.numel() > 0, "'", input_path,
                "': 'input' height and width must be positive multiples of 8, got ", input.size(2), " x ",
                input.size(3));
  input = input.to(DType::F32);
  Tensor target;
  if (args.has("target")) {
    const std::string target_path = args.get("target");
    const Safetensors target_file = load_safetensors(target_path);
    target = tensor_in_file(target_file, "target", target_path);
    PMSDSEN_CHECK(!is_floating(target.dtype()), "'", target_path, "': 'target' must hold integer labels, got ",
                  target.str());
    PMSDSEN_CHECK(target.dim() == 3 && target.size(0) == input.size(0) && target.size(1) == input.size(2) &&
                      target.size(2) == input.size(3),
                  "'", target_path, "': 'target' must be N x H x W = ", input.size(0), " x ", input.size(2), " x ",
                  input.size(3), " to match the input, got ", shape_str(target.shape()));
    target = target.to(DType::I64);
  }

  std::unique_ptr<PMSDSEN> model = train::load_model_file(weights_path, classes, act);
  const int64_t k = model->config().classes;
  if (target.defined()) check_labels(target, k, 255, "'" + args.get("target") + "': 'target'");
  model->to(device);
  model->train(train);

  std::map<std::string, Tensor> out;
  {
    std::optional<autograd::NoGradGuard> no_grad;
    if (!target.defined()) no_grad.emplace();
    const PmsdsenOutput y = model->run(input.to(device));
    out["logits"] = y.logits.detach().cpu();
    out["aux_x4"] = y.aux_x4.detach().cpu();
    out["aux_x8"] = y.aux_x8.detach().cpu();
    if (target.defined()) {
      const SegLoss loss = segmentation_loss(y, target.to(device));
      backward(loss.total);
      out["loss"] = loss.total.detach().cpu().view({1});
      for (int i = 0; i < 3; ++i)
        out[std::string("ce_") + kPmsdsenOutputNames[i]] = loss.parts[i].detach().cpu().view({1});
      for (const auto& [name, p] : model->named_parameters()) {
        const Tensor g = p.grad();
        out["grad." + name] = g.defined() ? g.cpu() : Tensor::zeros(p.shape());
      }
    }
  }
  save_safetensors(output_path, out,
                   {{"classes", std::to_string(k)},
                    {"act", activation_name(model->config().act)},
                    {"mode", train ? "train" : "eval"},
                    {"weights", weights_path}});
  std::printf("%s: %s x %lld classes (%s mode, %s, %s)", output_path.c_str(), shape_str(input.shape()).c_str(),
              static_cast<long long>(k), train ? "training" : "evaluation",
              activation_name(model->config().act).c_str(), device.str().c_str());
  if (target.defined())
    std::printf(", loss %.6f, %zu gradients", out["loss"].item_double(), model->named_parameters().size());
  std::printf("\n");
  return 0;
}

}  // namespace

PMSDSEN_COMMAND("forward", "run PMSDSEN on a tensor file and write its outputs (and loss and gradients)",
                run_forward);

}  // namespace pmsdsen::cli
