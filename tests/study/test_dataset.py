"""Collected tables as one hive-partitioned dataset: pyarrow and DuckDB read the same rows as collect(),
from the S3 test server over HTTP (endpoint from the environment) and from a local folder."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
import pytest
from study_helpers import VARIABLES, shoebox_jobs, sweep

from epcloud import Study
from epcloud.cli import main
from epcloud.errors import ResultNotFoundError
from epcloud.storage import LocalFileSystem, S3FileSystem
from epcloud.study import layout
from epcloud.study.dataset import open_dataset, query_connection

DOCS = Path(__file__).resolve().parents[2] / "docs" / "cloud-workflow.md"
SERIES_ORDER = ["job_id", "variable", "key", "timestamp"]


def _collected(fs: Any) -> tuple[Study, Any]:
    params = sweep(3)
    study = Study.create(
        fs, shoebox_jobs(params, None), parameters=params, shard_count=2, variables=VARIABLES
    )
    study.run(max_workers=2)
    return study, study.collect()


@pytest.fixture(scope="module")
def local_study(tmp_path_factory: pytest.TempPathFactory) -> tuple[Study, Any]:
    return _collected(LocalFileSystem(tmp_path_factory.mktemp("local-study")))


@pytest.fixture
def s3_study(study_fs: S3FileSystem) -> tuple[Study, Any]:
    return _collected(study_fs)


def _series_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """A dataset's series in collect()'s terms: the full name as ``variable``, in collect's order."""
    renamed = frame.drop(columns=["variable"]).rename(columns={"variable_name": "variable"})
    columns = ["job_id", "variable", "key", "units", "frequency", "timestamp", "value"]
    return renamed[columns].sort_values(SERIES_ORDER, ignore_index=True)


def _check_same_rows(study: Study, tables: Any) -> None:
    jobs = study.dataset("jobs").to_table().to_pandas()
    pd.testing.assert_frame_equal(jobs, tables.jobs)
    series = study.dataset("timeseries").to_table().to_pandas()
    assert set(series["variable"]) == {layout.variable_slug(v) for v in VARIABLES}  # the partition
    expected = tables.timeseries[["job_id", "variable", "key", "units", "frequency", "timestamp", "value"]]
    pd.testing.assert_frame_equal(_series_rows(series), expected, check_dtype=False)

    connection = query_connection(study.fs)
    by_duckdb = connection.execute("SELECT * FROM jobs ORDER BY index").df()
    assert list(by_duckdb["job_id"]) == list(tables.jobs["job_id"])
    assert by_duckdb["runtime_seconds"].tolist() == tables.jobs["runtime_seconds"].tolist()
    rows = connection.execute("SELECT * FROM timeseries").df()
    pd.testing.assert_frame_equal(_series_rows(rows), expected, check_dtype=False)
    # Partition pruning: a filter on the slug reads that variable's files only.
    slug = layout.variable_slug(VARIABLES[1])
    count = connection.execute("SELECT count(*) FROM timeseries WHERE variable = ?", [slug]).fetchone()
    assert count is not None and count[0] == (tables.timeseries["variable"] == VARIABLES[1]).sum() > 0


def test_layout_is_hive_partitioned(s3_study: tuple[Study, Any]) -> None:
    study, _ = s3_study
    keys = sorted(i.path for i in study.fs.list_files(layout.TIMESERIES))
    slugs = sorted(layout.variable_slug(v) for v in VARIABLES)
    assert keys == [
        layout.TIMESERIES_METADATA,
        *(f"timeseries/variable={s}/part-{shard:05d}.parquet" for s in slugs for shard in range(2)),
    ]
    schema = pq.read_schema(pa_buffer(study.fs.read_bytes(layout.TIMESERIES_METADATA)))
    assert schema.names == ["job_id", "variable_name", "key", "units", "frequency", "timestamp", "value"]


def pa_buffer(data: bytes) -> Any:
    import pyarrow as pa

    return pa.BufferReader(data)


def test_dataset_on_s3_gives_the_rows_of_collect(s3_study: tuple[Study, Any]) -> None:
    _check_same_rows(*s3_study)


def test_dataset_on_a_local_folder_gives_the_rows_of_collect(local_study: tuple[Study, Any]) -> None:
    _check_same_rows(*local_study)


