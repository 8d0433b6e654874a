#pragma once
// The dataset factory behind `--dataset NAME --root DIR --split SPLIT`.
#include <memory>
#include <string>

#include "data/camvid.h"
#include "data/cityscapes.h"
#include "data/dataset.h"
#include "data/synthetic.h"

namespace pmsdsen::data {

struct DatasetOptions {
  bool skip_bad = false;        // --skip-bad
  DecodeLimits limits;          // --max-pixels
  SyntheticOptions synthetic;   // sizes and seed of the synthetic dataset
};

// name: "cityscapes", "camvid" or "synthetic" (root is not used: scenes are rendered).
std::unique_ptr<Dataset> make_dataset(const std::string& name, const std::string& root,
                                      const std::string& split, const DatasetOptions& options = {});

// The class names / palette of a dataset name, without opening it.
const std::vector<std::string>& dataset_class_names(const std::string& name);
const std::vector<Rgb>& dataset_palette(const std::string& name);

}  // namespace pmsdsen::data
