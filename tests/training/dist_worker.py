"""A torchrun worker for tests: ``turbopix train ARGS``, but one rank dies on purpose.

With KILL_RANK and KILL_STEP set, that rank SIGKILLs itself when it is about to train step
KILL_STEP, in torchrun's first attempt only (TORCHELASTIC_RESTART_COUNT 0), so a restarted group
runs to the end. Run as: python -m torch.distributed.run ... tests/training/dist_worker.py train ...
"""
import os
import signal
import sys

from turbopix.cli.main import main
from turbopix.training import loop


def _die_at(kill_step: int) -> None:
    real_step_noise = loop.StepNoise

    def step_noise(seed: int, step: int, *args, **kwargs):  # the loop makes one per step, before training it
        if step == kill_step:
            os.kill(os.getpid(), signal.SIGKILL)
        return real_step_noise(seed, step, *args, **kwargs)

    loop.StepNoise = step_noise


if __name__ == "__main__":
    if (os.environ.get("RANK") == os.environ.get("KILL_RANK")
            and os.environ.get("TORCHELASTIC_RESTART_COUNT", "0") == "0" and "KILL_STEP" in os.environ):
        _die_at(int(os.environ["KILL_STEP"]))
    sys.exit(main(sys.argv[1:]))
