#!/usr/bin/env python3
"""Convert a PyTorch PMSDSEN checkpoint (.pth) to safetensors for the C++ library.

Accepts what the authors' training code saves: a bare state dict, or a dict holding
it under 'state_dict' (their Saver) or 'model'; `module.` prefixes (DataParallel) are
stripped. The state dict is validated by loading it with strict=True into
tools/pmsdsen_torch.PMSDSEN; missing, unexpected and mis-shaped keys are reported by
name. Output: F32 tensors (I64 for BN num_batches_tracked), metadata `classes`, `act`,
`source` (input file name) and `source_sha256`, written atomically.

The number of classes and the activation are read from the checkpoint
(seg_head_x2.3.weight and the presence of PReLU slopes) unless given; when given they
must agree with it.

Examples (Debian's PyTorch: run with /usr/bin/python3; tools/setup.sh --torch):
  /usr/bin/python3 tools/convert_checkpoint.py Weights/PMSDSEN_city_75.02.pth city.safetensors
  /usr/bin/python3 tools/convert_checkpoint.py ckpt.pth out.safetensors --classes 11 --act gelu
"""

import argparse
import hashlib
import os
import pickle
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import pmsdsen_torch as pt  # noqa: E402
import safetensors_io as st  # noqa: E402


class ConvertError(Exception):
    pass


class ForbiddenGlobal(pickle.UnpicklingError):
    pass


# What a training checkpoint legitimately references: tensor and parameter rebuilders,
# OrderedDict, and numpy scalars/arrays (the authors store their mIoU as a numpy float).
# torch's own unpickler wrapper resolves the *Storage classes before asking us.
_ALLOWED_GLOBALS = {
    ("collections", "OrderedDict"),
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch", "Size"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy", "dtype"),
    ("numpy", "ndarray"),
    ("_codecs", "encode"),  # how numpy scalars pickle their raw bytes
}


class _RestrictedUnpickler(pickle.Unpickler):
    def find_class(self, module, name):
        if (module, name) in _ALLOWED_GLOBALS:
            return super().find_class(module, name)
        raise ForbiddenGlobal(f"refers to {module}.{name}")


class _RestrictedPickleModule:
    """Stand-in for the `pickle` module used by torch's loader: plain data (numbers,
    strings, lists, dicts) and tensors load; any other global is refused.
    (torch 1.13's own weights_only=True also refuses plain floats, which every training
    checkpoint holds, and its torch.load ignores pickle_module unless weights_only.)"""
    Unpickler = _RestrictedUnpickler
    UnpicklingError = pickle.UnpicklingError
    __name__ = "restricted_pickle"

    @staticmethod
    def load(f, **kwargs):
        return _RestrictedUnpickler(f, **kwargs).load()


def _restricted_load(path):
    ser = torch.serialization
    if not all(hasattr(ser, n) for n in ("_is_zipfile", "_open_zipfile_reader", "_load", "_legacy_load")):
        return torch.load(path, map_location="cpu", weights_only=True)
    with open(path, "rb") as f:
        if ser._is_zipfile(f):
            with ser._open_zipfile_reader(f) as z:
                return ser._load(z, "cpu", _RestrictedPickleModule, encoding="utf-8")
        return ser._legacy_load(f, "cpu", _RestrictedPickleModule, encoding="utf-8")


def load_checkpoint(path, trust):
    if not os.path.isfile(path):
        raise ConvertError(f"{path}: no such file")
    try:
        if trust:
            return torch.load(path, map_location="cpu")
        return _restricted_load(path)
    except ForbiddenGlobal as e:
        raise ConvertError(f"{path}: the checkpoint {e}, which this tool does not unpickle by default; "
                           f"if you trust the file, run again with --trust-pickle") from None
    except (pickle.UnpicklingError, RuntimeError, EOFError, OSError, ValueError, KeyError,
            AttributeError, ImportError, IndexError, TypeError) as e:
        raise ConvertError(f"{path}: not a readable PyTorch checkpoint ({type(e).__name__}: {e})") from None


