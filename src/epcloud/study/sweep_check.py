"""Checks a sweep parameter against its base model before anything runs: the object type, the object,
the field, and whether each value fits the field (number range, choices, a reference to an object)."""

from __future__ import annotations

import functools
import json
import numbers
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from epcloud.errors import SweepError, UnknownObjectTypeError

if TYPE_CHECKING:
    from epcloud.model import IDFDocument, IDFObject

__all__ = ["FieldRule", "SchemaFacts", "check_field_parameter", "schema_facts"]

SchemaFacts = tuple[dict[tuple[str, str], "FieldRule"], dict[str, tuple[str, ...]]]


@dataclass(frozen=True)
class FieldRule:
    """What the schema allows in one field."""

    numeric: bool = False
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    choices: tuple[str, ...] = ()
    object_lists: tuple[str, ...] = ()


def _rule_of(prop: dict[str, Any]) -> FieldRule:
    alternatives = [prop, *prop.get("anyOf", ())]
    numeric = [p for p in alternatives if p.get("type") in ("number", "integer")]
    number = numeric[0] if numeric else {}
    choices = [c for p in alternatives for c in p.get("enum", ()) if isinstance(c, str) and c]
    low, high = number.get("minimum"), number.get("maximum")
    ex_low, ex_high = number.get("exclusiveMinimum"), number.get("exclusiveMaximum")
    # JSON schema draft 4 marks exclusivity with booleans; later drafts give the bound itself
    if isinstance(ex_low, (int, float)) and not isinstance(ex_low, bool):
        low, ex_low = ex_low, True
    if isinstance(ex_high, (int, float)) and not isinstance(ex_high, bool):
        high, ex_high = ex_high, True
    return FieldRule(
        numeric=bool(numeric),
        minimum=low,
        maximum=high,
        exclusive_minimum=bool(ex_low),
        exclusive_maximum=bool(ex_high),
        choices=tuple(choices),
        object_lists=tuple(prop.get("object_list", ())) if prop.get("data_type") == "object_list" else (),
    )


@functools.lru_cache(maxsize=4)
def _schema_facts(path: str, wanted: frozenset[tuple[str, str]]) -> SchemaFacts:
    """The rules of the ``wanted`` (type, field) pairs and, for each reference list, the types whose names
    are in it; read from the full schema once per set of fields."""
    with open(path, encoding="utf-8") as stream:
        raw = json.load(stream)["properties"]
    rules: dict[tuple[str, str], FieldRule] = {}
    for type_name, field in wanted:
        entry: dict[str, Any] = raw.get(type_name, {})
        patterns: dict[str, Any] = entry.get("patternProperties", {})
        first: dict[str, Any] = next(iter(patterns.values()), {})
        props: dict[str, Any] = first.get("properties", {})
        extension = entry.get("legacy_idd", {}).get("extension")
        prop = props.get(field)
        if prop is None and extension:
            base = field.rpartition("_")[0]
            prop = props.get(extension, {}).get("items", {}).get("properties", {}).get(base)
        if prop is None and field == "name":
            prop = entry.get("name", {})
        rules[(type_name, field)] = _rule_of(prop or {})
    lists: dict[str, list[str]] = {}
    for type_name, entry in raw.items():
        for ref in entry.get("name", {}).get("reference", ()):
            lists.setdefault(ref, []).append(type_name)
    return rules, {ref: tuple(types) for ref, types in lists.items()}


def schema_facts(doc: IDFDocument, fields: Sequence[tuple[str, str]]) -> SchemaFacts | None:
    """The rules of the (object type, field) pairs in the schema of ``doc``; None without a schema file."""
    if doc.schema.path is None:
        return None
    canonical = frozenset((doc.schema.spec(t).type, f) for t, f in fields if t in doc.schema)
    return _schema_facts(str(doc.schema.path), canonical)


