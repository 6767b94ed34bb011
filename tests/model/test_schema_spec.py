"""The schema as models see it: specs by type name, field kinds, the compact cache."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from epcloud.engine import EnergyPlusConfig
from epcloud.errors import UnknownObjectTypeError
from epcloud.model import Schema, get_schema


def test_version_and_size(schema: Schema) -> None:
    assert schema.version == "25.2"
    assert len(schema) > 800
    assert "Zone" in schema and "zone" in schema and "Zonee" not in schema


def test_get_schema_is_loaded_once(energyplus: EnergyPlusConfig, schema: Schema) -> None:
    assert get_schema(energyplus) is schema
    assert get_schema() is schema


def test_spec_is_case_insensitive_and_canonical(schema: Schema) -> None:
    spec = schema.spec("buildingsurface:DETAILED")
    assert spec is schema.spec("BuildingSurface:Detailed")
    assert spec.type == "BuildingSurface:Detailed"
    assert spec.fields[:3] == ("name", "surface_type", "construction_name")
    assert spec.extensible_fields == ("vertex_x_coordinate", "vertex_y_coordinate", "vertex_z_coordinate")
    assert spec.extension == "vertices"
    assert spec.has_name and not spec.unique


def test_numeric_integer_and_keyword_fields(schema: Schema) -> None:
    zone = schema.spec("Zone")
    assert {"x_origin", "ceiling_height", "multiplier"} <= zone.numeric_fields
    assert "name" not in zone.numeric_fields
    assert "multiplier" in zone.integer_fields and "x_origin" not in zone.integer_fields
    assert zone.enums["ceiling_height"]["AUTOCALCULATE"] == "Autocalculate"


def test_unique_and_unnamed_types(schema: Schema) -> None:
    control = schema.spec("SimulationControl")
    assert control.unique and not control.has_name
    assert control.min_fields == 7
    assert not schema.spec("Output:Variable").has_name


def test_positions_of_flattened_extensible_names(schema: Schema) -> None:
    spec = schema.spec("BuildingSurface:Detailed")
    base = len(spec.fields)
    assert spec.position("vertex_x_coordinate_1") == base
    assert spec.position("vertex_z_coordinate_2") == base + 5
    assert spec.field_at(base + 5) == "vertex_z_coordinate_2"
    assert spec.label_at(base + 5) == "Vertex Z-coordinate 2 {m}"
    assert spec.position("vertex_x_coordinate_0") is None
    assert spec.position("vertex_w_coordinate_1") is None


def test_unknown_type_suggests_close_names(schema: Schema) -> None:
    with pytest.raises(UnknownObjectTypeError, match="did you mean Zone"):
        schema.spec("Zonee")


def test_compact_cache_is_written_and_reused(energyplus: EnergyPlusConfig, tmp_path: Path) -> None:
    cold = Schema.from_file(energyplus.schema_path, cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("schema-*.json")
    warm = Schema.from_file(energyplus.schema_path, cache_dir=tmp_path)
    for type_name in ("Zone", "BuildingSurface:Detailed", "Schedule:Compact", "Version"):
        a, b = cold.spec(type_name), warm.spec(type_name)
        assert (a.fields, a.numeric_fields, a.enums) == (b.fields, b.numeric_fields, b.enums)
        assert a.labels == b.labels
    assert warm.version == cold.version == "25.2"
    assert json.loads(cache_file.read_text())["version"] == "25.2"


def test_corrupt_cache_is_rebuilt(energyplus: EnergyPlusConfig, tmp_path: Path) -> None:
    Schema.from_file(energyplus.schema_path, cache_dir=tmp_path)
    (cache_file,) = tmp_path.glob("schema-*.json")
    cache_file.write_text("{not json")
    assert Schema.from_file(energyplus.schema_path, cache_dir=tmp_path).spec("Zone").has_name
    assert json.loads(cache_file.read_text())["format"] >= 1


def test_no_cache_dir_reads_the_full_schema(energyplus: EnergyPlusConfig) -> None:
    assert Schema.from_file(energyplus.schema_path, cache_dir=None).version == "25.2"
