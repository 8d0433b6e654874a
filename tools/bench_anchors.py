#!/usr/bin/env python3
"""PMSDSEN inference on the CPU beside the engines a user would deploy it with.

Ours (the inference plan, `pmsdsen bench model --modes plan`, and the eager path) is
timed in the same run as ONNX Runtime and OpenVINO (from PyPI) and PyTorch, on the same
weights, the same shapes and the same number of threads, and every engine's logits are
checked against ours. One table: median ms, ratio to ours, peak memory, agreement.

Steps:
  1. Debian's PyTorch 1.13 (/usr/bin/python3, `tools/setup.sh --torch`) builds
     tools/pmsdsen_torch.PMSDSEN with random weights whose batch-norm statistics look
     trained, saves them as a pmsdsen weights file, exports ONNX (opset 17, one file per
     batch size, the prediction output or --all-heads) and writes one random input per
     shape.
  2. A virtual environment (default ~/.cache/pmsdsen/anchors-venv, --venv) gets numpy,
     onnxruntime and openvino from PyPI on first use. PyTorch there (a current release)
     is timed too when it imports; it is not installed (PyPI's wheel is several GB).
  3. Rounds: in each round every engine runs once per shape in a process of its own
     (load, one warm-up run, --reps timed runs; its own peak resident set), engines in
     turn, so that a change of load on the machine hits all of them. The table gives,
     per engine, the median over all timed runs and the ratio of its median to ours.
     The load average is recorded before and after every run.
  4. Correctness: ours through `pmsdsen forward --plan` on each input; every engine's
     logits compared with ours (max |a - b| / max |ours|, and the share of pixels
     whose class differs among those with a top-2 margin above 1e-3).

OpenVINO runs with INFERENCE_PRECISION_HINT f32 and the latency hint, ONNX Runtime
with all graph optimisations, both single-stream at --threads intra-op threads.

  /usr/bin/python3 tools/bench_anchors.py --threads 2 --json anchors.json
  /usr/bin/python3 tools/bench_anchors.py --batches 1 --rounds 1 --reps 2   # a quick look
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
from machine_info import cpu_name  # noqa: E402
VENV_PACKAGES = ["numpy", "onnxruntime", "openvino"]


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def load_average():
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:
        return None


def cpu_flags():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    flags = line.split(":", 1)[1].split()
                    return [x for x in ("avx2", "fma", "avx512f", "avx512bw", "avx512vl", "avx512_bf16") if x in flags]
    except OSError:
        pass
    return []


# ---- workers: one engine, one shape, in a process of its own ------------------------------

def rss_bytes():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def worker(args):
    import numpy as np

    x = np.load(args.input)
    threads = args.threads
    baseline = rss_bytes()
    if args.worker == "onnxruntime":
        import onnxruntime as ort

        so = ort.SessionOptions()
        so.intra_op_num_threads = threads
        so.inter_op_num_threads = 1
        so.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
        so.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        sess = ort.InferenceSession(args.onnx, so, providers=["CPUExecutionProvider"])
        version = ort.__version__

        def run():
            return sess.run(None, {"input": x})[0]
    elif args.worker == "openvino":
        import openvino as ov

        core = ov.Core()
        compiled = core.compile_model(core.read_model(args.onnx), "CPU", {
            "INFERENCE_NUM_THREADS": threads, "INFERENCE_PRECISION_HINT": "f32",
            "PERFORMANCE_HINT": "LATENCY", "NUM_STREAMS": 1})
        request = compiled.create_infer_request()
        version = ov.__version__ if hasattr(ov, "__version__") else ov.get_version()

        def run():
            request.infer({0: x})
            return request.get_output_tensor(0).data.copy()
    elif args.worker.startswith("torch"):
        import torch

        sys.path.insert(0, HERE)
        import pmsdsen_torch as pt
        import safetensors_io

        torch.set_num_threads(threads)
        meta = safetensors_io.load_metadata(args.weights)
        model = pt.PMSDSEN(int(meta["classes"]), meta["act"])
        state = safetensors_io.load(args.weights)
        model.load_state_dict(state, strict=True)
        model.eval()
        xt = torch.from_numpy(x)
        version = torch.__version__

        def run():
            with torch.inference_mode():
                out = model(xt)
            return out[0].numpy()
    else:
        raise SystemExit(f"bench_anchors: unknown worker {args.worker}")
    t0 = time.perf_counter()
    y = run()  # warm-up (and the output checked)
    first = (time.perf_counter() - t0) * 1e3
    times = []
    for _ in range(args.reps):
        t0 = time.perf_counter()
        run()
        times.append((time.perf_counter() - t0) * 1e3)
    np.save(args.output, np.ascontiguousarray(y, dtype=np.float32))
    json.dump({"engine": args.worker, "version": version, "ms": times, "first_ms": first,
               "peak_rss_bytes": rss_bytes(), "rss_before_model_bytes": baseline}, sys.stdout)
    return 0


# ---- step 1: weights, ONNX, inputs (Debian's PyTorch) --------------------------------------

def export(args):
    import numpy as np
    import torch

    sys.path.insert(0, HERE)
    import pmsdsen_torch as pt
    import safetensors_io

    torch.manual_seed(args.seed)
    model = pt.PMSDSEN(args.classes, args.act)
    g = torch.Generator().manual_seed(args.seed)
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if name.endswith("running_mean"):
                t.copy_(torch.rand(t.shape, generator=g) * 0.6 - 0.3)
            elif name.endswith("running_var"):
                t.copy_(torch.rand(t.shape, generator=g) * 1.5 + 0.5)
    model.eval()
    state = {k: v.contiguous() for k, v in model.state_dict().items()}
    safetensors_io.save(args.weights, state, {"format": "pmsdsen", "classes": str(args.classes), "act": args.act})

    class Deploy(torch.nn.Module):
        def __init__(self, m, heads):
            super().__init__()
            self.m, self.heads = m, heads

        def forward(self, x):
            y = self.m(x)
            return y if self.heads else y[0]

    deploy = Deploy(model, args.all_heads).eval()
    names = ["logits", "aux_x4", "aux_x8"] if args.all_heads else ["logits"]
    for b in args.batch_list:
        x = torch.from_numpy(np.random.default_rng(args.seed + b).standard_normal(
            (b, 3, args.height, args.width), dtype=np.float32))
        np.save(os.path.join(args.work, f"input_{b}.npy"), x.numpy())
        safetensors_io.save(os.path.join(args.work, f"input_{b}.safetensors"), {"input": x})
        with torch.no_grad():
            torch.onnx.export(deploy, x, os.path.join(args.work, f"pmsdsen_{b}.onnx"), opset_version=17,
                              input_names=["input"], output_names=names, do_constant_folding=True)
    return 0


# ---- the driver ----------------------------------------------------------------------------

def run(cmd, **kw):
    r = subprocess.run(cmd, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({r.returncode}):\n{r.stderr[-3000:]}")
    return r.stdout


def ensure_venv(venv):
    py = os.path.join(venv, "bin", "python")
    if not os.path.exists(py):
        log(f"bench_anchors: creating {venv}")
        run([sys.executable, "-m", "venv", venv])
    missing = []
    for p in VENV_PACKAGES:
        if subprocess.run([py, "-c", f"import {p}"], capture_output=True).returncode != 0:
            missing.append(p)
    if missing:
        log(f"bench_anchors: pip install {' '.join(missing)}")
        run([py, "-m", "pip", "install", "-q", "--upgrade", "pip"])
        run([py, "-m", "pip", "install", "-q"] + missing)
    return py


def compare(ours, theirs):
    """max |theirs - ours| / max |ours|, and class disagreements where ours has a margin."""
    import numpy as np

    a, b = ours.astype(np.float64), theirs.astype(np.float64)
    if a.shape != b.shape:
        return {"shape": list(b.shape), "rel": float("inf")}
    rel = float(np.abs(a - b).max() / max(np.abs(a).max(), 1e-12))
    top = np.sort(a, axis=1)
    margin = top[:, -1] - top[:, -2]
    clear = margin > 1e-3
    differ = (a.argmax(axis=1) != b.argmax(axis=1)) & clear
    return {"rel": rel, "pixels_compared": int(clear.sum()), "classes_differ": int(differ.sum())}


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", default="1,4", help="batch sizes (comma-separated); the records of "
                    "`pmsdsen bench model` are 1 and 4 at 512x1024")
    ap.add_argument("--height", type=int, default=512)
    ap.add_argument("--width", type=int, default=1024)
    ap.add_argument("--act", default="gelu", choices=["gelu", "prelu"])
    ap.add_argument("--classes", type=int, default=19)
    ap.add_argument("--all-heads", action="store_true", help="every engine computes all three outputs")
    ap.add_argument("--reps", type=int, default=3, help="timed runs per engine, shape and round")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--engines", default="pmsdsen,onnxruntime,openvino,torch-debian,torch-current,pmsdsen-eager")
    ap.add_argument("--pmsdsen", default=os.path.join(ROOT, "build", "bin", "pmsdsen"))
    ap.add_argument("--venv", default=os.path.join(os.path.expanduser("~"), ".cache", "pmsdsen", "anchors-venv"))
    ap.add_argument("--work", default="", help="folder for the weights, ONNX files and inputs (default: a temporary one)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", default="", help="also write the results here")
    # internal
    ap.add_argument("--worker", default="", help=argparse.SUPPRESS)
    ap.add_argument("--export", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--onnx", default="", help=argparse.SUPPRESS)
    ap.add_argument("--input", default="", help=argparse.SUPPRESS)
    ap.add_argument("--output", default="", help=argparse.SUPPRESS)
    ap.add_argument("--weights", default="", help=argparse.SUPPRESS)
    args = ap.parse_args()
    args.batch_list = [int(b) for b in args.batches.split(",") if b]
    if args.worker:
        return worker(args)
    if args.export:
        return export(args)

    if args.height % 8 or args.width % 8:
        raise SystemExit("bench_anchors: --height and --width must be multiples of 8")
    if not os.path.exists(args.pmsdsen):
        raise SystemExit(f"bench_anchors: {args.pmsdsen} not found (tools/build.sh, or --pmsdsen)")
    debian_python = "/usr/bin/python3"
    if subprocess.run([debian_python, "-c", "import torch"], capture_output=True).returncode != 0:
        raise SystemExit("bench_anchors: Debian's PyTorch is needed for the ONNX export (tools/setup.sh --torch)")
    work = args.work or tempfile.mkdtemp(prefix="pmsdsen_anchors_")
    os.makedirs(work, exist_ok=True)
    weights = os.path.join(work, "weights.safetensors")
    me = os.path.abspath(__file__)
    common = ["--threads", str(args.threads), "--batches", args.batches, "--height", str(args.height),
              "--width", str(args.width), "--act", args.act, "--classes", str(args.classes), "--seed", str(args.seed)]
    if args.all_heads:
        common.append("--all-heads")
    log(f"bench_anchors: exporting weights, ONNX and inputs to {work}")
    run([debian_python, me, "--export", "--work", work, "--weights", weights] + common)
    venv_py = ensure_venv(args.venv)
    if (args.height, args.width) != (512, 1024):
        raise SystemExit("bench_anchors: `pmsdsen bench model` times 512x1024 only")

    engines = [e for e in args.engines.split(",") if e]
    pythons = {"onnxruntime": venv_py, "openvino": venv_py, "torch-debian": debian_python, "torch-current": venv_py}
    if "torch-current" in engines and subprocess.run([venv_py, "-c", "import torch"], capture_output=True).returncode:
        log("bench_anchors: no PyTorch in the virtual environment: current PyTorch left out "
            f"({venv_py} -m pip install torch to include it)")
        engines.remove("torch-current")
    env = dict(os.environ, OMP_NUM_THREADS=str(args.threads))
    results = {}  # (engine, batch) -> {"ms": [...], ...}
    for rnd in range(args.rounds):
        for b in args.batch_list:
            for e in engines:
                key = (e, b)
                load = load_average()
                if e.startswith("pmsdsen"):
                    out_json = os.path.join(work, f"ours_{e}_{b}.json")
                    mode = "plan" if e == "pmsdsen" else "eager"
                    cmd = [args.pmsdsen, "bench", "model", "--device", "cpu", "--records", "inference",
                           "--batches", str(b), "--modes", mode, "--threads", str(args.threads), "--reps",
                           str(args.reps), "--weights", weights, "--json", out_json]
                    if args.all_heads:
                        cmd.append("--all-heads")
                    run(cmd, env=env)
                    with open(out_json) as f:
                        j = json.load(f)
                    rec = j["records"][0]
                    r = {"engine": e, "version": "this build (" + mode + ")", "ms": None,
                         "peak_rss_bytes": rec.get("peak_rss_bytes"), "rss_before_model_bytes": j.get("rss_start_bytes"),
                         "median_this_round": rec["ms"], "reps": rec["reps"], "arena_bytes": rec.get("arena_bytes")}
                    times = [rec["ms"]] * 1
                else:
                    out_npy = os.path.join(work, f"out_{e}_{b}.npy")
                    cmd = [pythons[e], me, "--worker", e, "--onnx", os.path.join(work, f"pmsdsen_{b}.onnx"),
                           "--input", os.path.join(work, f"input_{b}.npy"), "--output", out_npy, "--weights", weights,
                           "--threads", str(args.threads), "--reps", str(args.reps)]
                    try:
                        r = json.loads(run(cmd, env=env))
                    except RuntimeError as err:
                        log(f"bench_anchors: {e} batch {b} failed: {err}")
                        continue
                    times = r["ms"]
                acc = results.setdefault(key, dict(r, ms=[], rounds=[], loads=[]))
                acc["ms"].extend(times)
                acc["rounds"].append(statistics.median(times))
                acc["loads"].append([load, load_average()])
                acc["peak_rss_bytes"] = max(acc.get("peak_rss_bytes") or 0, r.get("peak_rss_bytes") or 0)
                log(f"round {rnd + 1} batch {b} {e}: {statistics.median(times):.0f} ms (load {load})")

    # Correctness: ours through the plan, every engine against it.
    checks = {}
    for b in args.batch_list:
        ours_out = os.path.join(work, f"ours_out_{b}.safetensors")
        run([args.pmsdsen, "forward", "--plan", "--weights", weights, "--input", os.path.join(work, f"input_{b}.safetensors"),
             "--output", ours_out], env=env)
        code = ("import json,sys,numpy as np; sys.path.insert(0, %r); import safetensors_io as s, bench_anchors as a; "
                "ours = s.load(%r, 'numpy')['logits']; out = {}\n"
                "for e in %r:\n"
                "    p = %r + '/out_' + e + '_%d.npy'\n"
                "    import os\n"
                "    if os.path.exists(p): out[e] = a.compare(ours, np.load(p))\n"
                "print(json.dumps(out))") % (HERE, ours_out, [e for e in engines if not e.startswith("pmsdsen")], work, b)
        checks[b] = json.loads(run([venv_py, "-c", code]))

    # The table.
    rows = []
    for b in args.batch_list:
        ours = results.get(("pmsdsen", b))
        ours_ms = statistics.median(ours["rounds"]) if ours else None
        for e in engines:
            r = results.get((e, b))
            if not r:
                continue
            ms = statistics.median(r["rounds"])
            rows.append({"batch": b, "engine": e, "version": r["version"], "ms": ms, "min_round_ms": min(r["rounds"]),
                         "rounds_ms": r["rounds"], "ratio_to_ours": ms / ours_ms if ours_ms else None,
                         "peak_rss_mib": (r.get("peak_rss_bytes") or 0) / 2**20,
                         "rss_before_model_mib": (r.get("rss_before_model_bytes") or 0) / 2**20,
                         "arena_mib": (r.get("arena_bytes") or 0) / 2**20 if r.get("arena_bytes") else None,
                         "check": checks.get(b, {}).get(e), "loads": r["loads"]})
    print(f"\nPMSDSEN inference, {args.threads} threads, {args.height}x{args.width}, "
          f"{'all three outputs' if args.all_heads else 'the prediction output'}, {args.act}, {cpu_name()} "
          f"({', '.join(cpu_flags())}), {time.strftime('%Y-%m-%d')}; medians over {args.rounds} rounds of {args.reps} runs")
    print("| shape | engine | version | ms | engine ms / ours | peak RSS MiB | max rel diff to ours | classes differ |")
    print("|---|---|---|---|---|---|---|---|")
    for r in rows:
        c = r["check"] or {}
        ratio = f"{r['ratio_to_ours']:.2f}" if r["ratio_to_ours"] else "-"
        rel = f"{c['rel']:.2e}" if "rel" in c else "-"
        differ = f"{c['classes_differ']} of {c['pixels_compared']}" if "classes_differ" in c else "-"
        print(f"| {r['batch']}x3x{args.height}x{args.width} | {r['engine']} | {r['version']} | {r['ms']:.0f} | {ratio} | "
              f"{r['peak_rss_mib']:.0f} | {rel} | {differ} |")
    for r in rows:
        print(f"load average (1, 5, 15 min) around the runs of {r['engine']} batch {r['batch']}: "
              + "; ".join(f"{a} -> {b}" for a, b in r["loads"]))
    if args.json:
        out = {"date": time.strftime("%Y-%m-%dT%H:%M:%S"), "cpu": cpu_name(), "flags": cpu_flags(),
               "threads": args.threads, "height": args.height, "width": args.width, "act": args.act,
               "all_heads": args.all_heads, "reps": args.reps, "rounds": args.rounds, "rows": rows}
        with open(args.json + ".tmp", "w") as f:
            json.dump(out, f, indent=1)
        os.replace(args.json + ".tmp", args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
