"""Writing objects as IDF text, one field a line, in the layout of EnergyPlus's IDF Editor."""

from __future__ import annotations

from collections.abc import Iterable

from epcloud.model.objects import IDFObject
from epcloud.model.schema import ObjectSpec

__all__ = ["write_idf"]

# "!- <field name> {units}" per spec and position, grown as longer objects are written.
_COMMENTS: dict[ObjectSpec, list[str]] = {}


def write_idf(objects: Iterable[IDFObject], comments: bool = True) -> str:
    """IDF text of objects in the order given; values are written exactly as stored."""
    lines: list[str] = []
    add = lines.append
    for obj in objects:
        values = obj._values
        type_name = obj._spec.type
        if not values:
            add(f"{type_name};")
            add("")
            continue
        add(f"{type_name},")
        last = len(values) - 1
        if comments:
            labels = _comments(obj._spec, len(values))
            for i, value in enumerate(values):
                cell = f"    {value}{';' if i == last else ','}"
                add(f"{cell:<28} {labels[i]}")
        else:
            for i, value in enumerate(values):
                add(f"    {value}{';' if i == last else ','}")
        add("")
    return "\n".join(lines)


def _comments(spec: ObjectSpec, count: int) -> list[str]:
    known = _COMMENTS.get(spec)
    if known is None:
        known = _COMMENTS[spec] = []
    if len(known) < count:
        known.extend(f"!- {spec.label_at(i)}" for i in range(len(known), count))
    return known
