"""Helpers of the storage tests (importable from test modules, unlike conftest)."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable
from typing import Any

from epcloud.storage import AsyncS3FileSystem


class Blocking:
    """An async store seen through blocking calls: each coroutine runs on one event loop the store
    stays open on (`asyncio.run` per call would close an aiobotocore client's loop under it)."""

    def __init__(self, inner: Any, loop: asyncio.AbstractEventLoop) -> None:
        self.inner = inner
        self.loop = loop
        self.clones: list[Any] = []

    def __getattr__(self, name: str) -> Callable[..., Any]:
        method = getattr(self.inner, name)
        if not inspect.iscoroutinefunction(method):
            return method  # type: ignore[no-any-return]

        def call(*args: Any, **kwargs: Any) -> Any:
            args = tuple(arg.inner if isinstance(arg, Blocking) else arg for arg in args)
            return self.loop.run_until_complete(method(*args, **kwargs))

        return call

    def reopened(self, inner: Any) -> Blocking:
        """Another async store (e.g. an unpickled copy) on this loop, opened like this one (and closed
        with it)."""
        if isinstance(inner, AsyncS3FileSystem):
            self.loop.run_until_complete(inner.__aenter__())
            self.clones.append(inner)
        return Blocking(inner, self.loop)
