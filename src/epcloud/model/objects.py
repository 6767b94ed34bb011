"""One EnergyPlus object: raw field text, read and written through schema field names."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from epcloud.errors import UnknownFieldError
from epcloud.model.schema import ObjectSpec
from epcloud.model.values import NUMBER, FieldValue, to_python, to_raw

if TYPE_CHECKING:
    from epcloud.model.document import IDFDocument

__all__ = ["IDFObject"]

_SLOTS = ("_spec", "_values", "_doc", "line")


def _value(spec: ObjectSpec, key: str, raw: str) -> FieldValue:
    """A raw value as Python: numbers for numeric fields, keywords spelt as the schema does ("Autosize")."""
    value = to_python(raw, key in spec.numeric_fields, key in spec.integer_fields)
    if isinstance(value, str) and key in spec.enums:
        return spec.enums[key].get(value.upper(), value)
    return value


def _normalised(spec: ObjectSpec, key: str, raw: str) -> str | float:
    """A raw value as EnergyPlus compares it: numbers numerically, keywords and names case-insensitively."""
    if key in spec.numeric_fields and NUMBER.fullmatch(raw):
        return float(raw)
    choices = spec.enums.get(key)
    if choices:
        raw = choices.get(raw.upper(), raw)
    return raw if key in spec.retaincase_fields else raw.upper()


class IDFObject:
    """An object of a model: `obj.field_name` reads a converted value and writes one back as IDF text.

    Extensible fields read as `vertex_x_coordinate_1`, or as dicts under their epJSON name (`.vertices`).
    """

    __slots__ = _SLOTS

    _spec: ObjectSpec
    _values: list[str]
    _doc: IDFDocument | None
    line: int | None

    def __init__(self, spec: ObjectSpec, values: list[str] | None = None, line: int | None = None) -> None:
        setter = object.__setattr__
        setter(self, "_spec", spec)
        setter(self, "_values", [] if values is None else values)
        setter(self, "_doc", None)
        setter(self, "line", line)

    # ------------------------------------------------------------ identity

    @property
    def type(self) -> str:
        """The canonical object type (Zone's own `type` field is `obj["type"]`)."""
        return self._spec.type

    @property
    def spec(self) -> ObjectSpec:
        return self._spec

    @property
    def name(self) -> str | None:
        """The object's name; None for types without one (Output:Variable) or when it is blank."""
        if not self._spec.has_name or not self._values:
            return None
        return self._values[0] or None

    @name.setter
    def name(self, value: str | None) -> None:
        if not self._spec.has_name:
            raise self._unknown_field("name")
        self._set(0, to_raw(value))

    @property
    def raw_values(self) -> tuple[str, ...]:
        """The field values as IDF text, in file order (the type name not included)."""
        return tuple(self._values)

    @property
    def document(self) -> IDFDocument | None:
        """The document this object belongs to; None for a copy not added anywhere."""
        return self._doc

    # ------------------------------------------------------------ fields

    def __getattr__(self, field_name: str) -> Any:
        if field_name.startswith("__"):
            raise AttributeError(field_name)
        return self[field_name]

    def __setattr__(self, attr: str, value: Any) -> None:
        if attr in _SLOTS or isinstance(getattr(type(self), attr, None), property):
            object.__setattr__(self, attr, value)
        else:
            self[attr] = value

    def __getitem__(self, field_name: str) -> Any:
        spec = self._spec
        position = spec.position(field_name)
        if position is None:
            if field_name == spec.extension:
                return self.extensible_groups
            raise self._unknown_field(field_name)
        values = self._values
        if position >= len(values):
            return None
        key = spec.key_at(position)
        return _value(spec, key, values[position])

    def __setitem__(self, field_name: str, value: Any) -> None:
        spec = self._spec
        position = spec.position(field_name)
        if position is None:
            if field_name != spec.extension:
                raise self._unknown_field(field_name)
            self.extensible_groups = value
        else:
            self._set(position, to_raw(value))

    def get(self, field_name: str, default: Any = None) -> Any:
        """A field's value, or `default` when it is blank."""
        value = self[field_name]
        return default if value is None else value

    def _set(self, position: int, raw: str) -> None:
        values = self._values
        if position == 0 and self._spec.has_name and self._doc is not None:
            self._doc._rename(self, values[0] if values else "", raw)
        if position >= len(values):
            if not raw:
                return
            values.extend([""] * (position + 1 - len(values)))
        values[position] = raw
        while values and not values[-1]:
            values.pop()

    def _unknown_field(self, field_name: str) -> UnknownFieldError:
        close = self._spec.suggest(str(field_name))
        hint = f" (did you mean {', '.join(close)}?)" if close else ""
        source = self._doc.source if self._doc is not None else "<object>"
        return UnknownFieldError(
            f"{self._spec.type} has no field of this name{hint}",
            source=source,
            line=self.line,
            text=field_name,
        )

    # ------------------------------------------------------------ extensible groups

    @property
    def extensible_groups(self) -> list[dict[str, FieldValue]]:
        """The extensible groups (vertices, schedule fields...), one dict per group; [] for other types."""
        spec = self._spec
        size = len(spec.extensible_fields)
        start = len(spec.fields)
        if not size or len(self._values) <= start:
            return []
        groups = []
        tail = self._values[start:]
        for first in range(0, len(tail), size):
            groups.append(
                {
                    key: _value(spec, key, raw)
                    for key, raw in zip(spec.extensible_fields, tail[first : first + size], strict=False)
                }
            )
        return groups

    @extensible_groups.setter
    def extensible_groups(self, groups: Iterable[Mapping[str, Any] | Sequence[Any]]) -> None:
        spec = self._spec
        if not spec.extensible_fields:
            raise self._unknown_field(spec.extension or "extensible_groups")
        tail: list[str] = []
        for group in groups:
            tail.extend(self._group_values(group))
        head = self._values[: len(spec.fields)]
        head.extend([""] * (len(spec.fields) - len(head)) if tail else [])
        values = head + tail
        while values and not values[-1]:
            values.pop()
        self._values[:] = values

    def _group_values(self, group: Mapping[str, Any] | Sequence[Any]) -> list[str]:
        keys = self._spec.extensible_fields
        if isinstance(group, Mapping):
            unknown = [k for k in group if k not in keys]
            if unknown:
                raise self._unknown_field(str(unknown[0]))
            return [to_raw(group.get(k)) for k in keys]
        if isinstance(group, (str, bytes)) or len(group) > len(keys):
            raise ValueError(f"an extensible group of {self._spec.type} has the fields {keys}, not {group!r}")
        raw = [to_raw(v) for v in group]
        return raw + [""] * (len(keys) - len(raw))

    # ------------------------------------------------------------ whole object

    def to_dict(self) -> dict[str, Any]:
        """The non-blank fields as converted values, extensible groups under their epJSON key."""
        spec = self._spec
        result: dict[str, Any] = {}
        for position, raw in enumerate(self._values[: len(spec.fields)]):
            if raw:
                key = spec.fields[position]
                result[key] = _value(spec, key, raw)
        groups = self.extensible_groups
        if groups and spec.extension:
            result[spec.extension] = [{k: v for k, v in group.items() if v is not None} for group in groups]
        return result

    def copy(self) -> IDFObject:
        """An independent copy that belongs to no document (add it with `doc.add(copy)`)."""
        return IDFObject(self._spec, list(self._values), self.line)

    def normalised(self) -> tuple[str | float, ...]:
        """The values as EnergyPlus compares them: numbers numerically, most text case-insensitively."""
        spec = self._spec
        values = self._values
        count = len(values)
        while count and not values[count - 1]:
            count -= 1  # trailing blank fields are the same as absent ones
        return tuple(_normalised(spec, spec.key_at(i), raw) for i, raw in enumerate(values[:count]))

    def __dir__(self) -> list[str]:
        extra = list(self._spec.fields)
        if self._spec.extension:
            extra.append(self._spec.extension)
        return sorted({*super().__dir__(), *extra})

    def __repr__(self) -> str:
        spec = self._spec
        if spec.has_name:
            what = repr(self.name)
        else:
            what = ", ".join(f"{spec.field_at(i)}={v!r}" for i, v in enumerate(self._values[:2]) if v)
        where = ""
        if self.line is not None:
            source = self._doc.source if self._doc is not None else ""
            where = f" at {source}:{self.line}" if source else f" at line {self.line}"
        return f"<IDFObject {spec.type} {what}{where}>"
