from __future__ import annotations

import pytest
import torch

from turbopix.accel.export import ExportError, export_onnx
from turbopix.core.registry import MODELS


pytest.importorskip("onnxruntime")

# every registered model, plus a class-conditional one (a second input: labels)
CASES = [(name, {}) for name in MODELS.names()] + [("dcgan", {"num_classes": 10})]


@pytest.mark.parametrize("name,config", CASES, ids=[f"{n}{'-cond' if c else ''}" for n, c in CASES])
def test_every_model_exports_with_dynamic_batch(name, config, tmp_path, make):
    model = make(name, **config)
    report = export_onnx(model, tmp_path / "m.onnx")
    assert report.path.is_file()
    assert report.checked_batches == [1, 5]  # neither is the traced batch (2)
    assert report.max_abs_error <= 1e-4
    assert report.input_names == [spec.name for spec in model.inputs()]
    assert report.input_names[1:] == (["labels"] if config else report.input_names[1:])


def test_export_leaves_the_model_untouched(tmp_path, make):
    model = make("dcgan").train()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    export_onnx(model, tmp_path / "m.onnx")
    assert model.training
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())


def test_onnx_graph_batch_is_symbolic(tmp_path, make):
    onnx = pytest.importorskip("onnx")
    report = export_onnx(make("mlp-gan"), tmp_path / "m.onnx")
    graph = onnx.load(str(report.path)).graph
    assert graph.input[0].type.tensor_type.shape.dim[0].dim_param  # a name, not a fixed number
    assert graph.output[0].type.tensor_type.shape.dim[0].dim_param


def test_unknown_exporter_is_an_error(tmp_path, make):
    with pytest.raises(ExportError, match="exporter must be"):
        export_onnx(make("mlp-gan"), tmp_path / "m.onnx", exporter="magic")  # type: ignore[arg-type]


@pytest.mark.slow
def test_dynamo_exporter(tmp_path, make):
    pytest.importorskip("onnxscript")
    report = export_onnx(make("dcgan"), tmp_path / "m.onnx", exporter="dynamo")
    assert report.max_abs_error <= 1e-4
