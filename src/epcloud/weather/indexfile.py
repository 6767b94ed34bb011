"""The bundled station index's file format: packed columns that load in milliseconds.

The file is gzip'd ``MAGIC | header length (uint32 LE) | JSON header | column blobs``. The header holds
small lookup tables and, per column, its kind and byte length; string columns are newline-joined UTF-8,
numeric columns little-endian :mod:`array` data stored as scaled integers (see :data:`SCALES`).
A reader fills a string column that an older file lacks with empty strings.
"""

from __future__ import annotations

import array
import gzip
import io
import json
import struct
import sys
from dataclasses import dataclass, field
from typing import Any

__all__ = ["ENTRY_ARRAYS", "ENTRY_STRINGS", "LOCATION_STRINGS", "SCALES", "StationTable"]

MAGIC = b"EPCLOUD-STATIONS\x01"
# Columns per location (one weather station) and per entry (one weather file of a station).
LOCATION_STRINGS = ("country", "state", "name", "id")
# "prefix": the file-name prefix where it differs from the location's, else "";
# "design_wmo": the WMO number of the station the design conditions come from, else "".
ENTRY_STRINGS = ("prefix", "design_wmo")
ENTRY_ARRAYS = {  # name -> array typecode
    "dataset": "B",
    "source": "H",
    "dir": "H",
    "zone": "B",
    "lat": "i",
    "lon": "i",
    "tz": "h",
    "elev": "i",
    "heat": "h",
    "cool": "h",
    "hdd": "H",
    "cdd": "H",
}
# Stored integer = round(value * scale); lat/lon keep 5 decimals, the others what the source has.
SCALES = {"lat": 100_000, "lon": 100_000, "tz": 100, "elev": 10, "heat": 10, "cool": 10}


@dataclass
class StationTable:
    """Every station and weather file as columns; entries of location i are ``first[i]:first[i+1]``."""

    meta: dict[str, Any]
    tables: dict[str, list[str]]
    names: dict[str, dict[str, str]]
    first: array.array[int] = field(default_factory=lambda: array.array("I"))
    strings: dict[str, list[str]] = field(default_factory=dict)
    arrays: dict[str, array.array[int]] = field(default_factory=dict)

    @property
    def location_count(self) -> int:
        return len(self.first) - 1

    def value(self, column: str, entry: int) -> float:
        """A numeric entry column's value in its real unit."""
        return float(self.arrays[column][entry] / SCALES.get(column, 1))

    def to_bytes(self) -> bytes:
        columns: list[list[Any]] = []
        blobs: list[bytes] = []
        for name in (*LOCATION_STRINGS, *ENTRY_STRINGS):
            values = self.strings[name]
            if any("\n" in v for v in values):
                raise ValueError(f"column {name!r} has a value with a newline")
            blobs.append("\n".join(values).encode())
            columns.append([name, "str", len(values), len(blobs[-1])])
        for name, typecode in (("first", "I"), *ENTRY_ARRAYS.items()):
            data = self.first if name == "first" else self.arrays[name]
            packed = array.array(typecode, data)
            if sys.byteorder == "big":
                packed.byteswap()
            blobs.append(packed.tobytes())
            columns.append([name, typecode, len(packed), len(blobs[-1])])
        header = json.dumps(
            {"meta": self.meta, "tables": self.tables, "names": self.names, "columns": columns},
            separators=(",", ":"),
            sort_keys=True,
        ).encode()
        raw = MAGIC + struct.pack("<I", len(header)) + header + b"".join(blobs)
        return gzip.compress(raw, compresslevel=9, mtime=0)

    @staticmethod
    def read_meta(data: bytes) -> dict[str, Any]:
        """Only the ``meta`` of an index file, without unpacking its columns."""
        with gzip.GzipFile(fileobj=io.BytesIO(data)) as stream:
            head = stream.read(len(MAGIC) + 4)
            if not head.startswith(MAGIC) or len(head) < len(MAGIC) + 4:
                raise ValueError("not an epcloud station index (bad magic bytes)")
            (header_len,) = struct.unpack_from("<I", head, len(MAGIC))
            meta: dict[str, Any] = json.loads(stream.read(header_len))["meta"]
        return meta

    @classmethod
    def from_bytes(cls, data: bytes) -> StationTable:
        raw = gzip.decompress(data)
        if not raw.startswith(MAGIC):
            raise ValueError("not an epcloud station index (bad magic bytes)")
        start = len(MAGIC) + 4
        (header_len,) = struct.unpack_from("<I", raw, len(MAGIC))
        header = json.loads(raw[start : start + header_len])
        table = cls(meta=header["meta"], tables=header["tables"], names=header["names"])
        offset = start + header_len
        for name, kind, count, nbytes in header["columns"]:
            blob = raw[offset : offset + nbytes]
            offset += nbytes
            if kind == "str":
                table.strings[name] = blob.decode().split("\n") if count else []
                continue
            values = array.array(kind)
            values.frombytes(blob)
            if sys.byteorder == "big":
                values.byteswap()
            if name == "first":
                table.first = values
            else:
                table.arrays[name] = values
        entries = len(table.strings["prefix"])
        for name in ENTRY_STRINGS:
            table.strings.setdefault(name, [""] * entries)
        return table
