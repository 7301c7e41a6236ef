"""``turbopix bench``: speed, memory, work and quality cost of a checkpoint's accelerated variants.

One run measures everything side by side, because on a shared machine only ratios measured
together mean anything: for ``rounds`` rounds, every (variant, batch) is timed in turn (the
variant order rotates each round), and so are the reference kernels of ``peaks.py``. Reported per
variant and batch, as medians over rounds:

* ``images_per_s`` and ``speedup`` (median of the per-round ratios to eager fp32 in that round);
* ``latency_p50_ms`` / ``latency_p95_ms`` of single calls (every batch; batch 1 is *the* latency);
* ``peak_mem_mb``: peak RSS growth of a fresh process from before loading the variant to after
  running it at that batch (weights, runtime libraries, activations), measured in a subprocess per
  variant so the variants cannot inflate each other's numbers; ``memory=False`` skips it;
* ``params`` and ``flops_per_image`` (counted, ``flops.py``), and ``pct_peak``: achieved
  FLOP/s over the reference of the variant's precision measured in the same rounds;
* quality against eager fp32 on the same inputs (``quality.py``): ``max_abs_error``, and for a
  generator ``fid`` / ``fid_delta_rel`` when a feature extractor for the training data is available.

Every variant runs on its model's ``example_inputs`` (latents and labels for a generator, images for
an image-to-image model), so any registered model can be benchmarked; FLOPs are per image at the
size those inputs have. Options: :class:`~turbopix.accel.config.BenchConfig`.

The baseline is made steady first (:func:`steady_allocator`, ``steady_malloc=True``): with glibc's
default settings every tensor above its mmap threshold is a fresh ``mmap`` that page-faults on each
call, and the threshold adapts with the process's history, so eager PyTorch's 28 px DCGAN at batch
256 (25 MB activations) ran at 6.6k-10k images/s in some fresh processes and 14k in others or with
the threshold raised. A baseline that swings 2x would make every speed-up mean little; raising the
threshold gives eager PyTorch its better speed, and the speed-ups are against that.
"""
from __future__ import annotations

import json
import math
import os
import statistics
import sys
import time
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

import torch

from ..models.base import ImageModel
from ..models.io import load_model_file
from .artifact import is_artifact, load_artifact
from .config import BenchConfig, resolve
from .flops import count_flops, count_params
from .peaks import peak_references
from .runtimes import Inputs, TorchRunner


@dataclass
class Variant:
    label: str
    run: Callable[[Inputs], torch.Tensor]
    model: ImageModel  # the PyTorch model it computes (inputs, FLOPs and parameters)
    precision: str  # which reference peak applies: "fp32", "bf16" or "int8"
    spec: str  # how a subprocess rebuilds it: "ckpt:PATH" or "artifact:PATH"
    recipe: str


def load_variant(spec: str) -> Variant:
    kind, _, path = spec.partition(":")
    if kind == "ckpt":
        model = load_model_file(path)
        return Variant("eager-fp32", TorchRunner(model).run, model, "fp32", spec, "eager")
    art = load_artifact(path)
    rt = art.metadata["runtime"]
    ran = {p for kinds in art.metadata["checks"].get("openvino_layer_precisions", {}).values() for p in kinds}
    bf16 = rt.get("bf16") or (rt.get("precision") == "bf16" and "bf16" in ran)  # OpenVINO may ignore a bf16 hint
    precision = "int8" if rt.get("int8") else "bf16" if bf16 else "fp32"
    return Variant(art.recipe, art.runner.run, art.model, precision, spec, art.recipe)


def _time_calls(fn: Callable[[], object], reps: int) -> list[float]:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return times


def _reps_for(fn: Callable[[], object], target_s: float) -> int:
    fn()  # warm-up: first-call costs (compilation, allocation) are not what we measure
    t = time.perf_counter()
    fn()
    one = max(time.perf_counter() - t, 1e-6)
    return max(1, min(10000, math.ceil(target_s / one)))


def _percentile(xs: list[float], q: float) -> float:
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, math.ceil(q * len(xs)) - 1))]


def _rss_kib(field: str) -> int:
    """VmRSS (now) or VmHWM (peak since the last reset) of this process, in KiB."""
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise OSError(f"{field} not in /proc/self/status")


def measure_memory(spec: str, batches: Sequence[int], threads: int) -> dict[int, float]:
    """Peak RSS growth (MB) of this process from just before loading ``spec`` to after each batch.

    Runs in a fresh subprocess (see :func:`bench`). The kernel's peak-RSS mark is reset first
    (``/proc/self/clear_refs``), because importing the libraries can leave a peak above anything
    the variant later needs; batches go in increasing order because the peak only grows.
    """
    torch.set_num_threads(threads)
    before = _rss_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # 5 = reset the peak RSS (VmHWM) to the current RSS
    variant = load_variant(spec)
    out = {}
    for b in sorted(batches):
        inputs = variant.model.example_inputs(b, seed=b)
        for _ in range(2):
            variant.run(inputs)
        out[b] = (_rss_kib("VmHWM") - before) / 1024
    return out


