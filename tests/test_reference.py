"""The API reference: every name of SPEC §0 has a generated entry, and the build is strict-clean."""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import re
import subprocess
import sys
from pathlib import Path

import pytest

import epcloud.errors

REPO_ROOT = Path(__file__).resolve().parents[1]

# SPEC §0, "Where the names live".
SPEC_NAMES = {
    "models": [
        f"epcloud.{n}" for n in ("load_idf", "load_epjson", "new_document", "IDFDocument", "IDFObject")
    ],
    "study": ["epcloud.Study"],
    "simulation": [
        f"epcloud.simulation.{n}"
        for n in (
            "simulate",
            "async_simulate",
            "SimulationResult",
            "SQLResult",
            "TimeSeriesResult",
            "ErrorReport",
            "find_energyplus",
            "EnergyPlusConfig",
        )
    ],
    "batches": [
        f"epcloud.simulation.{n}"
        for n in (
            "SimulationJob",
            "simulate_batch",
            "async_simulate_batch",
            "async_simulate_batch_stream",
            "BatchResult",
            "SimulationCache",
        )
    ],
    "storage": [
        f"epcloud.simulation.{n}"
        for n in (
            "FileSystem",
            "AsyncFileSystem",
            "LocalFileSystem",
            "AsyncLocalFileSystem",
            "S3FileSystem",
            "AsyncS3FileSystem",
            "open_fs",
        )
    ],
    "weather": [
        f"epcloud.weather.{n}"
        for n in (
            "StationIndex",
            "WeatherStation",
            "WeatherDownloader",
            "WeatherFiles",
            "read_epw",
            "read_ddy",
        )
    ],
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if importlib.util.find_spec("mkdocstrings") is None:
        pytest.fail("the docs extra is not installed: pip install -e '.[docs]'")
    out = tmp_path_factory.mktemp("site")
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    return out


def _anchors(site: Path, page: str) -> set[str]:
    html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
    return set(re.findall(r'id="([^"]+)"', html))


@pytest.mark.parametrize("page", sorted(SPEC_NAMES))
def test_every_spec_name_has_an_entry_with_its_docstring(site: Path, page: str) -> None:
    html = (site / "reference" / page / "index.html").read_text(encoding="utf-8")
    anchors = _anchors(site, page)
    missing = [name for name in SPEC_NAMES[page] if name not in anchors]
    assert not missing, f"reference/{page}.md lacks {missing}"
    # The entry carries the docstring's first line, not just a heading.
    first = inspect.getdoc(_resolve(SPEC_NAMES[page][0])).splitlines()[0]  # type: ignore[union-attr]
    words = re.sub(r"[`*]", "", first).split()[:4]
    assert " ".join(words) in re.sub(r"<[^>]+>", "", html).replace("\n", " "), words


def test_every_error_class_is_listed(site: Path) -> None:
    anchors = _anchors(site, "errors")
    classes = [
        name
        for name, obj in vars(epcloud.errors).items()
        if inspect.isclass(obj) and issubclass(obj, BaseException) and obj.__module__ == "epcloud.errors"
    ]
    assert len(classes) > 10
    assert [c for c in classes if f"epcloud.errors.{c}" not in anchors] == []


def _resolve(dotted: str) -> object:
    module, _, name = dotted.rpartition(".")
    return getattr(importlib.import_module(module), name)
