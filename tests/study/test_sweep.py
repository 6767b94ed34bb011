"""Sweeps without the engine: files, validation messages, samplers, stored studies, sensitivity indices."""

from __future__ import annotations

import json
import pickle
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from epcloud.batch import SimulationJob
from epcloud.errors import SweepError
from epcloud.model import load_idf
from epcloud.storage import LocalFileSystem
from epcloud.study import Parameter, Study, Sweep, layout
from epcloud.study.sensitivity import sensitivity
from epcloud.study.sweep import variant_model

WALL = {"object": "Material:NoMass", "name": "R13LAYER", "field": "thermal_resistance"}


@pytest.fixture
def zone_model(models_dir: Path) -> Path:
    return models_dir / "1ZoneUncontrolled.idf"


@pytest.fixture
def office(models_dir: Path) -> Path:
    return models_dir / "RefBldgMediumOfficeNew2004_Chicago.idf"


@pytest.fixture
def two_weathers(energyplus: Any) -> list[Path]:
    folder = energyplus.weather_dir
    return [
        folder / "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw",
        folder / "USA_CO_Golden-NREL.724666_TMY3.epw",
    ]


def _write_yaml(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_sweep_file_yaml_and_json_give_the_same_samples(tmp_path: Path, zone_model: Path) -> None:
    yaml_file = _write_yaml(
        tmp_path / "sweep.yaml",
        f"""
model: {zone_model}
design_day: true
parameters:
  wall_r:
    object: Material:NoMass
    name: R13LAYER
    field: thermal_resistance
    values: [1.5, 3.0, 4.5]
  rough:
    object: Material:NoMass
    name: "*"
    field: roughness
    values: [Rough, Smooth]
sampling:
  method: grid
""",
    )
    data = {
        "model": str(zone_model),
        "design_day": True,
        "parameters": {
            "wall_r": {**WALL, "values": [1.5, 3.0, 4.5]},
            "rough": {
                "object": "Material:NoMass",
                "name": "*",
                "field": "roughness",
                "values": ["Rough", "Smooth"],
            },
        },
        "sampling": {"method": "grid"},
    }
    json_file = tmp_path / "sweep.json"
    json_file.write_text(json.dumps(data))
    from_yaml, from_json = Sweep.from_file(yaml_file), Sweep.from_file(json_file)
    assert from_yaml.samples() == from_json.samples()
    assert len(from_yaml.samples()) == 6
    assert {(s["wall_r"], s["rough"]) for s in from_yaml.samples()} == {
        (w, r) for w in (1.5, 3.0, 4.5) for r in ("Rough", "Smooth")
    }
    jobs = from_yaml.jobs()
    assert all(job.design_day for job in jobs)
    assert jobs[0].label.startswith("s00000 wall_r=1.5,rough=Rough")


def test_relative_paths_are_relative_to_the_sweep_file(tmp_path: Path, zone_model: Path) -> None:
    (tmp_path / "m").mkdir()
    (tmp_path / "m" / "zone.idf").write_text(zone_model.read_text())
    sweep_file = _write_yaml(
        tmp_path / "m" / "s.yml",
        "model: zone.idf\nparameters:\n  w: {object: Material:NoMass, name: R13LAYER, "
        "field: thermal_resistance, values: [2]}\n",
    )
    sweep = Sweep.from_file(sweep_file)
    sweep.validate()
    assert sweep.model == str(tmp_path / "m" / "zone.idf")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"object": "Material:NoMas"},
            r"parameters\.p\.object: 'Material:NoMas' is not an object type.*Material:NoMass",
        ),
        ({"name": "R13LAYR"}, r"parameters\.p\.name: .* no Material:NoMass named 'R13LAYR'.*R13LAYER"),
        (
            {"field": "thermal_resistanc"},
            r"parameters\.p\.field: Material:NoMass has no field 'thermal_resistanc'",
        ),
        (
            {"values": [1.0, 0.0]},
            r"parameters\.p: Material:NoMass\.thermal_resistance: 0\.0 is below the field's minimum",
        ),
        ({"values": ["thick"]}, r"'thick' is not a number"),
        ({"field": "roughness", "values": ["Bumpy"]}, r"'Bumpy' is not one of the field's choices"),
        ({"values": None, "low": 1.0}, r"parameters\.p: give `values: \[\.\.\.\]`, or both `low` and `high`"),
        ({"values": None, "low": 3.0, "high": 1.0}, r"low \(3\.0\) must be below high \(1\.0\)"),
        ({"values": []}, r"parameters\.p\.values: the list is empty"),
        ({"colour": "red"}, r"parameters\.p: unknown keys \['colour'\]"),
    ],
)
def test_each_kind_of_mistake_names_parameter_path_and_problem(
    zone_model: Path, change: dict[str, Any], message: str
) -> None:
    spec = {**WALL, "values": [2.0], **change}
    with pytest.raises(SweepError, match=message):
        Sweep(zone_model, {"p": {k: v for k, v in spec.items() if v is not None}}).validate()


