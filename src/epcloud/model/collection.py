"""The objects of one type in a document, indexed by name (case-insensitive, as EnergyPlus does)."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from typing import TYPE_CHECKING, overload

from epcloud.errors import AmbiguousObjectError, DuplicateNameError, ObjectNotFoundError
from epcloud.model.objects import IDFObject
from epcloud.model.schema import ObjectSpec

if TYPE_CHECKING:
    from epcloud.model.document import IDFDocument

__all__ = ["ObjectCollection"]


class ObjectCollection:
    """`doc["Zone"]`: the Zone objects in file order; `coll["ZONE ONE"]` by name, `coll[0]` by position."""

    __slots__ = ("_by_name", "_doc", "_objects", "_spec")

    def __init__(self, doc: IDFDocument, spec: ObjectSpec) -> None:
        self._doc = doc
        self._spec = spec
        self._objects: list[IDFObject] = []
        self._by_name: dict[str, IDFObject] = {}

    @property
    def type(self) -> str:
        return self._spec.type

    @property
    def spec(self) -> ObjectSpec:
        return self._spec

    def __len__(self) -> int:
        return len(self._objects)

    def __iter__(self) -> Iterator[IDFObject]:
        return iter(tuple(self._objects))  # a snapshot: removing while iterating is safe

    def __contains__(self, item: object) -> bool:
        if isinstance(item, IDFObject):
            return item._doc is self._doc and item._spec is self._spec
        return isinstance(item, str) and item.upper() in self._by_name

    @overload
    def __getitem__(self, key: str | int) -> IDFObject: ...
    @overload
    def __getitem__(self, key: slice) -> list[IDFObject]: ...

    def __getitem__(self, key: str | int | slice) -> IDFObject | list[IDFObject]:
        if not isinstance(key, str):
            return self._objects[key]
        found = self._by_name.get(key.upper())
        if found is None:
            raise ObjectNotFoundError(self._missing_message(key))
        return found

    def get(self, name: str, default: IDFObject | None = None) -> IDFObject | None:
        """The object of this name, or `default`."""
        return self._by_name.get(name.upper(), default)

    def one(self) -> IDFObject:
        """The single object of this type (Building, SimulationControl...); an error if 0 or several."""
        if len(self._objects) == 1:
            return self._objects[0]
        if not self._objects:
            raise ObjectNotFoundError(f"{self._doc.source} has no {self.type} object")
        raise AmbiguousObjectError(
            f"{self._doc.source} has {len(self._objects)} {self.type} objects where one was expected"
        )

    def names(self) -> list[str]:
        """The names of the objects, in file order (types without names give [])."""
        return [obj.name for obj in self._objects if obj.name is not None]

    def __repr__(self) -> str:
        return f"<ObjectCollection {self.type}: {len(self._objects)} objects>"

    # ------------------------------------------------------------ kept in step by the document

    def _extend(self, objects: list[IDFObject]) -> None:
        """Adds one object, or all of a load (whose document is dropped on error); checks names first."""
        if self._spec.unique and len(self._objects) + len(objects) > 1:
            first, second = [*self._objects, *objects][:2]
            raise DuplicateNameError(
                f"{self._where(second)}a model has at most one {self.type} object "
                f"(there is one{self._at(first)})"
            )
        if self._spec.has_name:
            by_name = self._by_name
            for obj in objects:
                name = obj._values[0] if obj._values else ""
                if not name:
                    continue
                key = name.upper()
                other = by_name.get(key)
                if other is not None:
                    raise DuplicateNameError(
                        f"{self._where(obj)}{self.type} name {name!r} is taken by {other.name!r}"
                        f"{self._at(other)} (names are case-insensitive)"
                    )
                by_name[key] = obj
        self._objects.extend(objects)

    def _remove(self, obj: IDFObject) -> None:
        self._objects.remove(obj)
        name = obj.name
        if name is not None:
            del self._by_name[name.upper()]

    def _rename(self, obj: IDFObject, old: str, new: str) -> None:
        """Moves an object to its new name; DuplicateNameError (nothing changed) if that name is taken."""
        old_key, new_key = old.upper(), new.upper()
        if old_key == new_key:
            return
        if new_key and new_key in self._by_name:
            other = self._by_name[new_key]
            raise DuplicateNameError(
                f"{self._doc.source}: cannot rename {self.type} {old!r} to {new!r}: "
                f"{other.name!r}{self._at(other)} has that name (names are case-insensitive)"
            )
        if old_key:
            del self._by_name[old_key]
        if new_key:
            self._by_name[new_key] = obj

    def _missing_message(self, name: str) -> str:
        close = difflib.get_close_matches(name.upper(), self._by_name, n=3, cutoff=0.6)
        hint = f"; close names: {', '.join(repr(self._by_name[c].name) for c in close)}" if close else ""
        return f"{self._doc.source} has no {self.type} named {name!r}{hint}"

    def _where(self, obj: IDFObject) -> str:
        line = f", line {obj.line}" if obj.line is not None else ""
        return f"{self._doc.source}{line}: "

    @staticmethod
    def _at(obj: IDFObject) -> str:
        return f" at line {obj.line}" if obj.line is not None else " in the model"
