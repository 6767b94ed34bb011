"""Hostile and careless input, each reproduced: a clear one-line error before anything is spent, and
nothing written where it should not be."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from study_helpers import VARIABLES, shoebox_jobs, sweep

from epcloud import Study
from epcloud.cli import main
from epcloud.errors import StorageConnectionError, StudyVariableError
from epcloud.storage import S3FileSystem
from epcloud.study import layout


def _one_line_error(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.startswith("error: ") and err.count("\n") == 1, err
    return err


def test_a_store_url_without_bucket(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["status", "s3:///x"]) == 2
    assert "names no bucket: write s3://bucket/prefix" in _one_line_error(capsys)


def test_a_negative_worker_count_is_a_usage_error(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    for args in (["-j", "-1"], ["--count", "0"], ["--heartbeat", "0"]):
        assert main(["worker", str(tmp_path), *args]) == 2
        err = capsys.readouterr().err
        assert "Traceback" not in err and "must be" in err.splitlines()[-1], err


def test_create_from_a_missing_or_bad_sweep(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["study", "create", "s3://b/c", str(tmp_path / "no-such-sweep.json")]) == 2
    assert "no-such-sweep.json does not exist" in _one_line_error(capsys)
    bad = tmp_path / "sweep.json"
    bad.write_text(json.dumps([{"wall_r": 2.0, "colour": "red"}]))
    assert main(["study", "create", str(tmp_path / "st"), str(bad)]) == 2
    assert "row 1: unknown parameters ['colour']" in _one_line_error(capsys)
    assert not (tmp_path / "st").exists()  # refused before anything was written


def test_collect_of_a_variable_never_requested(
    study_fs: S3FileSystem,
    worker_env: dict[str, str],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(1), None), variables=VARIABLES)
    with pytest.raises(StudyVariableError, match=r"\['Nope'\] were not requested"):
        study.collect(["Nope"])
    for name, value in worker_env.items():
        monkeypatch.setenv(name, value)
    assert main(["collect", study.url, "--variable", "Nope"]) == 2
    assert "['Nope'] were not requested when the study was created" in _one_line_error(capsys)
    assert not study_fs.exists(layout.JOBS_TABLE)


def test_run_of_a_missing_model_names_the_model(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["run", str(tmp_path / "no-such-model.idf")]) == 2
    assert "model file not found" in _one_line_error(capsys)


def test_batch_labels_never_leave_the_output_folder(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    for label in ("../escaped-by-label", "/abs/olute", "a/../../b", "."):
        rows = tmp_path / "sweep.json"
        rows.write_text(json.dumps([{"label": label, "wall_r": 2.0}]))
        assert main(["batch", str(rows), "--design-day", "-o", "out"]) == 2
        assert "would leave the output folder" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["sweep.json"]  # nothing written anywhere


def test_collect_skips_a_digest_it_cannot_read_and_says_so(
    study_fs: S3FileSystem, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(3), None), variables=VARIABLES)
    study.run_shard()
    expected = study.collect(full=True).jobs
    read = study_fs.read_bytes

    def cut(path: Any) -> bytes:
        if str(path).startswith(layout.DIGESTS):
            raise StorageConnectionError(f"connection reset while reading {study_fs.url(path)}")
        return read(path)

    monkeypatch.setattr(study_fs, "read_bytes", cut)
    with caplog.at_level(logging.WARNING, logger="epcloud.study.collect"):
        again = study.collect(full=True).jobs
    assert "skipping digest" in caplog.text and "connection reset" in caplog.text
    ignore = ["runtime_seconds"]
    assert again.drop(columns=ignore).equals(expected.drop(columns=ignore))  # read job by job instead
