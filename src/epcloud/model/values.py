"""Field values: raw IDF text is what is stored; these turn it into Python values and back."""

from __future__ import annotations

import math
import numbers
import re

__all__ = ["NUMBER", "FieldValue", "to_python", "to_raw"]

NUMBER = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")
_FORBIDDEN = re.compile(r"[,;!\r\n]")

FieldValue = str | int | float | None


def to_python(raw: str, numeric: bool, integer: bool) -> FieldValue:
    """The value of a raw field: None when empty, a number when the field takes numbers, else the text."""
    if not raw:
        return None
    if numeric and NUMBER.fullmatch(raw):
        number = float(raw)
        return int(number) if integer and number.is_integer() else number
    return raw


def to_raw(value: object) -> str:
    """The IDF text of a Python value; refuses what cannot be written into an IDF field."""
    if isinstance(value, str):
        text = value.strip()
        if _FORBIDDEN.search(text):
            raise ValueError(f"an IDF field cannot contain ',', ';', '!' or a line break: {value!r}")
        return text
    if value is None:
        return ""
    if isinstance(value, bool):
        raise TypeError(f"EnergyPlus has no booleans; write 'Yes' or 'No' instead of {value!r}")
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        if not math.isfinite(number):
            raise ValueError(f"EnergyPlus fields cannot hold {value!r}")
        return repr(number)
    raise TypeError(f"a field value must be a number, a string or None, not {type(value).__name__}")
