"""Bad IDF and epJSON input: each error names the file, the line and the offending text."""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pytest

from epcloud.errors import (
    DuplicateNameError,
    EpJSONSyntaxError,
    IDFSyntaxError,
    ModelFileNotFoundError,
    ParseError,
    UnknownFieldError,
    UnknownObjectTypeError,
    VersionMismatchError,
)
from epcloud.model import Schema, load_epjson, load_idf

V = "Version, 25.2;\n"

IDF_CASES = [
    pytest.param(
        V + "Zone, A;\nZone, B, 0", IDFSyntaxError, 3, "Zone, B, 0", "not terminated", id="no-final-semicolon"
    ),
    pytest.param(
        V + "Material:NoMass, R1, Rough, 2.0\nZone, B;",
        IDFSyntaxError,
        3,
        "Zone",
        "expected ',' or ';' after '2.0'",
        id="missing-semicolon-between-objects",
    ),
    pytest.param(
        V + "Zone,\n  A B\n  C,\n  0;",
        IDFSyntaxError,
        4,
        "C",
        "expected ',' or ';' after 'A B'",
        id="stray-token",
    ),
    pytest.param(V + "Zone, A;\n;\n", IDFSyntaxError, 3, ";", "no object before it", id="stray-semicolon"),
    pytest.param(
        V + "\n, Zone, A;", IDFSyntaxError, 3, ", Zone, A", "no object type", id="fields-without-type"
    ),
    pytest.param(
        V + "! comment\nZonee, A;", UnknownObjectTypeError, 3, "Zonee", "did you mean Zone", id="unknown-type"
    ),
    pytest.param(
        V + "Material:NoMass,\n  R1,\n  Rough,\n  2.0,\n  0.9,\n  0.7,\n  0.7,\n  5;",
        UnknownFieldError,
        9,
        "5",
        "has 6 fields but field 7 is given",
        id="too-many-fields",
    ),
    pytest.param(
        V + "Zone, Office;\n\nZone, OFFICE;", DuplicateNameError, 4, "OFFICE", "line 2", id="duplicate-name"
    ),
    pytest.param(
        V + "SimulationControl, No;\nSimulationControl, Yes;",
        DuplicateNameError,
        3,
        "SimulationControl",
        "at most one",
        id="second-unique-object",
    ),
]


@pytest.mark.parametrize(("text", "error", "line", "offending", "reason"), IDF_CASES)
def test_bad_idf_text(
    schema: Schema, text: str, error: type[Exception], line: int, offending: str, reason: str
) -> None:
    with pytest.raises(error) as info:
        load_idf(text, schema=schema)
    message = str(info.value)
    assert message.startswith(f"<string>, line {line}: "), message
    assert offending in message and reason in message
    if isinstance(info.value, ParseError):
        assert (info.value.line, info.value.text) == (line, offending)


def test_error_names_the_file(schema: Schema, tmp_path: Path) -> None:
    path = tmp_path / "broken.idf"
    path.write_text(V + "Zone, A;\n\n  Zonne, B;\n")
    with pytest.raises(UnknownObjectTypeError) as info:
        load_idf(path, schema=schema)
    assert str(info.value).startswith(f"{path}, line 4: ")
    assert info.value.source == str(path)


def test_semicolons_and_commas_in_comments_are_ignored(schema: Schema) -> None:
    doc = load_idf(V + "Zone, A; ! a comment; with, separators\nZone, B;  !- Name\n", schema=schema)
    assert [z.name for z in doc["Zone"]] == ["A", "B"]


def test_windows_line_ends_bom_tabs_and_latin1(schema: Schema, tmp_path: Path) -> None:
    text = "\ufeffVersion,25.2;\r\n\r\nZone,\r\n\tOffice,\t!- Name\r\n\t90;\r\n"
    doc = load_idf(text, schema=schema)
    zone = doc["Zone"]["office"]
    assert (zone.line, zone.direction_of_relative_north) == (3, 90.0)
    path = tmp_path / "latin1.idf"
    path.write_bytes("Version,25.2;\nZone, Caf\xe9;  ! 20 \xb0C\n".encode("latin-1"))
    assert load_idf(path, schema=schema)["Zone"][0].name == "Caf\xe9"


def test_unknown_types_can_be_kept(schema: Schema) -> None:
    text = V + "Site:Future, alpha, 2;\nSITE:FUTURE, beta;\n"
    doc = load_idf(text, schema=schema, allow_unknown_types=True)
    future = doc["site:future"]
    assert len(future) == 2 and future[0].field_2 == "2" and future[1].field_1 == "beta"
    assert "Site:Future,\n    alpha," in doc.to_idf()
    assert load_idf(doc.to_idf(), schema=schema, allow_unknown_types=True) == doc
    assert pickle.loads(pickle.dumps(doc)) == doc


def test_version_mismatch(schema: Schema) -> None:
    with pytest.raises(VersionMismatchError) as info:
        load_idf("Version, 9.6;\nZone, A;", schema=schema)
    assert (info.value.model_version, info.value.engine_version) == ("9.6", "25.2")
    assert "<string>" in str(info.value)
    assert load_idf("Version, 9.6;\nZone, A;", schema=schema, check_version=False).version == "9.6"


