"""A study runs its engines on the fork server where it can, unless EPCLOUD_ENGINE says no."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from study_helpers import shoebox_jobs, start_worker, sweep

from epcloud import Study
from epcloud.engine import default_energyplus
from epcloud.run.forkserver import fork_supported
from epcloud.study.attempt import study_engine_env

pytestmark = pytest.mark.skipif(
    sys.platform != "linux" or not fork_supported(default_energyplus().executable),
    reason="the fork server needs Linux and an engine with libenergyplusapi",
)


def test_the_study_default_is_the_fork_server_and_an_explicit_choice_wins(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("EPCLOUD_ENGINE", raising=False)
    assert study_engine_env(None) == {"EPCLOUD_ENGINE": "fork"}
    assert "EPCLOUD_ENGINE" not in os.environ  # only the engines' environment carries it
    monkeypatch.setenv("EPCLOUD_ENGINE", "cli")
    assert study_engine_env(None) == {}


def test_study_run_in_process_uses_the_fork_server(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("EPCLOUD_ENGINE", raising=False)
    monkeypatch.setenv("EPCLOUD_CACHE_DIR", str(tmp_path / "cache"))
    from epcloud.run import forkserver

    forkserver.shutdown_fork_servers()  # a server another test started would not log again
    study = Study.create(tmp_path / "st", shoebox_jobs(sweep(2), None))
    with caplog.at_level("INFO", logger="epcloud.run.forkserver"):
        assert study.run(max_workers=1).succeeded == 2
    assert "fork server" in caplog.text
    assert "EPCLOUD_ENGINE" not in os.environ


@pytest.mark.parametrize("engine", ["", "cli"])
def test_a_worker_runs_on_the_backend_it_should(tmp_path: Path, engine: str) -> None:
    study = Study.create(tmp_path / "st", shoebox_jobs(sweep(2), None))
    env = {k: v for k, v in os.environ.items() if k != "EPCLOUD_ENGINE"}
    env["EPCLOUD_CACHE_DIR"] = str(tmp_path / "cache")
    if engine:
        env["EPCLOUD_ENGINE"] = engine
    log = tmp_path / "worker.log"
    assert start_worker(study.url, env, log=log).wait(timeout=300) == 0, log.read_text()
    text = log.read_text()
    assert ("fork server" in text) == (engine != "cli"), text
    assert study.status().count("succeeded") == 2
