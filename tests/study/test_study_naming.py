"""A study whose jobs use EnergyPlus's other output namings stores and reads their outputs."""

from __future__ import annotations

from pathlib import Path

import pytest

from epcloud import Study
from epcloud.batch import SimulationJob
from epcloud.model import Shoebox
from epcloud.study.attempt import committed_dir


@pytest.mark.parametrize(("suffix", "sql"), [("C", "eplus.sql"), ("D", "eplus.sql"), ("L", "eplusout.sql")])
def test_a_study_job_with_another_naming_is_stored_whole(tmp_path: Path, suffix: str, sql: str) -> None:
    job = SimulationJob(Shoebox().to_idf(), None, label="box", design_day=True, output_suffix=suffix)
    study = Study.create(tmp_path / "st", [job])
    assert study.run().succeeded == 1
    entry = study.entries()[0]
    folder = committed_dir(study.fs, entry)
    assert folder is not None
    names = {info.path.rsplit("/", 1)[-1] for info in study.fs.list_files(folder)}
    assert {sql, "run-status.json", "summary.json"} <= names, names
    result = study.result(entry.id)
    assert result.sql is not None and result.errors.completed_successfully
    assert study.collect().jobs["status"].tolist() == ["succeeded"]
