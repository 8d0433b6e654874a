#!/usr/bin/env python3
"""Summarises a benchmark run as Markdown tables (the format of bench/RESULTS.md).

  bench/summarize.py OUTDIR            the folder bench/run_gpu.sh filled
  bench/summarize.py --kernels k.json [--kernels k2.json] --model m.json [--torch t.json] [--title TEXT]

Reads whichever of these exist in OUTDIR: steps.tsv, kernels_cuda*.json (merged),
model_cuda.json, model_cuda_3heads.json, torch_cuda.json, model_cpu.json,
torch_cpu.json. Prints: the steps, the network against PyTorch (eager and CUDA graphs)
with the issue's targets, every kernel against the copy bandwidth and cuDNN, and the CPU
inference against PyTorch. Standard library only.
"""

import argparse
import glob
import json
import math
import os
import sys

# Ops held to "at least 70 % of copy bandwidth and faster than cuDNN" by the issue.
BANDWIDTH_TARGET = 0.70


def load(path):
    if not path or not os.path.isfile(path):
        return None
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError) as e:
        print(f"> could not read {path}: {e}\n")
        return None


def num(x):
    return isinstance(x, (int, float)) and not (isinstance(x, float) and math.isnan(x))


def ms(x):
    if not num(x):
        return "-"
    a = abs(x)
    d = 0 if a >= 100 else 1 if a >= 10 else 2 if a >= 1 else 3 if a >= 0.1 else 4
    return f"{x:.{d}f}"


def fmt(x, d=2, suffix=""):
    return f"{x:.{d}f}{suffix}" if num(x) else "-"


def gbps(x):
    if not num(x):
        return "-"
    return f"{x:.{0 if x >= 100 else 1 if x >= 1 else 2}f}"


def table(header, rows):
    out = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def mark(ok):
    return "-" if ok is None else ("yes" if ok else "**no**")


def steps_section(path):
    if not os.path.isfile(path):
        return ""
    rows = []
    with open(path) as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) >= 3:
                rows.append([parts[0], parts[1], parts[2]])
    total = sum(int(r[2]) for r in rows if r[2].isdigit())
    return "## Steps\n\n" + table(["step", "status", "seconds"], rows) + f"\n\nTotal: {total} s.\n"


def index(records):
    """(name, batch, height, width, mode) -> record."""
    out = {}
    for r in records or []:
        out[(r.get("name"), r.get("batch"), r.get("height"), r.get("width"), r.get("mode", "eager"))] = r
    return out


