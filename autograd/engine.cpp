#include "autograd/engine.h"

#include <unordered_map>
#include <unordered_set>

#include "autograd/grad_mode.h"
#include "autograd/node.h"
#include "autograd/ops_basic.h"

namespace pmsdsen::autograd {
namespace {

thread_local bool g_grad_enabled = true;
thread_local std::function<void(const Tensor&)>* g_leaf_ready = nullptr;

std::shared_ptr<Node> accumulator_of(const std::shared_ptr<TensorImpl>& leaf) {
  if (auto existing = leaf->grad_accumulator.lock()) return existing;
  auto acc = std::make_shared<AccumulateGrad>(leaf);
  leaf->grad_accumulator = acc;
  return acc;
}

std::shared_ptr<Node> edge_of(const Tensor& t) {
  if (!t.defined() || !t.requires_grad()) return nullptr;
  if (t.grad_fn()) return t.grad_fn();
  return accumulator_of(t.impl_ptr());
}

struct FunctionNode final : Node {
  FunctionNode(const char* op, BackwardFn fn) : Node(op), backward(std::move(fn)) {}
  GradList apply(const Tensor& grad_output) override {
    PMSDSEN_CHECK(backward != nullptr, "backward through '", name,
                  "' a second time: the graph was freed by the first backward()");
    return backward(grad_output, *this);
  }
  void release() override { backward = nullptr; }
  BackwardFn backward;
};

Tensor accumulate(const Tensor& sum, const Tensor& g) { return sum.defined() ? ops::add(sum, g) : g; }

}  // namespace

bool GradMode::is_enabled() { return g_grad_enabled; }
void GradMode::set_enabled(bool enabled) { g_grad_enabled = enabled; }

GradList AccumulateGrad::apply(const Tensor& grad_output) {
  Tensor current(leaf->grad);
  leaf->grad = accumulate(current, grad_output).impl_ptr();
  if (g_leaf_ready) (*g_leaf_ready)(Tensor(leaf));
  return {};
}

LeafGradReadyHook::LeafGradReadyHook(std::function<void(const Tensor& leaf)> ready) {
  PMSDSEN_CHECK(g_leaf_ready == nullptr, "LeafGradReadyHook: this thread has one already");
  PMSDSEN_CHECK(ready != nullptr, "LeafGradReadyHook: empty function");
  g_leaf_ready = new std::function<void(const Tensor&)>(std::move(ready));
}

LeafGradReadyHook::~LeafGradReadyHook() {
  delete g_leaf_ready;
  g_leaf_ready = nullptr;
}

bool any_requires_grad(const std::vector<Tensor>& inputs) {
  if (!GradMode::is_enabled()) return false;
  for (const Tensor& t : inputs)
    if (t.defined() && t.requires_grad()) return true;
  return false;
}

Tensor record(const char* op_name, Tensor output, const std::vector<Tensor>& inputs,
              BackwardFn backward) {
  if (!any_requires_grad(inputs)) return output;
  auto node = std::make_shared<FunctionNode>(op_name, std::move(backward));
  node->next.reserve(inputs.size());
  node->input_shapes.reserve(inputs.size());
  for (const Tensor& t : inputs) {
    node->next.push_back(edge_of(t));
    node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
  }
  TensorImpl* impl = output.impl();
  PMSDSEN_CHECK(impl->grad_fn == nullptr, op_name, ": output already has a grad_fn");
  impl->requires_grad = true;
  impl->grad_fn = std::move(node);
  return output;
}

void backward(const Tensor& root, const Tensor& grad) {
  check_defined(root, "backward", "root");
  PMSDSEN_CHECK(root.requires_grad(), "backward: ", root.str(),
                " does not require grad (no input of the ops that made it requires grad, "
                "or it was computed under NoGradGuard)");
  Tensor root_grad = grad;
  if (!root_grad.defined()) {
    PMSDSEN_CHECK(root.numel() == 1, "backward: called on a non-scalar ", root.str(),
                  "; pass its gradient explicitly");
    root_grad = Tensor::ones(root.shape(), root.dtype(), root.device());
  } else {
    PMSDSEN_CHECK(root_grad.shape() == root.shape() && root_grad.dtype() == root.dtype() &&
                      root_grad.device() == root.device(),
                  "backward: gradient ", root_grad.str(), " does not match root ", root.str());
  }
  std::shared_ptr<Node> root_node = edge_of(root);

  // Count, for every reachable node, how many edges lead into it.
  std::unordered_map<Node*, int> dependencies;
  {
    std::vector<Node*> stack{root_node.get()};
    std::unordered_set<Node*> seen{root_node.get()};
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (const auto& child : n->next) {
        if (!child) continue;
        dependencies[child.get()]++;
        if (seen.insert(child.get()).second) stack.push_back(child.get());
      }
    }
  }

  NoGradGuard no_grad;
  std::unordered_map<Node*, Tensor> pending;
  pending[root_node.get()] = root_grad;
  std::vector<std::shared_ptr<Node>> ready{root_node};
  while (!ready.empty()) {
    std::shared_ptr<Node> node = std::move(ready.back());
    ready.pop_back();
    Tensor g;
    if (auto it = pending.find(node.get()); it != pending.end()) {
      g = std::move(it->second);
      pending.erase(it);
    }
    GradList grads;
    if (g.defined()) grads = node->apply(g);
    node->release();
    for (size_t i = 0; i < node->next.size(); ++i) {
      const std::shared_ptr<Node>& child = node->next[i];
      if (!child) continue;
      if (i < grads.size() && grads[i].defined()) {
        PMSDSEN_CHECK(grads[i].shape() == node->input_shapes[i], "backward of '", node->name,
                      "' returned a gradient of shape ", shape_str(grads[i].shape()),
                      " for input ", i, " of shape ", shape_str(node->input_shapes[i]));
        Tensor& slot = pending[child.get()];
        slot = accumulate(slot, grads[i]);
      }
      if (--dependencies[child.get()] == 0) ready.push_back(child);
    }
  }
}

}  // namespace pmsdsen::autograd
