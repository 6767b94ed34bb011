"""Step 1: `Study.create` writes inputs once, per-shard manifests and study.json; refuses to overwrite."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from study_helpers import VARIABLES, shoebox_jobs, sweep

from epcloud import Study, load_idf
from epcloud.batch import SimulationJob
from epcloud.errors import StudyExistsError, StudyFormatError, StudyNotFoundError
from epcloud.model import Shoebox
from epcloud.storage import LocalFileSystem, S3FileSystem
from epcloud.study import layout
from fixtures_s3 import count_requests


def _keys(fs: S3FileSystem) -> dict[str, str | None]:
    return {info.path: info.etag for info in fs.list_files("")}


def test_create_writes_inputs_once_manifests_and_study_file(
    study_fs: S3FileSystem, chicago_epw: Path
) -> None:
    params = sweep(6) * 2  # every model twice: stored once
    jobs = shoebox_jobs(params, chicago_epw)
    study = Study.create(
        study_fs, jobs, parameters=params, shard_count=3, metadata={"project": "demo"}, variables=VARIABLES
    )
    keys = _keys(study_fs)
    models = [k for k in keys if k.startswith("inputs/models/")]
    weather = [k for k in keys if k.startswith("inputs/weather/")]
    assert len(models) == 6 and len(weather) == 1
    assert sorted(k for k in keys if k.startswith("manifest/")) == [layout.manifest_path(i) for i in range(3)]

    info = json.loads(study_fs.read_text("study.json"))
    assert info["job_count"] == 12 and info["shard_count"] == 3 and info["format"] == 1
    assert info["metadata"] == {"project": "demo"}
    assert info["energyplus_version"] and info["epcloud_version"] and info["created_at"]
    assert [v["name"] for v in info["variables"]] == VARIABLES

    entries = study.entries()
    assert [e.index for e in entries] == list(range(12))
    assert {e.shard for e in entries} == {0, 1, 2}
    first = entries[0]
    assert first.parameters == params[0] and first.label == jobs[0].label
    assert first.flags["design_day"] is True and first.flags["annual"] is False
    assert study_fs.read_text(first.model_path) == jobs[0].model
    assert entries[6].model_sha256 == first.model_sha256  # same model, same object
    assert first.weather_path in weather


def test_parameters_from_a_job_attribute(study_fs: S3FileSystem) -> None:
    class ParametricJob(SimulationJob):
        @property
        def parameters(self) -> dict[str, Any]:
            return {"wall_r": float(self.label)}

    jobs = [
        ParametricJob(Shoebox(wall_r=r).to_idf(), None, label=str(r), design_day=True) for r in (1.0, 2.0)
    ]
    study = Study.create(study_fs, jobs)
    assert [e.parameters for e in study.entries()] == [{"wall_r": 1.0}, {"wall_r": 2.0}]


def test_refuses_an_existing_study_and_touches_nothing(study_fs: S3FileSystem) -> None:
    jobs = shoebox_jobs(sweep(2), None)
    Study.create(study_fs, jobs)
    before = _keys(study_fs)
    with pytest.raises(StudyExistsError, match=r"already exists.*overwrite=True"):
        Study.create(study_fs, shoebox_jobs(sweep(4), None))
    assert _keys(study_fs) == before

    study_fs.write_text("results/shard-00000/job-000000/run-status.json", "{}")
    study = Study.create(study_fs, shoebox_jobs(sweep(4), None), overwrite=True)
    assert study.info.job_count == 4
    assert not study_fs.list_files("results")  # the old results went with the old study


def test_ten_thousand_jobs_sharing_three_weather_files(study_fs: S3FileSystem, tmp_path: Path) -> None:
    """Inputs are hashed once per object and sent once: requests grow with shards, not with jobs."""
    weather = []
    for name in ("a", "b", "c"):
        path = tmp_path / f"{name}.epw"
        path.write_text(f"LOCATION,{name}\n" + "x" * 100_000)
        weather.append(path)
    docs = [load_idf(Shoebox(wall_r=r).to_idf()) for r in (1.0, 2.0, 3.0, 4.0)]
    jobs = [SimulationJob(docs[i % 4], weather[i % 3], label=f"j{i}", design_day=True) for i in range(10_000)]
    with count_requests(study_fs) as counts:
        study = Study.create(study_fs, jobs, shard_size=500)
    assert study.info.shard_count == 20
    assert counts["PutObject"] == 4 + 3 + 20 + 1 + 1  # models, weather, manifests, study.json, the probe
    assert counts["DeleteObject"] == 1  # the probe, once
    assert counts["GetObject"] == 0
    shard = json.loads(study_fs.read_text(layout.manifest_path(7)))
    assert len(shard["jobs"]) == 500  # a worker reads only its 500 entries


def test_local_folder_store(tmp_path: Path) -> None:
    study = Study.create(str(tmp_path / "study"), shoebox_jobs(sweep(3), None))
    reopened = Study.open(LocalFileSystem(tmp_path / "study"))
    assert reopened.info == study.info
    assert (tmp_path / "study" / "study.json").is_file()


def test_open_refuses_missing_and_newer_studies(study_fs: S3FileSystem) -> None:
    with pytest.raises(StudyNotFoundError, match="no study at s3://"):
        Study.open(study_fs)
    Study.create(study_fs, shoebox_jobs(sweep(2), None))
    data = json.loads(study_fs.read_text("study.json"))
    data["format"] = 99
    study_fs.write_text("study.json", json.dumps(data))
    with pytest.raises(StudyFormatError, match=r"newer epcloud.*format 99.*Upgrade"):
        Study.open(study_fs)
    study_fs.write_text("study.json", "{not json")
    with pytest.raises(StudyFormatError, match="not valid JSON"):
        Study.open(study_fs)
