"""The EnergyPlus schema reduced to what models need: field names, kinds and extensible groups per type."""

from __future__ import annotations

import difflib
import functools
import hashlib
import json
import logging
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from epcloud.engine import EnergyPlusConfig, default_energyplus
from epcloud.errors import UnknownObjectTypeError

__all__ = ["ObjectSpec", "Schema", "get_schema"]

logger = logging.getLogger(__name__)

# Bump when the layout of the compact cache changes, so stale caches are ignored.
_CACHE_FORMAT = 2


@dataclass(frozen=True, eq=False)
class ObjectSpec:
    """One object type: its ordered fields, which of them are numbers, and its extensible group."""

    type: str
    fields: tuple[str, ...]
    extensible_fields: tuple[str, ...] = ()
    extension: str | None = None
    numeric_fields: frozenset[str] = frozenset()
    integer_fields: frozenset[str] = frozenset()
    retaincase_fields: frozenset[str] = frozenset()
    labels: tuple[str, ...] = ()
    enums: dict[str, dict[str, str]] = field(default_factory=dict)
    has_name: bool = False
    unique: bool = False
    min_fields: int = 0
    known: bool = True
    _positions: dict[str, int] = field(init=False, repr=False)
    _extensible_positions: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_positions", {name: i for i, name in enumerate(self.fields)})
        object.__setattr__(
            self, "_extensible_positions", {name: i for i, name in enumerate(self.extensible_fields)}
        )

    @classmethod
    def unknown(cls, type_name: str) -> ObjectSpec:
        """A stand-in for a type the schema lacks: every field is `field_<n>`, kept as written."""
        return cls(
            type=type_name,
            fields=(),
            extensible_fields=("field",),
            extension="fields",
            labels=("Field",),
            known=False,
        )

    def position(self, field_name: str) -> int | None:
        """The 0-based field position of a schema field name or a flattened `<extensible>_<n>` name."""
        pos = self._positions.get(field_name)
        if pos is not None or not self.extensible_fields:
            return pos
        base, _, number = field_name.rpartition("_")
        k = self._extensible_positions.get(base)
        if k is None or not number.isdigit() or int(number) < 1:
            return None
        return len(self.fields) + (int(number) - 1) * len(self.extensible_fields) + k

    def key_at(self, position: int) -> str:
        """The schema name of the field at a position (an extensible field without its group number)."""
        count = len(self.fields)
        if position < count:
            return self.fields[position]
        return self.extensible_fields[(position - count) % len(self.extensible_fields)]

    def field_at(self, position: int) -> str:
        """The attribute name of the field at a position (`vertex_x_coordinate_2` for extensibles)."""
        count = len(self.fields)
        if position < count:
            return self.fields[position]
        group, k = divmod(position - count, len(self.extensible_fields))
        return f"{self.extensible_fields[k]}_{group + 1}"

    def label_at(self, position: int) -> str:
        """The IDD field name with units, as IDF comments show it."""
        count = len(self.fields)
        if position < count:
            return self.labels[position]
        group, k = divmod(position - count, len(self.extensible_fields))
        name, brace, units = self.labels[count + k].partition(" {")
        return f"{name} {group + 1}{' {' + units if brace else ''}"

    def suggest(self, field_name: str) -> list[str]:
        """Field names close to a misspelt one."""
        names = [*self.fields, *(f"{e}_1" for e in self.extensible_fields)]
        if self.extension:
            names.append(self.extension)
        return difflib.get_close_matches(field_name.lower(), names, n=3, cutoff=0.6)


