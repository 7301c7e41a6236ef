"""Evaluation: everything between "a source and a reference" and the pure metric functions.

    sources.py    what yields images to score: checkpoints, artifacts, folders, ONNX generators, datasets
    refcache.py   cached reference features
    evaluate.py   ``evaluate()``: sample, extract features, run the metrics, record provenance
    elbo.py       a VAE's ELBO on a dataset
"""
from .elbo import evaluate_elbo
from .evaluate import evaluate, format_results

__all__ = ["evaluate", "evaluate_elbo", "format_results"]
