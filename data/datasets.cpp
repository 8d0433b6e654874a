#include "data/datasets.h"

#include "core/error.h"

namespace pmsdsen::data {

std::unique_ptr<Dataset> make_dataset(const std::string& name, const std::string& root,
                                      const std::string& split, const DatasetOptions& options) {
  if (name == "cityscapes") return std::make_unique<CityscapesDataset>(root, split, options.skip_bad, options.limits);
  if (name == "camvid") return std::make_unique<CamVidDataset>(root, split, options.skip_bad, options.limits);
  if (name == "synthetic") return std::make_unique<SyntheticDataset>(split, options.synthetic);
  PMSDSEN_FAIL("unknown dataset '", name, "' (cityscapes, camvid or synthetic)");
}

const std::vector<std::string>& dataset_class_names(const std::string& name) {
  if (name == "cityscapes" || name == "synthetic") return cityscapes_class_names();
  if (name == "camvid") return camvid_class_names();
  PMSDSEN_FAIL("unknown dataset '", name, "' (cityscapes, camvid or synthetic)");
}

const std::vector<Rgb>& dataset_palette(const std::string& name) {
  if (name == "cityscapes" || name == "synthetic") return cityscapes_palette();
  if (name == "camvid") return camvid_palette();
  PMSDSEN_FAIL("unknown dataset '", name, "' (cityscapes, camvid or synthetic)");
}

}  // namespace pmsdsen::data
