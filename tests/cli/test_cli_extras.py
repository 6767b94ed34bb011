"""A base install (no extras): commands that need one say which in one line and exit 2; the rest work."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from cli_helpers import bare_env, one_line_error, run_cli


def bare(python: str, *args: str, cwd: Path):  # type: ignore[no-untyped-def]
    return run_cli(*args, cwd=cwd, python=python, env=bare_env())


def test_a_base_install_runs_simulations(bare_python: str, shoebox: Path, tmp_path: Path) -> None:
    ran = bare(bare_python, "run", str(shoebox), "-w", "chicago", "--design-day", "-o", "r", cwd=tmp_path)
    assert ran.code == 0, ran.err
    assert "success" in ran.out and (tmp_path / "r" / "eplusout.sql").is_file()


def test_s3_commands_name_the_s3_extra(bare_python: str, shoebox: Path, tmp_path: Path) -> None:
    line = one_line_error(bare(bare_python, "status", "s3://bucket/study-001", cwd=tmp_path))
    assert line == (
        "error: epcloud status needs s3: pip install 'epcloud[s3]' (or 'epcloud[cloud]' for the whole cloud "
        "workflow)"
    )
    run = bare(bare_python, "run", str(shoebox), "--design-day", "-o", "s3://bucket/run-1", cwd=tmp_path)
    assert "epcloud run needs s3: pip install 'epcloud[s3]'" in one_line_error(run)
    as_json = bare(bare_python, "worker", "s3://bucket/study-001", "--json", cwd=tmp_path)
    assert as_json.code == 2 and "Traceback" not in as_json.err
    error = json.loads(as_json.out)["error"]
    assert error["type"] == "MissingExtra" and error["extra"] == "s3"
    assert error["install"] == "pip install 'epcloud[s3]'"


def test_collect_and_report_name_the_tables_extra(bare_python: str, tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("wall_r\n1\n2\n")
    # creating and running a local study needs no extra ...
    assert bare(bare_python, "study", "create", "st", str(sweep), "--design-day", cwd=tmp_path).code == 0
    ran = bare(bare_python, "study", "run", "st", cwd=tmp_path)
    assert ran.code == 0, ran.err
    # ... collecting its results into Parquet does
    line = one_line_error(bare(bare_python, "collect", "st", cwd=tmp_path))
    assert line.startswith("error: epcloud collect needs tables: pip install 'epcloud[tables]'")
    line = one_line_error(bare(bare_python, "report", "st", "-o", "r.html", cwd=tmp_path))
    assert line.startswith("error: epcloud report needs tables: pip install 'epcloud[tables]'")
    assert not (tmp_path / "r.html").exists()


def test_the_full_install_collects(tmp_path: Path) -> None:
    """The same commands with the extras installed (this venv) succeed: the messages above are no stub."""
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("wall_r\n1\n")
    assert run_cli("study", "create", "st", str(sweep), "--design-day", cwd=tmp_path).code == 0
    assert run_cli("study", "run", "st", cwd=tmp_path).code == 0
    collected = run_cli("collect", "st", "--json", cwd=tmp_path, python=sys.executable)
    assert collected.code == 0, collected.err
    assert json.loads(collected.out)["jobs"] == 1
