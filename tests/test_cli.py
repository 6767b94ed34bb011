"""The command line, called in-process through `epcloud.cli.main`."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from epcloud.cli import main
from epcloud.model import Shoebox


@pytest.fixture
def shoebox_file(tmp_path: Path) -> Path:
    path = tmp_path / "shoebox.idf"
    path.write_text(Shoebox().to_idf())
    return path


def test_run_prints_summary(shoebox_file: Path, tmp_path: Path, capsys) -> None:
    code = main(["run", str(shoebox_file), "--design-day", "-o", str(tmp_path / "out")])
    out = capsys.readouterr().out
    assert code == 0
    assert "success" in out and "Warnings" in out and "eplusout.sql" in out
    assert (tmp_path / "out" / "eplusout.sql").is_file()


def test_run_json(shoebox_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["run", str(shoebox_file), "--design-day", "-o", str(tmp_path / "o"), "--json"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["success"] is True and status["energyplus_version"].startswith("25.2")


def test_run_failure_exit_code(tmp_path: Path, capsys) -> None:
    bad = tmp_path / "bad.idf"
    bad.write_text(
        Shoebox().to_idf().replace("Construction, Roof, Roof Membrane,", "Construction, Roof, Nope,")
    )
    assert main(["run", str(bad), "--design-day", "-o", str(tmp_path / "o")]) == 1
    assert "FAILED" in capsys.readouterr().out


def test_run_missing_weather_is_a_clear_error(shoebox_file: Path, tmp_path: Path, capsys) -> None:
    assert main(["run", str(shoebox_file), "-w", str(tmp_path / "none.epw")]) == 2
    assert "weather file not found" in capsys.readouterr().err


def test_help_everywhere(capsys) -> None:
    for argv in (["--help"], ["run", "--help"], ["demo", "--help"]):
        with pytest.raises(SystemExit) as info:
            main(argv)
        assert info.value.code == 0
    assert "--design-day" in capsys.readouterr().out


def test_demo_design_day(tmp_path: Path, capsys) -> None:
    out = tmp_path / "demo"
    assert main(["demo", "--design-day", "-o", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "6 succeeded, 0 failed" in printed
    with (out / "summary.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    assert len(rows) == 6
    heating = {(float(r["wall_r"]), float(r["window_to_wall"])): float(r["heating_gj"]) for r in rows}
    for wwr in (0.2, 0.6):  # more insulation, less heating
        assert heating[(5.0, wwr)] < heating[(2.5, wwr)] < heating[(1.0, wwr)]


def test_run_to_s3_url(shoebox_file: Path, s3_bucket: str, s3_options: dict, monkeypatch, capsys) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    code = main(["run", str(shoebox_file), "--design-day", "-o", f"s3://{s3_bucket}/cli/run-9"])
    assert code == 0, capsys.readouterr()
    assert f"s3://{s3_bucket}/cli/run-9" in capsys.readouterr().out
    from epcloud.storage import S3FileSystem

    store = S3FileSystem(s3_bucket, prefix="cli/", **s3_options)
    assert store.exists("run-9/eplusout.sql") and store.exists("run-9/run-status.json")