def extract_state_dict(obj, path):
    """Finds the state dict in a checkpoint object and strips `module.` prefixes."""
    sd = obj
    if isinstance(obj, dict) and not all(isinstance(v, torch.Tensor) for v in obj.values()):
        for key in ("state_dict", "model", "model_state_dict", "net"):
            if key in obj and isinstance(obj[key], dict):
                sd = obj[key]
                break
        else:
            raise ConvertError(f"{path}: no state dict found: top-level keys are {sorted(map(str, obj))[:10]}; "
                               f"expected tensors, or a dict under 'state_dict' or 'model'")
    if not isinstance(sd, dict):
        raise ConvertError(f"{path}: checkpoint is a {type(obj).__name__}, not a dict")
    out = {}
    for k, v in sd.items():
        if not isinstance(v, torch.Tensor):
            raise ConvertError(f"{path}: entry '{k}' is a {type(v).__name__}, not a tensor")
        name = k
        while name.startswith("module."):
            name = name[len("module."):]
        if name in out:
            raise ConvertError(f"{path}: '{k}' collides with another key after stripping 'module.'")
        out[name] = v
    if not out:
        raise ConvertError(f"{path}: the state dict is empty")
    return out


def infer(sd, classes, act, path):
    head = sd.get("seg_head_x2.3.weight")
    if classes is None:
        if head is None or head.dim() != 4:
            raise ConvertError(f"{path}: cannot infer the number of classes (no seg_head_x2.3.weight); "
                               f"pass --classes")
        classes = int(head.shape[0])
    if act is None:
        act = "prelu" if "Stem_Conv.2.weight" in sd else "gelu"
    return classes, act


def validate(sd, classes, act, path):
    model = pt.PMSDSEN(classes=classes, act=act)
    ref = model.state_dict()
    missing = [k for k in ref if k not in sd]
    unexpected = [k for k in sd if k not in ref]
    misshaped = [f"{k}: checkpoint {list(sd[k].shape)}, expected {list(ref[k].shape)}"
                 for k in ref if k in sd and sd[k].shape != ref[k].shape]
    nonfloat = [f"{k}: {sd[k].dtype}" for k in ref if k in sd and not k.endswith("num_batches_tracked")
                and not sd[k].is_floating_point()]
    if missing or unexpected or misshaped or nonfloat:
        lines = [f"{path}: does not match PMSDSEN(classes={classes}, act={act}):"]
        for title, items in (("missing", missing), ("unexpected", unexpected),
                             ("wrong shape", misshaped), ("not floating point", nonfloat)):
            if items:
                lines.append(f"  {len(items)} {title} key(s):")
                lines += [f"    {s}" for s in items[:20]]
                if len(items) > 20:
                    lines.append(f"    ... and {len(items) - 20} more")
        raise ConvertError("\n".join(lines))
    model.load_state_dict(sd, strict=True)
    bad = [k for k, v in sd.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise ConvertError(f"{path}: non-finite values in {bad[:10]}")
    return model


def convert(inp, out, classes=None, act=None, trust=False):
    sd = extract_state_dict(load_checkpoint(inp, trust), inp)
    classes, act = infer(sd, classes, act, inp)
    model = validate(sd, classes, act, inp)
    tensors = {}
    for k, v in model.state_dict().items():
        v = sd[k]
        tensors[k] = v.to(torch.int64) if k.endswith("num_batches_tracked") else v.to(torch.float32)
    with open(inp, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    meta = {"classes": str(classes), "act": act, "source": os.path.basename(inp),
            "source_sha256": digest, "format": "pmsdsen-state-dict"}
    st.save(out, tensors, meta)
    return classes, act, len(tensors), pt.count_parameters(model)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("input", metavar="IN.pth", help="PyTorch checkpoint to convert")
    p.add_argument("output", metavar="OUT.safetensors", help="safetensors file to write")
    p.add_argument("--classes", type=int, help="number of classes (default: from the checkpoint)")
    p.add_argument("--act", choices=pt.ACTIVATIONS, help="activation (default: from the checkpoint)")
    p.add_argument("--trust-pickle", action="store_true",
                   help="allow arbitrary pickled objects in the checkpoint (only for files you trust)")
    args = p.parse_args(argv)
    if args.classes is not None and args.classes < 1:
        p.error(f"--classes {args.classes}: must be positive")
    out_dir = os.path.dirname(os.path.abspath(args.output))
    if not os.path.isdir(out_dir):
        p.error(f"OUT.safetensors {args.output}: folder {out_dir} does not exist")
    try:
        classes, act, n, params = convert(args.input, args.output, args.classes, args.act, args.trust_pickle)
    except ConvertError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    print(f"wrote {args.output}: {n} tensors, {params:,} parameters, classes={classes}, act={act}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
