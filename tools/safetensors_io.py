#!/usr/bin/env python3
"""Minimal reader/writer for the safetensors format (no dependency on the pip package).

File layout:
    8 bytes   little-endian u64 N: length of the JSON header in bytes
    N bytes   UTF-8 JSON header, padded with spaces to a multiple of 8:
              {"__metadata__": {str: str},
               "<name>": {"dtype": "F32", "shape": [..], "data_offsets": [begin, end]}, ...}
    rest      raw little-endian tensor bytes; data_offsets are relative to the start of
              this region.

Writer choices (so that the same input always gives the same bytes): tensors are laid
out contiguously, widest element type first and by name within a type (so each tensor's
data is aligned to its element size, as the reference implementation does), and the
header JSON is written with sorted keys and no optional whitespace.

Usage as a library:
    import safetensors_io as st
    st.save("a.safetensors", {"x": torch.ones(2, 3)}, metadata={"k": "v"})
    tensors = st.load("a.safetensors")             # dict name -> torch.Tensor
    arrays = st.load("a.safetensors", "numpy")     # dict name -> numpy.ndarray
    meta = st.load_metadata("a.safetensors")

Run as a script it prints a summary of a file:
    /usr/bin/python3 tools/safetensors_io.py FILE.safetensors
"""

import argparse
import json
import os
import struct
import sys
import tempfile

import numpy as np

# safetensors dtype name -> (numpy little-endian dtype, bytes per element).
# BF16 has no numpy dtype: it travels as raw uint16 bit patterns.
_DTYPES = {
    "F64": ("<f8", 8),
    "F32": ("<f4", 4),
    "F16": ("<f2", 2),
    "BF16": ("<u2", 2),
    "I64": ("<i8", 8),
    "I32": ("<i4", 4),
    "U8": ("|u1", 1),
}

_MAX_HEADER = 100 * 1024 * 1024


class SafetensorsError(ValueError):
    """Raised for malformed files or unsupported tensors; the message names the file."""


def _torch():
    try:
        import torch
        return torch
    except ImportError:  # numpy-only use is allowed
        return None


def _to_numpy(name, value):
    """Returns (dtype name, C-contiguous little-endian numpy array) for a tensor or array."""
    torch = _torch()
    if torch is not None and isinstance(value, torch.Tensor):
        t = value.detach().cpu().contiguous()
        if t.dtype == torch.bfloat16:
            return "BF16", t.view(torch.int16).numpy().view("<u2")
        table = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16",
                 torch.int64: "I64", torch.int32: "I32", torch.uint8: "U8"}
        if t.dtype not in table:
            raise SafetensorsError(f"tensor '{name}': unsupported torch dtype {t.dtype}")
        dt = table[t.dtype]
        return dt, t.numpy().astype(_DTYPES[dt][0], copy=False)
    arr = np.asarray(value)
    table = {np.dtype("float64"): "F64", np.dtype("float32"): "F32", np.dtype("float16"): "F16",
             np.dtype("int64"): "I64", np.dtype("int32"): "I32", np.dtype("uint8"): "U8"}
    key = arr.dtype.newbyteorder("=")
    if key not in table:
        raise SafetensorsError(f"tensor '{name}': unsupported numpy dtype {arr.dtype}")
    dt = table[key]
    return dt, np.array(arr, dtype=_DTYPES[dt][0], order="C", copy=False)


