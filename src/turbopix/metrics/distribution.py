"""Distribution metrics for generators: one import for all of them.

Each metric is a small pure function of feature arrays (numpy or torch, (N, D)), class outputs or
images, living in its own module; importing this module registers all of them in
``turbopix.core.registry.METRICS`` with ``kind="distribution"``. Registry info per metric:

* ``higher_is_better``: direction of the headline number (the first element of a tuple, or for
  dicts: precision/recall/density/coverage, ``coverage`` of class_mode_coverage, ``accuracy``).
  c2st is best at 0.5 and registered as lower-is-better; class_mode_coverage's ``kl`` is
  lower-is-better although its ``coverage`` is higher-is-better.
* ``inputs``: what the function takes: "features" (real, fake), "fake_features", "class_probs",
  "class_labels", "fake_images" or "labelled_features" (gen feats, gen labels, real feats, labels).

| name                | module     | returns                                     |
|---------------------|------------|---------------------------------------------|
| fid                 | fid        | float                                       |
| kid                 | kid        | (mean, std)                                 |
| prdc                | prdc       | {precision, recall, density, coverage}      |
| inception_score     | classes    | (mean, std)                                 |
| class_mode_coverage | classes    | {coverage, kl, covered_classes}             |
| diversity           | diversity  | float                                       |
| ms_ssim_diversity   | diversity  | float                                       |
| c2st                | probes     | {accuracy, p_value, n_train, n_test}        |
| cas                 | probes     | {accuracy, per_class_accuracy, n_train, n_test} |
"""
from __future__ import annotations

from turbopix.metrics.classes import class_mode_coverage, class_probabilities, inception_score
from turbopix.metrics.diversity import diversity, ms_ssim_diversity, sample_pairs
from turbopix.metrics.fid import FeatureStats, feature_stats, fid, frechet_distance
from turbopix.metrics.kid import kid, mmd2_unbiased, polynomial_kernel
from turbopix.metrics.prdc import density_coverage, precision_recall, prdc
from turbopix.metrics.probes import c2st, cas

classification_accuracy_score = cas  # the paper's name

__all__ = [
    "FeatureStats",
    "c2st",
    "cas",
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
