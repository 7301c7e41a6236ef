"""Training: one loop (loop.py), a Task per family (tasks.py), EMA, deterministic schedules."""
from .loop import TrainingError, TrainResult, latest_checkpoint, train
from .tasks import TASKS

__all__ = ["TASKS", "TrainResult", "TrainingError", "latest_checkpoint", "train"]