def test_a_reference_must_name_an_existing_object(zone_model: Path) -> None:
    spec = {"object": "Construction", "name": "*", "field": "outside_layer", "values": ["R13LAYER", "NOPE"]}
    with pytest.raises(SweepError, match=r"no object named 'NOPE' that the field can refer to"):
        Sweep(zone_model, {"layer": spec}).validate()
    Sweep(zone_model, {"layer": {**spec, "values": ["R13LAYER", "R31LAYER"]}}).validate()


def test_star_must_match_at_least_one_object(zone_model: Path) -> None:
    spec = {"object": "Lights", "name": "*", "field": "watts_per_floor_area", "values": [5.0]}
    with pytest.raises(SweepError, match=r"parameters\.lpd\.object: .* has no Lights objects"):
        Sweep(zone_model, {"lpd": spec}).validate()


def test_sweep_file_mistakes(tmp_path: Path, zone_model: Path) -> None:
    bad_key = _write_yaml(tmp_path / "a.yaml", f"model: {zone_model}\nparameters: {{}}\nsamplng: {{}}\n")
    with pytest.raises(SweepError, match=r"a\.yaml: unknown keys \['samplng'\]"):
        Sweep.from_file(bad_key)
    no_model = _write_yaml(tmp_path / "b.yaml", "parameters: {x: {values: [1]}}\n")
    with pytest.raises(SweepError, match=r"b\.yaml: `model:` is missing"):
        Sweep.from_file(no_model)
    broken = _write_yaml(tmp_path / "c.yaml", "model: [unclosed\n")
    with pytest.raises(SweepError, match=r"c\.yaml: not valid YAML \(line"):
        Sweep.from_file(broken)
    missing = _write_yaml(tmp_path / "d.yaml", "model: nowhere.idf\nparameters: {x: {values: [1]}}\n")
    with pytest.raises(SweepError, match=r"d\.yaml: model: no model file 'nowhere.idf'"):
        Sweep.from_file(missing).validate()
    wrong_suffix = tmp_path / "e.toml"
    wrong_suffix.write_text("x")
    with pytest.raises(SweepError, match=r"ends in \.yaml, \.yml or \.json"):
        Sweep.from_file(wrong_suffix)
    no_weather = _write_yaml(
        tmp_path / "f.yaml",
        json.dumps(
            {"model": str(zone_model), "weather": ["gone.epw"], "parameters": {"w": {**WALL, "values": [2]}}}
        ),
    )
    with pytest.raises(SweepError, match=r"weather: no such file 'gone.epw'"):
        Sweep.from_file(no_weather).validate()


@pytest.mark.parametrize(
    ("sampling", "message"),
    [
        ({"method": "sobol", "samples": 12}, r"power of two .* got 12: use 8 or 16"),
        ({"method": "morris", "samples": 4, "levels": 3}, r"`levels` to be an even whole number"),
        ({"method": "lhs"}, r"method 'lhs' needs `samples`"),
        ({"method": "grid", "samples": 10}, r"method 'grid' runs every combination"),
        ({"method": "latin"}, r"'latin' is not a sampling method"),
        ({"method": "random", "samples": 0}, r"`samples` must be a whole number of at least 1"),
    ],
)
def test_sampling_rules_are_checked(zone_model: Path, sampling: dict[str, Any], message: str) -> None:
    params = {"w": {**WALL, "values": [1.0, 2.0]}}
    with pytest.raises(SweepError, match=message):
        Sweep(zone_model, params, sampling=sampling).validate()


