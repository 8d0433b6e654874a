#!/usr/bin/env python3
"""One-off check: our tools/pmsdsen_torch.py against the authors' released PyTorch model.

Extracts Model/, Utils/ and Loss/ from a git checkout (or bare mirror) of
github.com/liux520/PMSDSEN into a temporary folder, imports their PMSDSEN, and for GELU
and PReLU checks that
  * the state-dict keys are identical, in the same order, with the same shapes, and the
    parameter / state-dict tensor counts are the contract's (922,373 / 930,437
    parameters; 1,898 tensors with GELU);
  * their randomised state dict (BN statistics and PReLU slopes randomised too) loads
    into ours with strict=True, and both give the same outputs in eval mode and in
    training mode (float32 and float64), the same gradients and the same updated BN
    running statistics;
  * our OHEM cross-entropy and poly learning rate match their Loss/Loss.py and
    Utils/Lr_scheduler.py.
Not a test dependency. Run: /usr/bin/python3 tools/check_against_authors.py
"""

import argparse
import contextlib
import io
import os
import subprocess
import sys
import tarfile
import tempfile

import torch
import torch.nn as nn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmsdsen_torch as ours  # noqa: E402

DEFAULT_MIRROR = "/work/.mirror/liux520+PMSDSEN/repo"
EXPECTED = {"gelu": {"params": 922373, "tensors": 1898}, "prelu": {"params": 930437, "tensors": None}}


class CheckFailed(Exception):
    pass


def check(cond, msg):
    if not cond:
        raise CheckFailed(msg)


def extract(mirror, rev, dest):
    try:
        data = subprocess.run(["git", "-C", mirror, "archive", rev, "Model", "Utils", "Loss"],
                              check=True, capture_output=True).stdout
    except FileNotFoundError:
        raise CheckFailed("git is not installed") from None
    except subprocess.CalledProcessError as e:
        raise CheckFailed(f"git archive of {mirror} at {rev} failed: {e.stderr.decode().strip()}") from None
    with tarfile.open(fileobj=io.BytesIO(data)) as tar:
        tar.extractall(dest)


