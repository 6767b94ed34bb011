"""A study chooses the outputs each job stores (`upload=`, `--upload`): fewer files, fewer requests per
job, and the summary and run-status.json always."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from study_helpers import shoebox_jobs, sweep

from epcloud import Study
from epcloud.errors import ResultNotFoundError
from epcloud.model import Shoebox
from epcloud.rundir.upload import UploadPolicy
from epcloud.storage import LocalFileSystem, S3FileSystem
from epcloud.study import layout
from epcloud.study.attempt import committed_dir
from fixtures_s3 import count_requests


def _stored(study: Study) -> dict[str, set[str]]:
    """The file names of each job's committed attempt."""
    names = {}
    for entry in study.entries():
        folder = committed_dir(study.fs, entry)
        assert folder is not None, entry.id
        names[entry.id] = {info.path.rsplit("/", 1)[1] for info in study.fs.list_files(folder)}
    return names


def test_a_study_stores_only_the_outputs_it_names(study_fs: S3FileSystem) -> None:
    study = Study.create(study_fs, shoebox_jobs(sweep(2), None), upload=["*.sql"])
    assert json.loads(study_fs.read_text(layout.STUDY_FILE))["upload"]["include"] == ["*.sql"]
    with count_requests(study_fs) as counts:
        report = study.run_shard()
    assert report.succeeded == 2
    assert all(
        names == {"eplusout.sql", "summary.json", "run-status.json"} for names in _stored(study).values()
    )
    # A job: its lease, 3 outputs, the done-marker and the done-index key (PUTs), the lease's DELETE; the
    # default set sends 4 outputs more. (One more PUT: the run's digest.)
    assert counts["PutObject"] == 2 * 6 + 1, counts
    assert counts["DeleteObject"] == 2, counts
    result = study.result(study.entries()[0].id)
    assert result.success and result.sql.get_tabular_data(
        report_name="AnnualBuildingUtilityPerformanceSummary"
    )
    tables = study.collect()
    assert len(tables.jobs) == 2 and (tables.jobs["status"] == "succeeded").all()


def test_upload_nothing_keeps_the_summaries_and_collect_works(tmp_path: Path) -> None:
    fs = LocalFileSystem(tmp_path / "study")
    study = Study.create(fs, shoebox_jobs(sweep(2), None), upload=[])
    assert study.run_shard().succeeded == 2
    assert all(names == {"summary.json", "run-status.json"} for names in _stored(study).values())
    assert len(study.collect().jobs) == 2
    result = Study.open(fs).result(0)
    assert result.success
    with pytest.raises(ResultNotFoundError, match=r"has no eplusout\.sql"):
        _ = result.sql


def test_the_default_set_is_not_recorded_and_a_policy_round_trips(tmp_path: Path) -> None:
    plain = Study.create(LocalFileSystem(tmp_path / "a"), shoebox_jobs(sweep(1), None))
    assert "upload" not in json.loads(
        plain.fs.read_text(layout.STUDY_FILE)
    )  # older epcloud reads it as before
    assert plain.info.upload_policy() == UploadPolicy()
    policy = UploadPolicy(include=("*.sql", "*.err"), exclude=("sqlite.err",))
    chosen = Study.create(LocalFileSystem(tmp_path / "b"), shoebox_jobs(sweep(1), None), upload=policy)
    assert Study.open(chosen.fs).info.upload_policy() == policy
    gzipped = UploadPolicy(gzip=("*.sql",))
    with pytest.raises(ValueError, match=r"drop gzip=\('\*\.sql',\)"):
        Study.create(LocalFileSystem(tmp_path / "d"), shoebox_jobs(sweep(1), None), upload=gzipped)
    assert not (tmp_path / "d" / layout.STUDY_FILE).exists()
    with pytest.raises(ValueError, match=r"exclude='\*\.json' would leave out summary\.json"):
        Study.create(
            LocalFileSystem(tmp_path / "e"),
            shoebox_jobs(sweep(1), None),
            upload=UploadPolicy(exclude=("*.json",)),
        )
    with pytest.raises(TypeError):
        Study.create(LocalFileSystem(tmp_path / "c"), shoebox_jobs(sweep(1), None), upload=3)  # type: ignore[arg-type]
    assert not (tmp_path / "c" / layout.STUDY_FILE).exists()


def test_cli_upload_patterns(tmp_path: Path) -> None:
    models = tmp_path / "models"
    models.mkdir()
    (models / "box.idf").write_text(Shoebox().to_idf())

    def create(name: str, *flags: str) -> dict[str, object]:
        command = [sys.executable, "-m", "epcloud", "study", "create", str(tmp_path / name), str(models)]
        done = subprocess.run(
            [*command, "--design-day", "--json", *flags], capture_output=True, text=True, check=False
        )
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout)  # type: ignore[no-any-return]

    assert create("a", "--upload", "*.sql", "*.err")["upload"]["include"] == ["*.sql", "*.err"]  # type: ignore[index]
    assert create("b", "--upload")["upload"]["include"] == []  # type: ignore[index]
    assert create("c", "--upload", "all")["upload"]["include"] == ["*"]  # type: ignore[index]
    assert "upload" not in create("d")


def test_cli_upload_before_the_source_is_refused_in_cli_words(tmp_path: Path) -> None:
    (tmp_path / "models").mkdir()
    (tmp_path / "models" / "box.idf").write_text(Shoebox().to_idf())
    command = [sys.executable, "-m", "epcloud", "study", "create", str(tmp_path / "s"), "--upload", "*.sql"]
    done = subprocess.run([*command, str(tmp_path / "models")], capture_output=True, text=True, check=False)
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert "put SOURCE before --upload" in done.stderr and "models" in done.stderr
    assert not (tmp_path / "s").exists()
