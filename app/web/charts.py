"""Geometry for small line charts on linear axes, drawn as inline SVG by templates/macros.html.

Plain numbers and strings only: the template places them. Used by the GAN lab's curves and the
defenses' robustness and sweep plots. (Log-log plots for the linear toy live in app/explain/plot.py.)
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class LinearAxis:
    """Maps [lo, hi] onto pixels [start, end]."""

    lo: float
    hi: float
    start: float
    end: float

    def at(self, value: float) -> float:
        span = (self.hi - self.lo) or 1.0
        return self.start + (value - self.lo) / span * (self.end - self.start)

    def ticks(self, count: int = 5) -> list[tuple[float, str]]:
        """About ``count`` round values: (pixel, label)."""
        step = nice_step((self.hi - self.lo) / max(count, 1))
        first = math.ceil(self.lo / step - 1e-9) * step
        values = [first + i * step for i in range(int((self.hi - first) / step + 1e-9) + 1)]
        digits = max(0, -math.floor(math.log10(step))) if step < 1 else 0
        return [(round(self.at(v), 1), f"{v:.{digits}f}") for v in values]


def nice_step(raw: float) -> float:
    """1, 2 or 5 times a power of ten, at least ``raw``."""
    if raw <= 0 or not math.isfinite(raw):
        return 1.0
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw - 1e-12)


@dataclass
class Chart:
    width: int
    height: int
    x: LinearAxis
    y: LinearAxis
    lines: dict[str, str] = field(default_factory=dict)  # name -> SVG polyline points


def line_chart(series: dict[str, list[tuple[float, float]]], *, width: int = 420, height: int = 200,
               x_range: tuple[float, float] | None = None, y_range: tuple[float, float] | None = None,
               margin: tuple[int, int, int, int] = (12, 12, 32, 48)) -> Chart:
    """One polyline per series of (x, y) points; ranges default to the data's. Non-finite points are dropped.

    margin is (top, right, bottom, left)."""
    points = [(x, y) for line in series.values() for x, y in line if math.isfinite(x) and math.isfinite(y)]
    xs, ys = [p[0] for p in points] or [0.0, 1.0], [p[1] for p in points] or [0.0, 1.0]
    x_lo, x_hi = x_range or (min(xs), max(xs))
    y_lo, y_hi = y_range or (min(ys), max(ys))
    if y_hi - y_lo < 1e-9:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    top, right, bottom, left = margin
    chart = Chart(width, height, LinearAxis(x_lo, x_hi, left, width - right),
                  LinearAxis(y_lo, y_hi, height - bottom, top))
    for name, line in series.items():
        chart.lines[name] = " ".join(
            f"{chart.x.at(x):.1f},{chart.y.at(min(max(y, y_lo), y_hi)):.1f}"
            for x, y in line if math.isfinite(x) and math.isfinite(y))
    return chart
