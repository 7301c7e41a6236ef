"""Metrics that train a fresh classifier on features: classifier two-sample test and CAS.

Both use scikit-learn on extracted features (not images), so they run in seconds on a CPU. The
default classifier is a linear probe: ``StandardScaler`` then ``LogisticRegression`` (L2, C=1,
lbfgs). A linear probe only sees differences that are linearly separable in feature space (e.g.
a shifted mean, not a changed variance with the same mean); ``classifier="mlp"`` uses a one-hidden-
layer MLP (128 ReLU units, early stopping) instead, which is slower but sees such differences.
"""
from __future__ import annotations

from typing import Any, Literal

import numpy as np
import torch
from scipy.stats import binomtest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler

from turbopix.metrics._features import as_features, check_same_dim
from turbopix.core.registry import METRICS

Classifier = Literal["logistic", "mlp"]


def make_classifier(kind: Classifier, seed: int) -> Pipeline:
    """Standardize (statistics from the training data only), then classify."""
    if kind == "logistic":
        model: Any = LogisticRegression(C=1.0, max_iter=2000)
    elif kind == "mlp":
        model = MLPClassifier(hidden_layer_sizes=(128,), early_stopping=True, max_iter=300, random_state=seed)
    else:
        raise ValueError(f"classifier must be 'logistic' or 'mlp', got {kind!r}")
    return make_pipeline(StandardScaler(), model)


@METRICS.register(
    "c2st",
    kind="distribution",
    higher_is_better=False,  # 0.5 is ideal; values below 0.5 are chance fluctuation
    description="Classifier two-sample test: held-out accuracy telling real from generated (0.5 = indistinguishable).",
    order=5,
    default=True,
    inputs=("reference_features", "generated_features"),
    notes={"probe": "StandardScaler, then the classifier; accuracy on the held-out part"},
    rows=(("C2ST accuracy", "{accuracy:.4f} (p={p_value:.2g})"),),
)
def c2st(
    real_feats: Any,
    fake_feats: Any,
    *,
    seed: int = 0,
    test_fraction: float = 0.5,
    classifier: Classifier = "logistic",
) -> dict[str, float]:
    """Classifier two-sample test (Lopez-Paz & Oquab 2017).

    The larger set is subsampled (without replacement, with ``seed``) to the size n of the smaller,
    so chance accuracy is exactly 0.5. The 2n samples are split, stratified, into train and test
    (``test_fraction`` held out); a fresh classifier (module docstring) is fit on the training part
    and ``accuracy`` is measured on the test part. ``p_value`` is the one-sided binomial test of
    "accuracy > 0.5" under the null hypothesis that both sets come from the same distribution.
    Deterministic for a given seed.
    """
    x = as_features(real_feats, "real_feats", min_rows=2)
    y = as_features(fake_feats, "fake_feats", min_rows=2)
    check_same_dim(x, y)
    if not 0 < test_fraction < 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    rng = np.random.default_rng(seed)
    n = min(x.shape[0], y.shape[0])
    x = x[np.sort(rng.choice(x.shape[0], n, replace=False))] if x.shape[0] > n else x
    y = y[np.sort(rng.choice(y.shape[0], n, replace=False))] if y.shape[0] > n else y
    feats = np.concatenate([x, y])
    is_fake = np.r_[np.zeros(n, int), np.ones(n, int)]
    f_tr, f_te, t_tr, t_te = train_test_split(
        feats, is_fake, test_size=test_fraction, stratify=is_fake, random_state=seed
    )
    model = make_classifier(classifier, seed).fit(f_tr, t_tr)
    correct = int((model.predict(f_te) == t_te).sum())
    return {
        "accuracy": correct / t_te.size,
        "p_value": float(binomtest(correct, t_te.size, 0.5, alternative="greater").pvalue),
        "n_train": int(t_tr.size),
        "n_test": int(t_te.size),
    }


@METRICS.register(
    "cas_probe",
    key="cas-probe",
    kind="distribution",
    higher_is_better=True,
    description="A cheap CAS analogue: a probe trained on generated labelled features, tested on real ones "
                "(the published CAS is 'cas').",
    order=8,
    default=False,
    inputs=("generated_features", "generated_labels", "reference_features", "reference_labels"),
    notes={"probe": "StandardScaler, then the classifier, on extractor features", "train": "generated", "test": "reference"},
    rows=(("CAS probe accuracy", "{accuracy:.4f}"),),
)
def cas_probe(
    gen_feats: Any,
    gen_labels: Any,
    real_test_feats: Any,
    real_test_labels: Any,
    *,
    seed: int = 0,
    classifier: Classifier = "logistic",
) -> dict[str, Any]:
    """A Classification Accuracy Score analogue (Ravuri & Vinyals 2019) on features.

    A fresh classifier is trained on generated samples and the labels they were generated with
    (class-conditional generation) and only those; ``accuracy`` is its accuracy on labelled real
    test data. It is high only when every class's samples are both correct and varied enough to
    generalise. The published CAS trains a full image classifier (a ResNet) on generated images;
    this one trains a probe (module docstring) on extractor features, which is far cheaper and
    comparable between generators that use the same extractor, but not with published numbers
    (``turbopix.metrics.cas`` follows the published protocol).

    Returns ``accuracy``, ``per_class_accuracy`` (list indexed by class id, NaN for classes absent
    from the test set), ``n_train`` and ``n_test``. A generator that produced a single class gives a
    constant predictor rather than an error.
    """
    x = as_features(gen_feats, "gen_feats", min_rows=2)
    xt = as_features(real_test_feats, "real_test_feats", min_rows=1)
    check_same_dim(x, xt, ("generated", "real test"))
    y, yt = _int_labels(gen_labels, x.shape[0], "gen_labels"), _int_labels(real_test_labels, xt.shape[0], "real_test_labels")
    classes = np.unique(y)
    if classes.size == 1:
        pred = np.full(yt.shape, classes[0])
    else:
        pred = make_classifier(classifier, seed).fit(x, y).predict(xt)
    hit = pred == yt
    num_classes = int(max(y.max(), yt.max())) + 1
    per_class = [float(hit[yt == c].mean()) if (yt == c).any() else float("nan") for c in range(num_classes)]
    return {"accuracy": float(hit.mean()), "per_class_accuracy": per_class, "n_train": int(y.size), "n_test": int(yt.size)}


def _int_labels(labels: Any, n: int, name: str) -> np.ndarray:
    if isinstance(labels, torch.Tensor):
        labels = labels.detach().cpu().numpy()
    a = np.asarray(labels)
    if a.shape != (n,):
        raise ValueError(f"{name} must have one label per sample, shape ({n},), got {a.shape}")
    if not np.issubdtype(a.dtype, np.integer) or a.min() < 0:
        raise ValueError(f"{name} must be non-negative integer class ids")
    return a.astype(np.int64)