def model_section(ours, ours3, torch):
    if not ours:
        return ""
    o = index(ours.get("records"))
    o3 = index((ours3 or {}).get("records"))
    t = index((torch or {}).get("records"))
    heads = ours.get("inference_heads", 1)
    lines = [f"## Network: ours vs PyTorch on {ours.get('device', '?')}\n"]
    if torch:
        lines.append(f"PyTorch {torch.get('torch', '?')} on {torch.get('device', '?')}; cuDNN TF32 allowed: "
                     f"{torch.get('cudnn_allow_tf32', '-')} (ours computes in float32).\n")
    else:
        lines.append("No PyTorch baseline in this run.\n")
    rows = []
    shapes = sorted({k[:4] for k in o}, key=lambda k: (k[0] != "inference", k[1], k[2]))
    for key in shapes:
        name, b, h, w = key
        oe, og = o.get(key + ("eager",)), o.get(key + ("cuda_graph",))
        te, tg = t.get(key + ("eager",)), t.get(key + ("cuda_graph",))
        row = [name, f"{b}x3x{h}x{w}", ms(oe and oe["ms"]), ms(og and og["ms"]), ms(te and te["ms"]),
               ms(tg and tg["ms"])]
        if name == "inference":
            fps = oe and oe.get("fps")
            vs_e = fps / te["fps"] if fps and te else None
            vs_g = fps / tg["fps"] if fps and tg else None
            row += [fmt(fps, 1), fmt(vs_e, 2, "x"), fmt(vs_g, 2, "x"),
                    mark(None if vs_e is None else vs_e >= 3.0) + " / " + mark(None if vs_g is None else vs_g > 1.0)]
        else:
            sp = te["ms"] / oe["ms"] if oe and te else None
            row += [fmt(oe and oe.get("fps"), 1), fmt(sp, 2, "x"), "-", mark(None if sp is None else sp >= 1.5)]
        op, tp = oe and oe.get("peak_bytes"), te and te.get("peak_bytes")
        row += [fmt(op / 2**20 if op else None, 0), fmt(tp / 2**20 if tp else None, 0),
                mark(None if not (op and tp) else op <= tp)]
        rows.append(row)
        of, ofg = o.get(key + ("fused",)), o.get(key + ("fused_graph",))
        if name == "inference" and of:
            # The fused copy (BN folded once, epilogues fused): what evaluation runs on CUDA.
            best = ofg or of
            fps_f = best.get("fps")
            vs_e = fps_f / te["fps"] if fps_f and te else None
            vs_g = fps_f / tg["fps"] if fps_f and tg else None
            rows.append([name + " (fused)", f"{b}x3x{h}x{w}", ms(of["ms"]), ms(ofg and ofg["ms"]), ms(te and te["ms"]),
                         ms(tg and tg["ms"]), fmt(fps_f, 1), fmt(vs_e, 2, "x"), fmt(vs_g, 2, "x"),
                         mark(None if vs_e is None else vs_e >= 3.0) + " / " + mark(None if vs_g is None else vs_g > 1.0),
                         fmt(best["peak_bytes"] / 2**20, 0), fmt(tp / 2**20 if tp else None, 0),
                         mark(None if not tp else best["peak_bytes"] <= tp)])
        o3e = o3.get(key + ("eager",))
        if o3e:
            fps3 = o3e.get("fps")
            rows.append([name + " (3 heads)", f"{b}x3x{h}x{w}", ms(o3e["ms"]),
                         ms(o3.get(key + ("cuda_graph",), {}).get("ms")), ms(te and te["ms"]), ms(tg and tg["ms"]),
                         fmt(fps3, 1), fmt(fps3 / te["fps"] if te else None, 2, "x"),
                         fmt(fps3 / tg["fps"] if tg else None, 2, "x"), "-",
                         fmt(o3e["peak_bytes"] / 2**20, 0), fmt(tp / 2**20 if tp else None, 0), "-"])
    lines.append(table(["record", "shape", "ours ms", "ours graph ms", "torch ms", "torch graph ms", "ours fps",
                        "vs torch", "vs torch graph", "target", "ours peak MiB", "torch peak MiB", "peak ≤ torch"],
                       rows))
    lines.append(f"\nInference targets: ours (eager) at least 3x PyTorch eager / above PyTorch with CUDA graphs. "
                 f"Training: at least 1.5x faster than PyTorch eager, peak memory no higher. Our inference computes "
                 f"{'all three heads' if heads == 3 else 'the prediction head only'}; PyTorch's model computes all "
                 f"three (the '3 heads' rows are like for like).")
    for n in (ours.get("notes") or []) + ((torch or {}).get("notes") or []):
        lines.append(f"\n- note: {n}")
    return "\n".join(lines) + "\n"


def kernel_section(k):
    if not k:
        return ""
    cuda = k.get("device_type") == "cuda"
    copy = k.get("copy", {})
    lines = [f"## Kernels on {k.get('device', '?')}\n",
             f"Copy bandwidth (read + write): {fmt(copy.get('gbps'), 1)} GB/s. "
             + (f"cuDNN {k.get('build', {}).get('cudnn')}, {k.get('cudnn_math', '')}. " if cuda else "")
             + f"Date {k.get('date', '?')}.\n"]
    by_input = {}
    for r in k.get("records", []):
        by_input.setdefault(r.get("input", "?"), []).append(r)
    for inp, recs in by_input.items():
        rows = []
        for r in recs:
            shape = (f"{r.get('elements')} elems" if "elements" in r else
                     f"{r.get('batch')}x{r.get('channels')}x{r.get('height')}x{r.get('width')}")
            row = [r.get("name"), r.get("where", ""), shape, ms(r.get("ms")), gbps(r.get("gbps")),
                   fmt(100 * r["copy_fraction"], 0) if num(r.get("copy_fraction")) else "-"]
            if not cuda:
                row.append(ms(r.get("ms_min")))  # on a shared CPU the best rep is the steadier figure
            if cuda:
                sp = r.get("speedup_vs_cudnn")
                err = r.get("cudnn_rel_error")
                stand_in = " (stand-in)" if r.get("cudnn_same_op") is False else ""
                row += [ms(r.get("cudnn_ms")), fmt(sp, 2, "x") + (stand_in if num(sp) else ""),
                        f"{err:.1e}" if num(err) else "-"]
                if r.get("bandwidth_bound"):  # set by the bench (depthwise, BN, GELU/PReLU, resize)
                    bw_ok = num(r.get("copy_fraction")) and r["copy_fraction"] >= BANDWIDTH_TARGET
                    cu_ok = None if not num(sp) else sp > 1.0
                    row.append(mark(bw_ok) + (" / " + mark(cu_ok) if cu_ok is not None else ""))
                else:
                    row.append("")
            if "error" in r:
                row[-1] = str(row[-1]) + f" ERROR: {r['error'][:80]}"
            rows.append(row)
        header = ["kernel", "where", "NxCxHxW", "ms", "GB/s", "% copy"]
        if cuda:
            header += ["cuDNN ms", "speedup", "rel err", "target"]
        else:
            header += ["min ms"]
        lines.append(f"### Network input {inp}\n")
        lines.append(table(header, rows) + "\n")
    if cuda:
        lines.append(f"Target (depthwise, BN, GELU/PReLU, resize): at least {int(BANDWIDTH_TARGET * 100)} % of the copy "
                     "bandwidth / faster than cuDNN. GELU's cuDNN figure is swish (cuDNN has no GELU); "
                     "PReLU, resize, cross-entropy and SGD have no cuDNN counterpart.")
        notes = sorted({f"{r['name']}: {r['cudnn_note']}" for r in k.get("records", [])
                        if str(r.get("cudnn_note", "")).startswith(("skipped", "failed"))})
        for n in notes:
            lines.append(f"\n- cuDNN {n}")
    return "\n".join(lines) + "\n"


