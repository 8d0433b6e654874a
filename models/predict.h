#pragma once
// The one prediction path: `segment`, `eval`, `demo` and the trainer's validation all
// predict through a Predictor. An image of any size is padded with zeros (the mean colour
// after normalisation) at the bottom and right to a multiple of 8, which the network needs,
// and the logits are cropped back. With a scale other than 1 the image is first resized by
// that factor and the logits resized back to the full size, both bilinearly with
// align_corners=True, as the authors evaluate. The class of a pixel is the first of its
// largest logits (ops::argmax_channels), on the network's device.
#include <cstdint>
#include <functional>

#include "core/device.h"
#include "core/tensor.h"

namespace pmsdsen {

class PMSDSEN;

// A network as the predictor runs it: a normalised image [1, 3, h, w] on the network's
// device -> logits [1, classes, h', w'] (h' >= h, w' >= w) whose top-left h x w are the
// image's.
using Network = std::function<Tensor(const Tensor& image)>;

class Predictor {
 public:
  // PMSDSEN as it is (put it on its device and in evaluation mode first); the predictor
  // holds a reference.
  explicit Predictor(PMSDSEN& model);
  // Any network giving `classes` logits per pixel on `device` (tests, other models).
  Predictor(Network network, int64_t classes, Device device = Device::cpu());

  int64_t num_classes() const { return classes_; }
  Device device() const { return device_; }

  // Logits [1, classes, h, w] on device() of a normalised float32 image [1, 3, h, w] on
  // any device. No gradients are recorded.
  Tensor logits(const Tensor& image) const;
  // Class ids int64 [1, h, w] on the CPU of a normalised float32 image [1, 3, h, w] on any
  // device, which the network sees resized by `scale`.
  Tensor class_ids(const Tensor& image, double scale = 1.0) const;

 private:
  Tensor run(const Tensor& input) const;  // the network's logits, checked

  Network network_;
  int64_t classes_;
  Device device_;
};

}  // namespace pmsdsen