def randomise(model, gen):
    """Random BN affine parameters and statistics, PReLU slopes, in place."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.weight.uniform_(0.5, 1.5, generator=gen)
                m.bias.uniform_(-0.2, 0.2, generator=gen)
                m.running_mean.uniform_(-0.2, 0.2, generator=gen)
                m.running_var.uniform_(0.5, 2.0, generator=gen)
            elif isinstance(m, nn.PReLU):
                m.weight.uniform_(0.1, 0.4, generator=gen)


def maxdiff(a, b):
    return (a.double() - b.double()).abs().max().item()


def compare_model(theirs_mod, act, classes, size, log):
    torch.manual_seed(1234)
    theirs = theirs_mod.PMSDSEN(cls=classes, act_name=act)
    mine = ours.PMSDSEN(classes=classes, act=act)
    sd_t, sd_m = theirs.state_dict(), mine.state_dict()
    kt, km = list(sd_t.keys()), list(sd_m.keys())
    if kt != km:
        first = next((i for i, (a, b) in enumerate(zip(kt, km)) if a != b), min(len(kt), len(km)))
        raise CheckFailed(f"[{act}] key lists differ at index {first}: theirs "
                          f"{kt[first] if first < len(kt) else '<end>'} vs ours "
                          f"{km[first] if first < len(km) else '<end>'} "
                          f"(missing {sorted(set(kt) - set(km))[:5]}, extra {sorted(set(km) - set(kt))[:5]})")
    bad = [k for k in kt if sd_t[k].shape != sd_m[k].shape]
    check(not bad, f"[{act}] shape mismatch: {[(k, tuple(sd_t[k].shape), tuple(sd_m[k].shape)) for k in bad[:5]]}")
    pt_, pm_ = list(theirs.named_parameters()), list(mine.named_parameters())
    check([n for n, _ in pt_] == [n for n, _ in pm_], f"[{act}] named_parameters order differs")
    n_t, n_m = ours.count_parameters(theirs), ours.count_parameters(mine)
    check(n_t == n_m, f"[{act}] parameter counts differ: theirs {n_t}, ours {n_m}")
    exp = EXPECTED[act]
    check(n_m == exp["params"] or classes != 19,
          f"[{act}] {n_m} parameters, contract says {exp['params']}")
    if exp["tensors"] is not None and classes == 19:
        check(len(km) == exp["tensors"], f"[{act}] {len(km)} state-dict tensors, contract says {exp['tensors']}")
    log(f"[{act}] keys identical and in the same order: {len(km)} state-dict tensors "
        f"({len(pm_)} parameter tensors, {len(km) - len(pm_)} buffers); "
        f"parameters theirs {n_t:,} ours {n_m:,}")

    gen = torch.Generator().manual_seed(99)
    randomise(theirs, gen)
    missing, unexpected = mine.load_state_dict(theirs.state_dict(), strict=True)
    check(not missing and not unexpected, f"[{act}] load_state_dict: {missing} {unexpected}")
    x32 = torch.randn((2, 3) + size, generator=gen)
    target = torch.randint(0, classes, (2,) + size, generator=gen)
    target[torch.rand(target.shape, generator=gen) < 0.1] = 255

    for dtype, tol in ((torch.float32, 1e-4), (torch.float64, 1e-10)):
        name = "f32" if dtype == torch.float32 else "f64"
        t = theirs_mod.PMSDSEN(cls=classes, act_name=act)
        t.load_state_dict(theirs.state_dict())
        m = ours.PMSDSEN(classes=classes, act=act)
        m.load_state_dict(theirs.state_dict())
        t, m = t.to(dtype), m.to(dtype)
        x = x32.to(dtype)
        t.eval(), m.eval()
        with torch.no_grad(), warnings_off():
            ot, om = t(x), m(x)
        d = [maxdiff(a, b) for a, b in zip(ot, om)]
        scale = max(o.abs().max().item() for o in ot)
        check(max(d) <= tol * max(1.0, scale), f"[{act}/{name}] eval outputs differ: {d}")
        log(f"[{act}/{name}] eval  outputs max|diff| logits {d[0]:.3g} aux_x4 {d[1]:.3g} "
            f"aux_x8 {d[2]:.3g} (max|out| {scale:.3g})")

        t.train(), m.train()
        with warnings_off():
            ot, om = t(x), m(x)
        d = [maxdiff(a, b) for a, b in zip(ot, om)]
        check(max(d) <= tol * max(1.0, scale), f"[{act}/{name}] train outputs differ: {d}")
        lt, lm = ours.seg_loss(ot, target), ours.seg_loss(om, target)
        lt.backward()
        lm.backward()
        gd = max(maxdiff(a.grad, b.grad) for a, b in zip(t.parameters(), m.parameters()))
        gs = max(a.grad.abs().max().item() for a in t.parameters())
        check(gd <= tol * max(1.0, gs), f"[{act}/{name}] gradients differ by {gd}")
        bt, bm = dict(t.named_buffers()), dict(m.named_buffers())
        bd = max(maxdiff(bt[k], bm[k]) for k in bt)
        check(bd <= tol, f"[{act}/{name}] running statistics differ by {bd}")
        log(f"[{act}/{name}] train outputs max|diff| logits {d[0]:.3g} aux_x4 {d[1]:.3g} aux_x8 {d[2]:.3g}; "
            f"loss {lt.item():.6f} vs {lm.item():.6f}; grads max|diff| {gd:.3g} (max|grad| {gs:.3g}); "
            f"updated BN buffers max|diff| {bd:.3g}")


@contextlib.contextmanager
def warnings_off():
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def compare_ohem(loss_mod, log):
    gen = torch.Generator().manual_seed(7)
    logits = torch.randn(2, 5, 6, 7, generator=gen, dtype=torch.float64) * 3
    target = torch.randint(0, 5, (2, 6, 7), generator=gen)
    target[torch.rand(target.shape, generator=gen) < 0.1] = 255
    regimes = set()
    for min_kept in (5, 66, 1000):
        crit = loss_mod.OhemCrossEntropy(ignore_label=255, thres=0.7)
        crit.min_kept = min_kept  # their constructor derives it from batch and crop size
        theirs = crit._ohem_forward(logits, target)
        mine, info = ours.ohem_cross_entropy(logits, target, thresh=0.7, min_kept=min_kept)
        check(abs(theirs.item() - mine.item()) <= 1e-12, f"OHEM min_kept {min_kept}: {theirs} vs {mine}")
        regimes.add(info["regime"])
        log(f"[ohem] min_kept {min_kept:4d}: theirs {theirs.item():.12f} ours {mine.item():.12f} "
            f"({info['regime']} regime, kept {info['n_kept']} of {info['n_valid']})")
    check(regimes == {"threshold", "min_kept"}, f"OHEM check did not exercise both regimes: {regimes}")


def compare_poly(sched_mod, log):
    p = nn.Parameter(torch.zeros(1))
    opt = torch.optim.SGD([p], lr=0.1)
    base, epochs, per_epoch = 0.045, 7, 13
    with contextlib.redirect_stdout(io.StringIO()):
        sched = sched_mod.LR_Scheduler("poly", base, epochs, per_epoch, quiet=True)
    worst = 0.0
    for epoch in range(epochs):
        for i in range(per_epoch):
            with contextlib.redirect_stdout(io.StringIO()):
                sched(opt, i, epoch, 0.0)
            mine = ours.poly_lr(base, epoch * per_epoch + i, epochs * per_epoch)
            worst = max(worst, abs(opt.param_groups[0]["lr"] - mine))
    check(worst == 0.0, f"poly lr differs by {worst}")
    log(f"[poly lr] {epochs * per_epoch} iterations identical to their LR_Scheduler('poly')")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0] + " See the module docstring.",
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mirror", default=DEFAULT_MIRROR,
                   help=f"git directory of the authors' repository (default {DEFAULT_MIRROR})")
    p.add_argument("--rev", default="HEAD", help="revision to extract (default HEAD)")
    p.add_argument("--classes", type=int, default=19, help="number of classes (default 19)")
    p.add_argument("--size", type=int, nargs=2, default=[64, 96], metavar=("H", "W"),
                   help="input height and width for the output comparison (default 64 96)")
    p.add_argument("--threads", type=int, default=2, help="torch threads (default 2)")
    args = p.parse_args(argv)
    if args.size[0] % 8 or args.size[1] % 8:
        p.error("--size: height and width must be multiples of 8")
    if not os.path.isdir(args.mirror):
        p.error(f"--mirror {args.mirror}: no such directory")
    torch.set_num_threads(args.threads)
    log = print
    try:
        with tempfile.TemporaryDirectory(prefix="pmsdsen-authors-") as tmp:
            extract(args.mirror, args.rev, tmp)
            sys.path.insert(0, tmp)
            with contextlib.redirect_stdout(io.StringIO()):
                import Model.PMSDSEN as theirs_mod
                import Loss.Loss as loss_mod
                import Utils.Lr_scheduler as sched_mod
            rev = subprocess.run(["git", "-C", args.mirror, "rev-parse", args.rev],
                                 capture_output=True, text=True).stdout.strip()
            log(f"authors' code: {args.mirror} at {rev}; torch {torch.__version__}")
            for act in ("gelu", "prelu"):
                compare_model(theirs_mod, act, args.classes, tuple(args.size), log)
            compare_ohem(loss_mod, log)
            compare_poly(sched_mod, log)
    except CheckFailed as e:
        print(f"FAILED: {e}", file=sys.stderr)
        return 1
    print("ALL CHECKS PASSED")
    return 0


if __name__ == "__main__":
    sys.exit(main())
