"""How many CPU threads torch uses while training, chosen from what runs fastest *now*.

On an idle 2-core machine two threads are fastest, but once another process keeps one core busy,
two threads that spin-wait for each other run 3x slower than one (measured on the VAE: 17.4k
images/s alone, 5.0k beside one busy process with 2 threads, 11.5k with 1 thread). Neither a fixed
count nor OpenMP's passive waiting (which costs ~40% on an idle machine) is right for both cases,
and how busy the machine is changes while a run goes on.

So the count is measured: every ``every_s`` seconds of training, the next ``2 * probe_steps`` steps
alternate between the candidate counts (1, 2, ..., the usable cores), and the count with the lowest
median step time runs until the next probe. Alternating step by step compares the candidates under
the same conditions; the median ignores the odd slow step (a checkpoint, a log line). The first probe
waits ``warmup_s`` (2 s): a contention benchmark saw the VAE's probe, run on its very first steps,
pick 1 thread on an idle machine. A smaller count replaces all the cores only when it is clearly faster (``margin``, 10%): contention makes the
difference 2-3x, while on an idle machine a noisy probe must not cost a run its second core. On an idle
machine the probes cost the few steps run at the slower count (about 1% of steps for a DCGAN, less
for faster steps); under contention the tuner falls back to 1 thread within one probe.

Changing the thread count changes float rounding, so a run whose ``threads`` option is set keeps
that count fixed (and stays bit-exact on resume); only runs without it are tuned.
"""
from __future__ import annotations

import os
import statistics
import time
from typing import Sequence

import torch


def usable_cores() -> int:
    """CPUs this process may run on (its affinity mask, which containers and taskset narrow)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


class ThreadTuner:
    """Picks ``torch.set_num_threads`` between steps (see the module docstring).

    Use as ``with tuner.step(): ...`` around each training step.
    """

    def __init__(self, candidates: Sequence[int] | None = None, *, probe_steps: int = 5, every_s: float = 10.0,
                 margin: float = 0.1, warmup_s: float = 2.0, clock=time.perf_counter) -> None:
        cores = usable_cores()
        self.candidates = list(candidates) if candidates else list(range(1, cores + 1))
        self.probe_steps = probe_steps
        self.every_s = every_s
        self.margin = margin
        self.clock = clock
        self.current = max(self.candidates)  # the idle-machine choice until the first probe says otherwise
        self.history: list[tuple[float, int]] = []  # (time, chosen count) after each probe, for logs and tests
        self._schedule: list[int] = []  # counts for the steps of the probe in progress
        self._times: dict[int, list[float]] = {}
        # the first probe waits out the warm-up (allocator growth, kernel selection, optimizer state):
        # early steps are slow for reasons that have nothing to do with the thread count
        self._next_probe = clock() + warmup_s
        torch.set_num_threads(self.current)

    @property
    def enabled(self) -> bool:
        return len(self.candidates) > 1

    def step(self) -> "_Step":
        return _Step(self)

    # -- called by _Step
    def _begin(self) -> int:
        if self.enabled and not self._schedule and self.clock() >= self._next_probe:
            order = self.candidates[::-1]  # alternate: 2, 1, 2, 1, ... (each count probe_steps times)
            self._schedule = [c for _ in range(self.probe_steps) for c in order]
            self._times = {c: [] for c in self.candidates}
        threads = self._schedule[0] if self._schedule else self.current
        if threads != torch.get_num_threads():
            torch.set_num_threads(threads)
        return threads

    def _end(self, threads: int, seconds: float) -> None:
        if not self._schedule:
            return
        self._schedule.pop(0)
        self._times[threads].append(seconds)
        if not self._schedule:  # probe done: keep the fastest, probe again later
            medians = {c: statistics.median(self._times[c]) for c in self.candidates}
            best, most = min(medians, key=medians.__getitem__), max(self.candidates)
            self.current = best if medians[best] < medians[most] * (1 - self.margin) else most
            torch.set_num_threads(self.current)
            self.history.append((self.clock(), self.current))
            self._next_probe = self.clock() + self.every_s


class _Step:
    def __init__(self, tuner: ThreadTuner) -> None:
        self.tuner = tuner

    def __enter__(self) -> "_Step":
        self.threads = self.tuner._begin()
        self.t0 = self.tuner.clock()
        return self

    def __exit__(self, *exc) -> None:
        if exc[0] is None:
            self.tuner._end(self.threads, self.tuner.clock() - self.t0)


class FixedThreads:
    """The ``threads`` option was given: that count, always (bit-exact resume)."""

    enabled = False

    def __init__(self, threads: int) -> None:
        self.current = threads
        self.history: list[tuple[float, int]] = []
        torch.set_num_threads(threads)

    def step(self) -> "_Fixed":
        return _Fixed()


class _Fixed:
    def __enter__(self) -> "_Fixed":
        return self

    def __exit__(self, *exc) -> None:
        return None


def thread_policy(threads: int | None, *, distributed: bool) -> ThreadTuner | FixedThreads:
    """Fixed when the user gave ``threads`` or on several processes (ranks run in lockstep, so one
    rank's probe would time the others' waits); tuned otherwise."""
    if threads:
        return FixedThreads(threads)
    if distributed:
        return FixedThreads(torch.get_num_threads())
    return ThreadTuner()
