"""The guide's examples: each script in examples/ runs as a user would run it (a fresh Python process, the
real engine, the S3 test server as its store) and prints what the guide says it prints; the guide
quotes every script, and `mkdocs build --strict` passes.
"""

from __future__ import annotations

import functools
import http.server
import importlib.util
import os
import re
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

REPO_ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = REPO_ROOT / "examples"
DOCS = REPO_ROOT / "docs"
SNIPPET = re.compile(r'^--8<-- "(examples/[^"]+\.py)"$', re.MULTILINE)
EXAMPLE_TIMEOUT = 240

# Each example and the lines its output must contain (regular expressions, searched in stdout).
EXPECTED: dict[str, list[str]] = {
    "first_simulation.py": [r"success=True", r"Zone Mean Air Temperature \(C\): 48 Hourly values"],
    "edit_model.py": [r"R = 2\.5 m2K/W", r"no field of this name: 'r_value'", r"round trip equal: True"],
    "read_results.py": [
        r"success=True exit_code=0",
        r"environment 2: CHICAGO ANN CLG 1% CONDNS DB=>MWB \(DesignDay\)",
        r"south wall U-factor from the tabular reports: 0\.\d+ W/m2K",
        r"windows in the model: 1",
        r"re-opened: success=True, EnergyPlus 25\.2",
        r"broken model: success=False, [1-9]\d* severe",
    ],
    "s3_simulation.py": [
        r"success=True, outputs at s3://{bucket}/examples/project-x/run-001",
        r"stored files: .*eplusout\.sql.*run-status\.json",
        r"48 hourly zone temperatures",
        r"downloaded \d+ files",
    ],
    "s3_compatible.py": [
        r"{service}: success=True, stored at s3://{bucket}/examples/{service}/run-001",
        r"stored: run-001/eplusout\.sql, run-001/run-status\.json$",
    ],
    "s3_security.py": [
        r"encryption: AES256, storage class: STANDARD_IA",
        r"tags: \[\('owner', 'energy-team'\), \('project', 'project-x'\)\]",
        r"refused '\.\./other-project/secrets\.txt': StoragePathError",
        r"refused '/absolute/path\.txt': StoragePathError",
        r"repr shows no secret: True",
    ],
    "remote_results.py": [
        r"both succeeded: True",
        r"wall-r1: design-day heating (\d+\.\d) kWh",
        r"downloaded \d+ files of wall-r4",
    ],
    "weather_lookup.py": [
        r"search 'tampa': Tampa Intl AP, FL, USA \(WMO 722110",
        r"near O'Hare: Chicago OHare Intl AP, IL, USA at \d+ km",
        r"EPW Tampa International Ap: 8760 hourly records",
        r"design days now: \['Tampa .*Htg 99\.6%.*', 'Tampa .*Clg \.4%.*'\]",
        r"Tampa design days: success=True",
    ],
    "weather_download.py": [
        r"^Chicago OHare Intl AP, IL, USA: {mirror}/",
        r"ddy True, stat True",
        r"simulated with downloaded weather: success=True",
    ],
    "remote_weather.py": [
        r"weather by store path: success=True, by URL: success=True",
        r"recorded in run-status\.json: golden\.epw",
    ],
    "batch_sweep.py": [
        r"first pass: 3 of 3 succeeded",
        r"second pass: 3 of 3 from the cache",
    ],
    "local_batch.py": [
        r"^3 succeeded, 1 failed; done events: broken=failed, wall-r1=succeeded, wall-r2=succeeded, "
        r"wall-r4=succeeded$",
        r"^broken: GetSurfaceData: Errors discovered, program terminates\.$",
        r"^wall-r4: 48 hourly heating values, total \d+\.\d kWh$",
        r"^ broken +False +False +[1-9]\d*$",
        r"^second run: 3 of 4 from the cache \(3 entries\)$",
    ],
    "dask_cluster.py": [
        r"roof-r2: success=True at s3://{bucket}/examples/dask/roof-r2",
        r"roof-r6: success=True at s3://{bucket}/examples/dask/roof-r6",
    ],
    "cloud_workflow.py": [
        r"^created <Study s3://{bucket}/examples/study-001 4 jobs in 2 shards>$",
        r"^worker 0 \(exit code 0\): 2 succeeded, 0 failed, 0 already done in \d+\.\d s; "
        r"results in s3://{bucket}/examples/study-001 \(`epcloud collect` gathers them\)$",
        r"^worker 1 \(exit code 0\): 2 succeeded, 0 failed, 0 already done in \d+\.\d s; "
        r"results in s3://{bucket}/examples/study-001 \(`epcloud collect` gathers them\)$",
        r'^status: \{{"total": 4, "succeeded": 4, "failed": 0, "running": 0, "pending": 0\}}$',
        r"^jobs\.parquet: 4 rows, \d+ columns$",
        r"^mean design-day heating by wall R-value, GJ:\nwall_r\n1\.0 +\d+\.\d+\n4\.0 +\d+\.\d+$",
        r"^timeseries: 192 rows of DistrictHeatingWater:Facility$",
    ],
    "parametric_study.py": [
        r"^\d+ samples of \[.*\] by lhs$",
        r"^ran (\d+) of \1 jobs$",
        r"^method: standardised regression coefficients",
        r"^most influential for lighting energy: lpd$",
    ],
    "cloud_workflow_dask.py": [
        r"^on Dask: 2 succeeded, 0 failed$",
        r"^roof-r2: succeeded, \d+\.\d s$",
        r"^roof-r6: succeeded, \d+\.\d s$",
    ],
}


