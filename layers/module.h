#pragma once
// Modules own named parameters (leaf tensors that require grad) and buffers (running
// statistics, counters), nest under dotted names, and switch between training and
// evaluation. Names follow PyTorch's state-dict keys, so weights converted from a
// PyTorch checkpoint load by name.
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace pmsdsen {

struct LoadReport {
  std::vector<std::string> missing;     // expected by the module, absent from the file
  std::vector<std::string> unexpected;  // in the file, unknown to the module
  std::vector<std::string> mismatched;  // "name: file [a, b] vs module [c, d]"
  bool ok() const { return missing.empty() && unexpected.empty() && mismatched.empty(); }
  // The problems by name; a long list in at most 12 lines, names that share their last
  // component and their problem counted on one line ("279 x *.num_batches_tracked: ...").
  std::string summary() const;
};

class Module {
 public:
  virtual ~Module() = default;

  // Single-input forward; modules with other signatures define their own.
  virtual Tensor forward(const Tensor& x);
  Tensor operator()(const Tensor& x) { return forward(x); }

  // Recursive listings in registration order, with dotted names.
  std::vector<std::pair<std::string, Tensor>> named_parameters() const;
  std::vector<std::pair<std::string, Tensor>> named_buffers() const;
  std::vector<Tensor> parameters() const;
  int64_t parameter_count() const;
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& children() const { return children_; }

  // Parameters and buffers by name (PyTorch's state_dict). Tensors share storage with
  // the module's.
  std::map<std::string, Tensor> state_dict() const;
  // Copies values in by name (converting dtype and device). Every problem is collected;
  // with strict, any problem throws an Error listing all of them and nothing is changed.
  LoadReport load_state_dict(const std::map<std::string, Tensor>& state, bool strict = true);

  virtual void train(bool on = true);
  void eval() { train(false); }
  // Inference fusion (models/fused_model.h): marks this module and its children; modules
  // that precompute something for it (batch norms folded, epilogues) override this, call
  // the base and compute from the weights as they are now (later weight changes are not
  // seen until it is set again).
  virtual void set_fused_inference(bool on);
  // Whether forward runs its fused form now: marked, in evaluation mode, no gradients recorded.
  bool fused_now() const;
  bool is_training() const { return training_; }

  // Moves or converts every float parameter and buffer (integer buffers, counters such
  // as num_batches_tracked, stay on the host). Parameter handles change: build
  // optimisers after moving the model.
  void to(Device device);
  void to(DType dtype);
  Device device() const;

  void zero_grad();

  // A short type name for layer tables ("Conv2d", "BatchNorm2d").
  virtual std::string type_name() const { return "Module"; }

 protected:
  Tensor& register_parameter(const std::string& name, Tensor value);
  Tensor& register_buffer(const std::string& name, Tensor value);
  template <class M>
  std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    add_child(name, module);
    return module;
  }

 private:
  void add_child(const std::string& name, std::shared_ptr<Module> module);
  template <class F>
  void visit_tensors(const std::string& prefix, bool params, bool buffers, F&& f);
  template <class F>
  void visit_tensors(const std::string& prefix, bool params, bool buffers, F&& f) const;

  // std::map would reorder: keep registration order, as PyTorch does.
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> params_;
  std::vector<std::pair<std::string, std::unique_ptr<Tensor>>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;
  bool fused_inference_ = false;
};

}  // namespace pmsdsen
