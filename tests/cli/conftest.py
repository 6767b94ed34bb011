"""Fixtures of the command-line tests: an example model, a CLI runner, a venv without extras."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from cli_helpers import SRC, Ran, bare_env, base_install_files, run_cli

from epcloud.model import Shoebox


@pytest.fixture
def shoebox(tmp_path: Path) -> Path:
    path = tmp_path / "shoebox.idf"
    path.write_text(Shoebox().to_idf())
    return path


@pytest.fixture
def cli(tmp_path: Path) -> Callable[..., Ran]:
    def call(*args: str, **kwargs: object) -> Ran:
        return run_cli(*args, cwd=tmp_path, **kwargs)  # type: ignore[arg-type]

    return call


def _site_packages(venv: Path) -> Path:
    return venv / "lib" / f"python{sys.version_info.major}.{sys.version_info.minor}" / "site-packages"


@pytest.fixture(scope="session")
def bare_python(tmp_path_factory: pytest.TempPathFactory) -> str:
    """A venv holding epcloud and only its base dependencies (no boto3, pandas, pyarrow...).

    The engine comes through ENERGYPLUS_DIR (see `bare_env`), so no 200 MB wheel is copied per run;
    CI builds a venv with `pip install -e .` as well (.ci/base-install.sh).
    """
    venv = tmp_path_factory.mktemp("bare") / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(venv)], check=True)
    site = _site_packages(venv)
    site.mkdir(parents=True, exist_ok=True)
    deps = venv / "base-deps"
    deps.mkdir()
    for installed in base_install_files():
        (deps / installed.name).symlink_to(installed)
    (site / "epcloud-base.pth").write_text(f"{SRC}\n{deps}\n")
    python = str(venv / "bin" / "python")
    probe = "import importlib.util as u; print([m for m in ('boto3','pandas','pyarrow') if u.find_spec(m)])"
    found = subprocess.run([python, "-c", probe], capture_output=True, text=True, check=True, env=bare_env())
    assert found.stdout.strip() == "[]", f"the bare venv sees extras: {found.stdout}"
    return python
