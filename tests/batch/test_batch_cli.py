"""`epcloud batch`: a folder of models or a sweep file, to a local folder or the S3 test server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from batch_helpers import broken_model

from epcloud.cli import main
from epcloud.model import Shoebox
from epcloud.results.simulation_result import SimulationResult
from epcloud.storage import S3FileSystem


def test_folder_of_models_to_a_local_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "good.idf").write_text(Shoebox().to_idf())
    (models / "bad.idf").write_text(broken_model())
    (models / "notes.txt").write_text("not a model")
    code = main(["batch", str(models), "--design-day", "-o", str(tmp_path / "out"), "--json", "-j", "2"])
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 1  # one job failed
    assert [(r["label"], r["success"]) for r in rows] == [("bad", False), ("good", True)]
    assert rows[0]["fatal"] and rows[1]["location"] == str(tmp_path / "out" / "good")
    assert SimulationResult.from_directory(tmp_path / "out" / "good").success


def test_sweep_file_against_two_weathers_to_s3(
    tmp_path: Path,
    s3_bucket: str,
    s3_options: dict[str, str],
    chicago_epw: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    for name, value in (
        ("AWS_ENDPOINT_URL", s3_options["endpoint_url"]),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
    ):
        monkeypatch.setenv(name, value)
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("label,wall_r,window_to_wall\nthin,1.0,0.3\nthick,4,0.5\n")
    other = tmp_path / "other.epw"
    other.write_bytes(chicago_epw.read_bytes())
    url = f"s3://{s3_bucket}/sweep"
    code = main(
        ["batch", str(sweep), "-w", str(chicago_epw), "-w", str(other), "--design-day", "-o", url, "--json"]
    )
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert code == 0
    labels = [f"{size}--{Path(w).stem}" for size in ("thin", "thick") for w in (chicago_epw, other)]
    assert [r["label"] for r in rows] == labels and all(r["success"] for r in rows)
    store = S3FileSystem(s3_bucket, prefix="sweep", **s3_options)
    assert SimulationResult.from_directory(labels[0], fs=store).success


def test_bad_sweep_file_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps([{"wall_r": 2.0, "colour": "red"}]))
    assert main(["batch", str(sweep), "--design-day", "-o", str(tmp_path / "o")]) == 2
    assert "unknown parameters ['colour']" in capsys.readouterr().err


def test_progress_bar_and_summary(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    sweep = tmp_path / "sweep.json"
    sweep.write_text(json.dumps([{"wall_r": 2.0}, {"wall_r": 3.0, "label": "three"}]))
    assert main(["batch", str(sweep), "--design-day", "-o", str(tmp_path / "o")]) == 0
    err = capsys.readouterr().err
    assert "2 succeeded, 0 failed" in err
    assert (tmp_path / "o" / "row-0001" / "eplusout.sql").is_file()
    assert (tmp_path / "o" / "three" / "eplusout.sql").is_file()
