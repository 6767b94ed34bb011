"""The names SPEC §0 promises, importable from where it says; the facades import only what a name needs."""

from __future__ import annotations

import importlib
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import epcloud

SPEC_NAMES = {
    "epcloud": [
        "load_idf", "load_epjson", "new_document", "IDFDocument", "IDFObject", "Study",
        "EpcloudError", "ModelError", "ParseError", "IDFSyntaxError", "VersionMismatchError",
        "EnergyPlusNotFoundError", "StorageError", "SimulationError", "WeatherFileNotFoundError",
    ],
    "epcloud.simulation": [
        "simulate", "async_simulate", "simulate_batch", "async_simulate_batch", "async_simulate_batch_stream",
        "SimulationJob", "BatchResult", "SimulationResult", "SQLResult", "TimeSeriesResult", "ErrorReport",
        "SimulationCache", "find_energyplus", "EnergyPlusConfig", "FileSystem", "AsyncFileSystem",
        "LocalFileSystem", "AsyncLocalFileSystem", "S3FileSystem", "AsyncS3FileSystem", "open_fs",
    ],
    "epcloud.weather": ["StationIndex", "WeatherStation", "WeatherDownloader", "WeatherFiles"],
    "epcloud.study": ["Study"],
}  # fmt: skip


@pytest.mark.parametrize(("module", "name"), [(m, n) for m, names in SPEC_NAMES.items() for n in names])
def test_every_spec_name_imports_from_where_spec_says(module: str, name: str) -> None:
    value = getattr(importlib.import_module(module), name)
    assert value is not None
    assert name in importlib.import_module(module).__all__


@pytest.mark.parametrize("module", ["epcloud", "epcloud.simulation", "epcloud.storage"])
def test_lazy_names_are_listed_and_resolve(module: str) -> None:
    facade = importlib.import_module(module)
    for name in facade.__all__:
        assert getattr(facade, name) is not None, name
    assert set(facade.__all__) <= set(dir(facade))
    with pytest.raises(AttributeError, match="no attribute 'not_a_name'"):
        facade.not_a_name  # noqa: B018


def _modules_after(statement: str) -> set[str]:
    code = f"import json, sys\n{statement}\nprint(json.dumps(sorted(sys.modules)))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    return set(json.loads(out))


HEAVY = ("boto3", "botocore", "pandas", "pyarrow", "epcloud.study", "epcloud.batch")


@pytest.mark.parametrize("statement", ["import epcloud", "from epcloud.simulation import simulate"])
def test_facade_imports_nothing_heavy(statement: str) -> None:
    loaded = _modules_after(statement)
    assert not [m for m in HEAVY if m in loaded]
    assert not [m for m in loaded if m.startswith(("epcloud.storage.s3", "epcloud.storage.fsspec"))]


def test_import_epcloud_loads_only_errors_and_version() -> None:
    assert {m for m in _modules_after("import epcloud") if m.startswith("epcloud")} == {
        "epcloud",
        "epcloud._lazy",
        "epcloud._version",
        "epcloud.errors",
    }


def test_version_matches_the_installed_distribution() -> None:
    from importlib.metadata import version

    assert epcloud.__version__ == version("epcloud")
    pyproject = (Path(__file__).parents[1] / "pyproject.toml").read_text()
    assert re.search(r'attr = "epcloud\._version\.__version__"', pyproject)
