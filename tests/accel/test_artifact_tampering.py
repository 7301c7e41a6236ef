"""An artifact folder is data anyone may hand over: artifact.json's file references stay inside
the folder, a tampered or structurally wrong artifact.json is a clear error, and ``turbopix info``
reads an artifact."""
from __future__ import annotations

import json
import shutil

import pytest

from turbopix import load
from turbopix.accel.artifact import ArtifactError
from turbopix.accel.recipe import accelerate
from turbopix.cli.main import main


@pytest.fixture(scope="module")
def artifact(mlpgan_ckpt, tmp_path_factory):
    return accelerate(mlpgan_ckpt, "onnxruntime", tmp_path_factory.mktemp("art") / "ort", quality_n=0, ref=None,
                      log=lambda s: None)


def _edited(artifact, tmp_path, edit):
    copy = tmp_path / "copy"
    shutil.copytree(artifact, copy)
    meta = json.loads((copy / "artifact.json").read_text())
    edit(meta, copy)
    (copy / "artifact.json").write_text(json.dumps(meta))
    return copy


def _runtime_file(value):
    def edit(meta, folder):
        meta["runtime"]["file"] = value(folder) if callable(value) else value
    return edit


@pytest.mark.parametrize("reference", ["../outside.onnx", "sub/model.onnx", "..", "", "ABSOLUTE"])
def test_file_references_must_stay_in_the_folder(artifact, tmp_path, reference):
    (tmp_path / "outside.onnx").write_bytes((artifact / "model.onnx").read_bytes())  # a working model outside
    value = (lambda folder: str(tmp_path / "outside.onnx")) if reference == "ABSOLUTE" else reference
    with pytest.raises(ArtifactError, match="must be a file name inside the artifact folder"):
        load(_edited(artifact, tmp_path, _runtime_file(value)))


def test_a_symlink_out_of_the_folder_is_refused(artifact, tmp_path):
    (tmp_path / "outside.onnx").write_bytes((artifact / "model.onnx").read_bytes())

    def link_out(meta, folder):
        (folder / "model.onnx").unlink()
        (folder / "model.onnx").symlink_to(tmp_path / "outside.onnx")

    with pytest.raises(ArtifactError, match="outside the artifact folder"):
        load(_edited(artifact, tmp_path, link_out))


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda m, f: m.pop("runtime"), "'runtime' is missing"),
        (lambda m, f: m.update(runtime="onnxruntime"), "'runtime' must be a JSON object"),
        (lambda m, f: m["runtime"].update(kind=3), "'runtime.kind' must be a string"),
        (lambda m, f: m["runtime"].update(kind="tensorrt"), "unknown runtime kind 'tensorrt'"),
        (lambda m, f: m["runtime"].pop("file"), "'runtime.file' is missing"),
        (lambda m, f: m["runtime"].update(file=["model.onnx"]), "'runtime.file' must be a string"),
        (lambda m, f: m.update(format_version="1"), "'format_version' must be an integer"),
        (lambda m, f: m.update(format_version=True), "'format_version' must be an integer"),
        (lambda m, f: m.update(checks=None), "'checks' must be a JSON object"),
        (lambda m, f: m.update(format_version=99), "upgrade turbopix"),
        (lambda m, f: (f / "model.onnx").unlink(), "lacks its file model.onnx"),
    ],
)
def test_a_structurally_wrong_artifact_json_is_a_clear_error(artifact, tmp_path, edit, message):
    with pytest.raises(ArtifactError, match=message):
        load(_edited(artifact, tmp_path, edit))


@pytest.mark.parametrize("text", ["[1, 2]", "null", '"turbopix-accelerated"', "{not json", "\xff\xfe"])
def test_artifact_json_of_the_wrong_kind(artifact, tmp_path, text):
    copy = tmp_path / "copy"
    shutil.copytree(artifact, copy)
    (copy / "artifact.json").write_bytes(text.encode("latin-1"))
    with pytest.raises(ArtifactError, match="artifact.json"):
        load(copy)


def test_cli_info_reads_an_artifact_and_tampering_is_one_line(artifact, tmp_path, capsys):
    assert main(["info", str(artifact)]) == 0
    info = json.loads(capsys.readouterr().out)
    assert info["artifact"]["runtime"]["kind"] == "onnxruntime" and info["model"]["model"] == "mlp-gan"
    bad = _edited(artifact, tmp_path, _runtime_file("../x.onnx"))
    assert main(["sample", str(bad), "--out", str(tmp_path / "s.png")]) == 2
    err = capsys.readouterr().err
    assert "inside the artifact folder" in err and "Traceback" not in err


def test_an_openvino_artifact_of_an_onnx_file_loads(mlpgan_ckpt, tmp_path):
    # recipe "openvino" (not int8) keeps an ONNX file, which holds its weights: no model.bin beside it
    pytest.importorskip("openvino")
    folder = accelerate(mlpgan_ckpt, "openvino", tmp_path / "ov", quality_n=0, ref=None, log=lambda s: None)
    assert not (folder / "model.bin").exists()
    model = load(folder)
    assert model.sample(4, seed=0).shape[0] == 4