def serialize(tensors, metadata=None):
    """Returns the bytes of a safetensors file holding `tensors` (dict name -> tensor/array)."""
    if metadata is not None:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise SafetensorsError(f"metadata must map str to str; got {k!r}: {type(v).__name__}")
    converted = []
    for name in tensors:
        if not isinstance(name, str) or name == "__metadata__" or not name:
            raise SafetensorsError(f"invalid tensor name {name!r}")
        dt, arr = _to_numpy(name, tensors[name])
        converted.append((-_DTYPES[dt][1], name, dt, arr))
    # Widest element type first, then by name: every tensor starts at an offset that is a
    # multiple of its element size (the data region itself starts 8-byte aligned).
    converted.sort(key=lambda r: (r[0], r[1]))
    header = {}
    blobs = []
    offset = 0
    for _, name, dt, arr in converted:
        data = arr.tobytes(order="C")
        header[name] = {"dtype": dt, "shape": [int(s) for s in arr.shape],
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    if metadata:
        header["__metadata__"] = dict(metadata)
    text = json.dumps(header, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("utf-8")
    text += b" " * ((-len(text)) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def atomic_write_bytes(path, data):
    """Writes `data` to `path` through a temporary file in the same folder and a rename."""
    path = os.fspath(path)
    folder = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(path) + ".", suffix=".tmp", dir=folder)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        raise


def save(path, tensors, metadata=None):
    """Writes `tensors` (dict name -> torch.Tensor or numpy array) to `path`, atomically."""
    atomic_write_bytes(path, serialize(tensors, metadata))


def _read_header(path, buf):
    if len(buf) < 8:
        raise SafetensorsError(f"{path}: file too short ({len(buf)} bytes) to be safetensors")
    (n,) = struct.unpack("<Q", buf[:8])
    if n > _MAX_HEADER or 8 + n > len(buf):
        raise SafetensorsError(f"{path}: header length {n} does not fit the file ({len(buf)} bytes)")
    try:
        header = json.loads(bytes(buf[8:8 + n]).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise SafetensorsError(f"{path}: header is not valid UTF-8 JSON: {e}") from None
    if not isinstance(header, dict):
        raise SafetensorsError(f"{path}: header is not a JSON object")
    return header, 8 + n


def _parse(path, buf):
    header, start = _read_header(path, buf)
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items()):
        raise SafetensorsError(f"{path}: __metadata__ must map strings to strings")
    data_len = len(buf) - start
    entries = []
    for name, info in header.items():
        try:
            dt, shape, (b, e) = info["dtype"], info["shape"], info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise SafetensorsError(f"{path}: tensor '{name}': malformed header entry {info!r}") from None
        if dt not in _DTYPES:
            raise SafetensorsError(f"{path}: tensor '{name}': unsupported dtype {dt!r}")
        if not all(isinstance(s, int) and s >= 0 for s in shape):
            raise SafetensorsError(f"{path}: tensor '{name}': bad shape {shape!r}")
        count = 1
        for s in shape:
            count *= s
        if not (0 <= b <= e <= data_len) or e - b != count * _DTYPES[dt][1]:
            raise SafetensorsError(f"{path}: tensor '{name}': data_offsets [{b}, {e}] do not match "
                                   f"dtype {dt} shape {shape} within {data_len} data bytes")
        entries.append((b, e, name, dt, shape))
    entries.sort()
    pos = 0
    for b, e, name, _, _ in entries:
        if b != pos:
            raise SafetensorsError(f"{path}: tensor '{name}' starts at {b}, expected {pos} (gap or overlap)")
        pos = e
    if pos != data_len:
        raise SafetensorsError(f"{path}: {data_len - pos} trailing bytes after the last tensor")
    return meta, start, entries


def load(path, framework="torch"):
    """Reads a safetensors file; returns dict name -> torch.Tensor (framework='torch')
    or numpy.ndarray (framework='numpy'), in file order. BF16 loads as torch.bfloat16,
    or as uint16 bit patterns with numpy."""
    if framework not in ("torch", "numpy"):
        raise ValueError("framework must be 'torch' or 'numpy'")
    try:
        with open(path, "rb") as f:
            buf = f.read()
    except OSError as e:
        raise SafetensorsError(f"{path}: cannot read: {e.strerror}") from None
    _, start, entries = _parse(path, buf)
    torch = _torch() if framework == "torch" else None
    if framework == "torch" and torch is None:
        raise SafetensorsError("framework='torch' requested but torch is not importable")
    out = {}
    for b, e, name, dt, shape in entries:
        arr = np.frombuffer(buf, dtype=_DTYPES[dt][0], count=(e - b) // _DTYPES[dt][1],
                            offset=start + b).reshape(shape).astype(_DTYPES[dt][0].replace("<", "="))
        if torch is not None:
            if dt == "BF16":
                out[name] = torch.from_numpy(arr.view(np.int16).copy()).view(torch.bfloat16)
            else:
                out[name] = torch.from_numpy(arr.copy())
        else:
            out[name] = arr.copy()
    return out


def load_metadata(path):
    """Returns the __metadata__ dict (empty if absent) of a safetensors file."""
    with open(path, "rb") as f:
        head = f.read(8)
        if len(head) < 8:
            raise SafetensorsError(f"{path}: file too short to be safetensors")
        (n,) = struct.unpack("<Q", head)
        if n > _MAX_HEADER:
            raise SafetensorsError(f"{path}: header length {n} is implausible")
        buf = head + f.read(n)
    header, _ = _read_header(path, buf)
    return header.get("__metadata__", {}) or {}


def describe(path):
    """Returns a list of (name, dtype, shape) in file order."""
    with open(path, "rb") as f:
        buf = f.read()
    _, _, entries = _parse(path, buf)
    return [(name, dt, shape) for _, _, name, dt, shape in entries]


def main(argv=None):
    p = argparse.ArgumentParser(description="Print the tensors and metadata of a safetensors file.")
    p.add_argument("file", help="path to a .safetensors file")
    p.add_argument("--metadata-only", action="store_true", help="print only __metadata__")
    args = p.parse_args(argv)
    try:
        meta = load_metadata(args.file)
        print("__metadata__:")
        for k in sorted(meta):
            print(f"  {k}: {meta[k]}")
        if not args.metadata_only:
            rows = describe(args.file)
            print(f"{len(rows)} tensors:")
            for name, dt, shape in rows:
                print(f"  {name} {dt} {shape}")
    except (SafetensorsError, OSError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
