"""A run's parsed text outputs, under idfkit's names: `variables` (.rdd/.mdd), `csv`, `html`, `eso`, `mtr`.

Each is parsed on first use and kept; each is None when the run has no such file (as in idfkit). A run in
a store fetches the file first (once, into the local cache); a run opened with `async_from_directory`
uses the ``async_*`` forms, which fetch and then parse in a worker thread.
"""

from __future__ import annotations

import asyncio
import logging
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from epcloud.results.csvout import CSVResult
from epcloud.results.dictionary import OutputVariableIndex
from epcloud.results.eso import ESOResult
from epcloud.results.htmltables import HTMLResult

if TYPE_CHECKING:
    from epcloud.rundir.run_status import RunStatus

__all__ = ["OutputReaders"]

logger = logging.getLogger(__name__)


class OutputReaders:
    """What `SimulationResult` gets from this mixin: the parsed outputs and their async forms."""

    output_prefix: str
    status: RunStatus | None

    @property
    def location(self) -> str:  # provided by SimulationResult
        raise NotImplementedError

    def path(self, kind: str) -> Path | None:  # provided by SimulationResult
        raise NotImplementedError

    async def async_fetch(self, *kinds: str) -> None:  # provided by SimulationResult
        raise NotImplementedError

    @cached_property
    def variables(self) -> OutputVariableIndex | None:
        """The variables and meters the model can report (.rdd and .mdd), None without an .rdd file."""
        rdd = self._output("rdd")
        if rdd is None:
            return None
        index = OutputVariableIndex.from_files(rdd, self._output("mdd"))
        if not index.variables:
            logger.warning(
                "%s of %s lists no variables: EnergyPlus fills it only when the model has an "
                "`Output:VariableDictionary, IDF;` object",
                self._name("rdd"),
                self.location,
            )
        return index

    @cached_property
    def csv(self) -> CSVResult | None:
        """The readvars CSV (``eplusout.csv``, made with ``readvars=True``), None if absent."""
        path = self._output("csv")
        return CSVResult.from_file(path) if path is not None else None

    @cached_property
    def html(self) -> HTMLResult | None:
        """The HTML tabular report (``eplustbl.htm``), None if absent (the model's
        ``OutputControl:Table:Style`` decides whether EnergyPlus writes it)."""
        path = self._output("html")
        return HTMLResult.from_file(path) if path is not None else None

    @cached_property
    def eso(self) -> ESOResult | None:
        """The standard output (``eplusout.eso``), None if absent."""
        path = self._output("eso")
        return ESOResult.from_file(path) if path is not None else None

    @cached_property
    def mtr(self) -> ESOResult | None:
        """The meter output (``eplusout.mtr``, the .eso format), None if absent."""
        path = self._output("mtr")
        return ESOResult.from_file(path) if path is not None else None

    async def async_variables(self) -> OutputVariableIndex | None:
        """`variables`, fetching the .rdd and .mdd first for a run opened with `async_from_directory`."""
        await self.async_fetch("rdd", "mdd")
        return await asyncio.to_thread(lambda: self.variables)

    async def async_csv(self) -> CSVResult | None:
        """`csv`, fetched first for a run opened with `async_from_directory`."""
        await self.async_fetch("csv")
        return await asyncio.to_thread(lambda: self.csv)

    async def async_html(self) -> HTMLResult | None:
        """`html`, fetched first for a run opened with `async_from_directory`."""
        await self.async_fetch("html")
        return await asyncio.to_thread(lambda: self.html)

    async def async_eso(self) -> ESOResult | None:
        """`eso`, fetched first for a run opened with `async_from_directory`."""
        await self.async_fetch("eso")
        return await asyncio.to_thread(lambda: self.eso)

    async def async_mtr(self) -> ESOResult | None:
        """`mtr`, fetched first for a run opened with `async_from_directory`."""
        await self.async_fetch("mtr")
        return await asyncio.to_thread(lambda: self.mtr)

    def _name(self, kind: str) -> str:
        """The file name of an output kind (a `SimulationResult` that knows its run's naming overrides it)."""
        from epcloud.results.simulation_result import output_name

        return output_name(kind, self.output_prefix)

    def _output(self, kind: str) -> Path | None:
        """The local path of an output; when the run made it but it was not stored, say so (and None)."""
        path = self.path(kind)
        name = self._name(kind)
        if path is None and self.status is not None and name in self.status.outputs:
            logger.warning(
                "%s: the run wrote %s but it was not uploaded (the default upload= set leaves it out; "
                "run with upload='all' or an upload= pattern that includes it)",
                self.location,
                name,
            )
        return path