def test_grid_refuses_a_continuous_range(zone_model: Path) -> None:
    with pytest.raises(SweepError, match=r"'grid' takes discrete values, but w give low/high"):
        Sweep(zone_model, {"w": {**WALL, "low": 1.0, "high": 2.0}}).validate()


@pytest.mark.parametrize(
    ("sampling", "count"),
    [
        ({"method": "random", "samples": 7, "seed": 4}, 7),
        ({"method": "lhs", "samples": 9, "seed": 4}, 9),
        ({"method": "sobol", "samples": 8, "seed": 4}, 8 * (3 + 2)),
        ({"method": "morris", "samples": 5, "seed": 4, "levels": 4}, 5 * (3 + 1)),
    ],
)
def test_samplers_on_a_real_model_are_seeded_and_in_range(
    office: Path, sampling: dict[str, Any], count: int
) -> None:
    params = {
        "lpd": {"object": "Lights", "name": "*", "field": "watts_per_floor_area", "low": 5.0, "high": 12.0},
        "epd": {
            "object": "ElectricEquipment",
            "name": "*",
            "field": "watts_per_floor_area",
            "low": 4.0,
            "high": 15.0,
        },
        "rough": {
            "object": "Material",
            "name": "*",
            "field": "roughness",
            "values": ["Rough", "Smooth", "VeryRough"],
        },
    }
    first = Sweep(office, params, sampling=sampling)
    first.validate()
    samples = first.samples()
    assert len(samples) == count
    assert all(5.0 <= s["lpd"] <= 12.0 and 4.0 <= s["epd"] <= 15.0 for s in samples)
    assert {s["rough"] for s in samples} <= {"Rough", "Smooth", "VeryRough"}
    assert len({s["lpd"] for s in samples}) > 1
    assert Sweep(office, params, sampling=sampling).samples() == samples  # same seed, same samples
    other = Sweep(office, params, sampling={**sampling, "seed": 5}).samples()
    assert other != samples
    if sampling["method"] == "lhs":  # one sample in each of the n strata of every continuous axis
        strata = sorted(int((s["lpd"] - 5.0) / 7.0 * count) for s in samples)
        assert strata == list(range(count))


def test_variant_equals_applying_the_parameters_in_python(tmp_path: Path, office: Path) -> None:
    sweep = Sweep(
        office,
        {
            "lpd": {"object": "Lights", "name": "*", "field": "watts_per_floor_area", "values": [6.0, 9.5]},
            "wall": {
                "object": "Material",
                "name": "Steel Frame NonRes Wall Insulation",
                "field": "thickness",
                "values": [0.05, 0.1],
            },
        },
    )
    fs = LocalFileSystem(tmp_path / "study")
    study = Study.create(fs, sweep)
    entries = study.entries()
    assert len(entries) == 4
    assert {e.model_sha256 for e in entries} == {entries[0].model_sha256}  # one stored base model
    assert len(fs.list_files("inputs/models")) == 1
    stored = tmp_path / "study" / entries[0].model_path
    for entry in entries:
        built = load_idf(variant_model(stored, entry.edits))
        expected = load_idf(office)
        for light in expected["Lights"]:
            light.watts_per_floor_area = entry.parameters["lpd"]
        expected["Material"]["Steel Frame NonRes Wall Insulation"].thickness = entry.parameters["wall"]
        assert built == expected
        assert built != load_idf(office)
    info = json.loads(fs.read_text(layout.STUDY_FILE))
    assert info["metadata"]["sweep"]["method"] == "grid"
    assert [p["name"] for p in info["metadata"]["sweep"]["parameters"]] == ["lpd", "wall"]


