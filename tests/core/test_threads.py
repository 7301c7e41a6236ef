"""The thread tuner picks the count whose steps run fastest, re-checks it, and stays out of the way
when the user fixed the count or the run is distributed."""
from __future__ import annotations

import pytest
import torch

from turbopix.core.threads import FixedThreads, ThreadTuner, thread_policy, usable_cores


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def keep_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def run(tuner: ThreadTuner, clock: FakeClock, cost: dict[int, float], steps: int) -> list[int]:
    """Run ``steps`` fake steps whose duration depends on the thread count; return the counts used."""
    used = []
    for _ in range(steps):
        with tuner.step():
            n = torch.get_num_threads()
            used.append(n)
            clock.now += cost[n]
    return used


def test_busy_machine_falls_back_to_one_thread():
    clock = FakeClock()
    tuner = ThreadTuner([1, 2], probe_steps=3, every_s=100.0, warmup_s=0.0, clock=clock)
    used = run(tuner, clock, {1: 0.010, 2: 0.030}, 20)  # 2 threads 3x slower, as beside a busy process
    assert used[:6] == [2, 1, 2, 1, 2, 1]  # the probe alternates
    assert used[6:] == [1] * 14 and tuner.current == 1


def test_idle_machine_keeps_two_threads():
    clock = FakeClock()
    tuner = ThreadTuner([1, 2], probe_steps=3, every_s=100.0, warmup_s=0.0, clock=clock)
    used = run(tuner, clock, {1: 0.014, 2: 0.010}, 20)
    assert used[6:] == [2] * 14 and tuner.current == 2


def test_reprobes_and_follows_a_change():
    clock = FakeClock()
    tuner = ThreadTuner([1, 2], probe_steps=3, every_s=1.0, warmup_s=0.0, clock=clock)
    run(tuner, clock, {1: 0.014, 2: 0.010}, 50)  # idle: 2 threads
    assert tuner.current == 2
    run(tuner, clock, {1: 0.010, 2: 0.030}, 200)  # another process starts: the next probe moves to 1
    assert tuner.current == 1
    assert [c for _, c in tuner.history][0] == 2 and tuner.history[-1][1] == 1


def test_median_ignores_one_slow_step():
    clock = FakeClock()
    tuner = ThreadTuner([1, 2], probe_steps=3, every_s=100.0, warmup_s=0.0, clock=clock)
    costs = iter([0.5, 0.014, 0.010, 0.014, 0.010, 0.014])  # the first 2-thread step hit a checkpoint
    for _ in range(6):
        with tuner.step():
            clock.now += next(costs)
    assert tuner.current == 2


def test_a_failed_step_is_not_timed():
    clock = FakeClock()
    tuner = ThreadTuner([1, 2], probe_steps=1, every_s=100.0, warmup_s=0.0, clock=clock)
    with pytest.raises(RuntimeError):
        with tuner.step():
            clock.now += 5.0
            raise RuntimeError("boom")
    assert tuner._schedule == [2, 1]  # the probe step is still to be run


def test_policy():
    assert isinstance(thread_policy(1, distributed=False), FixedThreads) and torch.get_num_threads() == 1
    fixed = thread_policy(None, distributed=True)
    assert isinstance(fixed, FixedThreads) and not fixed.enabled
    assert isinstance(thread_policy(None, distributed=False), ThreadTuner)


def test_training_logs_the_thread_count(tmp_path):
    import json

    import turbopix

    turbopix.train("vae", "digits", out=tmp_path / "run", steps=12, batch_size=16, log_every=4, sample_every=0,
                   ckpt_every=0, progress=False, model_options={"hidden": (32,), "latent_dim": 4})
    lines = [json.loads(x) for x in (tmp_path / "run" / "log.jsonl").read_text().splitlines()]
    assert lines and all(1 <= line["threads"] <= usable_cores() for line in lines)


def test_training_leaves_the_callers_thread_count(tmp_path):
    import turbopix

    torch.set_num_threads(2)
    turbopix.train("vae", "digits", out=tmp_path / "run", steps=3, batch_size=16, sample_every=0, ckpt_every=0,
                   progress=False, threads=1, model_options={"hidden": (16,), "latent_dim": 2})
    assert torch.get_num_threads() == 2


def test_a_slightly_faster_smaller_count_does_not_win():
    clock = FakeClock()
    tuner = ThreadTuner([1, 2], probe_steps=3, every_s=100.0, warmup_s=0.0, clock=clock)
    run(tuner, clock, {1: 0.0095, 2: 0.010}, 10)  # 5% apart: noise on an idle machine
    assert tuner.current == 2


def test_the_first_probe_waits_out_the_warm_up():
    clock = FakeClock()
    tuner = ThreadTuner([1, 2], probe_steps=2, every_s=100.0, warmup_s=1.0, clock=clock)
    used = run(tuner, clock, {1: 0.010, 2: 0.030}, 40)  # 30 ms steps: the warm-up lasts 34 steps
    assert used[:34] == [2] * 34 and used[34:38] == [2, 1, 2, 1] and used[38:] == [1, 1]