def example_env(tmp_path: Path, s3_options: dict[str, str], bucket: str, **extra: str) -> dict[str, str]:
    """The environment a user would set: bucket, endpoint and keys in the standard AWS variables."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "EPCLOUD_"))}
    env.update(
        EPCLOUD_EXAMPLE_BUCKET=bucket,
        AWS_ENDPOINT_URL_S3=s3_options["endpoint_url"],
        AWS_DEFAULT_REGION=s3_options["region_name"],
        AWS_ACCESS_KEY_ID=s3_options["aws_access_key_id"],
        AWS_SECRET_ACCESS_KEY=s3_options["aws_secret_access_key"],
        AWS_CONFIG_FILE=str(tmp_path / "no-aws-config"),
        AWS_SHARED_CREDENTIALS_FILE=str(tmp_path / "no-aws-credentials"),
        EPCLOUD_CACHE_DIR=str(tmp_path / "cache"),
        **extra,
    )
    return env


def run_example(name: str, cwd: Path, env: dict[str, str], **fields: str) -> str:
    """Run one example script and check its output against EXPECTED; returns the output."""
    done = subprocess.run(
        [sys.executable, str(EXAMPLES / name)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=EXAMPLE_TIMEOUT,
        check=False,
    )
    assert done.returncode == 0, f"{name} exited {done.returncode}\n{done.stdout}\n{done.stderr}"
    for pattern in EXPECTED[name]:
        wanted = pattern.format(**{k: re.escape(v) for k, v in fields.items()})
        found = re.search(wanted, done.stdout, re.MULTILINE)
        assert found, f"{name}: no line matches {wanted!r}\n{done.stdout}"
    return done.stdout


@pytest.fixture
def env(tmp_path: Path, s3_options: dict[str, str], s3_bucket: str) -> dict[str, str]:
    return example_env(tmp_path, s3_options, s3_bucket)


# -- the examples ------------------------------------------------------------------------------


# Examples with a test of their own below; every other one runs in test_example.
OWN_TEST = {
    "first_simulation.py",
    "edit_model.py",
    "s3_simulation.py",
    "s3_compatible.py",
    "remote_results.py",
    "weather_download.py",
    "dask_cluster.py",
    "cloud_workflow.py",
    "cloud_workflow_dask.py",
    "parametric_study.py",
}


@pytest.mark.parametrize("name", sorted(set(EXPECTED) - OWN_TEST))
def test_example(name: str, tmp_path: Path, env: dict[str, str], s3_bucket: str) -> None:
    run_example(name, tmp_path, env, bucket=s3_bucket)


def test_first_simulation_leaves_outputs(tmp_path: Path, env: dict[str, str]) -> None:
    run_example("first_simulation.py", tmp_path, env)
    run_dir = tmp_path / "runs" / "first"
    assert (run_dir / "eplusout.sql").is_file() and (run_dir / "run-status.json").is_file()


def test_edit_model_writes_both_formats(tmp_path: Path, env: dict[str, str]) -> None:
    run_example("edit_model.py", tmp_path, env)
    from epcloud import load_epjson, load_idf

    idf = load_idf(tmp_path / "models" / "shoebox-r4.idf")
    assert idf["Material:NoMass"]["Wall Insulation"].thermal_resistance == 4.0
    assert load_epjson(tmp_path / "models" / "shoebox-r4.epJSON") == idf


@pytest.mark.parametrize("service", ["minio", "localstack", "spaces"])
def test_s3_compatible(service: str, tmp_path: Path, s3_options: dict[str, str], s3_bucket: str) -> None:
    # Only the address is the test server's: the region (and everything else) is the service's own.
    env = example_env(
        tmp_path,
        s3_options,
        s3_bucket,
        EPCLOUD_EXAMPLE_SERVICE=service,
        EPCLOUD_EXAMPLE_ENDPOINT=s3_options["endpoint_url"],
    )
    del env["AWS_ENDPOINT_URL_S3"], env["AWS_DEFAULT_REGION"]
    run_example("s3_compatible.py", tmp_path, env, bucket=s3_bucket, service=service)


def test_remote_results(tmp_path: Path, env: dict[str, str]) -> None:
    out = run_example("remote_results.py", tmp_path, env)
    heating = dict(re.findall(r"^(wall-r\d): design-day heating (\d+\.\d) kWh", out, re.MULTILINE))
    assert float(heating["wall-r4"]) < float(heating["wall-r1"])  # better walls, less heating
    assert (tmp_path / "downloads" / "wall-r4" / "eplusout.sql").is_file()


@pytest.fixture
def s3_fs_root(s3_bucket: str, s3_options: dict[str, str]) -> Any:
    """A store on the whole test bucket, to check what the examples left there."""
    from epcloud.storage import S3FileSystem

    return S3FileSystem(s3_bucket, **s3_options)


def test_s3_simulation_stores_the_run(
    tmp_path: Path, env: dict[str, str], s3_bucket: str, s3_fs_root: Any
) -> None:
    run_example("s3_simulation.py", tmp_path, env, bucket=s3_bucket)
    assert s3_fs_root.exists("examples/project-x/run-001/run-status.json")
    assert (tmp_path / "downloads" / "run-001" / "eplusout.sql").is_file()


def test_dask_cluster(tmp_path: Path, env: dict[str, str], s3_bucket: str) -> None:
    pytest.importorskip("distributed")
    run_example("dask_cluster.py", tmp_path, env, bucket=s3_bucket)


def test_cloud_workflow(tmp_path: Path, env: dict[str, str], s3_bucket: str, s3_fs_root: Any) -> None:
    out = run_example("cloud_workflow.py", tmp_path, env, bucket=s3_bucket)
    heating = dict(re.findall(r"^([14]\.0) +(\d+\.\d+)$", out, re.MULTILINE))
    assert 0 < float(heating["4.0"]) < float(heating["1.0"])  # better walls, less heating
    assert s3_fs_root.exists("examples/study-001/jobs.parquet")
    assert s3_fs_root.list_files("examples/study-001/timeseries")


def test_cloud_workflow_dask(tmp_path: Path, env: dict[str, str], s3_bucket: str) -> None:
    pytest.importorskip("distributed")
    run_example("cloud_workflow_dask.py", tmp_path, env, bucket=s3_bucket)


@pytest.fixture
def weather_mirror(tmp_path: Path, chicago_epw: Path) -> Iterator[str]:
    """A local HTTP server holding the Chicago station's ZIP at the path its real URL has."""
    from epcloud.weather import StationIndex

    station = StationIndex.load().search("Chicago O'Hare")[0].station
    root = tmp_path / "mirror"
    archive = root / urlsplit(station.url).path.lstrip("/")
    archive.parent.mkdir(parents=True)
    with zipfile.ZipFile(archive, "w") as zf:
        for ext in (".epw", ".ddy", ".stat"):
            zf.write(chicago_epw.with_suffix(ext), f"{station.file_stem}{ext}")

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Quiet, directory=str(root)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def test_weather_download(tmp_path: Path, env: dict[str, str], weather_mirror: str) -> None:
    env["EPCLOUD_WEATHER_MIRROR"] = weather_mirror
    run_example("weather_download.py", tmp_path, env, mirror=weather_mirror)
    assert list((tmp_path / "cache" / "weather").glob("*/*.epw"))  # cached: the next call makes no request