def test_function_parameters_store_one_model_per_value(tmp_path: Path, zone_model: Path) -> None:
    def scale_walls(model: Any, factor: float) -> None:
        for material in model["Material:NoMass"]:
            material.thermal_resistance = material.thermal_resistance * factor

    sweep = Sweep(
        zone_model,
        [
            Parameter.apply("insulate", scale_walls, values=[1.0, 2.0]),
            Parameter(
                "rough", object="Material:NoMass", field="roughness", values=("Rough", "Smooth", "VerySmooth")
            ),
        ],
    )
    fs = LocalFileSystem(tmp_path / "study")
    entries = Study.create(fs, sweep).entries()
    assert len(entries) == 6
    assert len({e.model_sha256 for e in entries}) == 2
    assert len(fs.list_files("inputs/models")) == 2
    doubled = next(e for e in entries if e.parameters["insulate"] == 2.0)
    built = load_idf(variant_model(tmp_path / "study" / doubled.model_path, doubled.edits))
    assert built["Material:NoMass"]["R13LAYER"].thermal_resistance == pytest.approx(2 * 2.290965)
    assert built["Material:NoMass"]["R13LAYER"].roughness == doubled.parameters["rough"]
    assert (
        json.loads(fs.read_text(layout.STUDY_FILE))["metadata"]["sweep"]["parameters"][0]["kind"]
        == "function"
    )


def test_two_weather_files_run_every_sample(
    tmp_path: Path, zone_model: Path, two_weathers: list[Path]
) -> None:
    sweep = Sweep(
        zone_model, {"w": {**WALL, "values": [1.0, 2.0, 3.0]}}, weather=two_weathers, design_day=True
    )
    fs = LocalFileSystem(tmp_path / "study")
    study = Study.create(fs, sweep)
    entries = study.entries()
    assert len(entries) == 6
    assert len({e.weather_sha256 for e in entries}) == 2
    assert len(fs.list_files("inputs/weather")) == 2
    assert sorted((e.parameters["w"], e.parameters["weather"]) for e in entries) == sorted(
        (w, p.name) for w in (1.0, 2.0, 3.0) for p in two_weathers
    )
    assert len({e.label for e in entries}) == 6
    assert all(e.flags["design_day"] for e in entries)
    assert json.loads(fs.read_text(layout.manifest_path(0)))["format"] == 2


def test_invalid_sweep_writes_nothing(tmp_path: Path, zone_model: Path) -> None:
    fs = LocalFileSystem(tmp_path / "study")
    with pytest.raises(SweepError, match="R13LAYR"):
        Study.create(fs, Sweep(zone_model, {"w": {**WALL, "name": "R13LAYR", "values": [1.0]}}))
    assert fs.list_files("") == []


def test_shoebox_model_takes_its_parameters_by_name(tmp_path: Path, zone_model: Path) -> None:
    sweep = Sweep(
        {"shoebox": {"width": 6.0}},
        {
            "wall_r": {"values": [1.0, 4.0]},
            "lpd": {"object": "Lights", "field": "watts_per_floor_area", "values": [5.0, 9.0]},
        },
    )
    fs = LocalFileSystem(tmp_path / "study")
    entries = Study.create(fs, sweep).entries()
    assert len(entries) == 4
    assert len({e.model_sha256 for e in entries}) == 2  # one model per wall_r, lpd as edits
    entry = next(e for e in entries if e.parameters == {"wall_r": 4.0, "lpd": 9.0, "sample": 3})
    doc = load_idf(variant_model(tmp_path / "study" / entry.model_path, entry.edits))
    assert doc["Material:NoMass"]["Wall Insulation"].thermal_resistance == 4.0
    assert doc["Lights"][0].watts_per_floor_area == 9.0
    with pytest.raises(SweepError, match=r"unknown Shoebox parameters \['colour'\]"):
        Sweep({"shoebox": {"colour": 1}}, {"wall_r": {"values": [1.0]}}).validate()
    with pytest.raises(SweepError, match=r"parameters\.wall_r: no `object:`/`field:` given"):
        Sweep(zone_model, {"wall_r": {"values": [1.0]}}).validate()


