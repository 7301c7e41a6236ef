"""Evaluation: everything between "a source and a reference" and the pure metric functions.

    config.py     EvalConfig and CompareConfig: every option of evaluate() / compare_folders(), once
    specs.py      the distribution metrics as their METRICS registration declares them
    sources.py    what yields images to score: checkpoints, artifacts, folders, ONNX generators, datasets
    refcache.py   cached reference features
    evaluate.py   ``evaluate()``: sample, extract features, run the metrics, record provenance
    report.py     the result as a table
    paired.py     ``compare_folders()``: paired metrics between two folders of images
    elbo.py       a VAE's ELBO on a dataset
"""
from .config import CompareConfig, EvalConfig
from .elbo import evaluate_elbo
from .evaluate import evaluate
from .report import format_results

__all__ = ["CompareConfig", "EvalConfig", "evaluate", "evaluate_elbo", "format_results"]
