#include "examples/train_model.h"

#include <functional>
#include <set>

#include "layers/batchnorm.h"
#include "models/weights.h"

namespace pmsdsen::train {
namespace {

// Parameters the optimiser updates, with their names. Frozen BN (the authors' stage
// 2) keeps its affine parameters fixed too: they leave the optimiser and stop
// requiring gradients.
std::vector<std::pair<std::string, Tensor>> trainable_parameters(Module& model, bool freeze_bn) {
  std::set<const TensorImpl*> frozen;
  if (freeze_bn) {
    std::function<void(Module&)> visit = [&](Module& m) {
      if (dynamic_cast<BatchNorm2d*>(&m))
        for (auto& [name, p] : m.named_parameters()) frozen.insert(p.impl());
      for (auto& [name, child] : m.children()) visit(*child);
    };
    visit(model);
  }
  std::vector<std::pair<std::string, Tensor>> out;
  for (auto& [name, p] : model.named_parameters()) {
    if (frozen.count(p.impl())) {
      p.set_requires_grad(false);
      continue;
    }
    out.emplace_back(name, p);
  }
  return out;
}

// Puts a checkpoint's momentum buffers back, each on its parameter; a buffer of another
// shape, or for a parameter that is not trained (--freeze-bn changed), is an error.
void restore_momentum(TrainModel& m, const Checkpoint& resume, Device device) {
  std::vector<Tensor>& bufs = m.sgd->momentum_buffers();
  std::set<std::string> used;
  for (size_t k = 0; k < m.params.size(); ++k) {
    auto it = resume.momentum.find(m.params[k].first);
    if (it == resume.momentum.end()) continue;
    PMSDSEN_CHECK(it->second.shape() == m.params[k].second.shape(), "checkpoint '", resume.path, "': momentum of '",
                  it->first, "' is ", shape_str(it->second.shape()), ", the parameter ",
                  shape_str(m.params[k].second.shape()));
    bufs[k] = it->second.to(m.params[k].second.dtype()).to(device);
    used.insert(it->first);
  }
  for (const auto& [name, t] : resume.momentum)
    PMSDSEN_CHECK(used.count(name), "checkpoint '", resume.path, "': momentum buffer for '", name,
                  "', which is not a trainable parameter (was --freeze-bn changed?)");
}

}  // namespace

std::vector<std::pair<std::string, Tensor>> TrainModel::momentum() const {
  std::vector<std::pair<std::string, Tensor>> out;
  for (size_t k = 0; k < params.size(); ++k) out.emplace_back(params[k].first, sgd->momentum_buffers()[k]);
  return out;
}

TrainModel build_train_model(const TrainConfig& c, int64_t classes, Device device,
                             const std::optional<Checkpoint>& resume) {
  TrainModel m;
  Generator gen(static_cast<uint64_t>(c.seed));
  m.model = std::make_unique<PMSDSEN>(PmsdsenConfig{classes, parse_activation(c.activation)}, gen);
  if (resume) m.model->load_state_dict(resume->model);  // strict: every problem listed
  else if (!c.init.empty()) load_weights(*m.model, load_weights_file(c.init), c.init);
  m.model->to(device);
  if (c.freeze_bn) freeze_batch_norm(*m.model);
  m.model->train();

  m.params = trainable_parameters(*m.model, c.freeze_bn);
  std::vector<Tensor> tensors;
  for (auto& [name, p] : m.params) tensors.push_back(p);
  m.sgd = std::make_unique<Sgd>(tensors, SgdOptions{c.momentum, c.weight_decay});
  if (resume) restore_momentum(m, *resume, device);
  return m;
}

}  // namespace pmsdsen::train
