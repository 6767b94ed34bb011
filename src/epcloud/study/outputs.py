"""Requested series exist: the `Output:Variable` / `Output:Meter` objects a study's variables need,
added to a model at create time when it lacks them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from epcloud.model import IDFDocument
    from epcloud.study.manifest import VariableRequest

__all__ = ["DEFAULT_FREQUENCY", "add_requested_outputs", "is_meter"]

DEFAULT_FREQUENCY = "Hourly"


def is_meter(name: str) -> bool:
    """Meters are named Resource:Group ("Electricity:Facility"); output variables have no colon."""
    return ":" in name


def _same(a: object, b: str) -> bool:
    return isinstance(a, str) and a.strip().upper() == b.strip().upper()


def add_requested_outputs(doc: IDFDocument, requests: Sequence[VariableRequest]) -> list[str]:
    """Add an output object for each request the model does not report yet (in place).

    Frequency defaults to hourly and the key to "*"; returns the names added.
    """
    added = []
    for request in requests:
        frequency = request.frequency or DEFAULT_FREQUENCY
        if is_meter(request.name):
            present = any(
                _same(obj.key_name, request.name) and _same(obj.reporting_frequency or "Hourly", frequency)
                for obj in doc["Output:Meter"]
            )
            if not present:
                doc.add("Output:Meter", key_name=request.name, reporting_frequency=frequency)
                added.append(request.name)
            continue
        present = any(
            _same(obj.variable_name, request.name)
            and (_same(obj.key_value or "*", "*") or _same(obj.key_value, request.key))
            and _same(obj.reporting_frequency or "Hourly", frequency)
            for obj in doc["Output:Variable"]
        )
        if not present:
            doc.add(
                "Output:Variable",
                key_value=request.key,
                variable_name=request.name,
                reporting_frequency=frequency,
            )
            added.append(request.name)
    return added
