"""IDFObject: fields by schema name, conversion of values, extensible groups, copies."""

from __future__ import annotations

import pytest

from epcloud.errors import UnknownFieldError
from epcloud.model import IDFDocument, Schema, load_idf


def test_identity(small: IDFDocument) -> None:
    zone = small["Zone"]["ZONE ONE"]
    assert (zone.type, zone.name, zone.line, zone.document) == ("Zone", "ZONE ONE", 11, small)
    assert zone.spec is small.schema.spec("Zone")
    assert repr(zone) == "<IDFObject Zone 'ZONE ONE' at <string>:11>"
    output = small["Output:Variable"][0]
    assert output.name is None
    assert repr(output) == (
        "<IDFObject Output:Variable key_value='*', variable_name='Zone Mean Air Temperature' at <string>:29>"
    )


def test_numbers_read_back_as_numbers(small: IDFDocument) -> None:
    zone = small["Zone"]["ZONE ONE"]
    assert zone.x_origin == 0.0 and isinstance(zone.x_origin, float)
    assert zone.multiplier == 1 and isinstance(zone.multiplier, int)
    assert zone["type"] == 1  # Zone's own `type` field; zone.type is the object type
    assert small["Zone"]["Zone Two"].direction_of_relative_north == 0.5
    assert small["Building"].one().loads_convergence_tolerance_value == 0.04


def test_keywords_stay_strings_in_the_schema_spelling(small: IDFDocument) -> None:
    zone = small["Zone"]["ZONE ONE"]
    assert zone.ceiling_height == "Autocalculate" and zone.volume == "Autocalculate"
    zone.volume = "AUTOSIZE"  # EnergyPlus reads Autosize and Autocalculate as one keyword
    assert zone.volume == "Autocalculate"
    assert small["Building"].one().solar_distribution == "FullExterior"


def test_blank_and_absent_fields_are_none(small: IDFDocument) -> None:
    surface = small["BuildingSurface:Detailed"][0]
    assert surface.space_name is None  # blank in the file
    zone = small["Zone"]["Zone Two"]
    assert zone.floor_area is None and zone.get("floor_area", 3.0) == 3.0  # beyond the last field given


def test_write_fields(small: IDFDocument) -> None:
    mat = small["Material:NoMass"]["R13"]
    mat.thermal_resistance = 3.1
    assert mat.thermal_resistance == 3.1
    mat["roughness"] = "Smooth"
    mat.solar_absorptance = None
    assert mat.roughness == "Smooth" and mat.solar_absorptance is None
    assert mat.raw_values == ("R13", "Smooth", "3.1", "0.9", "", "0.75")
    zone = small["Zone"]["Zone Two"]
    zone.floor_area = 250  # beyond the last field: the fields between become blank
    assert zone.floor_area == 250.0 and zone.volume is None and len(zone.raw_values) == 10
    zone.floor_area = None  # trailing blank fields are dropped
    assert len(zone.raw_values) == 2


def test_invalid_values_are_refused(small: IDFDocument) -> None:
    zone = small["Zone"]["ZONE ONE"]
    with pytest.raises(ValueError, match="cannot contain"):
        zone.name = "a,b"
    with pytest.raises(ValueError, match="cannot contain"):
        zone.zone_inside_convection_algorithm = "TARP; Zone"
    with pytest.raises(TypeError, match="Yes"):
        zone.part_of_total_floor_area = True
    with pytest.raises(ValueError):
        zone.x_origin = float("nan")
    with pytest.raises(TypeError, match="list"):
        zone.x_origin = [1]


def test_unknown_field_names(small: IDFDocument) -> None:
    mat = small["Material:NoMass"]["R13"]
    with pytest.raises(UnknownFieldError) as info:
        mat.thermal_resistence = 2
    message = str(info.value)
    assert "Material:NoMass" in message and "thermal_resistence" in message
    assert "did you mean thermal_resistance" in message
    assert "line 16" in message
    with pytest.raises(AttributeError):
        mat.thickness  # noqa: B018
    assert not hasattr(mat, "conductivity") and hasattr(mat, "roughness")
    with pytest.raises(UnknownFieldError):
        small["Output:Variable"][0].name = "x"


