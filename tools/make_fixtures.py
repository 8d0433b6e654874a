#!/usr/bin/env python3
"""Writes the golden fixtures the C++ tests compare against (tests/fixtures/).

  ops.safetensors            one case per operator configuration, all float64
  pmsdsen_gelu.safetensors   PMSDSEN(19, gelu): weights, eval/train outputs, loss,
                             parameter gradients, updated BN statistics
  pmsdsen_prelu.safetensors  PMSDSEN(19, prelu): the same without the gradients
  macs.json                  per-layer multiply-accumulates at 1x3x512x1024, totals,
                             parameter and state-dict tensor counts
  README.md                  documentation of all of the above (generated from them)

Everything is computed by PyTorch in float64 from fixed seeds (one per case, derived
from the case name), on one thread, so a rerun writes identical bytes. Files are
written atomically. tests/fixtures/README.md documents every case and tensor.

  /usr/bin/python3 tools/make_fixtures.py              # (re)write tests/fixtures/
  /usr/bin/python3 tools/make_fixtures.py --check      # regenerate in memory, compare
  /usr/bin/python3 tools/make_fixtures.py --only ops   # one output (ops|gelu|prelu|macs|readme)
"""

import argparse
import copy
import hashlib
import json
import math
import os
import re
import sys
import zlib

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pmsdsen_torch as pt  # noqa: E402
import safetensors_io as st  # noqa: E402

GENERATOR_VERSION = "1"
DEFAULT_OUT = os.path.join(os.path.dirname(HERE), "tests", "fixtures")
OP_TABLE = os.path.join(os.path.dirname(HERE), "autograd", "op_table.def")
# Cases that check more than one op: a module of layers/ or the learning-rate schedule.
# Their "kind" says so; every other case is kind "op" and its "op" is a table entry.
COMPOSED_KINDS = {"input_injection": "module", "eca": "module", "poly_lr": "schedule"}


def read_op_table(path=OP_TABLE):
    """{name: (family, kind, fixture)} from autograd/op_table.def, one PMSDSEN_OP a line."""
    table = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            m = re.match(r"PMSDSEN_OP\((\w+), (\w+), (\w+), (\w+),", line)
            if m:
                table[m.group(1)] = (m.group(2), m.group(3), m.group(4))
    assert table, f"{path}: no PMSDSEN_OP lines"
    return table


def check_against_op_table(cases, table):
    """Every case names a table op (or a composed check); every PYTORCH op has a case."""
    seen = set()
    for name, params in cases.items():
        op, kind = params["op"], params["kind"]
        if kind != "op":
            assert COMPOSED_KINDS.get(op) == kind, f"case {name}: {op} is not a known {kind}"
            continue
        assert op in table, f"case {name}: op {op} is not in {OP_TABLE}"
        assert table[op][2] == "PYTORCH", f"case {name}: {op} is marked NONE in the op table"
        seen.add(op)
    missing = sorted(op for op, (_, _, fixture) in table.items() if fixture == "PYTORCH" and op not in seen)
    assert not missing, f"ops marked PYTORCH in the op table without a case: {missing}"
F64 = torch.float64


def gen_for(name):
    """A generator seeded from the case name, so cases do not depend on each other."""
    return torch.Generator().manual_seed(zlib.crc32(name.encode("utf-8")))


def randn(g, *shape, scale=1.0):
    return torch.randn(shape, generator=g, dtype=F64) * scale


def uniform(g, lo, hi, *shape):
    return torch.rand(shape, generator=g, dtype=F64) * (hi - lo) + lo


def labels(g, classes, shape, ignore_frac, ignore=255):
    t = torch.randint(0, classes, shape, generator=g)
    t[torch.rand(shape, generator=g) < ignore_frac] = ignore
    return t


# --------------------------------------------------------------------------- op cases

class OpFixture:
    def __init__(self):
        self.tensors = {}
        self.cases = {}

    def add(self, name, params, inputs, fn, diff, extra=None):
        """inputs: dict name -> tensor (float64 or int64), stored as <case>.<name>.
        fn(**inputs) -> y (or (y, dict of extra outputs)). A random upstream gradient gy
        of y's shape is drawn; the gradients g<name> of sum(y * gy) w.r.t. the inputs in
        `diff` are stored. Scalars are stored with shape [1]."""
        assert name not in self.cases and "." not in name, name
        g = gen_for(name + "/gy")
        leaf = {k: (v.clone().requires_grad_(k in diff) if v.is_floating_point() else v.clone())
                for k, v in inputs.items()}
        res = fn(**leaf)
        outs = {}
        if isinstance(res, tuple):
            res, outs = res
        y = res.reshape(1) if res.dim() == 0 else res
        gy = randn(g, *y.shape)
        grads = torch.autograd.grad((y * gy).sum(), [leaf[k] for k in diff]) if diff else []
        store = {}
        for k, v in inputs.items():
            store[k] = v
        store["y"] = y.detach()
        store["gy"] = gy
        for k, gk in zip(diff, grads):
            store["g" + k] = gk
        for k, v in outs.items():
            store[k] = v.detach().reshape(1) if v.dim() == 0 else v.detach()
        for k, v in store.items():
            assert v.dtype in (F64, torch.int64), (name, k, v.dtype)
            self.tensors[f"{name}.{k}"] = v.contiguous()
        params = dict(params)
        params.setdefault("kind", COMPOSED_KINDS.get(params["op"], "op"))
        params["tensors"] = sorted(store)
        params["grads_of"] = list(diff)
        params["shapes"] = {k: list(v.shape) for k, v in sorted(store.items())}
        self.cases[name] = params

    def add_data(self, name, params, tensors):
        """A case that is plain data (no gradient)."""
        assert name not in self.cases and "." not in name, name
        for k, v in tensors.items():
            self.tensors[f"{name}.{k}"] = v.contiguous()
        params = dict(params)
        params.setdefault("kind", COMPOSED_KINDS.get(params["op"], "op"))
        params["tensors"] = sorted(tensors)
        params["shapes"] = {k: list(v.shape) for k, v in sorted(tensors.items())}
        self.cases[name] = params


