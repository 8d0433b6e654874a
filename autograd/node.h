#pragma once
// The recorded graph. Each op that needs a gradient creates one Node holding how to
// turn the gradient of its output into gradients of its inputs, and an edge per input
// to the node that produced that input (or to the AccumulateGrad of a leaf). Edges
// point from outputs to inputs only; a node keeps alive just what its backward saved.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace pmsdsen::autograd {

using GradList = std::vector<Tensor>;

struct Node {
  explicit Node(std::string op_name) : name(std::move(op_name)) {}
  virtual ~Node() = default;

  // Gradients for each input, in input order; an undefined tensor means "zero" or
  // "not needed" (see needs_grad).
  virtual GradList apply(const Tensor& grad_output) = 0;
  // Frees what the backward saved; called by the engine once the node has run.
  virtual void release() {}

  bool needs_grad(size_t input) const { return input < next.size() && next[input] != nullptr; }

  std::string name;
  std::vector<std::shared_ptr<Node>> next;  // per input; null where no gradient flows
  std::vector<Shape> input_shapes;          // to check the shapes backward returns
};

// Backward of a differentiable op: (gradient of the output, the node) -> input gradients.
using BackwardFn = std::function<GradList(const Tensor& grad_output, const Node& node)>;

// Adds gradients into a leaf tensor's .grad.
struct AccumulateGrad final : Node {
  explicit AccumulateGrad(std::shared_ptr<TensorImpl> leaf_impl)
      : Node("accumulate_grad"), leaf(std::move(leaf_impl)) {}
  GradList apply(const Tensor& grad_output) override;
  std::shared_ptr<TensorImpl> leaf;
};

// Makes `output` the result of op `op_name` applied to `inputs`, recording `backward`
// when grad mode is on and some input requires grad. Returns `output`.
// Undefined entries in `inputs` are allowed (an absent bias, say).
Tensor record(const char* op_name, Tensor output, const std::vector<Tensor>& inputs,
              BackwardFn backward);

// True when an op over these inputs would record a node.
bool any_requires_grad(const std::vector<Tensor>& inputs);

}  // namespace pmsdsen::autograd
