"""Pipelines: whole jobs on image files built from the layers below (restoration: ``restore.py``,
tiled inference ``tiles.py``, classical baselines ``classical.py``)."""
