"""IDFDocument and ObjectCollection: lookup, add/remove/copy, rename, save/reload, equality."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from epcloud.errors import (
    AmbiguousObjectError,
    DuplicateNameError,
    ObjectNotFoundError,
    UnknownFieldError,
    UnknownObjectTypeError,
    VersionMismatchError,
)
from epcloud.model import IDFDocument, ObjectCollection, Schema, load_epjson, load_idf, new_document


def test_lookup_is_case_insensitive(small: IDFDocument) -> None:
    zones = small["ZONE"]
    assert isinstance(zones, ObjectCollection) and zones.type == "Zone"
    assert zones["zone one"] is small["Zone"]["ZONE ONE"] is zones[0]
    assert zones.get("ZONE TWO") is zones[1] and zones.get("nope") is None
    assert "zone two" in zones and zones[1] in zones and "nope" not in zones
    assert zones.names() == ["ZONE ONE", "Zone Two"]
    assert zones[-1].name == "Zone Two" and zones[0:2] == [zones[0], zones[1]]


def test_missing_name_names_the_type_and_close_matches(small: IDFDocument) -> None:
    with pytest.raises(ObjectNotFoundError) as info:
        small["Zone"]["ZONE ON"]
    message = str(info.value)
    assert "Zone" in message and "'ZONE ON'" in message and "'ZONE ONE'" in message
    assert isinstance(info.value, KeyError)


def test_types_presence_and_size(small: IDFDocument) -> None:
    assert small.types() == [
        "Version",
        "Building",
        "Zone",
        "Material:NoMass",
        "BuildingSurface:Detailed",
        "Schedule:Compact",
        "Output:Variable",
    ]
    assert len(small) == 9 and len(list(small)) == 9
    assert "zone" in small and "Lights" not in small and "Bogus:Type" not in small
    assert len(small["Lights"]) == 0  # a known type with no objects
    with pytest.raises(UnknownObjectTypeError) as info:
        small["Lightz"]
    assert str(info.value) == (
        "<string>: not an object type of EnergyPlus 25.2 (did you mean Lights?): 'Lightz'"
    )


def test_one(small: IDFDocument) -> None:
    assert small["Building"].one().name == "Test Building"
    with pytest.raises(ObjectNotFoundError, match="no Lights object"):
        small["Lights"].one()
    with pytest.raises(AmbiguousObjectError, match="2 Zone objects"):
        small["Zone"].one()


def test_rename_keeps_the_index(small: IDFDocument) -> None:
    zone = small["Zone"]["ZONE ONE"]
    zone.name = "Core"
    assert small["Zone"]["CORE"] is zone and "ZONE ONE" not in small["Zone"]
    zone["name"] = "Core Zone"
    assert small["Zone"]["core zone"] is zone
    zone.name = "CORE ZONE"  # a change of case only
    assert small["Zone"]["Core Zone"] is zone
    with pytest.raises(DuplicateNameError, match="Zone Two"):
        zone.name = "zone two"
    assert zone.name == "CORE ZONE" and small["Zone"]["zone two"].name == "Zone Two"


def test_add_new_objects(small: IDFDocument) -> None:
    zone = small.add("Zone", "Annex", x_origin=12.5, multiplier=2)
    assert zone.document is small and small["Zone"]["ANNEX"] is zone and len(small) == 10
    assert (zone.x_origin, zone.multiplier, zone.y_origin) == (12.5, 2, None)
    output = small.add("Output:Variable", key_value="*", variable_name="Zone Air Temperature")
    assert output.name is None and list(small)[-1] is output
    with pytest.raises(DuplicateNameError, match="ZONE ONE"):
        small.add("Zone", "zone one")
    with pytest.raises(UnknownFieldError, match="no name"):
        small.add("Output:Variable", "named")
    with pytest.raises(UnknownFieldError, match="x_origin"):
        small.add("Zone", "Z9", x_orgin=1)
    with pytest.raises(DuplicateNameError, match="at most one Building"):
        small.add("Building", "Second")
    assert len(small) == 11


def test_add_existing_objects(small: IDFDocument, schema: Schema) -> None:
    other = load_idf("Version, 25.2;\nZone, Elsewhere, 0, 3;", schema=schema)
    theirs = other["Zone"]["Elsewhere"]
    mine = small.add(theirs)
    assert mine is not theirs and theirs.document is other and mine.document is small
    mine.x_origin = 9
    assert theirs.x_origin == 3.0
    copy = small["Zone"][0].copy()
    assert copy.document is None
    copy.name = "Copy"
    assert small.add(copy) is copy and small["Zone"]["copy"] is copy
    with pytest.raises(ValueError, match="already in this document"):
        small.add(copy)


def test_remove(small: IDFDocument) -> None:
    zone = small["Zone"]["ZONE ONE"]
    small.remove(zone)
    assert zone.document is None and zone not in small and "ZONE ONE" not in small["Zone"]
    assert len(small) == 8 and small["Zone"][0].name == "Zone Two"
    with pytest.raises(ValueError, match="not in this document"):
        small.remove(zone)
    for obj in small["Output:Variable"]:
        small.remove(obj)
    assert "Output:Variable" not in small and "Output:Variable" not in small.types()
    small.add(zone)  # a removed object can come back, and its name again is taken
    assert small["Zone"]["zone one"] is zone


def test_copy_is_deep_and_independent(small: IDFDocument) -> None:
    copy = small.copy()
    assert copy == small and copy is not small and copy.source == small.source
    copy["Zone"]["ZONE ONE"].x_origin = 100
    copy["Zone"]["Zone Two"].name = "Renamed"
    copy.remove(copy["Material:NoMass"][0])
    copy["BuildingSurface:Detailed"][0].vertex_x_coordinate_1 = 7
    assert small["Zone"]["ZONE ONE"].x_origin == 0.0 and "Zone Two" in small["Zone"]
    assert len(small["Material:NoMass"]) == 1
    assert small["BuildingSurface:Detailed"][0].vertex_x_coordinate_1 == 0.0
    assert copy != small


def test_equality_is_normalised(schema: Schema) -> None:
    base = "Version, 25.2;\nZone, Office, 0.5, 0, 0, 0, 1, 1, Autocalculate;\n"
    same = "VERSION,25.2;\nzone,OFFICE,0.50000,0.0,0,0,1,1,AUTOCALCULATE,,,;\n"
    assert load_idf(base, schema=schema) == load_idf(same, schema=schema)
    assert load_idf(base, schema=schema) != load_idf(base.replace("0.5", "0.6"), schema=schema)
    assert load_idf(base, schema=schema) != load_idf(base + "Zone, Other;", schema=schema)
    kept = "Version, 25.2;\nOutput:Variable, Office, Zone Mean Air Temperature, Hourly;\n"
    assert load_idf(kept, schema=schema) != load_idf(kept.replace("Office", "OFFICE"), schema=schema)


def test_save_and_reload_both_formats(small: IDFDocument, schema: Schema, tmp_path: Path) -> None:
    idf = small.save(tmp_path / "model.idf")
    epjson = small.save(tmp_path / "model.epJSON")
    assert load_idf(idf, schema=schema) == small
    assert load_epjson(epjson, schema=schema) == small
    assert load_idf(str(idf), schema=schema).source == str(idf)
    with pytest.raises(ValueError, match=r"\.idf or \.epJSON"):
        small.save(tmp_path / "model.txt")


def test_idf_text_layout(small: IDFDocument) -> None:
    text = small.to_idf()
    assert text.startswith("Version,\n    25.2;                    !- Version Identifier\n\nBuilding,\n")
    assert "    0.9,                     !- Thermal Absorptance\n" in text
    assert "    0,                       !- Vertex Z-coordinate 4 {m}\n" not in text
    assert "    0;                       !- Vertex Z-coordinate 4 {m}\n" in text
    bare = small.to_idf(comments=False)
    assert "!" not in bare and "Zone,\n    ZONE ONE,\n    0,\n" in bare


def test_new_document(schema: Schema) -> None:
    doc = new_document(schema=schema)
    assert doc.version == "25.2" and doc.types() == ["Version"]
    doc.add("Zone", "Z")
    assert load_idf(doc.to_idf(), schema=schema) == doc
    assert new_document("25.2", schema=schema).version == "25.2"
    with pytest.raises(VersionMismatchError, match=r"9\.6"):
        new_document("9.6", schema=schema)


def test_repr(small: IDFDocument) -> None:
    assert repr(small) == "<IDFDocument '<string>' version 25.2, 9 objects>"
    assert repr(small["Zone"]) == "<ObjectCollection Zone: 2 objects>"


def test_pickle_is_small_and_shares_the_schema(small: IDFDocument, schema: Schema) -> None:
    small.add("Output:Variable", key_value="*", variable_name="Zone Air Temperature")
    data = pickle.dumps(small)
    again = pickle.loads(data)
    assert again == small and again.schema is schema and len(data) < 5000
    assert again["Zone"]["zone one"].line == 11
    assert pickle.loads(pickle.dumps(schema)) is schema