def test_requested_variables_get_output_objects(tmp_path: Path, zone_model: Path) -> None:
    sweep = Sweep(zone_model, {"w": {**WALL, "values": [1.0]}})
    fs = LocalFileSystem(tmp_path / "study")
    study = Study.create(fs, sweep, variables=["Zone Air Relative Humidity", "Electricity:Facility"])
    doc = load_idf(tmp_path / "study" / study.entries()[0].model_path)
    assert any(
        v.variable_name == "Zone Air Relative Humidity" and v.reporting_frequency == "Hourly"
        for v in doc["Output:Variable"]
    )
    assert any(m.key_name == "Electricity:Facility" for m in doc["Output:Meter"])
    assert "Zone Air Relative Humidity" not in load_idf(zone_model).to_idf()
    plain = Study.create(
        LocalFileSystem(tmp_path / "plain"),
        [SimulationJob(zone_model, None, design_day=True)],
        variables=[{"name": "Zone Air Relative Humidity", "frequency": "Daily"}],
    )
    stored = load_idf(tmp_path / "plain" / plain.entries()[0].model_path)
    assert [
        v.reporting_frequency
        for v in stored["Output:Variable"]
        if v.variable_name == "Zone Air Relative Humidity"
    ] == ["Daily"]


def test_job_to_dict_round_trips_through_json(zone_model: Path, two_weathers: list[Path]) -> None:
    job = SimulationJob(
        zone_model, two_weathers[0], label="one", design_day=True, timeout=60.0, extra_args=["-r"]
    )
    data = json.loads(json.dumps(job.to_dict()))
    assert data["model"] == zone_model.read_text()
    assert data["weather"] == str(two_weathers[0])
    back = SimulationJob.from_dict(data)
    assert (back.label, back.design_day, back.timeout, back.extra_args) == ("one", True, 60.0, ("-r",))
    assert load_idf(back.model) == load_idf(zone_model)  # type: ignore[arg-type]
    assert pickle.loads(pickle.dumps(back)) == back
    with pytest.raises(ValueError, match=r"unknown job fields \['colour'\]"):
        SimulationJob.from_dict({**data, "colour": "red"})


def _linear_jobs(sweep: Sweep, weight: dict[str, float]) -> pd.DataFrame:
    rows = []
    for number, sample in enumerate(sweep.samples()):
        target = sum(weight[k] * sample[k] for k in weight)
        rows.append({**sample, "sample": number, "energy": target})
    return pd.DataFrame(rows)


@pytest.mark.parametrize(
    ("sampling", "column"),
    [
        ({"method": "lhs", "samples": 40, "seed": 2}, "src"),
        ({"method": "random", "samples": 40, "seed": 2}, "src"),
        ({"method": "sobol", "samples": 64, "seed": 2}, "ST"),
        ({"method": "morris", "samples": 10, "seed": 2, "levels": 4}, "mu_star"),
    ],
)
def test_sensitivity_of_a_linear_target_ranks_that_parameter_first(
    zone_model: Path, sampling: dict[str, Any], column: str
) -> None:
    params = {
        "a": {**WALL, "low": 1.0, "high": 2.0},
        "b": {
            "object": "Material:NoMass",
            "name": "R31LAYER",
            "field": "thermal_resistance",
            "low": 1.0,
            "high": 2.0,
        },
        "c": {
            "object": "Material:NoMass",
            "name": "*",
            "field": "thermal_absorptance",
            "low": 0.5,
            "high": 0.9,
        },
    }
    sweep = Sweep(zone_model, params, sampling=sampling)
    jobs = _linear_jobs(sweep, {"b": 10.0, "a": 0.5})
    table = sensitivity(jobs, "energy", sweep.record())
    assert table["parameter"].iloc[0] == "b"
    assert table.set_index("parameter").loc["b", column] > 5 * abs(
        table.set_index("parameter").loc["c", column]
    )
    assert set(table["method"]) == {"regression" if column == "src" else sampling["method"]}
    assert table.attrs["method"]


def test_sensitivity_mistakes(zone_model: Path) -> None:
    sweep = Sweep(
        zone_model, {"a": {**WALL, "low": 1.0, "high": 2.0}}, sampling={"method": "sobol", "samples": 8}
    )
    jobs = _linear_jobs(sweep, {"a": 1.0})
    with pytest.raises(SweepError, match=r"no column 'energie'"):
        sensitivity(jobs, "energie", sweep.record())
    with pytest.raises(SweepError, match=r"needs every one of its 24 samples, but 1 have no value"):
        sensitivity(jobs.iloc[:-1], "energy", sweep.record())
    with pytest.raises(SweepError, match=r"needs a sweep study"):
        sensitivity(jobs, "energy", None)


