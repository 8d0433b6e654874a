#!/usr/bin/env python3
"""PMSDSEN in plain PyTorch: the reference the C++ library is checked against.

This is an independent definition of the network described in
docs/pmsdsen-architecture.md (shared/docs). Internal class names are ours; the module
attribute names, their registration order, the parameter shapes and the forward
arithmetic follow the authors' released model, so that a state dict saved by their code
loads here with strict=True (and into the C++ library by name) and gives the same
outputs.

Library use (run with Debian's /usr/bin/python3, which has PyTorch 1.13; see
tools/setup.sh --torch):
    import pmsdsen_torch as pt
    net = pt.PMSDSEN(classes=19, act='gelu')
    logits, aux_x4, aux_x8 = net(images)             # N x classes x H x W each
    pt.count_parameters(net)                         # 922373
    pt.count_macs(net, (1, 3, 512, 1024))            # per-layer MACs and the total

Run as a script it prints the parameter count, state-dict size and MACs:
    /usr/bin/python3 tools/pmsdsen_torch.py [--classes 19] [--act gelu] [--size 512 1024]
"""

import argparse
import copy
import math
import sys

import torch
import torch.nn as nn
import torch.nn.functional as F

BASE_WIDTH = 32
ACTIVATIONS = ("gelu", "prelu")


# --------------------------------------------------------------------------- building blocks

def make_act(name, channels):
    """GELU (exact erf form, no parameters) or PReLU with one slope per channel (init 0.25)."""
    if name == "gelu":
        return nn.GELU()
    if name == "prelu":
        return nn.PReLU(channels)
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def conv_bn(cin, cout, k=1, stride=1, pad=0, dil=1, groups=1, bias=False, act=None, lead=()):
    """Sequential([*lead, Conv2d, BatchNorm2d, (act)]): the CBA / CB pattern.
    `lead` are parameter-free modules placed first (they shift the key indices)."""
    layers = list(lead)
    layers.append(nn.Conv2d(cin, cout, k, stride=stride, padding=pad, dilation=dil,
                            groups=groups, bias=bias))
    layers.append(nn.BatchNorm2d(cout))
    if act is not None:
        layers.append(make_act(act, cout))
    return nn.Sequential(*layers)


class Named(nn.Module):
    """Holds one child under a given attribute name (gives keys like `x.cbr.0.weight`)."""

    def __init__(self, attr, body):
        super().__init__()
        self._attr = attr
        self.add_module(attr, body)

    def forward(self, x):
        return getattr(self, self._attr)(x)


def bn_act(ch, act):
    """BatchNorm2d + activation, under `.br` (keys `.br.0`, `.br.1`)."""
    return Named("br", nn.Sequential(nn.BatchNorm2d(ch), make_act(act, ch)))


def eca_kernel_size(ch, gamma=2, b=1):
    t = int(abs((math.log(ch, 2) + b) / gamma))
    return t if t % 2 else t + 1


