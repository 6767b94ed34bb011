"""The threaded async wrapper: generated from the protocol, gated to its concurrency limit."""

from __future__ import annotations

import asyncio
import inspect
import threading
import uuid

import pytest
from storage_helpers import MinimalFileSystem

from epcloud.storage import AsyncFileSystem, ThreadedAsyncFileSystem
from epcloud.storage.base import ASYNC_METHODS, PLAIN_METHODS
from epcloud.storage.paths import StorePath


class _Counting(MinimalFileSystem):
    """Reads meet in pairs at a barrier and record how many run at once."""

    def __init__(self) -> None:
        super().__init__(uuid.uuid4().hex)
        self.lock = threading.Lock()
        self.barrier = threading.Barrier(2, timeout=10)
        self.active = self.peak = 0

    def read_bytes(self, path: StorePath) -> bytes:
        with self.lock:
            self.active += 1
            self.peak = max(self.peak, self.active)
        try:
            self.barrier.wait()
            return super().read_bytes(path)
        finally:
            with self.lock:
                self.active -= 1


def test_every_protocol_method_is_forwarded() -> None:
    wrapper = ThreadedAsyncFileSystem(MinimalFileSystem(uuid.uuid4().hex))
    assert isinstance(wrapper, AsyncFileSystem)
    assert set(ASYNC_METHODS) >= {"read_bytes", "write_bytes", "copy_from", "check_writable", "download_file"}
    for name in ASYNC_METHODS:
        assert inspect.iscoroutinefunction(getattr(wrapper, name)), name
    for name in PLAIN_METHODS:
        assert not inspect.iscoroutinefunction(getattr(wrapper, name)), name


def test_calls_run_at_most_max_concurrency_at_once() -> None:
    store = _Counting()
    store.write_bytes("a.txt", b"a")
    wrapper = ThreadedAsyncFileSystem(store, max_concurrency=2)

    async def many() -> list[bytes]:
        return await asyncio.gather(*(wrapper.read_bytes("a.txt") for _ in range(8)))

    assert asyncio.run(many()) == [b"a"] * 8
    assert store.peak == 2  # pairs met at the barrier, never more than the limit at once


def test_a_wrapper_argument_stands_for_its_store() -> None:
    first, second = MinimalFileSystem(uuid.uuid4().hex), MinimalFileSystem(uuid.uuid4().hex)
    first.write_bytes("x.txt", b"payload")
    wrapped_first, wrapped_second = ThreadedAsyncFileSystem(first), ThreadedAsyncFileSystem(second)
    asyncio.run(wrapped_second.copy_from(wrapped_first, "x.txt", "y.txt"))
    assert second.read_bytes("y.txt") == b"payload"
    assert wrapped_first.shares_service_with(wrapped_first)


def test_concurrency_must_be_positive() -> None:
    with pytest.raises(ValueError, match="max_concurrency"):
        ThreadedAsyncFileSystem(MinimalFileSystem("x"), max_concurrency=0)
