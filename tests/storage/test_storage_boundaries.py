"""Stores declare what they can do: nothing outside `epcloud.storage` reaches into a store's SDK."""

from __future__ import annotations

import re
from pathlib import Path

import epcloud

SRC = Path(epcloud.__file__).parent
# The SDK's modules and a store's private attributes (its client, key mapping, PUT arguments).
FORBIDDEN = re.compile(
    r"^\s*(?:from|import)\s+(?:aio)?boto(?:core|3)\b|\bfs\.client\b|\._key\(|\._put_args\b|\._copy_args\b"
)


def _outside_storage() -> list[Path]:
    return [path for path in SRC.rglob("*.py") if "storage" not in path.relative_to(SRC).parts]


def test_no_module_outside_storage_touches_the_sdk_or_a_store_internals() -> None:
    offenders = [
        f"{path.relative_to(SRC)}:{number}: {line.strip()}"
        for path in _outside_storage()
        for number, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if FORBIDDEN.search(line) and not line.lstrip().startswith("#")
    ]
    assert offenders == []


def test_the_check_sees_an_offender() -> None:
    """The pattern catches what the old lease code did (so the test above can fail)."""
    for line in (
        "from botocore.exceptions import ClientError",
        "key = fs._key(path)",
        "fs.client.put_object(",
    ):
        assert FORBIDDEN.search(line), line
    assert FORBIDDEN.search("    import boto3")
    assert not FORBIDDEN.search("self._keys = keys")
    assert not FORBIDDEN.search('"boto3": "s3",  # a module name, e.g. for the extra it belongs to')
    assert _outside_storage(), "the package sources were not found"
