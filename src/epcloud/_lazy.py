"""Module attributes loaded on first use, so a facade can list many names and import few modules."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def lazy_exports(
    module: str, table: Mapping[str, str], eager: Mapping[str, Any]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """Return a module's `__getattr__` and `__dir__` that import `table[name]` when `name` is first read.

    Args:
        module: the facade's own name, for the AttributeError message.
        table: public name -> module that defines it.
        eager: the facade's globals, so a loaded name is cached there and `__getattr__` runs once per name.
    """

    def __getattr__(name: str) -> Any:
        source = table.get(name)
        if source is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(source), name)
        if isinstance(eager, dict):
            eager[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*eager, *table})

    return __getattr__, __dir__
