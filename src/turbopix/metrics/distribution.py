"""Distribution metrics for generators: one import for all of them.

Each metric is a small pure function of feature arrays (numpy or torch, (N, D)), class outputs or
images, living in its own module; importing this module registers all of them in
``turbopix.core.registry.METRICS`` with ``kind="distribution"``. The registration is the one
declaration of a metric: ``turbopix.evaluation`` (``evaluate()``, ``turbopix eval --metrics``, the
result table) reads everything it needs from it. Registry info per metric:

* ``higher_is_better``: direction of the headline number (the first element of a tuple, or for
  dicts: precision/recall/density/coverage, ``coverage`` of class_mode_coverage, ``accuracy``).
  c2st is best at 0.5 and registered as lower-is-better; class_mode_coverage's ``kl`` is
  lower-is-better although its ``coverage`` is higher-is-better.
* ``key``: its name in evaluations and results (default: the registry name); ``order``: its place
  in metric lists and tables; ``default``: whether an evaluation computes it when none are named.
* ``inputs``: the function's positional arguments, in order, as roles an evaluation supplies:
  ``SIDE_features`` (N, D), ``SIDE_stats`` (a FeatureStats or (mu, sigma, n)), ``SIDE_logits``
  (N, K), ``SIDE_predicted_classes`` (argmax of the logits), ``SIDE_labels`` (the classes the
  samples were generated with / the dataset's labels), ``SIDE_images`` ((N, C, H, W) in [0, 1]),
  with SIDE ``generated`` or ``reference``, and ``num_classes`` (the classifier's class count).
  What a metric needs (logits, labelled sources, kept images) follows from these roles.
* ``params``: keyword arguments that differ from the function's defaults; the keyword arguments
  actually used (these and the defaults) go into each result's provenance, with ``notes``.
* ``at_most_samples``: parameters clipped to the smallest sample count the metric sees.
* ``reference_value``: the metric of one sample set is also computed on the reference samples,
  as the scale to read the generated value against.
* ``rows``: ``(label, format)`` per line of the result table; the format reads the result dict
  (a float result is ``{value}``, a (mean, std) pair ``{value}`` and ``{std}``).

| name                | key               | module     | returns                                      |
|---------------------|-------------------|------------|----------------------------------------------|
| fid                 | fid               | fid        | float                                        |
| kid                 | kid               | kid        | (mean, std)                                  |
| prdc                | prdc              | prdc       | {precision, recall, density, coverage}       |
| diversity           | diversity         | diversity  | float                                        |
| c2st                | c2st              | probes     | {accuracy, p_value, n_train, n_test}         |
| inception_score     | is                | classes    | (mean, std)                                  |
| class_mode_coverage | classes           | classes    | {coverage, kl, covered_classes, num_classes} |
| cas_probe           | cas-probe         | probes     | {accuracy, per_class_accuracy, n_train, n_test} |
| cas                 | cas               | cas        | {accuracy, per_class_accuracy, n_train, n_test, epochs} |
| ms_ssim_diversity   | ms-ssim-diversity | diversity  | float                                        |
"""
from __future__ import annotations

from turbopix.metrics.classes import class_mode_coverage, class_probabilities, inception_score
from turbopix.metrics.diversity import diversity, ms_ssim_diversity, sample_pairs
from turbopix.metrics.fid import FeatureStats, feature_stats, fid, frechet_distance
from turbopix.metrics.kid import kid, mmd2_unbiased, polynomial_kernel
from turbopix.metrics.prdc import density_coverage, precision_recall, prdc
from turbopix.metrics.cas import cas
from turbopix.metrics.probes import c2st, cas_probe

classification_accuracy_score = cas  # the paper's name

__all__ = [
    "FeatureStats",
    "c2st",
    "cas",
    "cas_probe",
    "class_mode_coverage",
    "class_probabilities",
    "classification_accuracy_score",
    "density_coverage",
    "diversity",
    "feature_stats",
    "fid",
    "frechet_distance",
    "inception_score",
    "kid",
    "mmd2_unbiased",
    "ms_ssim_diversity",
    "polynomial_kernel",
    "prdc",
    "precision_recall",
    "sample_pairs",
]
