"""epJSON in and out: keys of unnamed objects, keyword spelling, numbers, paths, text and dicts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from epcloud.errors import VersionMismatchError
from epcloud.model import IDFDocument, Schema, load_epjson, load_idf


def test_to_epjson_shape(small: IDFDocument) -> None:
    data = small.to_epjson()
    assert list(data) == small.types()
    assert data["Version"] == {"Version 1": {"version_identifier": "25.2"}}
    assert list(data["Output:Variable"]) == ["Output:Variable 1", "Output:Variable 2"]
    assert data["Zone"]["ZONE ONE"]["ceiling_height"] == "Autocalculate"  # schema spelling, as epJSON needs
    assert data["Zone"]["ZONE ONE"]["multiplier"] == 1
    assert data["Schedule:Compact"]["Always On"]["data"][-1] == {"field": 1.0}
    assert len(data["BuildingSurface:Detailed"]["Floor 1"]["vertices"]) == 4
    assert json.loads(small.to_epjson_text()) == data


def test_round_trip_through_text_dict_and_file(small: IDFDocument, schema: Schema, tmp_path: Path) -> None:
    assert load_epjson(small.to_epjson_text(), schema=schema) == small
    assert load_epjson(small.to_epjson(), schema=schema) == small
    path = tmp_path / "small.epJSON"
    path.write_text(small.to_epjson_text())
    doc = load_epjson(path, schema=schema)
    assert doc == small and doc.source == str(path)
    assert load_epjson(str(path), schema=schema).source == str(path)


def test_byte_order_mark(small: IDFDocument, schema: Schema, tmp_path: Path) -> None:
    path = tmp_path / "bom.epJSON"
    path.write_bytes(b"\xef\xbb\xbf" + small.to_epjson_text().encode())
    assert load_epjson(path, schema=schema) == small


def test_object_lines_come_from_the_text(small: IDFDocument, schema: Schema) -> None:
    text = small.to_epjson_text()
    lines = text.splitlines()
    doc = load_epjson(text, schema=schema)
    zone = doc["Zone"]["Zone Two"]
    assert zone.line is not None and lines[zone.line - 1].strip() == '"Zone Two": {'
    assert load_epjson(small.to_epjson(), schema=schema)["Zone"][0].line is None


def test_fields_are_ordered_by_the_schema(schema: Schema) -> None:
    data = {
        "Zone": {"Z": {"volume": 30, "x_origin": 1}},
        "Output:Variable": {"any key": {"variable_name": "V"}},
    }
    doc = load_epjson(data, schema=schema)
    assert doc["Zone"]["z"].raw_values == ("Z", "", "1", "", "", "", "", "", "30")
    assert doc["Output:Variable"][0].raw_values == ("", "V")
    assert doc.version is None


def test_single_line_text_is_not_a_path(schema: Schema) -> None:
    assert len(load_epjson('{"Zone": {"Z": {}}}', schema=schema)) == 1


def test_unknown_types_can_be_kept(schema: Schema) -> None:
    data = {"Site:Future": {"F1": {"a": "alpha", "b": 2, "list": [{"x": 1}, {"y": "z"}]}}}
    doc = load_epjson(data, schema=schema, allow_unknown_types=True)
    assert doc["Site:Future"][0].raw_values == ("alpha", "2", "1", "z")
    again = load_epjson(doc.to_epjson(), schema=schema, allow_unknown_types=True)
    assert again == doc


def test_version_mismatch(schema: Schema) -> None:
    data = {"Version": {"Version 1": {"version_identifier": "9.6"}}}
    with pytest.raises(VersionMismatchError, match=r"9\.6.*25\.2"):
        load_epjson(data, schema=schema)
    assert load_epjson(data, schema=schema, check_version=False).version == "9.6"
    number = {"Version": {"Version 1": {"version_identifier": 25.2}}}
    assert load_epjson(number, schema=schema).version == "25.2"


def test_idf_and_epjson_agree_on_a_blank_middle_group(schema: Schema) -> None:
    doc = load_idf("Schedule:Compact, S, , Through: 12/31, , For: AllDays;", schema=schema)
    data = doc.to_epjson()
    assert data["Schedule:Compact"]["S"]["data"][1] == {}
    assert load_epjson(data, schema=schema) == doc
