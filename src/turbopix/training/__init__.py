"""Training: one loop (loop.py), a Task per family (tasks.py), EMA, deterministic schedules."""
from .errors import TrainingError, TrainingOptionError
from .loop import TrainResult, latest_checkpoint, train
from .tasks import TASKS, Grid, Task
from . import enhancement, restoration, style, translation  # noqa: F401  (register the restoration, enhancement, style-transfer and translation Tasks)

__all__ = ["TASKS", "Grid", "Task", "TrainResult", "TrainingError", "TrainingOptionError", "latest_checkpoint", "train"]
