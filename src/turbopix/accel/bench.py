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
size those inputs have. With ``sizes`` (``--size 256,512``), an image-to-image model is timed at
each of those input sizes instead (:func:`inputs_at`: the example images resized, every input the
model declares with free height and width), one row per (variant, batch, size). For a restorer
the quality check also scores eager fp32 and each variant on a real test set against its ground
truth (``psnr``, ``psnr_delta_db``; ``quality.py``). Options: :class:`~turbopix.accel.config.BenchConfig`.

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
from .config import AccelOptionError, BenchConfig, parse_size, resolve
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


def inputs_at(model: Any, batch: int, size: tuple[int, int] | None, *, seed: int = 0) -> Inputs:
    """``model.example_inputs(batch, seed=seed)`` with every float input whose height and width the
    model declares free (``None`` in its ``InputSpec``) resized to ``size`` = (H, W), bilinearly, so
    the images keep the example's smooth content. ``size=None``: the example inputs as they are."""
    inputs = model.example_inputs(batch, seed=seed)
    if size is None:
        return inputs
    free = [s for s in model.inputs() if s.is_float and None in s.shape]
    if not free:
        raise AccelOptionError(f"model '{model.name}' has no image input of free size; {{option:sizes}} applies to "
                               "image-to-image models")
    for spec in free:
        if len(spec.shape) != 3 or spec.shape[1:] != (None, None):
            raise AccelOptionError(f"model '{model.name}' input {spec.name!r} has shape {spec.shape}, not (C, H, W) with free H and W; "
                                   "{option:sizes} cannot resize it")
        x = inputs[spec.name]
        inputs[spec.name] = torch.nn.functional.interpolate(x, size=size, mode="bilinear", align_corners=False).contiguous()
    return inputs


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


def measure_memory(spec: str, batches: Sequence[int], threads: int, sizes: Sequence[str | None] = (None,)) -> dict[str, float]:
    """Peak RSS growth (MB) of this process from just before loading ``spec`` to after each (batch,
    size), keyed ``"B"`` or ``"B@HxW"`` (:func:`_mem_key`).

    Runs in a fresh subprocess (see :func:`bench`). The kernel's peak-RSS mark is reset first
    (``/proc/self/clear_refs``), because importing the libraries can leave a peak above anything
    the variant later needs; (batch, size) go in increasing order of pixels because the peak only grows.
    """
    torch.set_num_threads(threads)
    before = _rss_kib("VmRSS")
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")  # 5 = reset the peak RSS (VmHWM) to the current RSS
    variant = load_variant(spec)
    out = {}
    work = [(b, s) for b in batches for s in sizes]
    for b, s in sorted(work, key=lambda bs: bs[0] * (1 if bs[1] is None else math.prod(parse_size(bs[1])))):
        inputs = inputs_at(variant.model, b, None if s is None else parse_size(s), seed=b)
        for _ in range(2):
            variant.run(inputs)
        out[_mem_key(b, s)] = (_rss_kib("VmHWM") - before) / 1024
    return out


def _mem_key(batch: int, size: str | None) -> str:
    return str(batch) if size is None else f"{batch}@{size}"


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
                 "print(json.dumps(measure_memory(sys.argv[1], json.loads(sys.argv[2]), int(sys.argv[3]), json.loads(sys.argv[5]))))")


def _memory_in_subprocess(spec: str, batches: Sequence[int], threads: int, steady: bool, log: Callable[[str], None],
                          sizes: Sequence[str | None] = (None,)) -> dict[str, float]:
    """:func:`measure_memory` in a fresh interpreter (a plain subprocess: a multiprocessing pool
    hung here once, in a parent that had OpenVINO threads running). {} if it fails."""
    try:
        done = subprocess.run([sys.executable, "-c", _MEMORY_CHILD, spec, json.dumps(list(batches)), str(threads), str(int(steady)),
                               json.dumps(list(sizes))], capture_output=True, text=True, timeout=MEMORY_TIMEOUT_S, check=True)
        return dict(json.loads(done.stdout.strip().splitlines()[-1]))
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


