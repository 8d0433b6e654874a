#!/usr/bin/env python3
"""Times PMSDSEN in PyTorch: the baseline the C++ library's benchmark is compared with.

Records (as in the benchmark issue):
  inference   eval mode, no autograd: 1x3x512x1024 and 4x3x512x1024
  train_step  forward, loss = sum of the three cross-entropies (ignore 255), backward,
              SGD (momentum 0.9, weight decay 1e-4): 12x3x256x512 and 6x3x512x1024
Each record: warm-up runs, then the median over repetitions (CUDA events on the GPU,
time.perf_counter on the CPU), frames per second = batch / median, and the peak memory:
torch.cuda.max_memory_allocated on the GPU (reset before each record), the process's
peak resident set size (getrusage ru_maxrss) on the CPU, where each record runs in a
fresh child process so that the figure is that record's own (it includes the Python and
PyTorch baseline). With CUDA, each record is also timed replaying a CUDA graph
(torch.cuda.graphs) captured once; if capture fails the record is left out and a note
says why.

CPU figures depend on the BLAS behind Debian's PyTorch: it calls whatever libblas.so.3
the alternatives system selects, the netlib reference BLAS when only libblas3 is
installed, and dense convolutions then run several times slower than with OpenBLAS
(libopenblas0-pthread). The `blas` field records the libraries in use. To try OpenBLAS
without installing it: apt-get download libopenblas0-pthread; dpkg -x the .deb into DIR;
run with LD_LIBRARY_PATH=DIR/usr/lib/x86_64-linux-gnu/openblas-pthread.

Output: {"device": ..., "records": [{"name", "batch", "height", "width", "ms", "fps",
"peak_bytes", "mode": "eager"|"cuda_graph", ...}], ...} printed as a table and, with
--json, written (atomically) to a file.

Examples (Debian's PyTorch: run with /usr/bin/python3; tools/setup.sh --torch):
  /usr/bin/python3 tools/bench_torch.py --quick --threads 2
  /usr/bin/python3 tools/bench_torch.py --device cpu --records inference --json cpu.json
  /usr/bin/python3 tools/bench_torch.py --device cuda --json h100.json
"""

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import pmsdsen_torch as pt  # noqa: E402
import safetensors_io  # noqa: E402  (atomic_write_bytes)
from machine_info import cpu_name  # noqa: E402

SHAPES = {
    "inference": [(1, 512, 1024), (4, 512, 1024)],
    "train_step": [(12, 256, 512), (6, 512, 1024)],
}
LR, MOMENTUM, WEIGHT_DECAY = 0.01, 0.9, 1e-4


def blas_libraries():
    """The BLAS/LAPACK shared libraries this process has loaded (Debian's PyTorch uses
    whatever libblas.so.3 the alternatives system points at: the netlib reference BLAS
    unless OpenBLAS or BLIS is installed, which makes CPU convolutions far slower)."""
    found = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                path = line.split()[-1] if len(line.split()) >= 6 else ""
                base = os.path.basename(path).lower()
                if any(k in base for k in ("blas", "lapack", "mkl_", "libmkl", "blis")):
                    found.add(os.path.realpath(path))
    except OSError:
        pass
    return sorted(found)