def test_vertices(small: IDFDocument) -> None:
    surface = small["BuildingSurface:Detailed"]["floor 1"]
    assert surface.number_of_vertices == 4
    assert surface.vertex_x_coordinate_3 == 10.0 and surface.vertex_y_coordinate_2 == 10.0
    assert surface.vertex_z_coordinate_5 is None
    groups = surface.extensible_groups
    assert len(groups) == 4 and groups[1] == {
        "vertex_x_coordinate": 0.0,
        "vertex_y_coordinate": 10.0,
        "vertex_z_coordinate": 0.0,
    }
    assert surface.vertices == groups
    surface.vertex_z_coordinate_4 = 2.5
    assert surface.vertices[3]["vertex_z_coordinate"] == 2.5
    second = {"vertex_x_coordinate": 5, "vertex_y_coordinate": 0, "vertex_z_coordinate": 3}
    surface.vertices = [(0, 0, 3), second, (5, 5, 3)]
    surface.number_of_vertices = 3
    assert surface.raw_values[-9:] == ("0", "0", "3", "5", "0", "3", "5", "5", "3")
    assert len(surface.extensible_groups) == 3 and surface.vertex_x_coordinate_4 is None
    with pytest.raises(UnknownFieldError, match="vertex_w"):
        surface.vertices = [{"vertex_w": 1}]
    with pytest.raises(ValueError, match="extensible group"):
        surface.vertices = [(1, 2, 3, 4)]


def test_schedule_compact_fields(small: IDFDocument) -> None:
    schedule = small["Schedule:Compact"]["ALWAYS ON"]
    assert schedule.schedule_type_limits_name == "Fraction"
    fields = [g["field"] for g in schedule.extensible_groups]
    assert fields == ["Through: 12/31", "For: AllDays", "Until: 24:00", 1.0]
    assert schedule.field_1 == "Through: 12/31" and schedule.field_4 == 1.0
    schedule.field_4 = 0.5
    schedule.field_6 = 0.0
    assert schedule.raw_values[2:] == ("Through: 12/31", "For: AllDays", "Until: 24:00", "0.5", "", "0.0")
    assert schedule.data[-1] == {"field": 0.0}


def test_to_dict(small: IDFDocument) -> None:
    assert small["Material:NoMass"][0].to_dict() == {
        "name": "R13",
        "roughness": "Rough",
        "thermal_resistance": 2.29,
        "thermal_absorptance": 0.9,
        "solar_absorptance": 0.75,
        "visible_absorptance": 0.75,
    }
    surface = small["BuildingSurface:Detailed"][0].to_dict()
    assert "space_name" not in surface and surface["outside_boundary_condition"] == "Ground"
    assert surface["vertices"][2] == {
        "vertex_x_coordinate": 10.0,
        "vertex_y_coordinate": 10.0,
        "vertex_z_coordinate": 0.0,
    }


def test_object_copy_is_independent(small: IDFDocument) -> None:
    zone = small["Zone"]["ZONE ONE"]
    twin = zone.copy()
    assert twin.document is None and twin.raw_values == zone.raw_values and twin.line == zone.line
    twin.name = "ZONE ONE"  # free objects have no index to clash with
    twin.x_origin = 4
    assert zone.x_origin == 0.0
    twin.name = "Twin"
    assert small.add(twin).line is None


def test_dir_lists_fields(small: IDFDocument) -> None:
    names = dir(small["BuildingSurface:Detailed"][0])
    assert "construction_name" in names and "vertices" in names and "to_dict" in names


def test_objects_of_other_types_have_no_groups(schema: Schema) -> None:
    zone = load_idf("Zone, A;", schema=schema)["Zone"][0]
    assert zone.extensible_groups == []
    with pytest.raises(UnknownFieldError):
        zone.extensible_groups = [(1,)]