def conv_cases(fx):
    specs = [
        # name, x shape, cout, k, stride, pad, dil, groups, bias
        ("conv2d_3x3_s1_p1_bias", (2, 5, 7, 9), 6, 3, 1, 1, 1, 1, True),
        ("conv2d_3x3_s2_p1_nobias", (3, 4, 9, 11), 7, 3, 2, 1, 1, 1, False),
        ("conv2d_1x1_bias", (2, 7, 5, 6), 5, 1, 1, 0, 1, 1, True),
        ("conv2d_3x3_g2_bias", (2, 6, 7, 8), 10, 3, 1, 1, 1, 2, True),
        ("dwconv3x3_d1", (2, 5, 9, 11), 5, 3, 1, 1, 1, 5, True),
        ("dwconv3x3_d2", (2, 5, 9, 11), 5, 3, 1, 2, 2, 5, True),
        ("dwconv3x3_d3", (2, 5, 9, 11), 5, 3, 1, 3, 3, 5, True),
        ("dwconv3x3_d4", (2, 5, 9, 11), 5, 3, 1, 4, 4, 5, True),
        ("dwconv3x3_d4_small", (2, 5, 3, 5), 5, 3, 1, 4, 4, 5, True),
        ("dwconv3x3_d1_nobias", (3, 6, 7, 9), 6, 3, 1, 1, 1, 6, False),
    ]
    for name, xs, cout, k, s, p, d, groups, bias in specs:
        g = gen_for(name)
        cin = xs[1]
        x = randn(g, *xs)
        fan_in = cin // groups * k * k
        w = randn(g, cout, cin // groups, k, k, scale=1.0 / math.sqrt(fan_in))
        inputs = {"x": x, "w": w}
        if bias:
            inputs["b"] = randn(g, cout, scale=0.1)

        def fn(x, w, b=None, s=s, p=p, d=d, groups=groups):
            return F.conv2d(x, w, b, stride=s, padding=p, dilation=d, groups=groups)
        fx.add(name, {"op": "conv2d", "stride": [s, s], "padding": [p, p], "dilation": [d, d],
                      "groups": groups, "bias": bias},
               inputs, fn, list(inputs))

    name = "conv_transpose2d_3x3_s2_p1_op1_bias"
    g = gen_for(name)
    x = randn(g, 2, 6, 5, 7)
    w = randn(g, 6, 4, 3, 3, scale=1.0 / math.sqrt(6 * 9))
    b = randn(g, 4, scale=0.1)
    fx.add(name, {"op": "conv_transpose2d", "stride": [2, 2], "padding": [1, 1],
                  "output_padding": [1, 1], "dilation": [1, 1], "groups": 1, "bias": True,
                  "weight_layout": "[Cin, Cout/groups, kH, kW]"},
           {"x": x, "w": w, "b": b},
           lambda x, w, b: F.conv_transpose2d(x, w, b, stride=2, padding=1, output_padding=1),
           ["x", "w", "b"])


def bn_cases(fx):
    specs = [("bn_train_eps1e-5", (3, 6, 5, 7), True, 1e-5),
             ("bn_train_eps1e-3", (2, 5, 4, 9), True, 1e-3),
             ("bn_train_1x1", (3, 5, 1, 1), True, 1e-5),
             ("bn_eval_eps1e-5", (3, 6, 5, 7), False, 1e-5),
             ("bn_eval_eps1e-3", (2, 5, 4, 9), False, 1e-3)]
    for name, xs, training, eps in specs:
        g = gen_for(name)
        c = xs[1]
        x = randn(g, *xs, scale=1.5) + uniform(g, -1, 1, 1, c, 1, 1)
        inputs = {"x": x, "w": uniform(g, 0.5, 1.5, c), "b": uniform(g, -0.2, 0.2, c),
                  "running_mean": uniform(g, -0.2, 0.2, c), "running_var": uniform(g, 0.5, 2.0, c)}

        def fn(x, w, b, running_mean, running_var, training=training, eps=eps):
            rm, rv = running_mean.clone(), running_var.clone()
            y = F.batch_norm(x, rm, rv, w, b, training=training, momentum=0.1, eps=eps)
            return y, {"running_mean_out": rm, "running_var_out": rv}
        fx.add(name, {"op": "batch_norm", "training": training, "eps": eps, "momentum": 0.1,
                      "note": "training: normalise with the biased batch variance; running_var "
                              "updated with the unbiased one: r = (1-m) r + m v_unbiased"},
               inputs, fn, ["x", "w", "b"])


def activation_cases(fx):
    g = gen_for("gelu")
    fx.add("gelu", {"op": "gelu", "approximate": "none (erf)"}, {"x": randn(g, 2, 5, 7, 9, scale=2.0)},
           lambda x: F.gelu(x), ["x"])
    g = gen_for("prelu")
    fx.add("prelu", {"op": "prelu", "note": "one slope per channel (dim 1)"},
           {"x": randn(g, 2, 5, 7, 9), "w": uniform(g, -0.5, 0.5, 5)},
           lambda x, w: F.prelu(x, w), ["x", "w"])
    g = gen_for("leaky_relu")
    fx.add("leaky_relu", {"op": "leaky_relu", "negative_slope": 0.2}, {"x": randn(g, 2, 5, 7, 9)},
           lambda x: F.leaky_relu(x, 0.2), ["x"])
    g = gen_for("sigmoid")
    fx.add("sigmoid", {"op": "sigmoid"}, {"x": randn(g, 2, 5, 7, 9, scale=3.0)},
           lambda x: torch.sigmoid(x), ["x"])

    for name, groups, xs in (("softmax_groups_g2", 2, (2, 10, 1, 1)), ("softmax_groups_g3", 3, (2, 9, 3, 4))):
        g = gen_for(name)

        def fn(x, groups=groups):
            n, gc, h, w = x.shape
            return torch.softmax(x.view(n, groups, gc // groups, h, w), dim=1).view(n, gc, h, w)
        fx.add(name, {"op": "softmax_groups", "groups": groups,
                      "note": "channel index g*C + c; softmax over g for each (n, c, h, w)"},
               {"x": randn(g, *xs, scale=2.0)}, fn, ["x"])


def pool_cases(fx):
    specs = [("avgpool_k2s2p0", (2, 3, 9, 11), 2, 2, 0),
             ("avgpool_k3s2p1", (2, 3, 9, 11), 3, 2, 1),
             ("avgpool_k5s2p2", (2, 3, 11, 13), 5, 2, 2),
             ("avgpool_k9s4p4", (2, 3, 13, 15), 9, 4, 4),
             ("avgpool_k17s8p8", (2, 3, 19, 23), 17, 8, 8),
             ("avgpool_k5s2p2_net", (2, 4, 6, 8), 5, 2, 2),
             ("avgpool_k9s4p4_net", (2, 4, 6, 8), 9, 4, 4),
             ("avgpool_k17s8p8_net", (2, 4, 6, 8), 17, 8, 8)]
    for name, xs, k, s, p in specs:
        g = gen_for(name)
        fx.add(name, {"op": "avg_pool2d", "kernel": [k, k], "stride": [s, s], "padding": [p, p],
                      "count_include_pad": True, "ceil_mode": False},
               {"x": randn(g, *xs)}, lambda x, k=k, s=s, p=p: F.avg_pool2d(x, k, s, p), ["x"])
    for name, xs, k, s, p in (("maxpool_k2s2p0", (2, 3, 9, 11), 2, 2, 0),
                              ("maxpool_k3s2p1", (2, 3, 9, 11), 3, 2, 1)):
        g = gen_for(name)
        fx.add(name, {"op": "max_pool2d", "kernel": [k, k], "stride": [s, s], "padding": [p, p],
                      "ceil_mode": False, "note": "padding is -inf"},
               {"x": randn(g, *xs)}, lambda x, k=k, s=s, p=p: F.max_pool2d(x, k, s, p), ["x"])
    g = gen_for("global_avg_pool")
    fx.add("global_avg_pool", {"op": "global_avg_pool", "torch": "adaptive_avg_pool2d(x, 1)"},
           {"x": randn(g, 2, 5, 7, 9)}, lambda x: F.adaptive_avg_pool2d(x, 1), ["x"])
    g = gen_for("input_injection")
    fx.add("input_injection", {"op": "input_injection", "target_height": 4,
                               "note": "repeat avg_pool2d(3,2,1,count_include_pad) + max_pool2d(3,2,1) "
                                       "until the height is 4 (two rounds: 16x24 -> 8x12 -> 4x6)"},
           {"x": randn(g, 2, 3, 16, 24)}, lambda x: pt.inject_image(x, 4), ["x"])


def bilinear_src_scale(in_size, out_size, align_corners, scale_factor):
    """PyTorch's source-coordinate scale for one axis (what the kernel really uses)."""
    if align_corners:
        return (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    if scale_factor is not None:
        return 1.0 / scale_factor
    return in_size / out_size


def bilinear_numpy(x, out_hw, scales, align_corners):
    """Independent re-implementation used to validate the recorded scales."""
    x = x.numpy()
    in_h, in_w = x.shape[2:]

    def axis(n_out, n_in, scale):
        d = np.arange(n_out, dtype=np.float64)
        src = d * scale if align_corners else np.maximum((d + 0.5) * scale - 0.5, 0.0)
        i0 = np.minimum(np.floor(src).astype(np.int64), n_in - 1)
        i1 = np.minimum(i0 + 1, n_in - 1)
        lam = src - i0
        return i0, i1, lam
    h0, h1, lh = axis(out_hw[0], in_h, scales[0])
    w0, w1, lw = axis(out_hw[1], in_w, scales[1])
    top = x[:, :, h0][:, :, :, w0] * (1 - lw) + x[:, :, h0][:, :, :, w1] * lw
    bot = x[:, :, h1][:, :, :, w0] * (1 - lw) + x[:, :, h1][:, :, :, w1] * lw
    return top * (1 - lh)[:, None] + bot * lh[:, None]


def bilinear_cases(fx):
    specs = [  # name, x shape, size, scale_factor, align_corners
        ("bilinear_size_5x7_to_12x17", (2, 3, 5, 7), (12, 17), None, False),
        ("bilinear_x2", (2, 3, 4, 5), None, 2, False),
        ("bilinear_x4", (2, 3, 3, 5), None, 4, False),
        ("bilinear_x8", (2, 3, 3, 4), None, 8, False),
        ("bilinear_from_1x1", (2, 3, 1, 1), (6, 8), None, False),
        ("bilinear_down_half", (2, 3, 9, 11), None, 0.5, False),
        ("bilinear_ac_down_half", (2, 3, 9, 11), None, 0.5, True),
        ("bilinear_ac_up2", (2, 3, 4, 5), None, 2, True),
    ]
    for name, xs, size, sf, ac in specs:
        g = gen_for(name)
        x = randn(g, *xs)

        def fn(x, size=size, sf=sf, ac=ac):
            return F.interpolate(x, size=size, scale_factor=sf, mode="bilinear", align_corners=ac)
        with torch.no_grad():
            out_hw = list(fn(x).shape[2:])
        scales = [bilinear_src_scale(xs[2 + i], out_hw[i], ac, sf) for i in range(2)]
        ref = bilinear_numpy(x, out_hw, scales, ac)
        with torch.no_grad():
            err = np.abs(ref - fn(x).numpy()).max()
        assert err < 1e-12, f"{name}: recorded scales do not reproduce PyTorch ({err})"
        params = {"op": "bilinear_scale" if sf else "bilinear", "align_corners": ac, "out_size": out_hw, "src_scale": scales,
                  "size": list(size) if size else None, "scale_factor": sf,
                  "note": ("src = max((dst + 0.5) * src_scale - 0.5, 0)" if not ac else "src = dst * src_scale")
                  + "; i0 = floor(src), i1 = min(i0 + 1, in - 1), lambda = src - i0"}
        fx.add(name, params, {"x": x}, fn, ["x"])


def eca_cases(fx):
    for name, xs, k in (("channel_conv1d_k3", (2, 7, 1, 1), 3), ("channel_conv1d_k5", (3, 9, 1, 1), 5)):
        g = gen_for(name)

        def fn(x, w, k=k):
            n, c = x.shape[:2]
            return F.conv1d(x.view(n, 1, c), w, padding=(k - 1) // 2).view(n, c, 1, 1)
        fx.add(name, {"op": "channel_conv1d", "kernel": k, "padding": (k - 1) // 2, "bias": False,
                      "note": "1-D convolution along the channel axis of [N, C, 1, 1]"},
               {"x": randn(g, *xs), "w": randn(g, 1, 1, k, scale=0.5)}, fn, ["x", "w"])
    name = "eca_block_k3"
    g = gen_for(name)

    def eca(x, w):
        n, c = x.shape[:2]
        s = F.adaptive_avg_pool2d(x, 1).view(n, 1, c)
        return x * torch.sigmoid(F.conv1d(s, w, padding=1)).view(n, c, 1, 1)
    fx.add(name, {"op": "eca", "kernel": 3, "padding": 1,
                  "note": "x * sigmoid(conv1d_over_channels(global_avg_pool(x)))"},
           {"x": randn(g, 2, 32, 3, 5), "w": randn(g, 1, 1, 3, scale=0.5)}, eca, ["x", "w"])


def loss_cases(fx):
    name = "ce_mean"
    g = gen_for(name)
    fx.add(name, {"op": "cross_entropy", "ohem": False, "ignore_index": 255, "reduction": "mean",
                  "note": "mean of -log softmax(x)[t] over pixels with t != 255"},
           {"x": randn(g, 2, 5, 4, 6, scale=2.0), "target": labels(g, 5, (2, 4, 6), 0.15)},
           lambda x, target: F.cross_entropy(x, target, ignore_index=255), ["x"])
    name = "ce_weighted"
    g = gen_for(name)
    fx.add(name, {"op": "cross_entropy", "ohem": False, "ignore_index": 255, "reduction": "weighted mean",
                  "note": "sum_i weight[t_i] * nll_i / sum_i weight[t_i] over pixels with t != 255"},
           {"x": randn(g, 2, 5, 4, 6, scale=2.0), "target": labels(g, 5, (2, 4, 6), 0.15),
            "weight": uniform(g, 0.5, 3.0, 5)},
           lambda x, target, weight: F.cross_entropy(x, target, weight=weight, ignore_index=255), ["x"])

    for name, regime in (("ohem_threshold", "threshold"), ("ohem_min_kept", "min_kept")):
        g = gen_for(name)
        x = randn(g, 2, 5, 6, 7, scale=3.0)
        target = labels(g, 5, (2, 6, 7), 0.1)
        with torch.no_grad():
            _, probe = pt.ohem_cross_entropy(x, target, thresh=0.7, min_kept=0)
            n_below = probe["n_kept"]  # pixels with p_true < 0.7
        n_valid = probe["n_valid"]
        assert 4 < n_below < n_valid - 4, f"{name}: data does not allow both regimes"
        min_kept = n_below // 2 if regime == "threshold" else (n_below + n_valid) // 2

        def fn(x, target, min_kept=min_kept):
            loss, info = pt.ohem_cross_entropy(x, target, thresh=0.7, min_kept=min_kept)
            fn.info = info
            return loss
        fx.add(name, {"op": "cross_entropy", "ohem": True, "thresh": 0.7, "min_kept": min_kept, "ignore_index": 255},
               {"x": x, "target": target}, fn, ["x"])
        info = fn.info
        assert info["regime"] == regime, (name, info)
        fx.cases[name].update({"n_valid": info["n_valid"], "n_kept": info["n_kept"],
                               "threshold_used": info["threshold"], "regime": regime,
                               "note": "p = softmax(x)[t] over pixels with t != 255, sorted ascending; "
                                       "threshold = max(0.7, p_sorted[min(min_kept, n_valid - 1)]); "
                                       "loss = mean of nll over pixels with p < threshold (strict)"})


def optim_cases(fx):
    name = "sgd"
    g = gen_for(name)
    lrs = [0.1, 0.05, 0.02]
    m, wd = 0.9, 1e-4
    params = {"w": randn(g, 4, 3), "b": randn(g, 5)}
    grads = [{k: randn(g, *v.shape) for k, v in params.items()} for _ in lrs]
    live = {k: v.clone().requires_grad_(True) for k, v in params.items()}
    opt = torch.optim.SGD(list(live.values()), lr=lrs[0], momentum=m, weight_decay=wd,
                          dampening=0, nesterov=False)
    data = {"lr": torch.tensor(lrs, dtype=F64)}
    for k, v in params.items():
        data[f"{k}_step0"] = v.clone()
    manual = {k: v.clone() for k, v in params.items()}
    bufs = {}
    for step, (lr, gs) in enumerate(zip(lrs, grads), start=1):
        for group in opt.param_groups:
            group["lr"] = lr
        for k, p in live.items():
            p.grad = gs[k].clone()
        opt.step()
        for k, p in live.items():
            data[f"{k}_grad_step{step}"] = gs[k].clone()
            data[f"{k}_step{step}"] = p.detach().clone()
            data[f"{k}_buf_step{step}"] = opt.state[p]["momentum_buffer"].clone()
            d = gs[k] + wd * manual[k]  # independent check of the documented rule
            bufs[k] = d if step == 1 else m * bufs[k] + d
            manual[k] = manual[k] - lr * bufs[k]
            assert torch.allclose(manual[k], p.detach(), rtol=0, atol=1e-14)
    fx.add_data(name, {"op": "sgd", "momentum": m, "weight_decay": wd, "dampening": 0, "nesterov": False,
                       "steps": len(lrs), "params": sorted(params),
                       "note": "d = g + wd*p; buf = d (step 1) else m*buf + d; p -= lr*buf"}, data)

    name = "poly_lr"
    base, total, power = 0.045, 5000, 0.9
    iters = [0, 1, 2, 100, 2500, 4998, 4999]
    fx.add_data(name, {"op": "poly_lr", "base": base, "total": total, "power": power,
                       "note": "lr = base * (1 - iter/total)^power"},
                {"iter": torch.tensor(iters, dtype=torch.int64),
                 "lr": torch.tensor([pt.poly_lr(base, i, total, power) for i in iters], dtype=F64)})


def make_ops():
    fx = OpFixture()
    for builder in (conv_cases, bn_cases, activation_cases, pool_cases, bilinear_cases, eca_cases,
                    loss_cases, optim_cases):
        builder(fx)
    check_against_op_table(fx.cases, read_op_table())
    meta = {"generator": "tools/make_fixtures.py", "generator_version": GENERATOR_VERSION,
            "torch": torch.__version__, "dtype": "float64 (labels int64)",
            "cases": json.dumps(sorted(fx.cases))}
    for name, params in fx.cases.items():
        meta["case." + name] = json.dumps(params, sort_keys=True)
    return st.serialize(fx.tensors, meta), fx


# --------------------------------------------------------------------------- model fixtures

MODEL_SEED = {"gelu": 20240601, "prelu": 20240602}
MODEL_INPUT = (2, 3, 48, 64)
CLASSES = 19
OUTPUT_NAMES = ("logits", "aux_x4", "aux_x8")


def build_reference_model(act):
    """PMSDSEN with PyTorch's default initialisation (float32), then every BN's weight,
    bias, running mean and variance (and every PReLU slope) randomised."""
    seed = MODEL_SEED[act]
    torch.manual_seed(seed)
    model = pt.PMSDSEN(CLASSES, act)
    g = torch.Generator().manual_seed(seed + 1)
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) + 0.5)          # U[0.5, 1.5]
                m.bias.copy_(torch.rand(m.bias.shape, generator=g) * 0.4 - 0.2)        # U[-0.2, 0.2]
                m.running_mean.copy_(torch.rand(m.running_mean.shape, generator=g) * 0.4 - 0.2)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=g) * 1.5 + 0.5)  # U[0.5, 2]
            elif isinstance(m, nn.PReLU):
                m.weight.copy_(torch.rand(m.weight.shape, generator=g) * 0.3 + 0.1)    # U[0.1, 0.4]
    x = torch.randn(MODEL_INPUT, generator=g)
    target = torch.randint(0, CLASSES, (MODEL_INPUT[0],) + MODEL_INPUT[2:], generator=g)
    target[torch.rand(target.shape, generator=g) < 0.1] = 255
    return model, x, target


def run_reference(model, x, target, with_grads):
    """Eval outputs, then one training forward (batch statistics, buffers updated), the
    loss (sum of the three unweighted CE, ignore 255) and its gradients."""
    res = {}
    model.eval()
    with torch.no_grad():
        res["eval"] = [o.detach() for o in model(x)]
    model.train()
    model.zero_grad(set_to_none=True)
    outs = model(x)
    ces = [F.cross_entropy(o, target, ignore_index=255) for o in outs]
    loss = ces[0] + ces[1] + ces[2]
    res["train"] = [o.detach() for o in outs]
    res["ces"] = [c.detach() for c in ces]
    res["loss"] = loss.detach()
    if with_grads:
        loss.backward()
        res["grads"] = {k: p.grad.detach().clone() for k, p in model.named_parameters()}
    res["buffers"] = {k: b.detach().clone() for k, b in model.named_buffers()
                      if k.endswith("running_mean") or k.endswith("running_var")}
    return res


def make_model(act, with_grads):
    model32, x, target = build_reference_model(act)
    state = {k: v.detach().clone() for k, v in model32.state_dict().items()}
    ref = run_reference(copy.deepcopy(model32).double(), x.double(), target, with_grads)
    # PyTorch's own float32 run, to document how far a float32 implementation may land.
    f32 = run_reference(copy.deepcopy(model32), x, target, with_grads)

    tensors = dict(state)
    tensors["input"] = x
    tensors["target"] = target
    for i, n in enumerate(OUTPUT_NAMES):
        tensors[f"eval.{n}"] = ref["eval"][i].float()
        tensors[f"train.{n}"] = ref["train"][i].float()
        tensors[f"train.ce_{n}"] = ref["ces"][i].float().reshape(1)
    tensors["train.loss"] = ref["loss"].float().reshape(1)
    for k, v in ref["buffers"].items():
        tensors[f"train_buffers.{k}"] = v.float()
    if with_grads:
        for k, v in ref["grads"].items():
            tensors[f"grad.{k}"] = v.float()

    def md(a, b):
        return max((u.double() - v.double()).abs().max().item() for u, v in zip(a, b))
    meta = {"generator": "tools/make_fixtures.py", "generator_version": GENERATOR_VERSION,
            "torch": torch.__version__, "classes": str(CLASSES), "act": act,
            "input_shape": ",".join(map(str, MODEL_INPUT)), "seed": str(MODEL_SEED[act]),
            "reference_dtype": "float64 (from the stored float32 weights and input), stored as float32",
            "state_dict_tensors": str(len(state)), "parameters": str(pt.count_parameters(model32)),
            "loss": "train.loss = CE(logits) + CE(aux_x4) + CE(aux_x8), each mean over target != 255",
            "f32_vs_f64.eval_max_abs_diff": f"{md(ref['eval'], f32['eval']):.3e}",
            "f32_vs_f64.train_max_abs_diff": f"{md(ref['train'], f32['train']):.3e}",
            "f32_vs_f64.loss_abs_diff": f"{abs(ref['loss'].item() - f32['loss'].item()):.3e}",
            "f32_vs_f64.buffers_max_abs_diff":
                f"{md(list(ref['buffers'].values()), list(f32['buffers'].values())):.3e}",
            "max_abs.eval": f"{max(o.abs().max().item() for o in ref['eval']):.4g}",
            "max_abs.train": f"{max(o.abs().max().item() for o in ref['train']):.4g}"}
    if with_grads:
        g64, g32 = ref["grads"], f32["grads"]
        gd = max((g64[k] - g32[k].double()).abs().max().item() for k in g64)
        # Conv biases feeding a training-mode BN have an exactly zero true gradient
        # (what is stored is rounding noise): compare those with an absolute tolerance.
        zero = [k for k in g64 if g64[k].abs().max().item() < 1e-9]
        rel = max(((g64[k] - g32[k].double()).abs().max() / g64[k].abs().max()).item()
                  for k in g64 if k not in zero)
        meta["f32_vs_f64.grad_max_abs_diff"] = f"{gd:.3e}"
        meta["f32_vs_f64.grad_max_rel_diff_per_nonzero_tensor"] = f"{rel:.3e}"
        meta["grad_zero_tensors"] = str(len(zero))
        meta["grad_zero_patterns"] = json.dumps(sorted({re.sub(r"layer\d", "layerN", re.sub(r"\.\d+\.", ".N.", re.sub(r"\.\d+\.", ".N.", k)))
                                                        for k in zero}))
        meta["max_abs.grad"] = f"{max(v.abs().max().item() for v in ref['grads'].values()):.4g}"
    return st.serialize(tensors, meta), meta


# --------------------------------------------------------------------------- MACs

def make_macs():
    gelu = pt.PMSDSEN(CLASSES, "gelu")
    prelu = pt.PMSDSEN(CLASSES, "prelu")
    main_size = (1, 3, 512, 1024)
    macs = pt.count_macs(gelu, main_size)
    assert pt.count_macs(prelu, main_size)["total"] == macs["total"]
    other = {}
    for h, w in ((48, 64), (256, 512), (360, 480), (1024, 2048)):
        other[f"{h}x{w}"] = pt.count_macs(gelu, (1, 3, h, w))["total"]
    doc = {
        "generator": "tools/make_fixtures.py", "generator_version": GENERATOR_VERSION,
        "classes": CLASSES, "input": list(main_size),
        "counted": "Conv2d, ConvTranspose2d, Conv1d; one image; biases not counted; "
                   "conv: out elements * (Cin/groups) * kH * kW; transposed conv: in elements * "
                   "(Cout/groups) * kH * kW",
        "total_macs": macs["total"], "total_gmacs": round(macs["total"] / 1e9, 2),
        "macs_by_type": macs["by_type"],
        "total_macs_at": other,
        "parameters": {"gelu": pt.count_parameters(gelu), "prelu": pt.count_parameters(prelu)},
        "state_dict_tensors": {"gelu": len(gelu.state_dict()), "prelu": len(prelu.state_dict())},
        "layers": macs["layers"],
    }
    lines = json.dumps({k: v for k, v in doc.items() if k != "layers"}, indent=1, sort_keys=True)
    body = ",\n".join("  " + json.dumps(r, sort_keys=True) for r in doc["layers"])
    text = lines[:-2] + ',\n "layers": [\n' + body + "\n ]\n}\n"
    json.loads(text)  # well-formed
    return text.encode("utf-8"), doc


# --------------------------------------------------------------------------- driver

# --------------------------------------------------------------------------- README

OP_NOTES = {
    "conv2d": "`y = conv2d(x, w, b)`; `w` is `[Cout, Cin/groups, kH, kW]`; zero padding. "
              "Depthwise cases (`dwconv*`) have groups = channels.",
    "conv_transpose2d": "`y = conv_transpose2d(x, w, b)`, PyTorch layout `w` = `[Cin, Cout/groups, kH, kW]`; "
                        "output size `(in - 1) * stride - 2 * padding + k + output_padding`.",
    "batch_norm": "`x` `[N, C, H, W]`, `w`/`b` = gamma/beta, `running_mean`/`running_var` the statistics "
                  "before the call, `running_mean_out`/`running_var_out` after it. Training mode normalises "
                  "with the batch mean and the biased batch variance and updates "
                  "`r = (1 - momentum) * r + momentum * stat` with the unbiased variance "
                  "(`N*H*W / (N*H*W - 1)` times the biased one); evaluation mode uses the running statistics "
                  "and leaves them unchanged. `bn_train_1x1` is the shape the DWFF and MSSE pooled branches "
                  "see (batch statistics over N values).",
    "gelu": "exact GELU `x * Phi(x) = 0.5 * x * (1 + erf(x / sqrt(2)))`.",
    "prelu": "`y = x if x > 0 else w[c] * x`, one slope per channel; `gw` is the slope gradient.",
    "leaky_relu": "`y = x if x > 0 else 0.2 * x`.",
    "sigmoid": "`y = 1 / (1 + exp(-x))`.",
    "softmax_groups": "`x` is `[N, G*C, H, W]` with channel index `g*C + c`; softmax over `g` for each "
                      "`(n, c, h, w)` (DWFF: G = 2 on `[N, 2C, 1, 1]`).",
    "avg_pool2d": "count_include_pad=True (the divisor is always kH*kW here), ceil_mode=False: "
                  "`out = floor((in + 2p - k) / s) + 1`. `_net` cases use the MSSE kernels on the "
                  "6 x 8 map that a 48 x 64 input gives at H/8.",
    "max_pool2d": "ceil_mode=False, padding is -inf; the gradient goes to the (unique) maximum.",
    "global_avg_pool": "global average pool to 1 x 1 (`F.adaptive_avg_pool2d(x, 1)`).",
    "input_injection": "the RGB reduction of the Down blocks: repeat `avg_pool2d(x, 3, 2, 1) + max_pool2d(x, 3, 2, 1)` "
                       "until the height equals `target_height`.",
    "bilinear": "mode bilinear. `src_scale` is the scale PyTorch really uses per axis (H, W): with "
                "align_corners=False `src = max((dst + 0.5) * src_scale - 0.5, 0)`, where `src_scale` = "
                "`1/scale_factor` when a scale factor is given (NOT in/out: see `bilinear_down_half`, "
                "9 -> 4 rows with src_scale 2.0, not 2.25) and `in/out` when a size is given; with "
                "align_corners=True `src = dst * (in - 1)/(out - 1)`. Then `i0 = floor(src)`, "
                "`i1 = min(i0 + 1, in - 1)`, `lambda = src - i0`. The generator re-checks these formulas "
                "against PyTorch's output. The align_corners=True cases are the authors' evaluation resizes.",
    "bilinear_scale": "`bilinear` with the output size from a scale factor, `out = floor(in * scale_factor)`, "
                      "and `src_scale = 1/scale_factor` (align_corners=False), as described under `bilinear`.",
    "channel_conv1d": "`x` is `[N, C, 1, 1]`, seen as `[N, 1, C]`; 1-D cross-correlation with `w` `[1, 1, k]`, "
                  "zero padding `(k-1)/2`, no bias; `y` back to `[N, C, 1, 1]`.",
    "eca": "the whole ECA unit: `y = x * sigmoid(conv1d_over_channels(global_avg_pool(x)))`.",
    "cross_entropy": "`x` logits `[N, classes, H, W]`, `target` int64 `[N, H, W]` with 255 = ignored. "
                     "`y` (shape [1]) = mean of `-log_softmax(x)[t]` over labelled pixels; with `weight`: "
                     "`sum w[t] * nll / sum w[t]` over labelled pixels.",
    "cross_entropy (ohem)": "the authors' `OhemCrossEntropy._ohem_forward`: `p` = softmax probability of the "
                          "true class for labelled pixels, sorted ascending; `threshold = max(thresh, "
                          "p_sorted[min(min_kept, n_valid - 1)])`; `y` = mean nll over pixels with "
                          "`p < threshold` (strict). `n_kept`, `threshold_used`, `regime` are recorded.",
    "sgd": "PyTorch SGD, momentum 0.9, dampening 0, weight decay 1e-4, not Nesterov. For each parameter "
           "`P` in (`w`, `b`): `P_step0` initial value; for step s = 1..3 with `lr[s-1]` and gradient "
           "`P_grad_step<s>`: `d = grad + wd * p`; `buf = d` at step 1, else `buf = 0.9 * buf + d`; "
           "`p -= lr * buf`. `P_step<s>` and `P_buf_step<s>` are the parameter and momentum buffer after step s.",
    "poly_lr": "`lr = base * (1 - iter / total) ** power` for each `iter`.",
}

HIDDEN_KEYS = {"tensors", "shapes", "grads_of", "note", "op", "kind"}


def _fmt_val(v):
    return json.dumps(v)  # floats as their shortest round-trip repr


def make_readme(fx, gelu_meta, prelu_meta, macs_doc):
    L = []
    a = L.append
    a("# Golden fixtures")
    a("")
    a("Reference values the C++ tests compare against. **Generated, do not edit**: this README and every")
    a("file here are written by `tools/make_fixtures.py` (PyTorch, float64, fixed seeds, one thread).")
    a("")
    a("```sh")
    a("tools/setup.sh --torch                            # Debian's python3-torch (1.13) and numpy")
    a("/usr/bin/python3 tools/make_fixtures.py           # rewrite everything here (a few seconds)")
    a("/usr/bin/python3 tools/make_fixtures.py --check   # regenerate in memory and compare bytes")
    a("```")
    a("")
    a("Regenerating with the same PyTorch gives identical bytes. Another PyTorch version may change the")
    a("last bits of the float64 values (and the `torch` metadata entry).")
    a("")
    a("| file | contents |")
    a("|---|---|")
    a("| `ops.safetensors` | one case per operator configuration, float64 (labels int64) |")
    a("| `pmsdsen_gelu.safetensors` | PMSDSEN(19 classes, GELU): weights, input, eval and training outputs, "
      "loss, parameter gradients, updated BN statistics |")
    a("| `pmsdsen_prelu.safetensors` | PMSDSEN(19 classes, PReLU): the same without gradients |")
    a("| `macs.json` | multiply-accumulates per layer at 1x3x512x1024, totals, parameter and tensor counts |")
    a("")
    a("## File format")
    a("")
    a("safetensors: 8-byte little-endian header length, a JSON header padded with spaces to a multiple")
    a("of 8 (`{name: {dtype, shape, data_offsets}, \"__metadata__\": {str: str}}`), then the raw")
    a("little-endian data. Tensors are stored widest dtype first and by name, so each one is aligned to")
    a("its element size. dtypes used: `F64`, `F32`, `I64`. Scalars (losses) have shape `[1]`.")
    a("`tools/safetensors_io.py FILE` prints a file's tensors and metadata.")
    a("")
    a("## ops.safetensors")
    a("")
    a("Tensor names are `<case>.<tensor>`. For every case with gradients: the inputs (`x`, `w`, `b`, ...),")
    a("the output `y`, a random upstream gradient `gy` (same shape as `y`), and for each input listed in")
    a("`grads_of` its gradient `g<input>` = d sum(y * gy) / d input. Every case's parameters are also in")
    a("the metadata, machine-readable: `__metadata__[\"case.<name>\"]` is a JSON object with `op`, the")
    a("parameters below, `tensors`, `shapes` and `grads_of`; `__metadata__[\"cases\"]` lists the case names.")
    a("`op` is an entry of the op table (`autograd/op_table.def`; every op marked PYTORCH there has cases")
    a("here, which the generator and `tests/test_op_table.cpp` check) when `kind` is `op`; `kind` `module`")
    a("or `schedule` marks a case that checks a composition (a module of `layers/`, the learning rate).")
    a("Inputs are random (per-case seeds from the case name); weights are scaled like 1/sqrt(fan_in).")
    a("")
    by_op = {}
    for name, params in fx.cases.items():
        key = params["op"] + (" (ohem)" if params.get("ohem") else "")
        by_op.setdefault(key, []).append(name)
    for op, names in by_op.items():
        kind = fx.cases[names[0]]["kind"]
        a(f"### {op}" + ("" if kind == "op" else f" ({kind})"))
        a("")
        a(OP_NOTES[op])
        a("")
        a("| case | parameters | tensors (shape) | gradients of |")
        a("|---|---|---|---|")
        for name in names:
            c = fx.cases[name]
            ps = ", ".join(f"{k}={_fmt_val(v)}" for k, v in sorted(c.items()) if k not in HIDDEN_KEYS)
            ts = ", ".join(f"`{k}` {v}" for k, v in c["shapes"].items())
            go = ", ".join(c.get("grads_of", [])) or "-"
            a(f"| `{name}` | {ps} | {ts} | {go} |")
        a("")
    a("## pmsdsen_gelu.safetensors and pmsdsen_prelu.safetensors")
    a("")
    a("Reference runs of `tools/pmsdsen_torch.PMSDSEN(19, act)` (checked equal to the authors' model by")
    a("`tools/check_against_authors.py`).")
    a("")
    a("How they are made: PyTorch's default initialisation (float32, `torch.manual_seed(seed)`), then")
    a("every BatchNorm's weight ~ U[0.5, 1.5], bias ~ U[-0.2, 0.2], running_mean ~ U[-0.2, 0.2],")
    a("running_var ~ U[0.5, 2.0], and (PReLU) every slope ~ U[0.1, 0.4]. These float32 values are stored;")
    a("the reference computation promotes exactly them (and the float32 input) to float64, runs in")
    a("float64 and stores the results as float32.")
    a("")
    a("| tensor | dtype, shape | meaning |")
    a("|---|---|---|")
    a("| `<state-dict key>` | F32 (`num_batches_tracked`: I64, 0) | the full state dict, keys as in the "
      "authors' model (1,898 tensors with GELU, 2,027 with PReLU) |")
    a("| `input` | F32 [2, 3, 48, 64] | standard normal |")
    a("| `target` | I64 [2, 48, 64] | classes 0..18, about 10 % of pixels 255 (ignored) |")
    a("| `eval.logits`, `eval.aux_x4`, `eval.aux_x8` | F32 [2, 19, 48, 64] | evaluation mode (running "
      "statistics) outputs: seg_head_x2 upsampled x2, seg_head_x4 x4, seg_head_x8 x8 |")
    a("| `train.logits`, `train.aux_x4`, `train.aux_x8` | F32 [2, 19, 48, 64] | training mode (batch "
      "statistics), from the same stored state |")
    a("| `train.ce_logits`, `train.ce_aux_x4`, `train.ce_aux_x8` | F32 [1] | cross-entropy of each "
      "training output (mean over pixels with target != 255, no class weights) |")
    a("| `train.loss` | F32 [1] | `ce_logits + ce_aux_x4 + ce_aux_x8` |")
    a("| `train_buffers.<bn>.running_mean`, `.running_var` | F32 | every BN's statistics after that one "
      "training forward (momentum 0.1, unbiased variance) |")
    a("| `grad.<parameter>` | F32 | (GELU file only) d train.loss / d parameter, for every parameter |")
    a("")
    a("The evaluation forward runs first, from the stored state; the training forward then runs from the")
    a("same stored state (it updates the running statistics once; `num_batches_tracked` becomes 1, not")
    a("stored). BN in training mode includes the DWFF `conv_du` BN and the MSSE `x4` BN, which see")
    a("`[N, C, 1, 1]` maps: their batch statistics are over the N = 2 images.")
    a("")
    a(f"Gradients: {gelu_meta.get('grad_zero_tensors')} of the `grad.*` tensors are biases of layers that feed a")
    a("training-mode BN: their true gradient is exactly zero and the stored values are float64 rounding")
    a("noise (< 1e-9). Compare gradients with an absolute tolerance scaled to the largest gradient, not")
    a("per-tensor relative. They are (N = any index; metadata `grad_zero_patterns`):")
    a("")
    for pat in json.loads(gelu_meta.get("grad_zero_patterns", "[]")):
        a(f"- `{pat}`")
    a("")
    a("Tolerance hints, from PyTorch's own float32 run of the same case against the float64 reference")
    a("(also in each file's metadata, `f32_vs_f64.*`, `max_abs.*`):")
    a("")
    a("| quantity | GELU | PReLU |")
    a("|---|---|---|")
    for k in sorted(gelu_meta):
        if k.startswith("f32_vs_f64.") or k.startswith("max_abs."):
            a(f"| `{k}` | {gelu_meta[k]} | {prelu_meta.get(k, '-')} |")
    a("")
    a("Metadata: `classes`, `act`, `input_shape`, `seed`, `parameters`, `state_dict_tensors`, `loss`,")
    a("`reference_dtype`, `generator`, `generator_version`, `torch`.")
    a("")
    a("Note on the loss: the contract (and these fixtures) sum the three cross-entropies unweighted. The")
    a("authors' `Trainer_seg.py` actually trains with `CE(logits) + 0.1 * CE(aux_x4) + 0.1 * CE(aux_x8)`;")
    a("the three terms are stored separately so a test can form either.")
    a("")
    a("## macs.json")
    a("")
    a(f"Counted: {macs_doc['counted']}. Fields: `total_macs` (= {macs_doc['total_macs']:,} at "
      f"{'x'.join(map(str, macs_doc['input']))}), `total_gmacs`, `macs_by_type`, `total_macs_at` (totals "
      "at other input sizes, `HxW`), `parameters` and `state_dict_tensors` for gelu and prelu, `layers`: one "
      "record per counted layer call in execution order with `name` (module key), `type`, `in_shape` and "
      "`out_shape` (without the batch), `kernel`, `stride`, `groups`, `macs`. The counts are the same "
      "for GELU and PReLU. (The contract notes that the authors' own counter reports about 10.27 G; it "
      "counts differently.)")
    a("")
    return ("\n".join(L)).encode("utf-8")


class Builder:
    """Builds each output once (the README is made from the others' contents)."""

    def __init__(self):
        self._cache = {}

    def _get(self, key, fn):
        if key not in self._cache:
            self._cache[key] = fn()
        return self._cache[key]

    def ops(self):
        return self._get("ops", make_ops)

    def model(self, act):
        return self._get(act, lambda: make_model(act, act == "gelu"))

    def macs(self):
        return self._get("macs", make_macs)

    def readme(self):
        return make_readme(self.ops()[1], self.model("gelu")[1], self.model("prelu")[1], self.macs()[1])


OUTPUTS = {
    "ops": ("ops.safetensors", lambda b: b.ops()[0]),
    "gelu": ("pmsdsen_gelu.safetensors", lambda b: b.model("gelu")[0]),
    "prelu": ("pmsdsen_prelu.safetensors", lambda b: b.model("prelu")[0]),
    "macs": ("macs.json", lambda b: b.macs()[0]),
    "readme": ("README.md", lambda b: b.readme()),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--out", default=DEFAULT_OUT, help=f"output folder (default {DEFAULT_OUT})")
    p.add_argument("--only", choices=sorted(OUTPUTS), action="append",
                   help="generate only this output (repeatable)")
    p.add_argument("--check", action="store_true",
                   help="do not write; regenerate and compare with the files in --out (exit 1 on difference)")
    args = p.parse_args(argv)
    torch.set_num_threads(1)  # results must not depend on the thread count
    if not args.check:
        os.makedirs(args.out, exist_ok=True)
    elif not os.path.isdir(args.out):
        p.error(f"--out {args.out}: no such folder")
    status = 0
    builder = Builder()
    for key in (args.only or list(OUTPUTS)):
        fname, build = OUTPUTS[key]
        path = os.path.join(args.out, fname)
        data = build(builder)
        digest = hashlib.sha256(data).hexdigest()[:16]
        if args.check:
            try:
                with open(path, "rb") as f:
                    old = f.read()
            except OSError as e:
                print(f"{path}: cannot read ({e.strerror})")
                status = 1
                continue
            same = old == data
            print(f"{path}: {'identical' if same else 'DIFFERS'} ({len(data)} bytes, sha256 {digest}...)")
            status |= 0 if same else 1
        else:
            st.atomic_write_bytes(path, data)
            print(f"wrote {path}: {len(data):,} bytes, sha256 {digest}...")
    return status


if __name__ == "__main__":
    sys.exit(main())
