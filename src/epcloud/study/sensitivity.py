"""Which parameter matters: sensitivity indices of a result column over a sweep study's jobs.

Sobol first-order and total indices for a ``sobol`` design, Morris mu*/sigma for ``morris`` (SALib),
standardised regression coefficients and Spearman rank correlation for any other design. The design is
rebuilt from the sweep the study recorded (same seed, same samples), so nothing but the jobs table is read.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from epcloud.errors import SweepError
from epcloud.study.sampling import Axis, Design, make_design

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["METHOD_NAMES", "sensitivity"]

METHOD_NAMES = {
    "sobol": "Sobol indices (S1 first order, ST total)",
    "morris": "Morris elementary effects (mu_star, sigma)",
    "regression": "standardised regression coefficients (src) and Spearman rank correlation (spearman)",
}


def _design(record: Mapping[str, Any]) -> Design:
    axes = []
    for param in record["parameters"]:
        values = param.get("values")
        axes.append(
            Axis(param["name"], values=tuple(values) if values is not None else None)
            if values is not None
            else Axis(param["name"], low=param["low"], high=param["high"])
        )
    return make_design(
        record["method"],
        axes,
        samples=record.get("samples"),
        seed=record.get("seed"),
        levels=int(record.get("levels") or 4),
    )


def _numeric(column: pd.Series, axis: Axis) -> pd.Series:
    """A parameter as numbers: its values, or a discrete value's position among the values."""
    import pandas as pd

    if axis.values is not None and not all(isinstance(v, (int, float)) for v in axis.values):
        codes = {v: i for i, v in enumerate(axis.values)}
        return column.map(codes).astype("float64")
    return pd.to_numeric(column, errors="coerce").astype("float64")


def _regression(group: pd.DataFrame, target: str, axes: tuple[Axis, ...]) -> list[dict[str, Any]]:
    import numpy as np
    import pandas as pd

    frame = group.dropna(subset=[target])
    y = frame[target].to_numpy(dtype=float)
    columns = [_numeric(frame[a.name], a).to_numpy(dtype=float) for a in axes]
    if len(y) < len(axes) + 2:
        raise SweepError(
            f"sensitivity of {target!r}: {len(y)} finished jobs are too few for {len(axes)} parameters "
            f"(need at least {len(axes) + 2})"
        )
    if np.ptp(y) == 0:
        raise SweepError(
            f"sensitivity of {target!r}: the column has the same value ({y[0]:g}) in every job, so no "
            "parameter changes it (runs of the design days only report no annual energy: choose another "
            "column, or run annual)"
        )
    x = np.column_stack(columns)
    spread = x.std(axis=0)
    standard = np.divide(x - x.mean(axis=0), spread, out=np.zeros_like(x), where=spread > 0)
    y_spread = y.std()
    y_standard = (y - y.mean()) / y_spread if y_spread > 0 else np.zeros_like(y)
    coefficients, *_ = np.linalg.lstsq(np.column_stack([standard, np.ones(len(y))]), y_standard, rcond=None)
    rows: list[dict[str, Any]] = []
    for k, axis in enumerate(axes):
        ranks = pd.Series(x[:, k]).rank().corr(pd.Series(y).rank()) if spread[k] > 0 else float("nan")
        rows.append({"parameter": axis.name, "src": float(coefficients[k]), "spearman": float(ranks)})
    rows.sort(key=lambda r: -abs(float(r["src"])))
    return rows


def _ordered_target(group: pd.DataFrame, target: str, count: int, method: str) -> Any:
    import numpy as np

    ordered = group.sort_values("sample")
    y = ordered[target].to_numpy(dtype=float)
    missing = int(np.isnan(y).sum())
    if len(y) != count or missing:
        raise SweepError(
            f"sensitivity of {target!r}: a {method} design needs every one of its {count} samples, "
            f"but {missing + count - len(y)} have no value (failed or not run yet); rerun them "
            "(epcloud rerun --failed --missing) and collect again"
        )
    return y


def _salib(
    group: pd.DataFrame, target: str, design: Design, seed: int | None, levels: int
) -> list[dict[str, Any]]:
    import numpy as np
    from SALib.analyze import morris, sobol

    y = _ordered_target(group, target, len(design.matrix), design.method)
    names = [a.name for a in design.axes]
    if design.method == "sobol":
        found = sobol.analyze(design.problem(), y, calc_second_order=False, seed=seed)
        rows: list[dict[str, Any]] = [
            {
                "parameter": name,
                "S1": float(found["S1"][k]),
                "S1_conf": float(found["S1_conf"][k]),
                "ST": float(found["ST"][k]),
                "ST_conf": float(found["ST_conf"][k]),
            }
            for k, name in enumerate(names)
        ]
        rows.sort(key=lambda r: -float(r["ST"]))
        return rows
    found = morris.analyze(design.problem(), np.asarray(design.matrix), y, num_levels=levels, seed=seed)
    rows = [
        {
            "parameter": name,
            "mu_star": float(found["mu_star"][k]),
            "mu_star_conf": float(found["mu_star_conf"][k]),
            "sigma": float(found["sigma"][k]),
        }
        for k, name in enumerate(names)
    ]
    rows.sort(key=lambda r: -float(r["mu_star"]))
    return rows


def sensitivity(jobs: pd.DataFrame, target: str, sweep: Mapping[str, Any] | None) -> pd.DataFrame:
    """Rank a sweep's parameters for the result column ``target`` of the jobs table.

    Returns one row per parameter (and per weather file when the sweep has several), most influential
    first, with a ``method`` column naming the analysis.
    """
    import pandas as pd

    if not sweep:
        raise SweepError(
            "sensitivity needs a sweep study (created from a sweep file or a Sweep); this study has no "
            "recorded parameters"
        )
    if target not in jobs.columns:
        numeric = [c for c in jobs.columns if pd.api.types.is_float_dtype(jobs[c])][:12]
        raise SweepError(f"no column {target!r} in the jobs table; result columns include {numeric}")
    if not pd.api.types.is_numeric_dtype(jobs[target]):
        raise SweepError(f"column {target!r} is not numeric; choose a result column such as an energy total")
    if target in {p["name"] for p in sweep["parameters"]}:
        raise SweepError(f"{target!r} is a parameter of the sweep; choose a result column as the target")
    design = _design(sweep)
    method = design.method if design.method in ("sobol", "morris") else "regression"
    several = "weather" in jobs.columns and len(sweep.get("weather") or ()) > 1
    groups = list(jobs.groupby("weather", sort=True)) if several else [(None, jobs)]
    out = []
    for weather, group in groups:
        if method == "regression":
            rows = _regression(group, target, design.axes)
        else:
            rows = _salib(group, target, design, sweep.get("seed"), int(sweep.get("levels") or 4))
        for row in rows:
            out.append({"method": method, **({"weather": weather} if several else {}), **row})
    frame: pd.DataFrame = pd.DataFrame(out)
    frame.attrs["method"] = METHOD_NAMES[method]
    frame.attrs["target"] = target
    return frame
