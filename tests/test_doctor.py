"""`epcloud doctor`, run as a user runs it: a subprocess, its text and its JSON."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

_KEY_ID = "AKIADOCTORTEST000001"
_SECRET = "doctor-secret-never-printed-3f9a"


def _clean_env(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        EPCLOUD_CACHE_DIR=str(tmp_path / "cache"),
        # No shared files, no instance metadata: only what a test puts in the environment counts.
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-credentials"),
        AWS_CONFIG_FILE=str(tmp_path / "no-config"),
        AWS_EC2_METADATA_DISABLED="true",
        **extra,
    )
    return env


def _doctor(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "epcloud", "doctor", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )


def test_json_reports_engine_extras_cache_and_credential_source(tmp_path: Path, energyplus) -> None:
    env = _clean_env(
        tmp_path, AWS_ACCESS_KEY_ID=_KEY_ID, AWS_SECRET_ACCESS_KEY=_SECRET, AWS_DEFAULT_REGION="eu-west-1"
    )
    out = _doctor(env, "--json")
    assert out.returncode == 0, out.stderr
    assert _KEY_ID not in out.stdout + out.stderr and _SECRET not in out.stdout + out.stderr
    report = json.loads(out.stdout)
    assert report["python"]["version"] == ".".join(map(str, sys.version_info[:3]))
    assert report["platform"]["system"] == sys.platform
    engine = report["engine"]
    assert engine["found"] and engine["runs"]
    assert engine["version"] == energyplus.version_string and engine["build"] == energyplus.build
    assert Path(engine["install_dir"]) == energyplus.install_dir
    assert engine["found_by"] == energyplus.found_by
    # The test extra installs every other one.
    assert {"s3", "async", "tables", "plot", "dask", "fsspec"} <= set(report["extras"])
    assert all(info["installed"] for info in report["extras"].values()), report["extras"]
    assert report["cache"] == {
        "path": str(tmp_path / "cache"),
        "from": "EPCLOUD_CACHE_DIR",
        "exists": False,
        "writable": True,
    }
    assert report["credentials"] == {
        "checked": True,
        "found": True,
        "source": "env",
        "region": "eu-west-1",
        "profile": None,
    }


def test_text_says_when_no_credentials_are_found(tmp_path: Path, energyplus) -> None:
    out = _doctor(_clean_env(tmp_path))
    assert out.returncode == 0, out.stderr
    assert f"EnergyPlus {energyplus.version_string}-{energyplus.build} (runs)" in out.stdout
    assert str(energyplus.install_dir) in out.stdout
    assert "no credentials found" in out.stdout
    assert str(tmp_path / "cache") in out.stdout


def test_an_engine_that_does_not_start_fails_the_check(tmp_path: Path) -> None:
    install = tmp_path / "EnergyPlus-25-2-0"
    install.mkdir()
    (install / "Energy+.idd").write_text("!IDD_Version 25.2.0\n!IDD_BUILD cf7368216c\n")
    exe = install / "energyplus"
    exe.write_text("#!/bin/sh\necho 'error while loading shared libraries: libX11.so.6' >&2\nexit 127\n")
    exe.chmod(exe.stat().st_mode | stat.S_IXUSR)
    out = _doctor(_clean_env(tmp_path), "--energyplus", str(install), "--json")
    assert out.returncode == 1
    engine = json.loads(out.stdout)["engine"]
    assert engine["found"] and not engine["runs"]
    assert "exited 127" in engine["error"] and "libX11" in engine["error"]


@pytest.mark.parametrize("as_json", [False, True])
def test_no_engine_lists_the_places_searched(tmp_path: Path, as_json: bool) -> None:
    missing = tmp_path / "nowhere"
    out = _doctor(_clean_env(tmp_path), "--energyplus", str(missing), *(["--json"] if as_json else []))
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    text = json.loads(out.stdout)["engine"]["error"] if as_json else out.stdout
    assert str(missing) in text and "Places searched" in text


def test_installation_page_shows_the_output_as_it_is(tmp_path: Path) -> None:
    page = (Path(__file__).resolve().parents[1] / "docs" / "installation.md").read_text()
    shown = page.split("## Checking an installation")[1].split("```text\n")[1].split("```")[0]
    out = _doctor(_clean_env(tmp_path))
    labels = [line.split()[0] for line in out.stdout.splitlines() if not line.startswith(" ")]
    assert [line.split()[0] for line in shown.splitlines() if not line.startswith(" ")] == labels
    engine_line = next(line for line in out.stdout.splitlines() if line.startswith("engine"))
    assert engine_line in shown


def test_without_the_s3_extra_credentials_are_not_checked(tmp_path: Path) -> None:
    # botocore made unimportable in the child, as in an install without the s3 extra.
    code = "import sys; sys.modules['botocore'] = None; from epcloud.cli import main; sys.exit(main())"
    out = subprocess.run(
        [sys.executable, "-c", code, "doctor", "--json"],
        capture_output=True,
        text=True,
        env=_clean_env(tmp_path),
        timeout=120,
    )
    assert out.returncode == 0, out.stderr
    credentials = json.loads(out.stdout)["credentials"]
    assert credentials == {
        "checked": False,
        "reason": "the s3 extra is not installed: pip install 'epcloud[s3]'",
    }
