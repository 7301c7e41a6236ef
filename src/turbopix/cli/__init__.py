"""The command line: the only layer that speaks in ``--flags``.

    main.py    the ``turbopix`` entry point and the train/sample/reconstruct/interpolate/info/list/demo commands
    eval.py    ``turbopix eval`` and ``turbopix compare``
    accel.py   ``turbopix accelerate`` and ``turbopix bench``
"""
from .main import main

__all__ = ["main"]
