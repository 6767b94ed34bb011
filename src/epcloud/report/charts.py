"""Small SVG charts drawn by hand (no plotting library, no network): bars, stacked bars, histograms, lines.

Every chart is an ``<svg class="chart">`` with its marks tagged ``class="mark"``, so a browser test can count
what was drawn.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from html import escape

__all__ = ["PALETTE", "bar_chart", "histogram", "line_chart", "stacked_bars"]

PALETTE = ("#4477aa", "#ee6677", "#228833", "#ccbb44", "#66ccee", "#aa3377", "#bbbbbb", "#ee8866", "#44bb99")
_W, _H = 720, 300
_LEFT, _RIGHT, _TOP, _BOTTOM = 70, 20, 20, 40


def _svg(title: str, body: list[str], height: int = _H) -> str:
    return (
        f'<svg class="chart" role="img" aria-label="{escape(title)}" viewBox="0 0 {_W} {height}" '
        f'width="{_W}" height="{height}" xmlns="http://www.w3.org/2000/svg">'
        f"<title>{escape(title)}</title>{''.join(body)}</svg>"
    )


def _nice_max(value: float) -> float:
    if value <= 0 or not math.isfinite(value):
        return 1.0
    magnitude = 10 ** math.floor(math.log10(value))
    for step in (1, 2, 2.5, 5, 10):
        if value <= step * magnitude:
            return step * magnitude
    return 10 * magnitude


def _number(value: float) -> str:
    return f"{value:.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def _y_axis(top: float, plot_h: float, y_max: float, y_min: float = 0.0) -> list[str]:
    parts = []
    for i in range(5):
        value = y_min + (y_max - y_min) * i / 4
        y = top + plot_h - plot_h * i / 4
        parts.append(f'<line x1="{_LEFT}" x2="{_W - _RIGHT}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>')
        parts.append(
            f'<text x="{_LEFT - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{_number(value)}</text>'
        )
    return parts


def _x_label(plot_w: float, text: str) -> str:
    return f'<text x="{_LEFT + plot_w / 2}" y="{_H - 6}" text-anchor="middle" font-size="12">{text}</text>'


def bar_chart(title: str, values: Mapping[str, float], unit: str = "") -> str:
    """One bar per category."""
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    y_max = _nice_max(max(values.values(), default=0.0))
    body = _y_axis(_TOP, plot_h, y_max)
    slot = plot_w / max(len(values), 1)
    for i, (name, value) in enumerate(values.items()):
        h = plot_h * value / y_max
        x = _LEFT + i * slot + slot * 0.15
        body.append(
            f'<rect class="mark" x="{x:.1f}" y="{_TOP + plot_h - h:.1f}" width="{slot * 0.7:.1f}" '
            f'height="{h:.1f}" fill="{PALETTE[i % len(PALETTE)]}"><title>{escape(name)}: '
            f"{_number(value)} {escape(unit)}</title></rect>"
        )
        cx, cy = x + slot * 0.35, _H - _BOTTOM + 14
        # Many bars: slanted labels, so long names do not run into each other.
        slant = (
            f' text-anchor="end" transform="rotate(-30 {cx:.1f} {cy})"'
            if len(values) > 4
            else (' text-anchor="middle"')
        )
        body.append(
            f'<text x="{cx:.1f}" y="{cy}"{slant} font-size="12">{escape(name)} ({_number(value)})</text>'
        )
    return _svg(title, body, height=_H + (70 if len(values) > 4 else 0))


def histogram(title: str, values: Sequence[float], bins: int = 12, unit: str = "") -> str:
    """Counts of ``values`` in equal-width bins."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return _svg(title, ['<text x="20" y="40">no values</text>'])
    low, high = min(finite), max(finite)
    width = (high - low) / bins or 1.0
    counts = [0] * bins
    for v in finite:
        counts[min(int((v - low) / width), bins - 1)] += 1
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    y_max = _nice_max(max(counts))
    body = _y_axis(_TOP, plot_h, y_max)
    slot = plot_w / bins
    for i, count in enumerate(counts):
        h = plot_h * count / y_max
        start = low + i * width
        body.append(
            f'<rect class="mark" x="{_LEFT + i * slot + 1:.1f}" y="{_TOP + plot_h - h:.1f}" '
            f'width="{slot - 2:.1f}" height="{h:.1f}" fill="{PALETTE[0]}"><title>{_number(start)}–'
            f"{_number(start + width)} {escape(unit)}: {count}</title></rect>"
        )
    for i in range(0, bins + 1, max(1, bins // 4)):
        x = _LEFT + i * slot
        body.append(
            f'<text x="{x:.1f}" y="{_H - _BOTTOM + 16}" text-anchor="middle" font-size="11">'
            f"{_number(low + i * width)}</text>"
        )
    body.append(_x_label(plot_w, escape(unit)))
    return _svg(title, body)


def stacked_bars(title: str, rows: Sequence[tuple[str, Mapping[str, float]]], unit: str = "") -> str:
    """One horizontal bar per row (e.g. a job), split into its parts (e.g. end uses), with a legend."""
    parts = sorted({name for _, values in rows for name, v in values.items() if v > 0})
    colour = {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(parts)}
    bar_h, left = 18, 180
    height = _TOP + len(rows) * (bar_h + 4) + 30 + 18 * math.ceil(len(parts) / 3)
    x_max = _nice_max(max((sum(v for v in values.values() if v > 0) for _, values in rows), default=0.0))
    plot_w = _W - left - _RIGHT
    body = []
    for i, (label, values) in enumerate(rows):
        y = _TOP + i * (bar_h + 4)
        body.append(
            f'<text x="{left - 6}" y="{y + 13}" text-anchor="end" font-size="11">{escape(label[:28])}</text>'
        )
        x = float(left)
        for name in parts:
            value = values.get(name, 0.0)
            if value <= 0:
                continue
            w = plot_w * value / x_max
            body.append(
                f'<rect class="mark" x="{x:.1f}" y="{y}" width="{w:.1f}" height="{bar_h}" '
                f'fill="{colour[name]}"><title>{escape(label)} · {escape(name)}: {_number(value)} '
                f"{escape(unit)}</title></rect>"
            )
            x += w
    legend_y = _TOP + len(rows) * (bar_h + 4) + 16
    body.append(f'<text x="{left}" y="{legend_y}" font-size="11">0 … {_number(x_max)} {escape(unit)}</text>')
    for i, name in enumerate(parts):
        x, y = left + (i % 3) * 180, legend_y + 18 * (1 + i // 3)
        body.append(f'<rect x="{x}" y="{y - 10}" width="12" height="12" fill="{colour[name]}"/>')
        body.append(f'<text x="{x + 16}" y="{y}" font-size="11">{escape(name)}</text>')
    return _svg(title, body, height=max(height, 80))


def line_chart(title: str, series: Mapping[str, Sequence[float]], unit: str = "") -> str:
    """One line per named series, all sharing the x axis (the time step index)."""
    finite = [v for values in series.values() for v in values if math.isfinite(v)]
    if not finite:
        return _svg(title, ['<text x="20" y="40">no values</text>'])
    low, high = min(finite), max(finite)
    if high == low:
        high = low + 1.0
    plot_w, plot_h = _W - _LEFT - _RIGHT, _H - _TOP - _BOTTOM
    body = _y_axis(_TOP, plot_h, high, low)
    longest = max(len(values) for values in series.values())
    for i, (name, values) in enumerate(series.items()):
        step = plot_w / max(longest - 1, 1)
        points = " ".join(
            f"{_LEFT + j * step:.1f},{_TOP + plot_h - plot_h * (v - low) / (high - low):.1f}"
            for j, v in enumerate(values)
            if math.isfinite(v)
        )
        body.append(
            f'<polyline class="mark" fill="none" stroke="{PALETTE[i % len(PALETTE)]}" stroke-width="1.5" '
            f'points="{points}"><title>{escape(name)}</title></polyline>'
        )
    body.append(_x_label(plot_w, f"time step · {escape(unit)}"))
    return _svg(title, body)
