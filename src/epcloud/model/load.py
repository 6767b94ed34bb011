"""Opening models: IDF or epJSON from a path, text or dict; new empty models."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from epcloud.errors import IDFSyntaxError, ModelFileNotFoundError, VersionMismatchError
from epcloud.model import epjson
from epcloud.model.document import IDFDocument, version_of
from epcloud.model.idf_parser import HEAD_CHARS, head_objects, parse_idf, resolve_types
from epcloud.model.schema import Schema, get_schema

__all__ = ["load_epjson", "load_idf", "new_document", "read_model_text"]

ModelSource = str | os.PathLike[str]


def load_idf(
    path_or_text: ModelSource,
    *,
    schema: Schema | None = None,
    check_version: bool = True,
    allow_unknown_types: bool = False,
    source: str | None = None,
) -> IDFDocument:
    """Reads an IDF model from a path, or from IDF text (a string with a newline or ';').

    Unknown object types are an error unless `allow_unknown_types` (they are then kept as written).
    `source` names IDF text in error messages (e.g. the file or URL it came from).
    """
    schema = schema or get_schema()
    head = _file_head(path_or_text)
    if head is not None:  # a big file: its first objects are checked before the whole file is read
        _check_head(path_or_text, head, source or str(path_or_text), schema, allow_unknown_types)
    text, read_from = read_model_text(path_or_text)
    source = source or read_from
    _check_head(path_or_text, text, source, schema, allow_unknown_types)
    raw = parse_idf(text, source)
    if check_version:
        version = next(
            (values[0] for type_name, values, *_ in raw if type_name.upper() == "VERSION" and values), None
        )
        _check_version(version, schema, source)
    return IDFDocument.from_parsed(resolve_types(raw, schema, source, allow_unknown_types), schema, source)


def load_epjson(
    path_or_text_or_dict: ModelSource | dict[str, Any],
    *,
    schema: Schema | None = None,
    check_version: bool = True,
    allow_unknown_types: bool = False,
) -> IDFDocument:
    """Reads an epJSON model from a path, epJSON text, or an already parsed dict; as `load_idf` otherwise."""
    schema = schema or get_schema()
    text: str | None
    if isinstance(path_or_text_or_dict, dict):
        data, text, source = path_or_text_or_dict, None, "<dict>"
    else:
        text, source = read_model_text(path_or_text_or_dict)
        data = epjson.read_json(text, source)
    if check_version:
        _check_version(epjson.version_in(data), schema, source)
    parsed = epjson.parse_epjson(data, schema, source, text, allow_unknown_types)
    return IDFDocument.from_parsed(parsed, schema, source)


def new_document(version: str | None = None, *, schema: Schema | None = None) -> IDFDocument:
    """An empty model with a Version object; `version` must match the schema's (default: the engine's)."""
    schema = schema or get_schema()
    _check_version(version, schema, "new_document()")
    doc = IDFDocument(schema, source="<new>")
    doc.add("Version", version_identifier=schema.version)
    return doc


def read_model_text(path_or_text: ModelSource) -> tuple[str, str]:
    """The text and its source name: a Path, or a str without newline or ';', is a file to read."""
    if isinstance(path_or_text, str) and (
        "\n" in path_or_text or ";" in path_or_text or path_or_text.lstrip().startswith("{")
    ):
        return path_or_text, "<string>"
    path = Path(path_or_text)
    try:
        data = path.read_bytes()
    except (FileNotFoundError, IsADirectoryError, NotADirectoryError):
        raise ModelFileNotFoundError(str(path)) from None
    try:
        return data.decode("utf-8-sig"), str(path)
    except UnicodeDecodeError:
        return data.decode("latin-1"), str(path)  # older IDF files carry Windows-1252 degree signs


def _file_head(given: ModelSource) -> str | None:
    """The first `HEAD_CHARS` (and a bit) of a model file bigger than that, else None."""
    if isinstance(given, str) and ("\n" in given or ";" in given or given.lstrip().startswith("{")):
        return None
    try:
        with Path(given).open("rb") as handle:
            data = handle.read(HEAD_CHARS + 1)
    except OSError:
        return None  # read_model_text says what is wrong
    if len(data) <= HEAD_CHARS:
        return None
    return data.decode("utf-8-sig", errors="replace")


def _check_head(
    given: ModelSource, text: str, source: str, schema: Schema, allow_unknown_types: bool
) -> None:
    """Refuse what cannot be an IDF model from its first lines: epJSON, junk, unknown types."""
    _refuse_epjson(given, text, source)
    if not allow_unknown_types:
        resolve_types(head_objects(text, source), schema, source)


def _refuse_epjson(given: ModelSource, text: str, source: str) -> None:
    """An epJSON model given to `load_idf` (by extension or content): say which loader reads it."""
    by_name = not isinstance(given, str) or not ("\n" in given or ";" in given or "{" in given)
    named = by_name and Path(given).suffix.lower() == ".epjson"
    if named or text.lstrip("\ufeff \t\r\n").startswith("{"):
        raise IDFSyntaxError(
            "this is an epJSON model, not IDF: open it with load_epjson()", source=source, line=1
        )


def _check_version(version: object, schema: Schema, source: str) -> None:
    found = version_of(version)
    if found is not None and found != schema.version:
        raise VersionMismatchError(str(version), schema.version, source)