def test_dataset_before_collect_is_a_clear_error(study_fs: S3FileSystem) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(1), None))
    with pytest.raises(ResultNotFoundError, match=r"no jobs table in s3://.*collect the study first"):
        study.dataset("jobs")
    with pytest.raises(ValueError, match="the datasets are jobs, timeseries"):
        study.dataset("results")


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch, s3_options: dict[str, str], tmp_path: Path) -> None:
    """The test server as a user configures it: the standard AWS variables, no endpoint argument."""
    for name in ("AWS_PROFILE", "AWS_SESSION_TOKEN", "AWS_ENDPOINT_URL"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_options["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_options["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_options["region_name"])
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "none"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "none"))


def test_query_cli_on_s3(
    s3_study: tuple[Study, Any], aws_env: None, capsys: pytest.CaptureFixture[str]
) -> None:
    study, tables = s3_study
    sql = 'SELECT label, status, "site/Total Site Energy [GJ]" AS site FROM jobs ORDER BY index'
    assert main(["query", study.url, sql, "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["label"] for r in rows] == list(tables.jobs["label"])
    assert {r["status"] for r in rows} == {"succeeded"} and all(r["site"] is None for r in rows)

    assert (
        main(
            [
                "query",
                study.url,
                "SELECT job_id, count(*) AS n FROM timeseries GROUP BY 1 ORDER BY 1",
                "--csv",
            ]
        )
        == 0
    )
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "job_id,n" and len(lines) == 4
    per_job = tables.timeseries.groupby("job_id").size()
    assert [int(line.split(",")[1]) for line in lines[1:]] == per_job.tolist()

    assert main(["query", study.url, "SELECT label, warnings FROM jobs"]) == 0
    out = capsys.readouterr().out
    assert "label" in out and "warnings" in out and "3 rows" in out
    assert all(label in out for label in tables.jobs["label"])


def test_query_cli_errors(
    s3_study: tuple[Study, Any], aws_env: None, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    study, _ = s3_study
    assert main(["query", study.url, "SELECT nosuchcolumn FROM jobs"]) == 2
    err = capsys.readouterr().err
    assert "the query failed" in err and "nosuchcolumn" in err and "Traceback" not in err
    assert main(["query", str(tmp_path / "nothing"), "SELECT 1"]) == 2
    assert "no study" in capsys.readouterr().err.lower()
    study.fs.remove(layout.JOBS_TABLE)
    assert main(["query", study.url, "SELECT 1"]) == 2
    assert f"run `epcloud collect {study.url}` first" in capsys.readouterr().err


def _docs_sql() -> str:
    """The DuckDB example of the guide (the ```sql block of "Reading the tables")."""
    text = DOCS.read_text(encoding="utf-8")
    (block,) = re.findall(r"```sql\n(.*?)```", text, re.DOTALL)
    return block


def test_the_guides_duckdb_example(
    local_study: tuple[Study, Any], capsys: pytest.CaptureFixture[str]
) -> None:
    study, tables = local_study
    assert main(["query", study.url, _docs_sql(), "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    heating = tables.timeseries[tables.timeseries["variable"] == VARIABLES[0]]
    joined = heating.merge(tables.jobs[["job_id", "wall_r"]], on="job_id")
    expected = (joined.groupby("wall_r")["value"].sum() / 1e9).round(6)
    assert [r["wall_r"] for r in rows] == expected.index.tolist()
    assert [r["heating_gj"] for r in rows] == pytest.approx(expected.tolist(), rel=1e-6)


def test_dataset_on_an_fsspec_store(local_study: tuple[Study, Any]) -> None:
    """The same tables copied into an fsspec store (memory://) read through pyarrow's fsspec handler."""
    from epcloud.storage import FsspecFileSystem

    study, tables = local_study
    store = FsspecFileSystem(f"memory://dataset-{id(study)}")
    for info in study.fs.list_files(""):
        if info.path == layout.JOBS_TABLE or info.path.startswith(f"{layout.TIMESERIES}/"):
            store.write_bytes(info.path, study.fs.read_bytes(info.path))
    jobs = open_dataset(store, "jobs").to_table().to_pandas()
    pd.testing.assert_frame_equal(jobs, tables.jobs)
    series = open_dataset(store, "timeseries").to_table().to_pandas()
    expected = tables.timeseries[["job_id", "variable", "key", "units", "frequency", "timestamp", "value"]]
    pd.testing.assert_frame_equal(_series_rows(series), expected, check_dtype=False)
