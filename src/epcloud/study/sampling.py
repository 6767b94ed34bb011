"""Sampling designs of a sweep: the full grid, random, Latin hypercube and Sobol (scipy.stats.qmc),
Saltelli/Sobol and Morris (SALib); every design is reproducible from its seed.

A design is computed on each parameter's own scale: a continuous parameter between ``low`` and ``high``,
a discrete one (``values``) on [0, 1], mapped to one of its values by equal-width bins.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from epcloud.errors import SweepError

__all__ = ["METHODS", "Axis", "Design", "make_design"]

METHODS = ("grid", "random", "lhs", "sobol", "morris")
_INSTALL = "install the sampling libraries with `pip install 'epcloud[sweep]'`"


@dataclass(frozen=True)
class Axis:
    """One parameter as the samplers see it: discrete ``values`` or a continuous ``low``..``high``."""

    name: str
    values: tuple[Any, ...] | None = None
    low: float | None = None
    high: float | None = None

    @property
    def bounds(self) -> tuple[float, float]:
        """The range the design is drawn on ([0, 1] for a discrete parameter)."""
        if self.values is not None:
            return 0.0, 1.0
        assert self.low is not None and self.high is not None
        return float(self.low), float(self.high)

    def value(self, x: float) -> Any:
        """The parameter value of a design coordinate."""
        if self.values is None:
            return float(x)
        k = len(self.values)
        return self.values[min(max(int(x * k), 0), k - 1)]


@dataclass(frozen=True)
class Design:
    """The samples of a sweep: ``matrix`` on the axes' scales (what SALib analyses), ``rows`` as values."""

    method: str
    axes: tuple[Axis, ...]
    matrix: list[list[float]]
    rows: list[dict[str, Any]]

    def problem(self) -> dict[str, Any]:
        """The SALib problem of this design."""
        return _problem(self.axes)


def _problem(axes: Sequence[Axis]) -> dict[str, Any]:
    return {"num_vars": len(axes), "names": [a.name for a in axes], "bounds": [list(a.bounds) for a in axes]}


def _check_count(method: str, samples: int | None, where: str) -> int:
    if samples is None:
        raise SweepError(f"{where}: method {method!r} needs `samples` (how many samples to draw)")
    if isinstance(samples, bool) or not isinstance(samples, int) or samples < 1:
        raise SweepError(f"{where}: `samples` must be a whole number of at least 1, got {samples!r}")
    return samples


def _grid(axes: Sequence[Axis], where: str) -> list[list[float]]:
    continuous = [a.name for a in axes if a.values is None]
    if continuous:
        raise SweepError(
            f"{where}: method 'grid' takes discrete values, but {', '.join(continuous)} "
            "give low/high: list `values:` for them, or choose random, lhs, sobol or morris"
        )
    # the coordinate of value i of k is the middle of its bin, so Axis.value maps it back exactly
    coords = [[(i + 0.5) / len(a.values or ()) for i in range(len(a.values or ()))] for a in axes]
    return [list(point) for point in itertools.product(*coords)]


def _unit_to_bounds(unit: Any, axes: Sequence[Axis]) -> list[list[float]]:
    rows = []
    for point in unit:
        rows.append(
            [lo + float(u) * (hi - lo) for u, (lo, hi) in zip(point, [a.bounds for a in axes], strict=True)]
        )
    return rows


def _qmc(method: str, axes: Sequence[Axis], samples: int, seed: int | None) -> list[list[float]]:
    try:
        from scipy.stats import qmc  # type: ignore[import-untyped]
    except ImportError as exc:
        raise SweepError(f"method {method!r} needs scipy: {_INSTALL}") from exc
    engine = qmc.LatinHypercube(d=len(axes), seed=seed)
    return _unit_to_bounds(engine.random(samples), axes)


def _random(axes: Sequence[Axis], samples: int, seed: int | None) -> list[list[float]]:
    import numpy as np

    return _unit_to_bounds(np.random.default_rng(seed).random((samples, len(axes))), axes)


def _sobol(axes: Sequence[Axis], samples: int, seed: int | None, where: str) -> list[list[float]]:
    if samples & (samples - 1):
        lower = 1 << (samples.bit_length() - 1)
        raise SweepError(
            f"{where}: method 'sobol' needs `samples` to be a power of two (the Sobol sequence's "
            f"balance), got {samples}: use {lower} or {lower * 2}"
        )
    try:
        from SALib.sample import sobol
    except ImportError as exc:
        raise SweepError(f"method 'sobol' needs SALib: {_INSTALL}") from exc
    matrix = sobol.sample(_problem(axes), samples, calc_second_order=False, seed=seed)
    return [list(map(float, row)) for row in matrix]


def _morris(
    axes: Sequence[Axis], samples: int, seed: int | None, levels: int, where: str
) -> list[list[float]]:
    if isinstance(levels, bool) or not isinstance(levels, int) or levels < 2 or levels % 2:
        raise SweepError(
            f"{where}: method 'morris' needs `levels` to be an even whole number of at least 2 "
            f"(the grid each parameter steps on), got {levels!r}"
        )
    try:
        from SALib.sample import morris
    except ImportError as exc:
        raise SweepError(f"method 'morris' needs SALib: {_INSTALL}") from exc
    matrix = morris.sample(_problem(axes), samples, num_levels=levels, seed=seed)
    return [list(map(float, row)) for row in matrix]


def make_design(
    method: str,
    axes: Sequence[Axis],
    *,
    samples: int | None = None,
    seed: int | None = None,
    levels: int = 4,
    where: str = "sampling",
) -> Design:
    """The samples of ``axes`` by ``method``; rules of each method are checked with messages naming them.

    `samples` is the number of samples for random and lhs, the base count N of the Saltelli design for
    sobol (N × (parameters + 2) samples) and the number of trajectories for morris (N × (parameters + 1)).
    """
    if method not in METHODS:
        raise SweepError(
            f"{where}.method: {method!r} is not a sampling method; choose one of {list(METHODS)}"
        )
    if not axes:
        raise SweepError(f"{where}: the sweep has no parameters to sample")
    if method == "grid":
        if samples is not None:
            raise SweepError(
                f"{where}: method 'grid' runs every combination of the values; remove `samples` "
                "or choose random, lhs, sobol or morris"
            )
        matrix = _grid(axes, where)
    else:
        count = _check_count(method, samples, where)
        if method == "random":
            matrix = _random(axes, count, seed)
        elif method == "lhs":
            matrix = _qmc(method, axes, count, seed)
        elif method == "sobol":
            matrix = _sobol(axes, count, seed, where)
        else:
            matrix = _morris(axes, count, seed, levels, where)
    rows = [{a.name: a.value(x) for a, x in zip(axes, point, strict=True)} for point in matrix]
    return Design(method, tuple(axes), matrix, rows)
