"""The study report: built from a real study's collected results, rendered in a real headless Chromium."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from epcloud.batch import SimulationJob
from epcloud.cli import main
from epcloud.model import Shoebox
from epcloud.report import render_report
from epcloud.storage import LocalFileSystem
from epcloud.study import Study

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
TEMP = "Zone Mean Air Temperature"


def _chromium_dom(page: Path, profile: Path) -> str:
    """The DOM after the page's scripts ran, as headless Chromium lays it out."""
    if CHROMIUM is None:
        if os.environ.get("CI"):
            pytest.fail("chromium is not installed; .ci/run installs Debian's chromium package")
        pytest.skip("chromium is not installed (apt-get install chromium)")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=5000",
        "--dump-dom",
    ]
    run = subprocess.run([CHROMIUM, *flags, page.as_uri()], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    return run.stdout


@pytest.fixture(scope="module")
def study(tmp_path_factory: pytest.TempPathFactory, chicago_epw: Path) -> Study:
    """Six annual shoebox runs over January: real end uses and a real hourly series."""
    root = tmp_path_factory.mktemp("study")
    params = [{"wall_r": r, "window_to_wall": w} for r in (1.0, 2.5, 5.0) for w in (0.2, 0.6)]
    jobs = []
    for p in params:
        text = (
            Shoebox(**p)
            .to_idf()
            .replace("RunPeriod, Annual, 1, 1, , 12, 31,", "RunPeriod, Jan, 1, 1, , 1, 31,")
        )
        jobs.append(SimulationJob(text, chicago_epw, label=f"r{p['wall_r']}-w{p['window_to_wall']}"))
    created = Study.create(LocalFileSystem(root), jobs, parameters=params, variables=[TEMP])
    created.run()
    return created


def test_report_page_renders_every_chart(study: Study, tmp_path: Path) -> None:
    tables = study.collect()
    assert len(tables.jobs) == 6
    page = tmp_path / "report.html"
    page.write_text(render_report(tables.jobs, tables.timeseries, title="January shoebox study"))
    html = page.read_text()
    assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")  # self-contained
    dom = _chromium_dom(page, tmp_path / "profile")
    assert 'data-ready="1"' in dom
    charts = re.findall(r'<svg class="chart"[^>]*data-rendered="(\d+)x(\d+)"[^>]*data-marks="(\d+)"', dom)
    assert len(charts) == 4, dom[:2000]
    for width, height, marks in charts:
        assert int(width) > 100 and int(height) > 50 and int(marks) > 0
    marks = [int(m) for _, _, m in charts]
    assert marks[2] >= 6 * 2  # end uses: every job has at least heating/cooling and electric uses
    assert marks[3] == 6  # one line per job (one zone each)
    for label in tables.jobs["label"]:
        assert label in dom


def test_report_cli(study: Study, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "r.html"
    assert main(["report", study.url, "-o", str(out), "--variable", TEMP]) == 0
    text = out.read_text()
    assert f"{TEMP} across jobs" in text and text.count('<svg class="chart"') == 4
    assert "wrote" in capsys.readouterr().out