def test_model_from_an_s3_url_or_the_studys_store(
    s3_bucket: str, s3_options: dict[str, str], zone_model: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from epcloud.storage import S3FileSystem

    monkeypatch.setenv("AWS_ENDPOINT_URL_S3", s3_options["endpoint_url"])
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", s3_options["aws_access_key_id"])
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", s3_options["aws_secret_access_key"])
    monkeypatch.setenv("AWS_DEFAULT_REGION", s3_options["region_name"])
    models = S3FileSystem(s3_bucket, prefix="models/", **s3_options)
    models.upload_file(zone_model, "zone.idf")
    params = {"w": {**WALL, "values": [1.0, 2.0]}}
    by_url = Sweep(f"s3://{s3_bucket}/models/zone.idf", params)
    by_url.validate()
    assert by_url.base_model() == load_idf(zone_model)

    study_fs = S3FileSystem(s3_bucket, prefix="study/", **s3_options)
    study_fs.upload_file(zone_model, "base/zone.idf")
    study = Study.create(study_fs, Sweep("base/zone.idf", params))
    assert study.info.job_count == 2
    with pytest.raises(
        SweepError, match=r"no model file 'base/gone.idf' \(looked on this machine or in the store"
    ):
        Study.create(S3FileSystem(s3_bucket, prefix="other/", **s3_options), Sweep("base/gone.idf", params))


def test_parameter_names_that_clash_with_table_columns_are_refused(zone_model: Path) -> None:
    with pytest.raises(SweepError, match=r"parameters \['status', 'weather'\] have names of columns"):
        Sweep(zone_model, {"weather": {**WALL, "values": [1.0]}, "status": {**WALL, "values": [2.0]}})


def test_an_epjson_base_model(tmp_path: Path, zone_model: Path) -> None:
    model = tmp_path / "zone.epJSON"
    load_idf(zone_model).save(model)
    fs = LocalFileSystem(tmp_path / "study")
    study = Study.create(fs, Sweep(model, {"w": {**WALL, "values": [1.0, 3.0]}}))
    entries = study.entries()
    assert entries[0].model_suffix == ".epJSON"
    assert fs.read_text(entries[0].model_path) == model.read_text()  # stored as it is
    built = load_idf(variant_model(tmp_path / "study" / entries[1].model_path, entries[1].edits))
    assert built["Material:NoMass"]["R13LAYER"].thermal_resistance == 3.0


def test_a_bundled_weather_file_by_name(tmp_path: Path, zone_model: Path, energyplus: Any) -> None:
    name = "USA_IL_Chicago-OHare.Intl.AP.725300_TMY3.epw"
    sweep_file = tmp_path / "sweep.yaml"
    sweep_file.write_text(
        f"model: {zone_model}\nweather: [{name}, nope.epw]\ndesign_day: true\nparameters:\n"
        "  r: {object: Material:NoMass, name: R13LAYER, field: thermal_resistance, values: [2.0]}\n"
    )
    sweep = Sweep.from_file(sweep_file)
    assert sweep.weather[0] == str(energyplus.weather_dir / name)  # the file the engine ships
    assert sweep.weather[1] == "nope.epw"  # neither here nor bundled: kept, and refused by validate
    with pytest.raises(SweepError, match=r"weather: no such file 'nope\.epw'"):
        sweep.validate()


def test_the_report_takes_a_sweeps_parameters_not_its_sample_number() -> None:
    from epcloud.study.sweep import describe_record, parameter_names

    record = {
        "method": "lhs",
        "parameters": [{"name": "wall_r", "low": 0.5, "high": 5.0}, {"name": "shgc", "values": [0.25, 0.4]}],
        "weather": ["a.epw", "b.epw"],
    }
    assert parameter_names(record) == ["wall_r", "shgc", "weather"]
    assert describe_record(record) == (
        "parameters (lhs, each with 2 weather files): wall_r 0.5..5.0; shgc [0.25, 0.4]"
    )
