"""epJSON ({type: {name: {field: value}}}) to and from the raw field lists that documents hold."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterable, Iterator
from typing import Any

from epcloud.errors import (
    DuplicateNameError,
    EpJSONSyntaxError,
    UnknownFieldError,
    UnknownObjectTypeError,
)
from epcloud.model.idf_parser import ParsedObject
from epcloud.model.objects import IDFObject
from epcloud.model.schema import ObjectSpec, Schema
from epcloud.model.values import to_raw

__all__ = ["parse_epjson", "read_json", "version_in", "write_epjson"]

# The end of each key whose value is a JSON object: `"Zone": {` and `"ZONE ONE": {`, in text order.
_OBJECT_KEY = re.compile(r'"\s*:\s*\{')


class _DuplicateKey(Exception):
    """Raised inside json.loads when one JSON object repeats a key."""

    def __init__(self, key: str) -> None:
        self.key = key


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """A JSON object as a dict, refusing repeated keys (json.loads would keep the last silently)."""
    result = dict(pairs)
    if len(result) != len(pairs):
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                raise _DuplicateKey(key)
            seen.add(key)
    return result


def read_json(text: str, source: str) -> dict[str, Any]:
    """Parses epJSON text; EpJSONSyntaxError (line and text) when it is not JSON or not a JSON object."""
    try:
        data = json.loads(text, object_pairs_hook=_unique_keys)
    except json.JSONDecodeError as exc:
        raise EpJSONSyntaxError(
            f"invalid JSON: {exc.msg}", source=source, line=exc.lineno, text=_line_text(text, exc.lineno)
        ) from None
    except _DuplicateKey as dup:
        line = _second_key_line(text, dup.key)
        raise DuplicateNameError(
            f"{source}{'' if line is None else f', line {line}'}: the key {dup.key!r} appears twice "
            "in one JSON object (two objects of one type with the same name?)"
        ) from None
    if not isinstance(data, dict):
        raise EpJSONSyntaxError(
            "an epJSON model must be a JSON object {type: {name: {field: value}}}",
            source=source,
            line=1,
            text=_line_text(text, 1),
        )
    return data


def version_in(data: dict[str, Any]) -> object:
    """The version_identifier of the Version object of epJSON data, or None."""
    objects = next((v for k, v in data.items() if k.upper() == "VERSION"), None)
    if not isinstance(objects, dict) or not objects:
        return None
    body = next(iter(objects.values()))
    return body.get("version_identifier") if isinstance(body, dict) else None


def parse_epjson(
    data: dict[str, Any],
    schema: Schema,
    source: str,
    text: str | None = None,
    allow_unknown_types: bool = False,
) -> list[ParsedObject]:
    """The objects of epJSON data with their specs; `text` (when the data came from it) gives lines."""
    reader = _Reader(schema, source, text or "")
    lines = _object_lines(data, text)
    parsed: list[ParsedObject] = []
    for type_name, objects in data.items():
        spec = reader.spec(type_name, allow_unknown_types)
        if not isinstance(objects, dict):
            raise reader.error(
                f"the value of {type_name!r} must be a JSON object {{name: {{fields}}}}",
                type_name,
                text=type_name,
            )
        for name, body in objects.items():
            if not isinstance(body, dict):
                raise reader.error(
                    f"the value of {name!r} must be a JSON object {{field: value}}",
                    type_name,
                    name,
                    text=name,
                )
            parsed.append((spec, reader.values(spec, type_name, name, body), next(lines, None)))
    return parsed


def _object_lines(data: dict[str, Any], text: str | None) -> Iterator[int]:
    """The line of each object's key in order, when the text's layout shows them unambiguously."""
    if text is None:
        return iter(())
    offsets = [m.start() for m in _OBJECT_KEY.finditer(text)]
    sizes = [len(v) if isinstance(v, dict) else -1 for v in data.values()]
    if -1 in sizes or len(offsets) != len(data) + sum(sizes):
        return iter(())
    keys_of_types = set(itertools.accumulate([0, *(size + 1 for size in sizes)]))
    lines: list[int] = []
    line, previous = 1, 0
    for index, offset in enumerate(offsets):
        line += text.count("\n", previous, offset)
        previous = offset
        if index not in keys_of_types:
            lines.append(line)
    return iter(lines)


class _Reader:
    """Turns epJSON objects into raw field lists; errors find the line of the key at fault."""

    def __init__(self, schema: Schema, source: str, text: str) -> None:
        self.schema = schema
        self.source = source
        self.text = text

    def spec(self, type_name: str, allow_unknown_types: bool) -> ObjectSpec:
        if type_name in self.schema:
            return self.schema.spec(type_name)
        if allow_unknown_types:
            return ObjectSpec.unknown(type_name)
        raise UnknownObjectTypeError(
            self.schema.unknown_type_message(type_name),
            source=self.source,
            line=self.line_of(type_name),
            text=type_name,
        )

    def values(self, spec: ObjectSpec, type_name: str, name: str, body: dict[str, Any]) -> list[str]:
        """The raw field list of one object, checked against its spec."""
        path = (type_name, name)
        if not spec.known:
            return [self.raw(v, path) for v in _flatten(body.values())]
        count = len(spec.fields)
        values = [""] * count
        if spec.has_name:
            values[0] = self.raw(name, path)
        for key, value in body.items():
            if key == spec.extension:
                values.extend(self.groups(spec, value, path))
                continue
            position = spec.position(key)
            if position is None or position >= count or (position == 0 and spec.has_name):
                close = spec.suggest(key)
                hint = f" (did you mean {', '.join(close)}?)" if close else ""
                raise UnknownFieldError(
                    f"{spec.type} has no field of this name{hint}",
                    source=self.source,
                    line=self.line_of(*path, key),
                    text=key,
                )
            values[position] = self.raw(value, (*path, key))
        while values and not values[-1]:
            values.pop()
        return values

    def groups(self, spec: ObjectSpec, groups: Any, path: tuple[str, ...]) -> list[str]:
        keys = spec.extensible_fields
        extension = spec.extension or ""
        if not isinstance(groups, list) or not all(isinstance(g, dict) for g in groups):
            raise self.error(
                f"{extension!r} must be a list of objects {{field: value}}", *path, extension, text=extension
            )
        raw: list[str] = []
        for group in groups:
            for key in group:
                if key not in keys:
                    raise UnknownFieldError(
                        f"an extensible group of {spec.type} has the fields {', '.join(keys)}",
                        source=self.source,
                        line=self.line_of(*path, extension, key),
                        text=key,
                    )
            raw.extend(self.raw(group.get(k), (*path, extension, k)) for k in keys)
        return raw

    def raw(self, value: Any, path: tuple[str, ...]) -> str:
        """The IDF text of a JSON value."""
        if isinstance(value, bool) or (value is not None and not isinstance(value, (str, int, float))):
            raise self.error("a field value must be a number or a string", *path, text=json.dumps(value)[:80])
        try:
            return to_raw(value)
        except ValueError as exc:
            raise self.error(str(exc), *path, text=str(value)) from None

    def line_of(self, *keys: str) -> int | None:
        """The line of the last of nested keys, each looked for after the one before; None if not found."""
        position = 0
        for key in keys:
            match = re.compile(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:").search(
                self.text, position
            )
            if match is None:
                return None
            position = match.start()
        return self.text.count("\n", 0, position) + 1 if keys else None

    def error(self, message: str, *keys: str, text: str) -> EpJSONSyntaxError:
        return EpJSONSyntaxError(message, source=self.source, line=self.line_of(*keys), text=text)


def _flatten(values: Iterable[Any]) -> Iterable[Any]:
    """Values of an unknown type's body in order, lists of groups opened up."""
    for value in values:
        if isinstance(value, list):
            for item in value:
                yield from (item.values() if isinstance(item, dict) else [item])
        else:
            yield value


def write_epjson(objects: Iterable[IDFObject]) -> dict[str, Any]:
    """epJSON data of objects; objects without a name get the key "<type> <n>" as EnergyPlus does."""
    result: dict[str, dict[str, Any]] = {}
    for obj in objects:
        spec = obj.spec
        bucket = result.setdefault(spec.type, {})
        body = obj.to_dict()
        key = body.pop("name", None) if spec.has_name else None
        if key is None or key in bucket:
            number = len(bucket) + 1
            while f"{spec.type} {number}" in bucket:
                number += 1
            key = f"{spec.type} {number}"
        bucket[str(key)] = body
    return result


def _line_text(text: str, line: int) -> str:
    lines = text.splitlines()
    return lines[line - 1].strip()[:80] if 0 < line <= len(lines) else ""


def _second_key_line(text: str, key: str) -> int | None:
    """The line where a key appears for the second time (best effort: keys are not matched by nesting)."""
    pattern = re.compile(re.escape(json.dumps(key, ensure_ascii=False)) + r"\s*:")
    matches = list(pattern.finditer(text))
    return text.count("\n", 0, matches[1].start()) + 1 if len(matches) > 1 else None
