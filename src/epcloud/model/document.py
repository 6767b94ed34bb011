"""A whole model: its objects in file order, grouped by type, saved as IDF or epJSON."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from epcloud.errors import UnknownFieldError, UnknownObjectTypeError
from epcloud.model import epjson, idf_writer
from epcloud.model.collection import ObjectCollection
from epcloud.model.idf_parser import ParsedObject
from epcloud.model.objects import IDFObject
from epcloud.model.schema import ObjectSpec, Schema, get_schema
from epcloud.model.values import to_raw

__all__ = ["IDFDocument", "version_of"]


class IDFDocument:
    """An EnergyPlus model; `doc["Zone"]` gives the Zone objects, `iter(doc)` every object in file order."""

    def __init__(self, schema: Schema | None = None, source: str = "<new>") -> None:
        self.schema = schema or get_schema()
        self.source = source
        self._objects: dict[IDFObject, None] = {}  # insertion-ordered set: O(1) removal
        self._collections: dict[str, ObjectCollection] = {}

    @classmethod
    def from_parsed(cls, objects: Iterable[ParsedObject], schema: Schema, source: str) -> IDFDocument:
        """A document of parsed objects; DuplicateNameError names the file and both lines."""
        doc = cls(schema, source)
        by_type: dict[ObjectSpec, list[IDFObject]] = {}
        order = doc._objects
        for spec, values, line in objects:
            obj = IDFObject(spec, values, line)
            order[obj] = None
            group = by_type.get(spec)
            if group is None:
                group = by_type[spec] = []
            group.append(obj)
        for spec, group in by_type.items():
            doc._collection(spec)._extend(group)
            for obj in group:
                object.__setattr__(obj, "_doc", doc)
        return doc

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickles as raw objects and the schema's path: small, and the same schema once unpickled."""
        objects = [(obj._spec.type, obj._spec.known, obj._values, obj.line) for obj in self._objects]
        return _unpickle, (self.schema, self.source, objects)

    # ------------------------------------------------------------ reading

    @property
    def version(self) -> str | None:
        """The model's EnergyPlus version as "major.minor" (from its Version object), or None."""
        coll = self._collections.get("VERSION")
        if not coll:
            return None
        return version_of(coll[0]["version_identifier"])

    def __getitem__(self, type_name: str) -> ObjectCollection:
        coll = self._collections.get(type_name.upper())
        if coll is not None:
            return coll
        if type_name not in self.schema:
            raise UnknownObjectTypeError(
                self.schema.unknown_type_message(type_name), source=self.source, text=type_name
            )
        return self._collection(self.schema.spec(type_name))

    def __contains__(self, item: object) -> bool:
        """`"Zone" in doc`: the model has a Zone; `obj in doc`: the object belongs to this model."""
        if isinstance(item, IDFObject):
            return item._doc is self
        return isinstance(item, str) and bool(self._collections.get(item.upper()))

    def __iter__(self) -> Iterator[IDFObject]:
        return iter(tuple(self._objects))

    def __len__(self) -> int:
        return len(self._objects)

    def types(self) -> list[str]:
        """The object types present, in the order they first appear."""
        return list(dict.fromkeys(obj.type for obj in self._objects))

    def __repr__(self) -> str:
        version = f" version {self.version}" if self.version else ""
        return f"<IDFDocument {self.source!r}{version}, {len(self._objects)} objects>"

    # ------------------------------------------------------------ changing

    def add(self, type_or_obj: str | IDFObject, name: str | None = None, /, **fields: Any) -> IDFObject:
        """Adds a new object (`doc.add("Zone", "Z1", x_origin=2.0)`) or an object (a copy if it is owned).

        An object that belongs to another document is copied first; the object added is returned.
        """
        if isinstance(type_or_obj, IDFObject):
            if name is not None or fields:
                raise TypeError("doc.add(obj) takes no name or fields; set them on the object")
            obj = type_or_obj
            if obj._doc is self:
                raise ValueError(f"{obj!r} is already in this document")
            if obj._doc is not None:
                obj = obj.copy()
            object.__setattr__(obj, "line", None)
        else:
            obj = self._new_object(type_or_obj, name, fields)
        self._attach(obj)
        return obj

    def remove(self, obj: IDFObject) -> None:
        """Removes an object of this document; it keeps its values and can be added again."""
        if obj._doc is not self:
            raise ValueError(f"{obj!r} is not in this document")
        self._collections[obj.type.upper()]._remove(obj)
        del self._objects[obj]
        object.__setattr__(obj, "_doc", None)

    def copy(self) -> IDFDocument:
        """A deep, independent copy (same schema and source)."""
        copies = ((obj._spec, list(obj._values), obj.line) for obj in self._objects)
        return IDFDocument.from_parsed(copies, self.schema, self.source)

    def _new_object(self, type_name: str, name: str | None, fields: dict[str, Any]) -> IDFObject:
        spec = self[type_name].spec
        obj = IDFObject(spec)
        if name is not None:
            if not spec.has_name:
                raise UnknownFieldError(
                    f"{spec.type} objects have no name; give their fields by keyword",
                    source=self.source,
                    text=str(name),
                )
            obj._values.append(to_raw(name))
        for field_name, value in fields.items():
            obj[field_name] = value
        return obj

    def _collection(self, spec: ObjectSpec) -> ObjectCollection:
        key = spec.type.upper()
        coll = self._collections.get(key)
        if coll is None:
            coll = self._collections[key] = ObjectCollection(self, spec)
        return coll

    def _attach(self, obj: IDFObject) -> None:
        self._collection(obj._spec)._extend([obj])
        object.__setattr__(obj, "_doc", self)
        self._objects[obj] = None

    def _rename(self, obj: IDFObject, old: str, new: str) -> None:
        self._collections[obj.type.upper()]._rename(obj, old, new)

    # ------------------------------------------------------------ writing

    def to_idf(self, comments: bool = True) -> str:
        """The model as IDF text; `comments` adds each field's IDD name (and units) as a `!-` comment."""
        return idf_writer.write_idf(self._objects, comments=comments)

    def to_epjson(self) -> dict[str, Any]:
        """The model as an epJSON dict: {type: {name: {field: value}}}, objects in file order per type."""
        return epjson.write_epjson(self._objects)

    def to_epjson_text(self) -> str:
        """The model as epJSON text."""
        return json.dumps(self.to_epjson(), indent=4) + "\n"

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Writes the model as IDF or epJSON, chosen by the suffix (.idf, .epJSON)."""
        path = Path(path)
        suffix = path.suffix.lower()
        if suffix == ".idf":
            text = self.to_idf()
        elif suffix == ".epjson":
            text = self.to_epjson_text()
        else:
            raise ValueError(f"cannot tell the format of {path}: use a .idf or .epJSON suffix")
        path.write_text(text, encoding="utf-8")
        return path

    # ------------------------------------------------------------ comparing

    def __eq__(self, other: object) -> bool:
        """Same objects of each type in the same order, values compared as EnergyPlus reads them."""
        if not isinstance(other, IDFDocument):
            return NotImplemented
        return self._comparable() == other._comparable()

    __hash__ = None  # type: ignore[assignment]  # mutable, compared by content

    def _comparable(self) -> dict[str, list[tuple[str | float, ...]]]:
        return {
            key: [obj.normalised() for obj in coll._objects]
            for key, coll in self._collections.items()
            if coll._objects
        }


def version_of(value: object) -> str | None:
    """ "major.minor" of a Version identifier such as "25.2", "25.2.0" or 25.2."""
    if value is None:
        return None
    parts = str(value).strip().split(".")
    return ".".join(parts[:2]) if len(parts) > 1 else parts[0]


def _unpickle(
    schema: Schema, source: str, objects: list[tuple[str, bool, list[str], int | None]]
) -> IDFDocument:
    """Rebuilds a pickled document; stand-in specs for unknown types are made once per type."""
    unknown: dict[str, ObjectSpec] = {}

    def spec(type_name: str, known: bool) -> ObjectSpec:
        if known:
            return schema.spec(type_name)
        return unknown.setdefault(type_name, ObjectSpec.unknown(type_name))

    parsed = ((spec(type_name, known), values, line) for type_name, known, values, line in objects)
    return IDFDocument.from_parsed(parsed, schema, source)
