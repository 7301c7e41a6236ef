"""The METRICS registration is the one declaration of a distribution metric: evaluate(), the metric
lists, the parameters in the provenance and the result table all follow from it."""
from __future__ import annotations

import numpy as np
import pytest
import torch

import turbopix
from turbopix.core.registry import METRICS, Entry
from turbopix.evaluation.config import EvalConfig
from turbopix.evaluation.evaluate import DEFAULT_METRICS, EvaluationError, evaluate, format_results
from turbopix.evaluation.specs import default_metric_keys, distribution_metrics, metric_keys, parse_metrics
from turbopix.metrics.diversity import ms_ssim_diversity

pytestmark = pytest.mark.filterwarnings("ignore:FID with .* samples:UserWarning")
FAST = dict(ref="digits:test", extractor="lenet-mnist", progress=False)


def test_lists_come_from_the_registry():
    registered = {e.info.get("key", e.name) for e in METRICS if e.info.get("kind") == "distribution"}
    assert set(metric_keys()) == registered
    assert metric_keys()[:7] == list(DEFAULT_METRICS) == ["fid", "kid", "prdc", "diversity", "c2st", "is", "classes"]
    assert "ms-ssim-diversity" in metric_keys() and "ms-ssim-diversity" not in default_metric_keys()
    assert EvalConfig().metrics == ",".join(default_metric_keys())
    for spec in distribution_metrics().values():
        assert spec.inputs and spec.info["rows"], spec.key
    assert parse_metrics("FID, kid,fid") == ["fid", "kid"] and parse_metrics(["is,classes", "cas"]) == ["is", "classes", "cas"]


def test_needs_follow_from_the_inputs():
    specs = distribution_metrics()
    assert specs["is"].needs_logits() and specs["classes"].needs_logits() and not specs["fid"].needs_logits()
    assert specs["cas"].needs("generated_labels") and specs["cas"].needs("reference_labels")
    assert specs["ms-ssim-diversity"].needs("generated_images") and not specs["fid"].needs("generated_images")


@pytest.fixture
def mean_norm(monkeypatch):
    """A metric that exists only as a registration: nothing else in turbopix knows its name."""

    def mean_norm(feats, *, scale: float = 1.0, seed: int = 0) -> float:
        return scale * float(np.linalg.norm(np.asarray(feats, np.float64), axis=1).mean())

    info = {"kind": "distribution", "higher_is_better": True, "description": "test", "key": "mean-norm",
            "inputs": ("generated_features",), "params": {"scale": 2.0}, "reference_value": True,
            "notes": {"what": "mean L2 norm"}, "rows": (("mean norm", "{value:.2f} (real {reference_value:.2f})"),)}
    monkeypatch.setitem(METRICS._entries, "mean_norm", Entry("mean_norm", mean_norm, info))
    return mean_norm


def test_a_registered_metric_is_evaluated_with_its_declared_parameters(tiny_models, mean_norm):
    assert "mean-norm" in metric_keys() and "mean-norm" not in default_metric_keys()
    r = evaluate(tiny_models["uncond"], metrics="fid,mean-norm", n=40, **FAST)
    entry = r["metrics"]["mean-norm"]
    assert entry["provenance"]["params"] == {"scale": 2.0, "what": "mean L2 norm"}
    assert entry["value"] > 0 and entry["reference_value"] > 0 and entry["value"] != entry["reference_value"]
    assert f"mean norm  {entry['value']:.2f} (real {entry['reference_value']:.2f})" in format_results(r)


def test_ms_ssim_diversity_is_computed_on_the_generated_images(tiny_models):
    n, seed = 60, 4
    r = evaluate(tiny_models["uncond"], metrics="ms-ssim-diversity", n=n, seed=seed, **FAST)
    entry = r["metrics"]["ms-ssim-diversity"]
    assert entry["provenance"]["params"]["pairs"] == 1000 and entry["provenance"]["seed"] == seed
    # the same number from the model's samples (seeded latents, as evaluate draws them), in [0, 1]
    model = turbopix.load(tiny_models["uncond"]).eval()
    with torch.no_grad():
        images = model.generate(model.sample_latent(n, torch.Generator().manual_seed(seed)), None).float()
    direct = ms_ssim_diversity(((images + 1) / 2).clamp(0, 1), pairs=1000, seed=seed)
    assert entry["value"] == pytest.approx(direct, rel=1e-6)
    assert "MS-SSIM diversity" in format_results(r)
    # other seeds draw other latents
    assert evaluate(tiny_models["uncond"], metrics="ms-ssim-diversity", n=n, seed=seed + 1, **FAST)["metrics"][
        "ms-ssim-diversity"]["value"] != entry["value"]


def test_options_as_config_or_keywords(tiny_models):
    by_keywords = evaluate(tiny_models["uncond"], metrics="fid,kid", n=40, seed=2, **FAST)
    config = EvalConfig(metrics=("fid", "kid"), n=40, seed=2, **FAST)
    by_config = evaluate(tiny_models["uncond"], config)
    assert by_config["metrics"] == by_keywords["metrics"]
    assert evaluate(tiny_models["uncond"], config, n=30)["metrics"]["fid"]["provenance"]["n_generated"] == 30
    with pytest.raises(TypeError, match="unknown option.*samples.*Valid options: ref, metrics, n"):
        evaluate(tiny_models["uncond"], samples=30, **FAST)
    with pytest.raises(EvaluationError, match=r"unknown metric\(s\): fd; metrics takes: fid"):
        evaluate(tiny_models["uncond"], metrics="fid,fd", **FAST)