def make_batch(batch, h, w, classes, device, seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(batch, 3, h, w, generator=g)
    t = torch.randint(0, classes, (batch, h, w), generator=g)
    t[torch.rand(t.shape, generator=g) < 0.1] = 255
    return x.to(device), t.to(device)


def loss_of(outputs, target):
    return sum(F.cross_entropy(o, target, ignore_index=255) for o in outputs)


class Runner:
    """Builds the model and the step function for one record."""

    def __init__(self, name, batch, h, w, args, device):
        torch.manual_seed(0)
        self.name = name
        self.device = device
        self.model = pt.PMSDSEN(args.classes, args.act).to(device)
        self.x, self.t = make_batch(batch, h, w, args.classes, device)
        if name == "inference":
            self.model.eval()
            self.opt = None
        else:
            self.model.train()
            self.opt = torch.optim.SGD(self.model.parameters(), lr=LR, momentum=MOMENTUM,
                                       weight_decay=WEIGHT_DECAY)

    def step(self):
        if self.opt is None:
            with torch.no_grad():
                return self.model(self.x)
        self.opt.zero_grad(set_to_none=True)
        loss = loss_of(self.model(self.x), self.t)
        loss.backward()
        self.opt.step()
        return loss


def time_cpu(fn, warmup, reps):
    """Wall-clock times (ms) and, alongside, the process CPU time (ms) of each run: on a
    shared machine wall >> cpu / threads tells that other work competed for the cores."""
    for _ in range(warmup):
        fn()
    times, cpu = [], []
    for _ in range(reps):
        c0, t0 = time.process_time(), time.perf_counter()
        fn()
        times.append((time.perf_counter() - t0) * 1e3)
        cpu.append((time.process_time() - c0) * 1e3)
    return times, cpu


def time_cuda(fn, warmup, reps):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(reps):
        start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        start.record()
        fn()
        end.record()
        end.synchronize()
        times.append(start.elapsed_time(end))
    return times


def capture_graph(runner):
    """Captures one step (inference, or the whole training step) in a CUDA graph and
    returns its replay function. Warm-up iterations run on a side stream first, as
    torch.cuda.graphs requires (they also create the SGD momentum buffers)."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            runner.step()
    torch.cuda.current_stream().wait_stream(s)
    graph = torch.cuda.CUDAGraph()
    if runner.opt is None:
        with torch.no_grad(), torch.cuda.graph(graph):
            runner.model(runner.x)
    else:
        runner.opt.zero_grad(set_to_none=True)
        with torch.cuda.graph(graph):
            loss = loss_of(runner.model(runner.x), runner.t)
            loss.backward()
            runner.opt.step()
    torch.cuda.synchronize()
    return graph.replay


def record(name, batch, h, w, mode, times, peak, peak_source):
    ms = statistics.median(times)
    return {"name": name, "batch": batch, "height": h, "width": w, "mode": mode,
            "ms": round(ms, 3), "fps": round(batch / (ms / 1e3), 3), "peak_bytes": int(peak),
            "peak_source": peak_source, "ms_min": round(min(times), 3), "ms_max": round(max(times), 3),
            "reps": len(times)}


def run_cpu_record(name, batch, h, w, args):
    torch.set_num_threads(args.threads)
    r = Runner(name, batch, h, w, args, "cpu")
    warmup = args.warmup if args.warmup is not None else 1
    reps = args.reps if args.reps is not None else (5 if name == "inference" else 3)
    times, cpu = time_cpu(r.step, warmup, reps)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # Linux reports KiB
    rec = record(name, batch, h, w, "eager", times, peak, "ru_maxrss (process peak RSS)")
    rec["cpu_ms"] = round(statistics.median(cpu), 3)
    rec["load_avg_1min"] = round(os.getloadavg()[0], 2)
    return rec


def run_cuda_records(name, batch, h, w, args, notes):
    out = []
    warmup = args.warmup if args.warmup is not None else (10 if name == "inference" else 5)
    reps = args.reps if args.reps is not None else (50 if name == "inference" else 20)
    src = "torch.cuda.max_memory_allocated"
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    r = Runner(name, batch, h, w, args, "cuda")
    times = time_cuda(r.step, warmup, reps)
    out.append(record(name, batch, h, w, "eager", times, torch.cuda.max_memory_allocated(), src))
    del r
    if not args.no_cuda_graph:
        torch.cuda.empty_cache()
        torch.cuda.reset_peak_memory_stats()
        try:
            r = Runner(name, batch, h, w, args, "cuda")
            replay = capture_graph(r)
            times = time_cuda(replay, warmup, reps)
            out.append(record(name, batch, h, w, "cuda_graph", times, torch.cuda.max_memory_allocated(), src))
        except Exception as e:  # capture is best effort: report and go on
            notes.append(f"{name} {batch}x3x{h}x{w}: CUDA graph capture failed, eager only "
                         f"({type(e).__name__}: {str(e).splitlines()[0] if str(e) else ''})")
        finally:
            r = None
            torch.cuda.synchronize()
    return out


def selected(args):
    names = args.records or ["inference", "train_step"]
    if args.quick:
        return [("inference", 1, 512, 1024)]
    return [(n, b, h, w) for n in names for (b, h, w) in SHAPES[n]]


def child_main(spec):
    """Hidden entry point: run one CPU record in this (fresh) process, print JSON."""
    d = json.loads(spec)
    args = argparse.Namespace(**d["args"])
    rec = run_cpu_record(d["name"], d["batch"], d["height"], d["width"], args)
    print("BENCH_RECORD " + json.dumps(rec))
    return 0


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_child"]:
        return child_main(argv[1])
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                epilog=__doc__.split("\n\n", 1)[1],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--device", choices=["cpu", "cuda"], default="cpu", help="where to run (default cpu)")
    p.add_argument("--json", metavar="OUT.json", help="also write the results to this file")
    p.add_argument("--threads", type=int, default=2, help="CPU threads for torch (default 2)")
    p.add_argument("--quick", action="store_true",
                   help="only the CPU inference record at 1x3x512x1024 (implies --device cpu)")
    p.add_argument("--records", choices=sorted(SHAPES), action="append",
                   help="only these records (repeatable; default all)")
    p.add_argument("--warmup", type=int, help="warm-up runs (default: CPU 1; CUDA 10 inference, 5 training)")
    p.add_argument("--reps", type=int,
                   help="timed runs (default: CPU 5 inference, 3 training; CUDA 50 inference, 20 training)")
    p.add_argument("--classes", type=int, default=19, help="number of classes (default 19)")
    p.add_argument("--act", choices=pt.ACTIVATIONS, default="gelu", help="activation (default gelu)")
    p.add_argument("--no-cuda-graph", action="store_true", help="CUDA: eager mode only")
    p.add_argument("--no-tf32", action="store_true",
                   help="CUDA: disable TF32 in cuDNN convolutions (PyTorch enables it by default)")
    p.add_argument("--in-process", action="store_true",
                   help="CPU: run all records in this process (peak RSS is then cumulative)")
    args = p.parse_args(argv)
    if args.quick:
        args.device = "cpu"
    if args.threads < 1:
        p.error(f"--threads {args.threads}: must be at least 1")
    for flag in ("warmup", "reps"):
        v = getattr(args, flag)
        if v is not None and v < (0 if flag == "warmup" else 1):
            p.error(f"--{flag} {v}: out of range")
    if args.json:
        d = os.path.dirname(os.path.abspath(args.json))
        if not os.path.isdir(d):
            p.error(f"--json {args.json}: folder {d} does not exist")
    if args.device == "cuda" and not torch.cuda.is_available():
        p.error("--device cuda: this PyTorch has no usable CUDA device "
                f"(torch {torch.__version__}, built with CUDA {torch.version.cuda})")

    torch.set_num_threads(args.threads)
    notes = []
    result = {"torch": torch.__version__, "act": args.act, "classes": args.classes, "threads": args.threads,
              "blas": blas_libraries()}
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
        if args.no_tf32:
            torch.backends.cudnn.allow_tf32 = False
        result["device"] = torch.cuda.get_device_name()
        result["cudnn_benchmark"] = True
        result["cudnn_allow_tf32"] = torch.backends.cudnn.allow_tf32
        result["matmul_allow_tf32"] = torch.backends.cuda.matmul.allow_tf32
    else:
        result["device"] = f"cpu: {cpu_name()}, {args.threads} thread(s)"

    records = []
    for name, batch, h, w in selected(args):
        print(f"running {name} {batch}x3x{h}x{w} on {args.device} ...", file=sys.stderr, flush=True)
        if args.device == "cuda":
            records += run_cuda_records(name, batch, h, w, args, notes)
        elif args.in_process:
            records.append(run_cpu_record(name, batch, h, w, args))
        else:
            spec = json.dumps({"name": name, "batch": batch, "height": h, "width": w,
                               "args": {k: getattr(args, k) for k in ("threads", "warmup", "reps", "classes", "act")}})
            env = dict(os.environ)
            for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
                env.setdefault(var, str(args.threads))  # BLAS thread pools that torch may not control
            proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--_child", spec],
                                  capture_output=True, text=True, env=env)
            lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("BENCH_RECORD ")]
            if proc.returncode != 0 or not lines:
                print(f"error: {name} {batch}x3x{h}x{w} failed (exit {proc.returncode}):\n{proc.stderr[-2000:]}",
                      file=sys.stderr)
                return 1
            records.append(json.loads(lines[-1][len("BENCH_RECORD "):]))
    result["records"] = records
    if notes:
        result["notes"] = notes

    print(f"device: {result['device']}  torch {torch.__version__}  act {args.act}")
    if args.device == "cpu":
        print(f"BLAS: {', '.join(result['blas']) or 'none found'}")
    print(f"{'record':11s} {'shape':>13s} {'mode':10s} {'median ms':>10s} {'min ms':>9s} {'fps':>9s} "
          f"{'peak MiB':>9s}")
    for r in records:
        shape = f"{r['batch']}x3x{r['height']}x{r['width']}"
        extra = (f"  (process CPU {r['cpu_ms']:.0f} ms per run, load average {r['load_avg_1min']})"
                 if "cpu_ms" in r else "")
        print(f"{r['name']:11s} {shape:>13s} {r['mode']:10s} {r['ms']:10.1f} {r['ms_min']:9.1f} {r['fps']:9.2f} "
              f"{r['peak_bytes'] / 2**20:9.0f}{extra}")
    for n in notes:
        print(f"note: {n}")
    if args.json:
        safetensors_io.atomic_write_bytes(args.json, (json.dumps(result, indent=1) + "\n").encode())
        print(f"wrote {args.json}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
