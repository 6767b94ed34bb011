"""CLI errors: one line in CLI words, documented exit codes, JSON with --json, never a traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cli_helpers import cli_env, json_error, one_line_error, run_cli

from epcloud.cli.errors import EXIT_INTERNAL, EXIT_STORAGE, EXIT_USAGE, cli_words, describe, missing_extra
from epcloud.errors import StorageConnectionError, StudyExistsError, UsageError
from epcloud.model import Shoebox

# (argv, what the message must say, what it must not say); each runs in a folder holding shoebox.idf.
CASES = {
    "missing weather": (
        ["run", "shoebox.idf", "-w", "nowhere.epw"],
        ["nowhere.epw", "epcloud weather bundled"],
        [],
    ),
    "swapped": (
        ["run", "chicago.epw", "-w", "shoebox.idf"],
        ["wrong way round", "epcloud run shoebox.idf"],
        [],
    ),
    "missing model": (["run", "nomodel.idf", "--design-day"], ["nomodel.idf", "epcloud example shoebox"], []),
    "bad option value": (["run", "shoebox.idf", "--timeout", "soon"], ["--timeout", "invalid float"], []),
    "annual and design day": (["run", "shoebox.idf", "--annual", "--design-day"], ["not allowed"], []),
    "no engine": (
        ["run", "shoebox.idf", "--design-day", "--energyplus", "/nonexistent/ep"],
        ["--energyplus PATH", "/nonexistent/ep"],
        ["energyplus=<path>"],
    ),
    "ambiguous weather": (["run", "shoebox.idf", "-w", "usa"], ["matches 5 bundled", "Chicago"], []),
    "bad sweep row": (["batch", "bad.csv", "--design-day"], ["bad.csv row 2", "column wall_r"], ["Shoebox."]),
    "bad sweep column": (["batch", "colour.csv", "--design-day"], ["row 1", "colour"], []),
    "zero workers": (
        ["batch", "good.csv", "--design-day", "-j", "0"],
        ["--max-workers must be at least 1"],
        [],
    ),
    "bad metadata": (
        ["study", "create", "st", "good.csv", "--design-day", "--metadata", "owner"],
        ["--metadata expects KEY=VALUE"],
        [],
    ),
    "no study": (["status", "nostudy"], ["no study at", "`epcloud study create`"], ["Study.create"]),
    "rerun without a choice": (["rerun", "nostudy"], ["--failed", "--missing"], []),
    "report would replace": (["report", "nostudy"], ["report.html already exists", "--force"], []),
    "demo into a busy folder": (["demo", "-o", "busy", "--design-day"], ["busy", "--force"], []),
    "example bad parameter": (
        ["example", "shoebox", "-o", "x.idf", "--window-to-wall", "2"],
        ["--window-to-wall"],
        [],
    ),
}
NO_JSON = {"report"}  # commands without --json


@pytest.fixture
def workdir(tmp_path: Path, shoebox: Path) -> Path:
    (tmp_path / "chicago.epw").write_text("LOCATION,Chicago\n")
    (tmp_path / "bad.csv").write_text("wall_r,window_to_wall\n1,0.2\n-2,0.4\n")
    (tmp_path / "colour.csv").write_text("wall_r,colour\n1,red\n")
    (tmp_path / "good.csv").write_text("wall_r\n1\n")
    (tmp_path / "report.html").write_text("an earlier report")
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "notes.txt").write_text("mine")
    return tmp_path


@pytest.mark.parametrize("case", sorted(CASES))
def test_user_errors_are_one_line_in_cli_words(case: str, workdir: Path) -> None:
    argv, says, never = CASES[case]
    line = one_line_error(run_cli(*argv, cwd=workdir))
    for text in says:
        assert text in line, line
    for text in never:
        assert text not in line, line
    if argv[0] in NO_JSON:
        return
    # --json: the same error as one JSON object on stdout, nothing on stderr
    ran = run_cli(*argv, "--json", cwd=workdir)
    error = json_error(ran)
    for text in says:
        assert text in error["message"]
    assert ran.err.strip() == ""


def test_nothing_is_lost_by_a_refusal(workdir: Path) -> None:
    run_cli("report", "nostudy", cwd=workdir)
    run_cli("demo", "-o", "busy", "--design-day", cwd=workdir)
    assert (workdir / "report.html").read_text() == "an earlier report"
    assert sorted(p.name for p in (workdir / "busy").iterdir()) == ["notes.txt"]


def test_existing_study_says_overwrite_flag(workdir: Path) -> None:
    assert run_cli("study", "create", "st", "good.csv", "--design-day", cwd=workdir).code == 0
    line = one_line_error(run_cli("study", "create", "st", "good.csv", "--design-day", cwd=workdir))
    assert "--overwrite" in line and "overwrite=True" not in line and "Study.open" not in line


def test_verbose_shows_the_traceback(workdir: Path) -> None:
    quiet = run_cli("status", "nostudy", cwd=workdir)
    loud = run_cli("status", "nostudy", "--verbose", cwd=workdir)
    assert quiet.code == loud.code == EXIT_USAGE
    assert "Traceback" not in quiet.err and "Traceback" in loud.err and "StudyNotFoundError" in loud.err


def test_usage_error_prints_the_usage_line(workdir: Path) -> None:
    ran = run_cli("run", cwd=workdir)
    assert ran.code == EXIT_USAGE and ran.err.startswith("usage: epcloud run")
    assert "the following arguments are required: model" in ran.err


def test_exit_codes_by_kind() -> None:
    assert describe(UsageError("x"), "run").exit_code == EXIT_USAGE
    assert describe(StorageConnectionError("endpoint down"), "status").exit_code == EXIT_STORAGE
    bug = describe(ZeroDivisionError("division by zero"), "run")
    assert (
        bug.exit_code == EXIT_INTERNAL and "--verbose" in bug.message and "ZeroDivisionError" in bug.message
    )
    exists = describe(StudyExistsError("pass overwrite=True to replace it"), "study create")
    assert exists.message == "pass --overwrite to replace it" and exists.details["options"] == ["--overwrite"]


def test_cli_words() -> None:
    assert cli_words("or pass energyplus=<path>.") == "or pass --energyplus PATH."
    assert cli_words("annual=True and design_day=True exclude each other") == (
        "--annual and --design-day exclude each other"
    )
    assert cli_words("re-create the study (Study.create(..., overwrite=True))") == (
        "re-create the study (`epcloud study create` with --overwrite)"
    )
    assert cli_words("(create one with Study.create or `epcloud study create`)") == (
        "(create one with `epcloud study create`)"
    )
    assert cli_words("max_workers must be at least 1") == "--max-workers must be at least 1"
    assert cli_words("a weather file near design days") == "a weather file near design days"


def test_missing_extra_is_read_from_the_import_error() -> None:
    assert missing_extra(ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow")) == "tables"
    assert missing_extra(ImportError("S3FileSystem needs boto3: pip install 'epcloud[s3]'")) == "s3"
    try:
        try:
            raise ModuleNotFoundError("No module named 'boto3'", name="boto3")
        except ImportError as inner:
            raise ImportError("cannot open the store") from inner
    except ImportError as outer:
        assert missing_extra(outer) == "s3"
    assert missing_extra(ModuleNotFoundError("No module named 'numpyy'", name="numpyy")) is None
    message = describe(ModuleNotFoundError("No module named 'pyarrow'", name="pyarrow"), "collect").message
    assert message.startswith("epcloud collect needs tables: pip install 'epcloud[tables]'")


def test_ctrl_c_stops_a_batch_keeps_finished_runs(tmp_path: Path) -> None:
    sweep = tmp_path / "sweep.csv"
    sweep.write_text("wall_r\n" + "\n".join(str(1 + i / 4) for i in range(8)) + "\n")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "epcloud",
            "batch",
            str(sweep),
            "-w",
            "chicago",
            "--annual",
            "-j",
            "1",
            "-o",
            "b",
        ],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    assert proc.stderr is not None
    seen = []
    deadline = time.monotonic() + 200
    while time.monotonic() < deadline:
        line = proc.stderr.readline()
        seen.append(line)
        if line.startswith("[1/8]") or not line:
            break
    first = [
        line.split()[1] for line in seen if line.startswith("[1/8] ") and line.rstrip().endswith("succeeded")
    ]
    assert first, seen  # whichever job finished first (two run at once)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert "Traceback" not in err and "interrupted" in err
    assert (tmp_path / "b" / first[0] / "eplusout.sql").is_file()
    assert not (tmp_path / "b" / "row-0008" / "eplusout.sql").exists()


def test_json_error_on_interrupt_is_json(tmp_path: Path) -> None:
    model = tmp_path / "slow.idf"
    model.write_text(Shoebox(timesteps_per_hour=60).to_idf())
    proc = subprocess.Popen(
        [sys.executable, "-m", "epcloud", "run", str(model), "-w", "chicago", "--annual", "--json"],
        cwd=tmp_path,
        env=cli_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 60
    while not list(tmp_path.glob("run-slow/*.err")) and time.monotonic() < deadline:
        time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, (out, err)
    assert json.loads(out)["error"]["type"] == "Interrupted"
    assert "Traceback" not in err
