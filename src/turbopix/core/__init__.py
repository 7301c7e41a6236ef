"""The bottom layer: what every other part of turbopix uses and nothing here depends on.

    registry.py    one Registry class (models, datasets, metrics, extractors, tasks, ...)
    config.py      config dataclasses declared once; argparse flags and JSON built from them
    atomic.py      atomic writes and the one "refuse to overwrite" check
    hashing.py     sha256 of files, bytes and tensors
    checkpoint.py  the file format: safetensors tensors + a JSON header, read and written safely
    version.py     the library version

Nothing in ``core`` imports from another turbopix package (``tests/test_layers.py`` checks it).
"""