def _close(name: str, names: Sequence[str]) -> str:
    import difflib

    close = difflib.get_close_matches(name.upper(), [n.upper() for n in names], n=3, cutoff=0.6)
    by_upper = {n.upper(): n for n in names}
    if close:
        return f" (did you mean {', '.join(repr(by_upper[c]) for c in close)}?)"
    shown = ", ".join(repr(n) for n in list(names)[:8])
    return f" (it has {shown}{', ...' if len(names) > 8 else ''})" if names else ""


def _fits(rule: FieldRule, value: Any, doc: IDFDocument, refs: dict[str, tuple[str, ...]]) -> str | None:
    """Why ``value`` does not fit the field, or None when it does."""
    is_number = isinstance(value, numbers.Real) and not isinstance(value, bool)
    if isinstance(value, str) and rule.choices:
        if value.upper() in {c.upper() for c in rule.choices}:
            return None
        if not rule.numeric and not rule.object_lists:
            return f"{value!r} is not one of the field's choices {list(rule.choices)}"
    if rule.numeric and is_number:
        number = float(value)
        low, high = rule.minimum, rule.maximum
        if low is not None and (number < low or (rule.exclusive_minimum and number == low)):
            return f"{value!r} is below the field's minimum ({'>' if rule.exclusive_minimum else '>='} {low})"
        if high is not None and (number > high or (rule.exclusive_maximum and number == high)):
            return (
                f"{value!r} is above the field's maximum ({'<' if rule.exclusive_maximum else '<='} {high})"
            )
        return None
    if rule.numeric and not rule.object_lists:
        keywords = f" or one of {list(rule.choices)}" if rule.choices else ""
        return f"{value!r} is not a number{keywords}"
    if rule.object_lists:
        if not isinstance(value, str):
            return f"{value!r} must be the name of an object ({', '.join(rule.object_lists)})"
        types = [t for ref in rule.object_lists for t in refs.get(ref, ())]
        names = [n for t in types if t in doc.schema for n in doc[t].names()]
        if value.upper() in {n.upper() for n in names}:
            return None
        return f"no object named {value!r} that the field can refer to{_close(value, names)}"
    if is_number and not rule.numeric and rule.choices:
        return f"{value!r} is not one of the field's choices {list(rule.choices)}"
    return None


def check_field_parameter(
    doc: IDFDocument,
    where: str,
    object_type: str,
    object_name: str,
    field: str,
    values: Sequence[Any],
    facts: SchemaFacts | None,
) -> list[IDFObject]:
    """The objects a field parameter edits; `SweepError` naming ``where`` if it cannot apply.

    Args:
        where: how the user names the parameter, e.g. ``"sweep.yaml: parameters.wall_r"``.
        values: every value the sweep may write (the discrete values, or low and high).
        facts: the schema's rules (from `schema_facts`), or None to check names only.
    """
    try:
        spec = doc.schema.spec(object_type)
    except UnknownObjectTypeError:
        message = doc.schema.unknown_type_message(object_type)
        raise SweepError(f"{where}.object: {object_type!r} is {message}") from None
    found = list(doc[spec.type])
    if not found:
        raise SweepError(f"{where}.object: {doc.source} has no {spec.type} objects")
    if object_name != "*":
        match = doc[spec.type].get(object_name)
        if match is None:
            raise SweepError(
                f"{where}.name: {doc.source} has no {spec.type} named {object_name!r}"
                f'{_close(object_name, doc[spec.type].names())}; use "*" for every {spec.type}'
            )
        found = [match]
    if spec.position(field) is None:
        close = spec.suggest(field)
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        raise SweepError(f"{where}.field: {spec.type} has no field {field!r}{hint}")
    if facts is None:
        return found
    rules, refs = facts
    rule = rules.get((spec.type, field), FieldRule())
    for value in values:
        problem = _fits(rule, value, doc, refs)
        if problem is not None:
            raise SweepError(f"{where}: {spec.type}.{field}: {problem}")
    return found