def steady_allocator() -> bool:
    """Keep large allocations on glibc's heap (mmap and trim thresholds at 1 GiB) in this process.

    Returns False where it does not apply (not glibc). Process-wide and permanent: meant for
    benchmark processes (``turbopix bench``, ``benchmarks/``), not for library code.
    """
    import ctypes
    import ctypes.util

    name = ctypes.util.find_library("c")
    if sys.platform != "linux" or not name:
        return False
    try:
        mallopt = ctypes.CDLL(name).mallopt
    except (OSError, AttributeError):  # musl and other libcs have no mallopt
        return False
    m_trim_threshold, m_mmap_threshold = -1, -3  # from glibc's malloc.h
    return bool(mallopt(m_mmap_threshold, 1 << 30)) and bool(mallopt(m_trim_threshold, 1 << 30))


MEMORY_TIMEOUT_S = 300
_MEMORY_CHILD = ("import json, sys; from turbopix.accel.bench import measure_memory, steady_allocator; "
                 "sys.argv[4] == '1' and steady_allocator(); "
                 "print(json.dumps(measure_memory(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]))))")


def _memory_in_subprocess(spec: str, batches: Sequence[int], threads: int, steady: bool, log: Callable[[str], None]) -> dict[int, float]:
    """:func:`measure_memory` in a fresh interpreter (a plain subprocess: a multiprocessing pool
    hung here once, in a parent that had OpenVINO threads running). {} if it fails."""
    try:
        done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, spec, json.dumps(list(batches)), str(threads), str(int(steady))],
                              capture_output=True, text=True, timeout=MEMORY_TIMEOUT_S, check=True)
        return {int(k): v for k, v in json.loads(done.stdout.strip().splitlines()[-1]).items()}
    except (subprocess.SubprocessError, ValueError, IndexError) as e:
        log(f"peak memory of {spec} not measured: {e}")
        return {}


def bench(
    checkpoint: str | Path,
    artifacts: Sequence[str | Path] = (),
    config: BenchConfig | None = None,
    *,
    log: Callable[[str], None] = lambda s: print(s, file=sys.stderr),
    **options: Any,
) -> list[dict[str, Any]]:
    """Benchmark eager fp32 of ``checkpoint`` against each artifact; returns one row per
    (variant, batch). See the module docstring for the fields. Options: ``config`` or the same
    names as keywords (:class:`~turbopix.accel.config.BenchConfig`); ``threads`` sets torch's
    thread count (every runtime follows it) for the duration of the call."""
    cfg = resolve(BenchConfig, config, options)
    before = torch.get_num_threads()
    if cfg.threads is not None:
        torch.set_num_threads(cfg.threads)
    try:
        return _bench(checkpoint, artifacts, cfg, log)
    finally:
        torch.set_num_threads(before)


