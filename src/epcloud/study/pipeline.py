"""A worker's pipeline: engine runs on engine threads, the storing of finished runs on store threads,
so the next engine starts while the last job's outputs are being sent; bounded, so memory stays flat."""

from __future__ import annotations

import concurrent.futures as cf
import logging
import threading
from collections.abc import Sequence
from typing import Any

from epcloud.errors import StudyInputError
from epcloud.progress import ProgressEvent, RichBatchProgress
from epcloud.study.attempt import LOST, Finished, JobRunner, Outcome, Ran
from epcloud.study.fetch import FETCH_THREADS, InputFetches
from epcloud.study.manifest import JobEntry

__all__ = ["Outcomes", "Pipeline", "WorkerPools"]

log = logging.getLogger(__name__)

_STORE_BACKLOG = 2
"""Finished runs per engine that may wait to be stored before the engines wait for the uploads."""
_UPLOAD_THREADS = 8


class WorkerPools:
    """A worker's threads: its engines, the storing of finished runs, their uploads, its input fetches."""

    def __init__(self, engines: int) -> None:
        self.engine = cf.ThreadPoolExecutor(max_workers=engines, thread_name_prefix="epcloud-engine")
        self.store = cf.ThreadPoolExecutor(max_workers=engines, thread_name_prefix="epcloud-store")
        self.upload = cf.ThreadPoolExecutor(max_workers=_UPLOAD_THREADS, thread_name_prefix="epcloud-upload")
        self.fetch = cf.ThreadPoolExecutor(max_workers=FETCH_THREADS, thread_name_prefix="epcloud-fetch")

    def shutdown(self) -> None:
        for pool in (self.engine, self.store, self.upload, self.fetch):
            pool.shutdown(wait=True, cancel_futures=True)


class Pipeline:
    """Engine run on an engine thread, then the store of its outputs on a store thread."""

    def __init__(self, runner: JobRunner, inputs: InputFetches, pools: WorkerPools, engines: int) -> None:
        self.runner = runner
        self.inputs = inputs
        self.pools = pools
        self.slots = threading.BoundedSemaphore(engines * _STORE_BACKLOG)
        self.stores: list[tuple[cf.Future[Outcome], JobEntry]] = []
        self._lock = threading.Lock()

    def submit(self, entry: JobEntry, stale: Sequence[str]) -> cf.Future[Outcome | cf.Future[Outcome]]:
        return self.pools.engine.submit(self._engine, entry, stale)

    def _engine(self, entry: JobEntry, stale: Sequence[str]) -> Outcome | cf.Future[Outcome]:
        """The engine's part; a finished run comes back as the future of its store."""
        ran = self.runner.run(entry, stale)
        if not isinstance(ran, Ran):
            return ran
        self.slots.acquire()
        try:
            future = self.pools.store.submit(self._store, ran)
        except BaseException:  # the store pool is shut down: stopping
            self.slots.release()
            self.runner.discard(ran)
            raise
        with self._lock:
            self.stores.append((future, ran.entry))
        return future

    def _store(self, ran: Ran) -> Outcome:
        try:
            try:
                self.inputs.wait_all()  # every input checked before anything is stored
            except BaseException:
                self.runner.discard(ran)
                raise
            return self.runner.store(ran)
        finally:
            self.slots.release()


class Outcomes:
    """What a worker's jobs came to, as their futures finish."""

    def __init__(self) -> None:
        self.finished: list[Finished] = []
        self.errors: list[BaseException] = []
        self.lost: list[JobEntry] = []
        self.input_error: StudyInputError | None = None
        self._seen: set[int] = set()

    def add(self, future: cf.Future[Any], entry: JobEntry, display: RichBatchProgress | None) -> Any:
        """Record a finished future once; returns its outcome (None when it raised)."""
        if id(future) in self._seen:
            return None
        self._seen.add(id(future))
        try:
            outcome = future.result()
        except StudyInputError as exc:
            self.input_error = self.input_error or exc
            return None
        except Exception as exc:
            log.error("job %s could not be stored: %s", entry.id, exc)
            self.errors.append(exc)
            return None
        if isinstance(outcome, Finished):
            self.finished.append(outcome)
            if display is not None:
                _show_done(display, outcome)
        elif outcome == LOST:
            self.lost.append(entry)
        return outcome

    def harvest(self, stores: Sequence[tuple[cf.Future[Outcome], JobEntry]]) -> None:
        """The stores that finished after the rounds ended (a stop lets finished runs be stored)."""
        for future, entry in stores:
            if future.done() and not future.cancelled():
                self.add(future, entry, None)


def _show_done(display: RichBatchProgress, outcome: Finished) -> None:
    entry = outcome.entry
    display.job_done(entry.index, outcome.success)
    state = "succeeded" if outcome.success else "failed"
    display.on_event(ProgressEvent("done", state, None, 100.0, entry.index, entry.label or entry.id))