# -- the guide -----------------------------------------------------------------------------------


def quoted_examples() -> dict[str, list[str]]:
    """Example scripts the guide includes, with the pages that include them."""
    quoted: dict[str, list[str]] = {}
    for page in sorted(DOCS.glob("*.md")):
        for path in SNIPPET.findall(page.read_text(encoding="utf-8")):
            quoted.setdefault(path, []).append(page.name)
    return quoted


def test_every_example_is_tested_and_quoted() -> None:
    scripts = {path.name for path in EXAMPLES.glob("*.py")}
    assert scripts == set(EXPECTED), "each examples/*.py needs its expected output in EXPECTED"
    quoted = quoted_examples()
    assert {f"examples/{name}" for name in scripts} <= set(quoted), "each example belongs in the guide"
    assert all((REPO_ROOT / path).is_file() for path in quoted), f"the guide quotes a missing file: {quoted}"


@pytest.mark.skipif(importlib.util.find_spec("mkdocs") is None, reason="mkdocs is not installed")
def test_mkdocs_build_strict(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    page = (tmp_path / "site" / "s3" / "index.html").read_text(encoding="utf-8")
    assert "S3FileSystem" in page and "--8&lt;--" not in page and "--8<--" not in page  # snippets inlined


@pytest.mark.parametrize("model", ["shoebox", "RefBldgSmallOfficeNew2004_Chicago.idf"])
def test_parametric_study(
    model: str, tmp_path: Path, s3_options: dict[str, str], s3_bucket: str, request: pytest.FixtureRequest
) -> None:
    extra = {}
    if model != "shoebox":  # the user's own model: a shared NREL office, its lights and glazing swept
        shared_models_dir = request.getfixturevalue("models_dir")
        sweep = tmp_path / "office.yaml"
        sweep.write_text(
            f"model: {shared_models_dir / model}\n"
            "weather: USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw\nannual: true\nparameters:\n"
            "  lpd: {object: Lights, name: '*', field: watts_per_floor_area, low: 5.0, high: 14.0}\n"
            "  shgc: {object: WindowMaterial:SimpleGlazingSystem, name: '*',"
            " field: solar_heat_gain_coefficient, low: 0.25, high: 0.6}\n"
            "sampling: {method: lhs, samples: 4, seed: 3}\n"
        )
        extra["EPCLOUD_EXAMPLE_SWEEP"] = str(sweep)
    env = example_env(tmp_path, s3_options, s3_bucket, **extra)
    out = run_example("parametric_study.py", tmp_path, env)
    assert "lpd" in out and "shgc" in out