def _bench(checkpoint: str | Path, artifacts: Sequence[str | Path], cfg: BenchConfig, log: Callable[[str], None]) -> list[dict[str, Any]]:
    from .quality import QualityProbe

    for a in artifacts:
        if not is_artifact(a):
            raise FileNotFoundError(f"{a} is not an artifact folder (no artifact.json); make one with 'turbopix accelerate'")
    variants = [load_variant(f"ckpt:{checkpoint}")] + [load_variant(f"artifact:{a}") for a in artifacts]
    seen: dict[str, int] = {}
    for v in variants:  # two artifacts with the same recipe get distinct labels
        seen[v.label] = seen.get(v.label, 0) + 1
        if seen[v.label] > 1:
            v.label = f"{v.label} #{seen[v.label]}"
    steady = steady_allocator() if cfg.steady_malloc else False
    batches, rounds, target_s = cfg.batches, cfg.rounds, cfg.target_s
    refs = peak_references()
    load_before = os.getloadavg()
    threads = torch.get_num_threads()

    log(f"warming up {len(variants)} variants x {len(batches)} batch sizes ...")
    calls: dict[tuple[int, int], tuple[Callable[[], object], int]] = {}
    for vi, v in enumerate(variants):
        for b in batches:
            inputs = v.model.example_inputs(b, seed=b)
            fn = (lambda v=v, inputs=inputs: v.run(inputs))
            calls[vi, b] = (fn, _reps_for(fn, target_s))
    ref_reps = [_reps_for(r.call, target_s) for r in refs]

    ips: dict[tuple[int, int], list[float]] = {k: [] for k in calls}
    ratio: dict[tuple[int, int], list[float]] = {k: [] for k in calls}
    lat: dict[tuple[int, int], list[float]] = {k: [] for k in calls}
    ref_rate: dict[str, list[float]] = {r.label: [] for r in refs}
    for r in range(rounds):
        log(f"round {r + 1}/{rounds}")
        for b in batches:
            order = [(r + i) % len(variants) for i in range(len(variants))]  # rotate who goes first
            this_round = {}
            for vi in order:
                fn, reps = calls[vi, b]
                times = _time_calls(fn, reps)
                this_round[vi] = b * reps / sum(times)
                ips[vi, b].append(this_round[vi])
                lat[vi, b].extend(times)
            for vi in order:
                ratio[vi, b].append(this_round[vi] / this_round[0])
        for ref_, reps in zip(refs, ref_reps):
            ref_rate[ref_.label].append(ref_.ops * reps / sum(_time_calls(ref_.call, reps)))
    peaks: dict[str, float] = {}  # per precision, the fastest reference (median over rounds)
    for ref_ in refs:
        peaks[ref_.precision] = max(peaks.get(ref_.precision, 0.0), statistics.median(ref_rate[ref_.label]))
    load_after = os.getloadavg()

    mem: dict[int, dict[int, float]] = {}
    if cfg.memory:
        log("measuring peak memory, one subprocess per variant ...")
        for vi, v in enumerate(variants):
            mem[vi] = _memory_in_subprocess(v.spec, batches, threads, steady, log)

    quality: dict[int, dict[str, Any]] = {}
    if cfg.quality_n:
        log(f"measuring quality on {cfg.quality_n} inputs against eager fp32 ...")
        probe = QualityProbe(variants[0].model, n=cfg.quality_n, ref=cfg.ref, data_root=cfg.data_root)
        quality = {vi: probe.measure(v.run).to_json() for vi, v in enumerate(variants)}

    rows = []
    for vi, v in enumerate(variants):
        flops, params = count_flops(v.model), count_params(v.model)
        for b in batches:
            rate = statistics.median(ips[vi, b])
            peak = peaks.get(v.precision)
            q = quality.get(vi, {})
            rows.append({
                "variant": v.label, "recipe": v.recipe, "precision": v.precision, "batch": b,
                "images_per_s": rate, "speedup": statistics.median(ratio[vi, b]),
                "latency_p50_ms": 1e3 * statistics.median(lat[vi, b]), "latency_p95_ms": 1e3 * _percentile(lat[vi, b], 0.95),
                "peak_mem_mb": mem.get(vi, {}).get(b), "params": params, "flops_per_image": flops,
                "pct_peak": 100 * rate * flops / peak if peak else None, "peak_gops": peak / 1e9 if peak else None,
                "max_abs_error": q.get("max_abs_error"), "fid": q.get("fid"), "fid_eager": q.get("fid_eager"),
                "fid_delta_rel": q.get("fid_delta_rel"), "quality_note": q.get("note"),
                "rounds": rounds, "threads": threads, "load_avg": [round(load_before[0], 2), round(load_after[0], 2)],
                "steady_malloc": steady,
                "source": str(checkpoint), "artifact": v.spec.partition(":")[2] if v.spec.startswith("artifact:") else None,
            })
    return rows


def reference_summary(rows: list[dict[str, Any]]) -> str:
    peaks = sorted({(r["precision"], r["peak_gops"]) for r in rows if r["peak_gops"]})
    return ", ".join(f"{p} {g:.0f} GOP/s" for p, g in peaks)


def _fmt(x: Any, spec: str) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else format(x, spec)


def to_markdown(rows: list[dict[str, Any]]) -> str:
    """The rows as a Markdown table, with the measured reference peaks and the machine load."""
    head = ("| variant | batch | images/s | speedup | p50 ms | p95 ms | peak MB | params | MFLOP/img | % peak | max px err | FID | FID delta |\n"
            "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    lines = [head]
    for r in rows:
        delta = None if r["fid_delta_rel"] is None else 100 * r["fid_delta_rel"]
        lines.append(
            f"| {r['variant']} | {r['batch']} | {_fmt(r['images_per_s'], ',.0f')} | {_fmt(r['speedup'], '.2f')}x | "
            f"{_fmt(r['latency_p50_ms'], '.3f')} | {_fmt(r['latency_p95_ms'], '.3f')} | {_fmt(r['peak_mem_mb'], '.0f')} | "
            f"{_fmt(r['params'], ',')} | {_fmt(r['flops_per_image'] / 1e6, '.2f')} | {_fmt(r['pct_peak'], '.1f')} | "
            f"{_fmt(r['max_abs_error'], '.4f')} | {_fmt(r['fid'], '.2f')} | {_fmt(delta, '+.1f')}{'%' if delta is not None else ''} |"
        )
    first = rows[0] if rows else {}
    notes = [
        f"Reference peaks measured in the same rounds: {reference_summary(rows)}; "
        f"{first.get('rounds')} interleaved rounds, medians; {first.get('threads')} threads; "
        f"load average {first.get('load_avg')} (start, end); "
        f"{'glibc mmap threshold raised (steady eager baseline)' if first.get('steady_malloc') else 'default allocator'}.",
    ]
    q = next((r["quality_note"] for r in rows if r.get("quality_note")), "")
    if q:
        notes.append(q)
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def write_json(rows: list[dict[str, Any]], path: str | Path) -> Path:
    from ..core.atomic import atomic_write_text

    return atomic_write_text(path, json.dumps(rows, indent=2) + "\n")
