from __future__ import annotations

import json

import pytest

from turbopix.accel.bench import bench, steady_allocator, to_markdown
from turbopix.accel.recipe import accelerate
from turbopix.cli.main import main


@pytest.fixture(scope="module")
def ort_artifact(mlpgan_ckpt, tmp_path_factory):
    pytest.importorskip("onnxruntime")
    return accelerate(mlpgan_ckpt, "onnxruntime", tmp_path_factory.mktemp("art") / "ort", quality_n=64, ref=None, log=lambda s: None)


def test_bench_rows(mlpgan_ckpt, ort_artifact):
    rows = bench(mlpgan_ckpt, [ort_artifact], batches=[1, 8], rounds=2, target_s=0.01, quality_n=64, ref=None, memory=False, log=lambda s: None)
    assert [(r["variant"], r["batch"]) for r in rows] == [("eager-fp32", 1), ("eager-fp32", 8), ("onnxruntime", 1), ("onnxruntime", 8)]
    for r in rows:
        assert r["images_per_s"] > 0 and r["latency_p95_ms"] >= r["latency_p50_ms"] > 0
        assert r["flops_per_image"] > 0 and r["params"] > 0 and r["pct_peak"] > 0
    assert rows[0]["speedup"] == 1.0
    assert rows[2]["max_abs_error"] < 1e-4
    assert "| onnxruntime | 8 |" in to_markdown(rows)
    assert all(r["steady_malloc"] == steady_allocator() for r in rows)


def test_steady_allocator_applies_on_glibc():
    import platform

    if platform.libc_ver()[0] != "glibc":
        pytest.skip("mallopt thresholds are glibc's")
    assert steady_allocator() is True
    assert steady_allocator() is True  # idempotent


def test_bench_measures_memory_in_a_subprocess(mlpgan_ckpt):
    rows = bench(mlpgan_ckpt, batches=[4], rounds=1, target_s=0.01, quality_n=0, memory=True, log=lambda s: None)
    assert rows[0]["peak_mem_mb"] is not None and rows[0]["peak_mem_mb"] >= 0


def test_cli_accelerate_then_bench(mlpgan_ckpt, tmp_path, capsys):
    pytest.importorskip("openvino")
    pytest.importorskip("nncf")
    out = tmp_path / "fast"
    assert main(["accelerate", str(mlpgan_ckpt), "--recipe", "prune:0.5,int8", "--out", str(out), "--quick", "--calib", "none", "--ref", "none"]) == 0
    assert (out / "artifact.json").is_file() and (out / "model.xml").is_file()
    assert "MFLOP/image" in capsys.readouterr().out
    report = tmp_path / "bench.json"
    assert main(["bench", str(mlpgan_ckpt), str(out), "--batch", "1,16", "--quick", "--ref", "none", "--json", str(report)]) == 0
    rows = json.loads(report.read_text())
    assert {"variant", "batch", "images_per_s", "speedup", "fid_delta_rel"} <= set(rows[0])
    assert {r["variant"] for r in rows} == {"eager-fp32", "prune:0.5,int8"}
    # sample and eval open the artifact folder as they open a checkpoint
    assert main(["sample", str(out), "-n", "9", "--out", str(tmp_path / "grid.png")]) == 0
    assert (tmp_path / "grid.png").stat().st_size > 100
    from turbopix.evaluation.evaluate import evaluate

    result = evaluate(out, ref="digits:test", n=50, metrics=["fid"], extractor="lenet-mnist", progress=False, cache=False)
    assert result["metrics"]["fid"]["value"] > 0


def test_cli_errors_are_messages(mlpgan_ckpt, tmp_path, capsys):
    assert main(["accelerate", str(mlpgan_ckpt), "--recipe", "squash", "--out", str(tmp_path / "x")]) == 2
    assert "unknown step 'squash'" in capsys.readouterr().err
    assert main(["bench", str(mlpgan_ckpt), str(tmp_path)]) == 2
    assert "not an artifact" in capsys.readouterr().err


def test_options_are_checked_and_named_in_the_callers_terms(mlpgan_ckpt, tmp_path, capsys):
    from turbopix.accel.config import AccelOptionError, BenchConfig

    with pytest.raises(ValueError, match="rounds must be >= 1"):
        bench(mlpgan_ckpt, rounds=0)
    with pytest.raises(AccelOptionError, match="target_s must be > 0"):  # a config built directly is checked too
        BenchConfig(target_s=0)
    with pytest.raises(TypeError, match="unknown option.*rouds.*Valid options: .*rounds"):
        bench(mlpgan_ckpt, rouds=2)
    assert BenchConfig(ref="none").ref is None and BenchConfig(batches=[2, 4]).batches == (2, 4)
    assert main(["bench", str(mlpgan_ckpt), "--rounds", "0"]) == 2
    assert "--rounds must be >= 1" in capsys.readouterr().err
    (tmp_path / "a").mkdir()
    with pytest.raises(FileExistsError, match="pass overwrite=True"):
        accelerate(mlpgan_ckpt, "eager", tmp_path / "a", log=lambda s: None)
    assert main(["accelerate", str(mlpgan_ckpt), "--recipe", "eager", "--out", str(tmp_path / "a")]) == 2
    assert "pass --overwrite to replace it" in capsys.readouterr().err


def test_sizes_are_parsed_checked_and_read_from_the_cli():
    import argparse

    from turbopix.accel.config import AccelOptionError, BenchConfig, parse_size
    from turbopix.cli.accel import add_commands

    assert parse_size("256") == (256, 256) and parse_size("512x384") == (512, 384)
    assert BenchConfig(sizes=["256", "48X32"]).sizes == ("256x256", "48x32")
    for bad in ("0", "x", "2x3x4", "-5"):
        with pytest.raises(AccelOptionError, match="sizes takes H or HxW"):
            BenchConfig(sizes=[bad])
    parser = argparse.ArgumentParser()
    add_commands(parser.add_subparsers())
    args = parser.parse_args(["bench", "m.safetensors", "--size", "256,512x384", "--size", "64"])
    assert args.sizes == ["256x256", "512x384", "64x64"]
    with pytest.raises(SystemExit):
        parser.parse_args(["bench", "m.safetensors", "--size", "big"])


def test_generator_table_keeps_its_columns(mlpgan_ckpt):
    rows = bench(mlpgan_ckpt, batches=[2], rounds=1, target_s=0.01, quality_n=0, memory=False, log=lambda s: None)
    head = to_markdown(rows).splitlines()[0]
    assert head == ("| variant | batch | images/s | speedup | p50 ms | p95 ms | peak MB | params | MFLOP/img | % peak | "
                    "max px err | FID | FID delta |")
    assert rows[0]["size"] is None and rows[0]["psnr"] is None


def test_artifacts_with_the_same_label_are_told_apart_by_folder():
    from types import SimpleNamespace

    from turbopix.accel.bench import distinct_labels

    def variants(*labels):
        return [SimpleNamespace(label=x) for x in labels]

    v = variants("eager-fp32", "openvino-int8", "openvino-int8", "onnxruntime")
    distinct_labels(v, [None, "runs/a/m-int8", "runs/b/m-int8-last", "runs/m-ort"])
    assert [x.label for x in v] == ["eager-fp32", "openvino-int8 (m-int8)", "openvino-int8 (m-int8-last)", "onnxruntime"]
    v = variants("eager-fp32", "openvino-int8", "openvino-int8")
    distinct_labels(v, [None, "runs/a/int8", "runs/b/int8"])  # same folder names: numbered
    assert [x.label for x in v] == ["eager-fp32", "openvino-int8 #1", "openvino-int8 #2"]