def distinct_labels(variants: Sequence[Variant], folders: Sequence[str | Path | None]) -> None:
    """Artifacts that share a label (two int8 builds with other settings) are told apart by their
    folder names, or by a number where the folder names are the same too."""
    labels = [v.label for v in variants]
    for label in set(labels):
        same = [i for i, x in enumerate(labels) if x == label and folders[i] is not None]
        if labels.count(label) < 2 or not same:
            continue
        names = [Path(str(folders[i])).name for i in same]
        unique = len(set(names)) == len(names)
        for k, i in enumerate(same):
            variants[i].label = f"{label} ({names[k]})" if unique else f"{label} #{k + 1}"


def _bench(checkpoint: str | Path, artifacts: Sequence[str | Path], cfg: BenchConfig, log: Callable[[str], None]) -> list[dict[str, Any]]:
    from .quality import QualityProbe

    for a in artifacts:
        if not is_artifact(a):
            raise FileNotFoundError(f"{a} is not an artifact folder (no artifact.json); make one with 'turbopix accelerate'")
    variants = [load_variant(f"ckpt:{checkpoint}")] + [load_variant(f"artifact:{a}") for a in artifacts]
    distinct_labels(variants, [None, *artifacts])
    steady = steady_allocator() if cfg.steady_malloc else False
    batches, rounds, target_s = cfg.batches, cfg.rounds, cfg.target_s
    sizes: list[str | None] = list(cfg.sizes) or [None]
    shape = {s: None if s is None else parse_size(s) for s in sizes}
    for s in sizes:  # a model without a free-size image input refuses sizes before anything is timed
        inputs_at(variants[0].model, 1, shape[s])
    refs = peak_references()
    load_before = os.getloadavg()
    threads = torch.get_num_threads()

    cases = [(b, s) for b in batches for s in sizes]
    log(f"warming up {len(variants)} variants x {len(batches)} batch sizes x {len(sizes)} input sizes ...")
    Key = tuple[int, int, "str | None"]
    calls: dict[Key, tuple[Callable[[], object], int]] = {}
    for vi, v in enumerate(variants):
        for b, s in cases:
            inputs = inputs_at(v.model, b, shape[s], seed=b)
            fn = (lambda v=v, inputs=inputs: v.run(inputs))
            calls[vi, b, s] = (fn, _reps_for(fn, target_s))
    ref_reps = [_reps_for(r.call, target_s) for r in refs]

    ips: dict[Key, list[float]] = {k: [] for k in calls}
    ratio: dict[Key, list[float]] = {k: [] for k in calls}
    lat: dict[Key, list[float]] = {k: [] for k in calls}
    ref_rate: dict[str, list[float]] = {r.label: [] for r in refs}
    for r in range(rounds):
        log(f"round {r + 1}/{rounds}")
        for b, s in cases:
            order = [(r + i) % len(variants) for i in range(len(variants))]  # rotate who goes first
            this_round = {}
            for vi in order:
                fn, reps = calls[vi, b, s]
                times = _time_calls(fn, reps)
                this_round[vi] = b * reps / sum(times)
                ips[vi, b, s].append(this_round[vi])
                lat[vi, b, s].extend(times)
            for vi in order:
                ratio[vi, b, s].append(this_round[vi] / this_round[0])
        for ref_, reps in zip(refs, ref_reps):
            ref_rate[ref_.label].append(ref_.ops * reps / sum(_time_calls(ref_.call, reps)))
    peaks: dict[str, float] = {}  # per precision, the fastest reference (median over rounds)
    for ref_ in refs:
        peaks[ref_.precision] = max(peaks.get(ref_.precision, 0.0), statistics.median(ref_rate[ref_.label]))
    load_after = os.getloadavg()

    mem: dict[int, dict[str, float]] = {}
    if cfg.memory:
        log("measuring peak memory, one subprocess per variant ...")
        for vi, v in enumerate(variants):
            mem[vi] = _memory_in_subprocess(v.spec, batches, threads, steady, log, sizes)

    quality: dict[int, dict[str, Any]] = {}
    if cfg.quality_n:
        log(f"measuring quality on {cfg.quality_n} inputs against eager fp32 ...")
        probe = QualityProbe(variants[0].model, n=cfg.quality_n, ref=cfg.ref, data_root=cfg.data_root)
        quality = {vi: probe.measure(v.run).to_json() for vi, v in enumerate(variants)}

    rows = []
    for vi, v in enumerate(variants):
        params = count_params(v.model)
        flops_at = {s: count_flops(v.model) if s is None else count_flops(v.model, inputs=inputs_at(v.model, 1, shape[s])) for s in sizes}
        for b, s in cases:
            rate, flops = statistics.median(ips[vi, b, s]), flops_at[s]
            peak = peaks.get(v.precision)
            q = quality.get(vi, {})
            rows.append({
                "variant": v.label, "recipe": v.recipe, "precision": v.precision, "batch": b, "size": s,
                "images_per_s": rate, "speedup": statistics.median(ratio[vi, b, s]),
                "latency_p50_ms": 1e3 * statistics.median(lat[vi, b, s]), "latency_p95_ms": 1e3 * _percentile(lat[vi, b, s], 0.95),
                "peak_mem_mb": mem.get(vi, {}).get(_mem_key(b, s)), "params": params, "flops_per_image": flops,
                "pct_peak": 100 * rate * flops / peak if peak else None, "peak_gops": peak / 1e9 if peak else None,
                "max_abs_error": q.get("max_abs_error"), "fid": q.get("fid"), "fid_eager": q.get("fid_eager"),
                "fid_delta_rel": q.get("fid_delta_rel"), "psnr": q.get("psnr"), "psnr_eager": q.get("psnr_eager"),
                "psnr_delta_db": q.get("psnr_delta_db"), "test_set": q.get("test_set"), "quality_note": q.get("note"),
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
    """The rows as a Markdown table, with the measured reference peaks and the machine load. A
    ``size`` column appears when input sizes were given, ``PSNR`` / ``PSNR delta`` columns (dB on
    the test set) when a restorer was scored on one; otherwise the table is as it always was."""
    sized = any(r.get("size") for r in rows)
    scored = any(r.get("psnr") is not None for r in rows)
    head = ("| variant | batch |" + (" size |" if sized else "") + " images/s | speedup | p50 ms | p95 ms | peak MB | params | "
            "MFLOP/img | % peak | max px err | FID | FID delta |" + (" PSNR dB | PSNR delta dB |" if scored else "") + "\n"
            "|---|---:|" + ("---:|" if sized else "") + "---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|" + ("---:|---:|" if scored else ""))
    lines = [head]
    for r in rows:
        delta = None if r["fid_delta_rel"] is None else 100 * r["fid_delta_rel"]
        lines.append(
            f"| {r['variant']} | {r['batch']} | " + (f"{r.get('size') or '-'} | " if sized else "")
            + f"{_fmt(r['images_per_s'], ',.0f')} | {_fmt(r['speedup'], '.2f')}x | "
            f"{_fmt(r['latency_p50_ms'], '.3f')} | {_fmt(r['latency_p95_ms'], '.3f')} | {_fmt(r['peak_mem_mb'], '.0f')} | "
            f"{_fmt(r['params'], ',')} | {_fmt(r['flops_per_image'] / 1e6, '.2f')} | {_fmt(r['pct_peak'], '.1f')} | "
            f"{_fmt(r['max_abs_error'], '.4f')} | {_fmt(r['fid'], '.2f')} | {_fmt(delta, '+.1f')}{'%' if delta is not None else ''} |"
            + (f" {_fmt(r.get('psnr'), '.2f')} | {_fmt(r.get('psnr_delta_db'), '+.3f')} |" if scored else "")
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
    t = next((r for r in rows if r.get("test_set")), None)
    if t:
        notes.append(f"PSNR: on {t['test_set']} against its ground truth (eager fp32: {t['psnr_eager']:.2f} dB); "
                     "PSNR delta = variant - eager fp32.")
    return "\n".join(lines) + "\n\n" + "\n".join(notes) + "\n"


def write_json(rows: list[dict[str, Any]], path: str | Path) -> Path:
    from ..core.atomic import atomic_write_text

    return atomic_write_text(path, json.dumps(rows, indent=2) + "\n")