class Schema:
    """The object types of one EnergyPlus version; specs are built on first use."""

    def __init__(self, version: str, entries: dict[str, list[Any]], path: Path | None = None) -> None:
        self.version = version
        self.path = path
        self._entries = entries
        self._by_upper = {name.upper(): name for name in entries}
        self._specs: dict[str, ObjectSpec] = {}

    @classmethod
    def from_file(
        cls, path: str | os.PathLike[str], cache_dir: str | os.PathLike[str] | Literal["user"] | None = "user"
    ) -> Schema:
        """Reads `Energy+.schema.epJSON` through a compact cache in `cache_dir`.

        Args:
            path: the engine's `Energy+.schema.epJSON`.
            cache_dir: folder of the compact copy; "user" is the ``schema`` folder of epcloud's cache,
                None reads the original every time.
        """
        path = Path(path)
        folder = _user_cache_dir() if cache_dir == "user" else cache_dir
        cache_file = None if folder is None else Path(folder) / f"schema-{_cache_key(path)}.json"
        compact = _read_cache(cache_file) if cache_file else None
        if compact is None:
            with path.open(encoding="utf-8") as stream:
                compact = compact_schema(json.load(stream))
            if cache_file:
                _write_cache(cache_file, compact)
        return cls(compact["version"], compact["types"], path)

    def __repr__(self) -> str:
        return f"<Schema EnergyPlus {self.version}, {len(self._entries)} object types>"

    def __reduce__(self) -> str | tuple[Any, ...]:
        """Pickles as its file path, so models sent to other processes do not carry the schema."""
        if self.path is None:
            return super().__reduce__()
        return _schema_at, (str(self.path),)

    def __contains__(self, type_name: object) -> bool:
        return isinstance(type_name, str) and type_name.upper() in self._by_upper

    def __iter__(self) -> Iterator[str]:
        return iter(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def spec(self, type_name: str) -> ObjectSpec:
        """The spec of an object type, by name in any case; UnknownObjectTypeError if there is none."""
        spec = self._specs.get(type_name)
        if spec is not None:
            return spec
        canonical = self._by_upper.get(type_name.upper())
        if canonical is None:
            raise UnknownObjectTypeError(
                self.unknown_type_message(type_name),
                source=self.path.name if self.path else "schema",
                text=type_name,
            )
        spec = self._specs.get(canonical) or _spec_from_entry(canonical, self._entries[canonical])
        self._specs[canonical] = self._specs[type_name] = spec
        return spec

    def unknown_type_message(self, type_name: str) -> str:
        """Says a type is unknown to this EnergyPlus version, with the close names it may have meant."""
        close = difflib.get_close_matches(type_name.upper(), self._by_upper, n=3, cutoff=0.7)
        hint = f" (did you mean {', '.join(self._by_upper[c] for c in close)}?)" if close else ""
        return f"not an object type of EnergyPlus {self.version}{hint}"


def get_schema(config: EnergyPlusConfig | None = None) -> Schema:
    """The schema of an engine (default: the one `default_energyplus()` finds), loaded once per process."""
    return _schema_at(str((config or default_energyplus()).schema_path))


@functools.lru_cache(maxsize=8)
def _schema_at(path: str) -> Schema:
    return Schema.from_file(path)


def compact_schema(raw: dict[str, Any]) -> dict[str, Any]:
    """The parts of the full JSON schema that models use, as plain JSON data."""
    properties = raw["properties"]
    version_props = next(iter(properties["Version"]["patternProperties"].values()))["properties"]
    version = str(version_props["version_identifier"]["default"])
    return {
        "format": _CACHE_FORMAT,
        "version": version,
        "types": {name: _compact_entry(entry) for name, entry in properties.items()},
    }


def _compact_entry(entry: dict[str, Any]) -> list[Any]:
    legacy = entry["legacy_idd"]
    info = legacy.get("field_info", {})
    props = next(iter(entry["patternProperties"].values())).get("properties", {})
    extension = legacy.get("extension")
    ext_props = props[extension]["items"]["properties"] if extension else {}
    fields = [(name, props.get(name, {})) for name in legacy["fields"]]
    extensibles = [(name, ext_props.get(name, {})) for name in legacy.get("extensibles", [])]
    every = fields + extensibles
    return [
        legacy["fields"],
        legacy.get("extensibles", []),
        extension,
        sorted({name for name, p in every if _allows(p, ("number", "integer"))}),
        sorted({name for name, p in every if _allows(p, ("integer",))}),
        sorted({name for name, p in every if p.get("retaincase")}),
        [_label(name, info.get(name, {}), p) for name, p in every],
        "name" in entry,
        entry.get("maxProperties") == 1,
        int(entry.get("min_fields", 0)),
        {name: choices for name, p in every if (choices := _choices(p))},
    ]


def _allows(prop: dict[str, Any], kinds: tuple[str, ...]) -> bool:
    return prop.get("type") in kinds or any(alt.get("type") in kinds for alt in prop.get("anyOf", ()))


def _choices(prop: dict[str, Any]) -> list[str]:
    """The keywords a field accepts (enum values, "Autosize"...), as the schema spells them."""
    choices = [*prop.get("enum", ()), *(v for alt in prop.get("anyOf", ()) for v in alt.get("enum", ()))]
    return [c for c in choices if isinstance(c, str) and c]


def _label(name: str, info: dict[str, Any], prop: dict[str, Any]) -> str:
    label = info.get("field_name") or name.replace("_", " ").title()
    units = prop.get("units")
    return f"{label} {{{units}}}" if units else label


def _spec_from_entry(type_name: str, entry: list[Any]) -> ObjectSpec:
    (
        fields,
        extensibles,
        extension,
        numeric,
        integer,
        retaincase,
        labels,
        named,
        unique,
        min_fields,
        enums,
    ) = entry
    return ObjectSpec(
        type=type_name,
        fields=tuple(fields),
        extensible_fields=tuple(extensibles),
        extension=extension,
        numeric_fields=frozenset(numeric),
        integer_fields=frozenset(integer),
        retaincase_fields=frozenset(retaincase),
        labels=tuple(labels),
        enums={name: _keywords(choices) for name, choices in enums.items()},
        has_name=named,
        unique=unique,
        min_fields=min_fields,
    )


def _keywords(choices: list[str]) -> dict[str, str]:
    """Upper-case keyword → schema spelling; EnergyPlus reads Autosize and Autocalculate as one keyword."""
    keywords = {c.upper(): c for c in choices}
    for one, other in (("AUTOSIZE", "AUTOCALCULATE"), ("AUTOCALCULATE", "AUTOSIZE")):
        if one in keywords and other not in keywords:
            keywords[other] = keywords[one]
    return keywords


def _user_cache_dir() -> Path:
    from epcloud.cachedir import cache_dir

    return cache_dir("schema")


def _cache_key(path: Path) -> str:
    """Changes whenever the schema file (or the cache layout) does."""
    stat = path.stat()
    ident = f"{_CACHE_FORMAT}|{path.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
    return hashlib.sha256(ident.encode()).hexdigest()[:20]


def _read_cache(cache_file: Path) -> dict[str, Any] | None:
    try:
        with cache_file.open(encoding="utf-8") as stream:
            data = json.load(stream)
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("format") == _CACHE_FORMAT else None


def _write_cache(cache_file: Path, compact: dict[str, Any]) -> None:
    """Writes atomically; a read-only cache folder only costs speed."""
    tmp = None
    try:
        cache_file.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=cache_file.parent, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as stream:
            json.dump(compact, stream, separators=(",", ":"))
        os.replace(tmp, cache_file)
    except OSError as exc:
        logger.debug("schema cache not written to %s: %s", cache_file, exc)
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)
