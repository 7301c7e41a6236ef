"""The command line: the only layer that speaks in ``--flags``.

    main.py     the ``turbopix`` entry point: builds the parser, runs a command, renders errors
    common.py   the CLI's own error, help layout and output check
    train.py    ``turbopix train`` (flags from TrainConfig, the model's config and LaunchConfig)
    images.py   ``turbopix sample``, ``reconstruct`` and ``interpolate``
    info.py     ``turbopix list`` and ``turbopix info``
    eval.py     ``turbopix eval`` and ``turbopix compare``
    accel.py    ``turbopix accelerate`` and ``turbopix bench``
    demo.py     ``turbopix demo``
"""
from .main import main

__all__ = ["main"]