def cpu_section(ours, torch):
    if not ours:
        return ""
    o = index(ours.get("records"))
    t = index((torch or {}).get("records"))
    rows = []
    for key, r in o.items():
        tr = t.get(key)
        ratio = tr["ms"] / r["ms"] if tr else None
        rows.append([key[0], f"{key[1]}x3x{key[2]}x{key[3]}", ms(r["ms"]), ms(r.get("ms_min")), ms(r.get("cpu_ms")),
                     ms(tr and tr["ms"]), ms(tr and tr.get("ms_min")), ms(tr and tr.get("cpu_ms")), fmt(ratio, 2, "x"),
                     mark(None if ratio is None else ratio >= 1.0)])
    load = ours.get("load_average")
    note = (f"\nLoad average when our run started: {', '.join(f'{x:.1f}' for x in load)} (1, 5, 15 min) on "
            f"{ours.get('threads', '?')} threads.\n" if load else "")
    return (f"## CPU: {ours.get('device', '?')}\n\n" +
            table(["record", "shape", "ours ms", "ours min ms", "ours CPU ms", "torch ms", "torch min ms",
                   "torch CPU ms", "torch / ours", "ours no slower"], rows) + "\n" +
            "\n`CPU ms`: process CPU time per run, all threads together (a median).\n" + note)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("outdir", nargs="?", help="folder written by bench/run_gpu.sh")
    p.add_argument("--kernels", action="append", help="kernel JSON (repeatable: records are merged)")
    p.add_argument("--model"), p.add_argument("--model3")
    p.add_argument("--torch"), p.add_argument("--model-cpu"), p.add_argument("--torch-cpu")
    p.add_argument("--title", default="")
    a = p.parse_args(argv)
    d = a.outdir or ""

    def pick(explicit, name):
        return explicit or (os.path.join(d, name) if d else None)

    kernel_files = a.kernels or (sorted(glob.glob(os.path.join(d, "kernels_cuda*.json"))) if d else [])
    kernels = None
    for path in kernel_files:
        k = load(path)
        if k is None:
            continue
        if kernels is None:
            kernels = k
        else:
            kernels["records"] = kernels.get("records", []) + k.get("records", [])
    model = load(pick(a.model, "model_cuda.json"))
    model3 = load(pick(a.model3, "model_cuda_3heads.json"))
    torch = load(pick(a.torch, "torch_cuda.json"))
    model_cpu = load(pick(a.model_cpu, "model_cpu.json"))
    torch_cpu = load(pick(a.torch_cpu, "torch_cpu.json"))
    title = a.title or "PMSDSEN benchmark run"
    when = (kernels or model or model_cpu or {}).get("date", "")
    parts = [f"# {title} {when}\n"]
    if d:
        parts.append(steps_section(os.path.join(d, "steps.tsv")))
    parts += [model_section(model, model3, torch), kernel_section(kernels), cpu_section(model_cpu, torch_cpu)]
    text = "\n".join(x for x in parts if x)
    if len(parts) <= 2 and not any(parts[1:]):
        text += "\nNo results found.\n"
    sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
