"""Reading IDF text: objects as type names, raw field strings and lines, then checked against the schema.

Lean on purpose (one regex removes comments, then splits on ';' and ','): values stay text until read.
"""

from __future__ import annotations

import re

from epcloud.errors import IDFSyntaxError, UnknownFieldError, UnknownObjectTypeError
from epcloud.model.schema import ObjectSpec, Schema

__all__ = ["HEAD_CHARS", "ParsedObject", "RawObject", "head_objects", "parse_idf", "resolve_types"]

_COMMENT = re.compile(r"!.*")

# (type name as written, raw values, line of the type name, object text, line where that text starts)
RawObject = tuple[str, list[str], int, str, int]
# (spec, raw values, line)
ParsedObject = tuple[ObjectSpec, list[str], int | None]


HEAD_CHARS = 1 << 16
"""How much of a big model `head_objects` looks at before the whole text is parsed."""


def head_objects(text: str, source: str) -> list[RawObject]:
    """The complete objects in the first `HEAD_CHARS` of a big text (cut at a line end), so junk is
    refused after a glance instead of after parsing hundreds of megabytes; [] for a small text."""
    if len(text) <= HEAD_CHARS:
        return []
    cut = text.rfind("\n", 0, HEAD_CHARS)
    return parse_idf(text[: cut if cut > 0 else HEAD_CHARS], source, complete=False)


def parse_idf(text: str, source: str, *, complete: bool = True) -> list[RawObject]:
    """Splits IDF text into objects; IDFSyntaxError names the line and text of any malformed object.

    With ``complete=False`` the text is the start of a model: an unterminated last object is no error.
    """
    chunks = _COMMENT.sub("", text.removeprefix("\ufeff")).split(";")
    objects: list[RawObject] = []
    line = 1
    for chunk in chunks[:-1]:
        values = list(map(str.strip, chunk.split(",")))
        if not values[0] or "\n" in "".join(values):
            raise _syntax_error(chunk, line, source)
        type_name = values.pop(0)
        body_start = len(chunk) - len(chunk.lstrip())
        objects.append((type_name, values, line + chunk.count("\n", 0, body_start), chunk, line))
        line += chunk.count("\n")
    tail = chunks[-1]
    if tail.strip() and complete:
        start = len(tail) - len(tail.lstrip())
        raise IDFSyntaxError(
            "the last object is not terminated with ';'",
            source=source,
            line=line + tail.count("\n", 0, start),
            text=_first_line(tail[start:]),
        )
    return objects


def resolve_types(
    objects: list[RawObject], schema: Schema, source: str, allow_unknown_types: bool = False
) -> list[ParsedObject]:
    """Gives each object its spec; unknown types and fields beyond a non-extensible type's last are errors."""
    specs: dict[str, ObjectSpec] = {}
    parsed: list[ParsedObject] = []
    for type_name, values, line, chunk, chunk_line in objects:
        spec = specs.get(type_name)
        if spec is None:
            spec = specs[type_name] = _spec(type_name, schema, specs, source, line, allow_unknown_types)
        limit = len(spec.fields)
        if len(values) > limit and not spec.extensible_fields:
            extra = next((i for i in range(limit, len(values)) if values[i]), None)
            if extra is not None:
                raise UnknownFieldError(
                    f"{spec.type} has {limit} fields but field {extra + 1} is given",
                    source=source,
                    line=_field_line(chunk, chunk_line, extra + 1),
                    text=values[extra],
                )
            del values[limit:]
        parsed.append((spec, values, line))
    return parsed


def _spec(
    type_name: str,
    schema: Schema,
    seen: dict[str, ObjectSpec],
    source: str,
    line: int,
    allow_unknown_types: bool,
) -> ObjectSpec:
    """The schema's spec, or one shared stand-in per unknown type (any case) when those are allowed."""
    if type_name in schema:
        return schema.spec(type_name)
    if not allow_unknown_types:
        raise UnknownObjectTypeError(
            schema.unknown_type_message(type_name), source=source, line=line, text=type_name
        )
    same = next((s for s in seen.values() if not s.known and s.type.upper() == type_name.upper()), None)
    return same or ObjectSpec.unknown(type_name)


def _syntax_error(chunk: str, chunk_line: int, source: str) -> IDFSyntaxError:
    """Explains why one object's text is malformed; only called once parsing has failed."""
    parts = chunk.split(",")
    if not parts[0].strip():
        if len(parts) == 1:
            return IDFSyntaxError(
                "';' with no object before it", source=source, line=chunk_line + chunk.count("\n"), text=";"
            )
        return IDFSyntaxError(
            "field values with no object type before them",
            source=source,
            line=_field_line(chunk, chunk_line, 1),
            text=_first_line(chunk.strip()),
        )
    index = next(i for i, part in enumerate(parts) if "\n" in part.strip())
    before, _, after = parts[index].strip().partition("\n")
    offset = sum(len(p) + 1 for p in parts[:index]) + parts[index].index(after.lstrip())
    return IDFSyntaxError(
        f"expected ',' or ';' after {before.strip()!r} but the next line goes on with",
        source=source,
        line=chunk_line + chunk.count("\n", 0, offset),
        text=_first_line(after.lstrip()),
    )


def _field_line(chunk: str, chunk_line: int, index: int) -> int:
    """The line of field `index` of an object (0 is the type name)."""
    parts = chunk.split(",")
    offset = sum(len(p) + 1 for p in parts[:index])
    part = parts[index]
    offset += len(part) - len(part.lstrip())
    return chunk_line + chunk.count("\n", 0, offset)


def _first_line(text: str) -> str:
    return text.split("\n", 1)[0].strip()[:80]