class ECA(nn.Module):
    """Efficient channel attention: x * sigmoid(conv1d_over_channels(mean_hw(x)))."""

    def __init__(self, ch):
        super().__init__()
        k = eca_kernel_size(ch)
        self.conv = nn.Conv1d(1, 1, kernel_size=k, padding=(k - 1) // 2, bias=False)

    def forward(self, x):
        n, c = x.shape[:2]
        s = F.adaptive_avg_pool2d(x, 1).view(n, 1, c)
        gate = torch.sigmoid(self.conv(s)).view(n, c, 1, 1)
        return x * gate


class DetailHalf(nn.Module):
    """Pointwise compression to ceil(cout/2) channels, then a depthwise 3x3 on it;
    output is both, concatenated (the LDIBasic unit)."""

    def __init__(self, cin, cout, act):
        super().__init__()
        h = math.ceil(cout / 2)
        self.compress = conv_bn(cin, h, 1, act=act)
        self.process = conv_bn(h, h, 3, pad=1, groups=h, act=act)

    def forward(self, x):
        a = self.compress(x)
        return torch.cat([a, self.process(a)], dim=1)


class DetailBranch(nn.Module):
    """Local detail branch (LDI): residual around DetailHalf, ECA, DetailHalf."""

    def __init__(self, ch, act):
        super().__init__()
        self.conv = nn.Sequential(DetailHalf(ch, ch, act), ECA(ch), DetailHalf(ch, ch, act))

    def forward(self, x):
        return self.conv(x) + x


class CascadedDilations(nn.Module):
    """Long-range multi-scale unit (LRMS). Always GELU: the released model never hands
    its activation choice down to this unit."""

    def __init__(self, dim, parts=4):
        super().__init__()
        c = dim // parts
        self.parts = parts
        for i in range(1, parts + 1):  # x1..x4: depthwise 3x3 with dilation i
            self.add_module(f"x{i}", conv_bn(c, c, 3, pad=i, dil=i, groups=c, bias=True, act="gelu"))
        self.head = conv_bn(dim, dim, 1, bias=True, act="gelu")
        self.tail = conv_bn(dim, dim, 1, bias=True)
        self.tail_act = make_act("gelu", dim)

    def forward(self, x):
        pieces = torch.chunk(self.head(x), self.parts, dim=1)
        outs = []
        prev = None
        for i, piece in enumerate(pieces):
            branch = getattr(self, f"x{i + 1}")
            prev = branch(piece if prev is None else piece + prev)
            outs.append(prev)
        return self.tail_act(self.tail(torch.cat(outs, dim=1)) + x)


class LongRangeHalf(nn.Module):
    """MSLRIBasic: a = CBA 1x1 (bias) to ceil(cout/2); concat[a, LRMS(a)][:, :cout]."""

    def __init__(self, cin, cout, act):
        super().__init__()
        self.cout = cout
        h = math.ceil(cout / 2)
        self.conv = conv_bn(cin, h, 1, bias=True, act=act)
        self.LRMS = CascadedDilations(h)

    def forward(self, x):
        a = self.conv(x)
        return torch.cat([a, self.LRMS(a)], dim=1)[:, :self.cout]


class LongRangeBranch(nn.Module):
    """MSLRI: residual around LongRangeHalf, ECA, LongRangeHalf."""

    def __init__(self, ch, act):
        super().__init__()
        self.conv = nn.Sequential(LongRangeHalf(ch, ch, act), ECA(ch), LongRangeHalf(ch, ch, act))

    def forward(self, x):
        return self.conv(x) + x


class EncoderUnit(nn.Module):
    """The PMSDSE unit the network stacks (channel count preserved)."""

    def __init__(self, ch, act):
        super().__init__()
        # Registration order matters for the state-dict order; it follows the released
        # model (its parameter-free channel shuffle with groups=ch is the identity and is
        # left out here).
        self.LDI = DetailBranch(ch, act)
        self.MSLRI = LongRangeBranch(ch, act)
        self.Attn = ECA(ch)
        self.bn_act = bn_act(ch, act)
        self.conv1x1 = conv_bn(ch, ch, 1, bias=True)
        self.Attn_output = ECA(ch)
        self.entry_bn_act = bn_act(ch, act)
        self.act_out = make_act(act, ch)

    def forward(self, x):
        y = self.entry_bn_act(x)
        y = self.LDI(y) + self.MSLRI(y) + self.Attn(y)
        y = self.Attn_output(self.conv1x1(self.bn_act(y)))
        return self.act_out(y + x)


def inject_image(image, height):
    """Shrinks the RGB input by repeated avg_pool3x3/s2/p1 + max_pool3x3/s2/p1 until its
    height equals `height`."""
    if image.shape[2] == height:
        return image
    while True:
        image = (F.avg_pool2d(image, 3, stride=2, padding=1)
                 + F.max_pool2d(image, 3, stride=2, padding=1))
        if image.shape[2] == height:
            return image
        if image.shape[2] < height:
            raise ValueError(f"cannot reduce the image to height {height}")


class DownBlock(nn.Module):
    """DownSamplingBlock: strided 3x3 CBA on concat[x, image]; if widening, append
    maxpool2x2(x) + avgpool2x2(x); then BN + act."""

    def __init__(self, cin, cout, act):
        super().__init__()
        self.widen = cin < cout
        n = cout - cin if self.widen else cout
        self.conv3x3 = Named("cbr", conv_bn(cin + 3, n, 3, stride=2, pad=1, act=act))
        self.bn_act = bn_act(cout, act)

    def forward(self, x, image):
        y = self.conv3x3(torch.cat([x, inject_image(image, x.shape[2])], dim=1))
        if self.widen:
            y = torch.cat([y, F.max_pool2d(x, 2, 2) + F.avg_pool2d(x, 2, 2)], dim=1)
        return self.bn_act(y)


class UpBlock(nn.Module):
    """UpsamplerBlock: ConvTranspose2d 3x3/s2/p1/op1 (bias), BN with eps 1e-3, act."""

    def __init__(self, cin, cout, act):
        super().__init__()
        self.conv = nn.ConvTranspose2d(cin, cout, 3, stride=2, padding=1, output_padding=1, bias=True)
        self.bn = nn.BatchNorm2d(cout, eps=1e-3)
        self.act = make_act(act, cout)

    def forward(self, x):
        return self.act(self.bn(self.conv(x)))


class WeightedFusion(nn.Module):
    """DWFF: per-channel softmax weights over the pair (a, b) from pooled a + b."""

    def __init__(self, ch, reduction):
        super().__init__()
        d = max(int(ch / reduction), 4)
        self.conv_du = nn.Sequential(nn.Conv2d(ch, d, 1, bias=True), nn.BatchNorm2d(d), nn.LeakyReLU(0.2))
        self.fcs = nn.ModuleList([nn.Conv2d(d, ch, 1, bias=True) for _ in range(2)])

    def forward(self, a, b):
        z = self.conv_du(F.adaptive_avg_pool2d(a + b, 1))
        w = torch.softmax(torch.stack([fc(z) for fc in self.fcs], dim=1), dim=1)
        return a * w[:, 0] + b * w[:, 1]


POOL_BRANCHES = ((5, 2), (9, 4), (17, 8))  # (kernel, stride) of MSSE x1..x3, padding k//2


class SemanticPyramid(nn.Module):
    """MSSE: pooled context at several scales, cascaded and fused, plus an identity path."""

    def __init__(self, cin, mid, cout, act):
        super().__init__()
        self.x0 = conv_bn(cin, mid, 1, act=act)
        for i, (k, s) in enumerate(POOL_BRANCHES, start=1):
            self.add_module(f"x{i}", conv_bn(cin, mid, 1, act=act,
                                             lead=[nn.AvgPool2d(k, stride=s, padding=k // 2)]))
        self.x4 = conv_bn(cin, mid, 1, act=act, lead=[nn.AdaptiveAvgPool2d(1)])
        for i in range(1, 5):
            self.add_module(f"p{i}", conv_bn(mid, mid, 3, pad=1, act=act))
        self.tail = nn.Sequential(nn.BatchNorm2d(5 * mid), make_act(act, 5 * mid),
                                  nn.Conv2d(5 * mid, cout, 1, bias=False), ECA(cout))
        self.identity = nn.Sequential(nn.BatchNorm2d(cin), make_act(act, cin),
                                      nn.Conv2d(cin, cout, 1, bias=False), ECA(cout))

    def forward(self, x):
        size = x.shape[2:]
        ys = [self.x0(x)]
        for i in range(1, 5):
            ctx = F.interpolate(getattr(self, f"x{i}")(x), size=size, mode="bilinear", align_corners=False)
            ys.append(getattr(self, f"p{i}")(ctx + ys[-1]))
        return self.tail(torch.cat(ys, dim=1)) + self.identity(x)


def seg_head(cin, classes, act):
    return nn.Sequential(nn.Conv2d(cin, cin // 2, 1, bias=True), nn.BatchNorm2d(cin // 2),
                         make_act(act, cin // 2), nn.Conv2d(cin // 2, classes, 1, bias=True),
                         nn.BatchNorm2d(classes))


class PMSDSEN(nn.Module):
    """PMSDSEN(classes=19, act='gelu'|'prelu'). forward(x) with x N x 3 x H x W (H, W
    multiples of 8) returns (logits, aux_x4, aux_x8), each N x classes x H x W: the
    prediction from the x2 head and the two deep-supervision heads."""

    def __init__(self, classes=19, act="gelu"):
        super().__init__()
        if act not in ACTIVATIONS:
            raise ValueError(f"unknown activation {act!r}; expected one of {ACTIVATIONS}")
        if classes < 1:
            raise ValueError(f"classes must be positive, got {classes}")
        self.classes = classes
        self.act = act
        c = BASE_WIDTH
        # Registration order follows the released model (the fusion units come first).
        self.DWFF4 = WeightedFusion(2 * c, reduction=8)
        self.DWFF5 = WeightedFusion(c, reduction=4)
        self.Stem_Conv = nn.Sequential(
            nn.Conv2d(3, c // 2, 3, stride=2, padding=1, bias=True), nn.BatchNorm2d(c // 2),
            make_act(act, c // 2),
            nn.Conv2d(c // 2, c, 3, stride=1, padding=1, bias=True), nn.BatchNorm2d(c))
        self.layer1 = nn.Sequential(*[EncoderUnit(c, act) for _ in range(1)])
        self.down2 = DownBlock(c, 2 * c, act)
        self.layer2 = nn.Sequential(*[EncoderUnit(2 * c, act) for _ in range(2)])
        self.down3 = DownBlock(2 * c, 4 * c, act)
        self.layer3 = nn.Sequential(*[EncoderUnit(4 * c, act) for _ in range(6)])
        self.up4 = UpBlock(4 * c, 2 * c, act)
        self.layer4 = nn.Sequential(*[EncoderUnit(2 * c, act) for _ in range(2)])
        self.up5 = UpBlock(2 * c, c, act)
        self.layer5 = nn.Sequential(*[EncoderUnit(c, act) for _ in range(1)])
        self.MSSE_ = SemanticPyramid(4 * c, 2 * c, 4 * c, act)
        self.seg_head_x2 = seg_head(c, classes, act)
        self.seg_head_x4 = seg_head(2 * c, classes, act)
        self.seg_head_x8 = seg_head(4 * c, classes, act)

    def forward(self, image):
        if image.dim() != 4 or image.shape[1] != 3:
            raise ValueError(f"expected N x 3 x H x W input, got {tuple(image.shape)}")
        h, w = image.shape[2:]
        if h % 8 or w % 8:
            raise ValueError(f"input height and width must be multiples of 8, got {h} x {w}")
        l1 = self.layer1(self.Stem_Conv(image))
        l2 = self.layer2(self.down2(l1, image))
        l3 = self.MSSE_(self.layer3(self.down3(l2, image)))
        l4 = self.layer4(self.DWFF4(self.up4(l3), l2))
        l5 = self.layer5(self.DWFF5(self.up5(l4), l1))

        def up(t, s):
            return F.interpolate(t, scale_factor=s, mode="bilinear", align_corners=False)
        return up(self.seg_head_x2(l5), 2), up(self.seg_head_x4(l4), 4), up(self.seg_head_x8(l3), 8)


# --------------------------------------------------------------------------- losses

def seg_loss(outputs, target, weight=None, ignore_index=255):
    """Sum of the (optionally class-weighted) mean cross-entropies of every output."""
    return sum(F.cross_entropy(o, target, weight=weight, ignore_index=ignore_index) for o in outputs)


def ohem_cross_entropy(logits, target, thresh=0.7, min_kept=100000, ignore_index=255, weight=None):
    """Online hard example mining CE with the released code's semantics: among labelled
    pixels sorted by the probability of their true class, keep those with probability
    strictly below max(thresh, p_sorted[min(min_kept, n_valid - 1)]) and average their
    (optionally class-weighted, but unnormalised) losses. Returns (loss, info dict)."""
    losses = F.cross_entropy(logits, target, weight=weight, ignore_index=ignore_index,
                             reduction="none").reshape(-1)
    valid = target.reshape(-1) != ignore_index
    safe_target = torch.where(target == ignore_index, torch.zeros_like(target), target)
    p_true = torch.softmax(logits, dim=1).gather(1, safe_target.unsqueeze(1)).reshape(-1)[valid]
    p_sorted, order = p_true.sort()
    k = min(min_kept, p_sorted.numel() - 1)
    kth = float(p_sorted[k])
    threshold = max(kth, thresh)
    keep = p_sorted < threshold
    kept = losses[valid][order][keep]
    info = {"threshold": threshold, "kth_prob": kth, "n_valid": int(valid.sum()),
            "n_kept": int(keep.sum()), "regime": "min_kept" if kth > thresh else "threshold"}
    return kept.mean(), info


def poly_lr(base, iteration, total, power=0.9):
    """lr = base * (1 - iteration/total) ** power."""
    return base * (1.0 - iteration / total) ** power


# --------------------------------------------------------------------------- accounting

def count_parameters(model):
    return sum(p.numel() for p in model.parameters())


COUNTED = (nn.Conv2d, nn.ConvTranspose2d, nn.Conv1d)


def layer_macs(module, inp, out):
    """Multiply-accumulates of one Conv2d / ConvTranspose2d / Conv1d call, whole batch.
    Convolutions: every output element costs (Cin/groups) * prod(kernel). Transposed
    convolutions: every input element is scattered to (Cout/groups) * prod(kernel) outputs.
    Biases are not counted."""
    k = 1
    for s in module.kernel_size:
        k *= s
    if isinstance(module, nn.ConvTranspose2d):
        return inp.numel() * (module.out_channels // module.groups) * k
    return out.numel() * (module.in_channels // module.groups) * k


def count_macs(model, input_size=(1, 3, 512, 1024), use_meta=True):
    """Runs one forward (eval mode, no grad, zeros input) with hooks on every Conv2d,
    ConvTranspose2d and Conv1d. Returns {'layers': [...], 'total': int, 'by_type': {...}},
    MACs per image (the batch's total divided by the batch size). With use_meta the
    forward runs on a copy of the model on PyTorch's 'meta' device (shapes only, no
    arithmetic); if that fails it runs for real."""
    if use_meta:
        try:
            return _count_macs(copy.deepcopy(model).to("meta"), input_size)
        except (NotImplementedError, RuntimeError):
            pass
    return _count_macs(model, input_size)


def _count_macs(model, input_size):
    n = input_size[0]
    records = []
    names = {m: name for name, m in model.named_modules()}
    hooks = []

    def hook(m, args, out):
        inp = args[0]
        macs = layer_macs(m, inp, out)
        if macs % n:
            raise AssertionError("MACs not divisible by the batch size")
        records.append({"name": names[m], "type": type(m).__name__,
                        "in_shape": list(inp.shape[1:]), "out_shape": list(out.shape[1:]),
                        "kernel": list(m.kernel_size), "stride": list(m.stride),
                        "groups": m.groups, "macs": macs // n})

    for m in model.modules():
        if isinstance(m, COUNTED):
            hooks.append(m.register_forward_hook(hook))
    was_training = model.training
    try:
        model.eval()
        p = next(model.parameters())
        with torch.no_grad():
            model(torch.zeros(input_size, dtype=p.dtype, device=p.device))
    finally:
        for h in hooks:
            h.remove()
        model.train(was_training)
    by_type = {}
    for r in records:
        by_type[r["type"]] = by_type.get(r["type"], 0) + r["macs"]
    return {"layers": records, "total": sum(r["macs"] for r in records), "by_type": by_type}


def main(argv=None):
    p = argparse.ArgumentParser(description="Print PMSDSEN's parameter count, state-dict size and "
                                            "multiply-accumulates (Conv2d, ConvTranspose2d, Conv1d).")
    p.add_argument("--classes", type=int, default=19, help="number of classes (default 19)")
    p.add_argument("--act", choices=ACTIVATIONS, default="gelu", help="activation (default gelu)")
    p.add_argument("--size", type=int, nargs=2, default=[512, 1024], metavar=("H", "W"),
                   help="input height and width, multiples of 8 (default 512 1024)")
    p.add_argument("--layers", action="store_true", help="also list the MACs of every layer")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = p.parse_args(argv)
    if args.size[0] % 8 or args.size[1] % 8 or min(args.size) <= 0:
        p.error(f"--size {args.size[0]} {args.size[1]}: both must be positive multiples of 8")
    torch.set_num_threads(args.threads)
    net = PMSDSEN(args.classes, args.act)
    print(f"parameters: {count_parameters(net):,}")
    print(f"state-dict tensors: {len(net.state_dict())}")
    macs = count_macs(net, (1, 3) + tuple(args.size))
    if args.layers:
        for r in macs["layers"]:
            print(f"  {r['name']:45s} {r['type']:16s} {r['macs']:>14,}")
    for t, v in sorted(macs["by_type"].items()):
        print(f"MACs {t}: {v:,}")
    print(f"MACs total at 1x3x{args.size[0]}x{args.size[1]}: {macs['total']:,} ({macs['total'] / 1e9:.2f} G)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