def test_no_version_object_is_accepted(schema: Schema) -> None:
    assert load_idf("Zone, A;\n", schema=schema).version is None


def test_missing_file(schema: Schema, tmp_path: Path) -> None:
    with pytest.raises(ModelFileNotFoundError, match=r"nowhere\.idf"):
        load_idf(tmp_path / "nowhere.idf", schema=schema)
    with pytest.raises(ModelFileNotFoundError):
        load_idf(str(tmp_path / "nowhere.idf"), schema=schema)
    with pytest.raises(ModelFileNotFoundError):
        load_epjson(tmp_path / "nowhere.epJSON", schema=schema)


EPJSON_VERSION = '{\n  "Version": {"Version 1": {"version_identifier": "25.2"}},\n'

EPJSON_CASES = [
    pytest.param(
        EPJSON_VERSION + '  "Zone": {"A": {"x_origin": 1,}}\n}',
        EpJSONSyntaxError,
        3,
        '"Zone"',
        "invalid JSON",
        id="invalid-json",
    ),
    pytest.param(
        EPJSON_VERSION + '  "Zonee": {\n    "A": {}\n  }\n}',
        UnknownObjectTypeError,
        3,
        "Zonee",
        "did you mean Zone",
        id="unknown-type-key",
    ),
    pytest.param(
        EPJSON_VERSION + '  "Zone": {\n    "A": {\n      "x_origin": 1,\n      "x_orign": 2\n    }\n  }\n}',
        UnknownFieldError,
        6,
        "x_orign",
        "did you mean x_origin",
        id="unknown-field-key",
    ),
    pytest.param(
        EPJSON_VERSION + '  "BuildingSurface:Detailed": {\n    "F": {\n      "vertices": 4\n    }\n  }\n}',
        EpJSONSyntaxError,
        5,
        "vertices",
        "must be a list",
        id="extension-not-a-list",
    ),
    pytest.param(
        EPJSON_VERSION + '  "Zone": {\n    "A": {\n      "x_origin": [1, 2]\n    }\n  }\n}',
        EpJSONSyntaxError,
        5,
        "[1, 2]",
        "number or a string",
        id="list-as-value",
    ),
    pytest.param(
        EPJSON_VERSION + '  "Zone": {\n    "A": [1]\n  }\n}',
        EpJSONSyntaxError,
        4,
        "A",
        "must be a JSON object",
        id="object-not-a-dict",
    ),
    pytest.param(
        EPJSON_VERSION + '  "Zone": {\n    "A": {},\n    "A": {}\n  }\n}',
        DuplicateNameError,
        5,
        "'A'",
        "appears twice",
        id="duplicate-name",
    ),
]


@pytest.mark.parametrize(("text", "error", "line", "offending", "reason"), EPJSON_CASES)
def test_bad_epjson_text(
    schema: Schema, text: str, error: type[Exception], line: int, offending: str, reason: str
) -> None:
    with pytest.raises(error) as info:
        load_epjson(text, schema=schema)
    message = str(info.value)
    assert message.startswith(f"<string>, line {line}: "), message
    assert offending in message and reason in message


def test_epjson_top_level_must_be_an_object(schema: Schema, tmp_path: Path) -> None:
    path = tmp_path / "list.epJSON"
    path.write_text(json.dumps([{"Zone": {}}]))
    with pytest.raises(EpJSONSyntaxError, match=rf"{path.name}, line 1: .*JSON object"):
        load_epjson(path, schema=schema)


def test_a_big_junk_file_is_refused_from_its_first_lines(tmp_path: Path) -> None:
    """200 MB of `word,word,N;` once took a minute and gigabytes; the first objects already tell."""
    from epcloud.model.idf_parser import HEAD_CHARS

    junk = tmp_path / "junk.idf"
    line = b"word,word,12345;\n"
    with junk.open("wb") as handle:
        for _ in range(64):  # 64 x 4 HEAD_CHARS: far more than the glance reads
            handle.write(line * (4 * HEAD_CHARS // len(line)))
    reads: list[int] = []
    real_read = Path.read_bytes

    def counting(self: Path) -> bytes:
        reads.append(1)
        return real_read(self)

    import unittest.mock

    with (
        unittest.mock.patch.object(Path, "read_bytes", counting),
        pytest.raises(UnknownObjectTypeError, match=r"junk\.idf, line 1: .*'word'"),
    ):
        load_idf(junk)
    assert reads == []  # refused from its head, before the whole file was read


def test_a_valid_big_model_still_loads(tmp_path: Path) -> None:
    from epcloud.model.idf_parser import HEAD_CHARS

    zones = "".join(f"Zone, Zone {i};\n" for i in range(HEAD_CHARS // 10))
    path = tmp_path / "big.idf"
    path.write_text(V + zones)
    assert len(load_idf(path)["Zone"]) == HEAD_CHARS // 10


@pytest.mark.parametrize("name", ["x.epJSON", "x.idf"])
def test_epjson_given_to_load_idf_says_which_loader(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    path.write_text(json.dumps({"Version": {"Version 1": {"version_identifier": "25.2"}}}))
    with pytest.raises(IDFSyntaxError, match=r"epJSON model, not IDF: open it with load_epjson\(\)"):
        load_idf(path)
    assert load_epjson(path).version is not None
