"""An AsyncFileSystem that runs a blocking FileSystem's calls in worker threads, at most N at a time.

The coroutine methods are generated from the AsyncFileSystem protocol's method list, so the wrapper
forwards exactly what the protocol declares and cannot drift from it.
"""

from __future__ import annotations

import asyncio
import functools
from collections.abc import Callable, Coroutine
from types import TracebackType
from typing import TYPE_CHECKING, Any

from epcloud.storage.base import ASYNC_METHODS, PLAIN_METHODS, FileSystem

DEFAULT_CONCURRENCY = 16
"""Calls of one wrapper that run at once (each holds a thread of asyncio's default executor)."""


def _unwrapped(value: Any) -> Any:
    """A wrapper passed as an argument (e.g. `copy_from`'s source) stands for the store it wraps."""
    return value.sync if isinstance(value, ThreadedAsyncFileSystem) else value


def _forwarder(name: str) -> Callable[..., Coroutine[Any, Any, Any]]:
    """The coroutine method `name`: the sync store's method of that name, in a thread, gated."""

    async def forward(self: ThreadedAsyncFileSystem, *args: Any, **kwargs: Any) -> Any:
        method = getattr(self.sync, name)
        args = tuple(_unwrapped(arg) for arg in args)
        async with self._gate():
            return await asyncio.to_thread(method, *args, **kwargs)

    forward.__name__ = forward.__qualname__ = name
    return forward


def _plain(name: str) -> Callable[..., Any]:
    def call(self: ThreadedAsyncFileSystem, *args: Any, **kwargs: Any) -> Any:
        return getattr(self.sync, name)(*(_unwrapped(arg) for arg in args), **kwargs)

    call.__name__ = call.__qualname__ = name
    return call


class ThreadedAsyncFileSystem:
    """Wraps a FileSystem so each call runs in `asyncio.to_thread`, keeping the event loop free.

    At most `max_concurrency` calls of this wrapper run at once (the others wait their turn); it is
    also a (no-op) async context manager, so code can `async with` any async store.

    Args:
        fs: the blocking store to wrap.
        max_concurrency: calls in flight at once (default `DEFAULT_CONCURRENCY`).
    """

    if TYPE_CHECKING:  # the generated methods, as the type checker sees them

        def __getattr__(self, name: str) -> Any: ...

    def __init__(self, fs: FileSystem, *, max_concurrency: int = DEFAULT_CONCURRENCY) -> None:
        if max_concurrency < 1:
            raise ValueError(f"max_concurrency must be at least 1, not {max_concurrency}")
        self.sync = fs
        self.max_concurrency = max_concurrency
        self._gates: dict[int, asyncio.Semaphore] = {}

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.sync!r})"

    def __getstate__(self) -> dict[str, Any]:
        return {"sync": self.sync, "max_concurrency": self.max_concurrency}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._gates = {}

    def _gate(self) -> asyncio.Semaphore:
        """The concurrency gate of the running event loop (a semaphore belongs to one loop)."""
        loop = id(asyncio.get_running_loop())
        gate = self._gates.get(loop)
        if gate is None:
            if len(self._gates) > 8:  # loops of finished asyncio.run calls
                self._gates.clear()
            gate = self._gates[loop] = asyncio.Semaphore(self.max_concurrency)
        return gate

    async def __aenter__(self) -> ThreadedAsyncFileSystem:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        return None


for _name in ASYNC_METHODS:
    _method = _forwarder(_name)
    _method.__doc__ = f"`{_name}` of the wrapped store, in a worker thread."
    functools.update_wrapper(_method, getattr(FileSystem, _name), assigned=("__doc__",), updated=())
    setattr(ThreadedAsyncFileSystem, _name, _method)
for _name in PLAIN_METHODS:
    setattr(ThreadedAsyncFileSystem, _name, _plain(_name))
del _name, _method
