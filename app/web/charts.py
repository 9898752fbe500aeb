"""Geometry for small line charts, drawn as inline SVG by templates/macros.html: linear x, and a
linear or log10 y (for values that span decades, like the GAN lab's gradient norms).

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

    @property
    def lo_value(self) -> float:
        return self.lo

    @property
    def hi_value(self) -> float:
        return self.hi

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


@dataclass
class LogAxis:
    """Maps [10^lo, 10^hi] onto pixels [start, end] on a log10 scale; lo and hi are whole decades."""

    lo: int
    hi: int
    start: float
    end: float

    @property
    def lo_value(self) -> float:
        return 10.0**self.lo

    @property
    def hi_value(self) -> float:
        return 10.0**self.hi

    def at(self, value: float) -> float:
        return self.start + (math.log10(value) - self.lo) / ((self.hi - self.lo) or 1) * (self.end - self.start)

    def ticks(self, count: int = 8) -> list[tuple[float, str]]:
        """A tick every decade, or every few, at most about ``count``: (pixel, label such as 1e-4)."""
        every = max(1, math.ceil((self.hi - self.lo) / count))
        return [(round(self.at(10.0**d), 1), _decade(d)) for d in range(self.lo, self.hi + 1, every)]


def _decade(d: int) -> str:
    """0.001 to 1000 written out; beyond, 1e-4 and 1e4, which stay short on a narrow axis."""
    return f"{10.0**d:g}" if -3 <= d <= 3 else f"1e{d}"


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
    y: LinearAxis | LogAxis
    lines: dict[str, str] = field(default_factory=dict)  # name -> SVG polyline points


def line_chart(
    series: dict[str, list[tuple[float, float]]],
    *,
    width: int = 420,
    height: int = 200,
    x_range: tuple[float, float] | None = None,
    y_range: tuple[float, float] | None = None,
    margin: tuple[int, int, int, int] = (12, 12, 32, 48),
    log_y: bool = False,
) -> Chart:
    """One polyline per series of (x, y) points; ranges default to the data's. Non-finite points are dropped.

    margin is (top, right, bottom, left). With ``log_y`` the y axis is log10 over whole decades (y_range
    is then widened to them) and points with y <= 0, which it cannot place, are dropped too."""
    keep = (lambda y: y > 0) if log_y else (lambda y: True)
    series = {
        name: [(x, y) for x, y in line if math.isfinite(x) and math.isfinite(y) and keep(y)]
        for name, line in series.items()
    }
    points = [p for line in series.values() for p in line]
    xs, ys = [p[0] for p in points] or [0.0, 1.0], [p[1] for p in points] or [0.0, 1.0]
    x_lo, x_hi = x_range or (min(xs), max(xs))
    top, right, bottom, left = margin
    y_axis = _y_axis(y_range or (min(ys), max(ys)), height - bottom, top, log_y)
    chart = Chart(width, height, LinearAxis(x_lo, x_hi, left, width - right), y_axis)
    for name, line in series.items():
        chart.lines[name] = " ".join(
            f"{chart.x.at(x):.1f},{y_axis.at(min(max(y, y_axis.lo_value), y_axis.hi_value)):.1f}" for x, y in line
        )
    return chart


def _y_axis(y_range: tuple[float, float], start: float, end: float, log: bool) -> LinearAxis | LogAxis:
    """The y axis; a flat linear range is widened by 0.5 each way, a log one to whole decades."""
    y_lo, y_hi = y_range
    if log:
        lo = math.floor(math.log10(y_lo)) if y_lo > 0 else -1
        hi = math.ceil(math.log10(y_hi)) if y_hi > 0 else 0
        return LogAxis(lo, max(hi, lo + 1), start, end)
    if y_hi - y_lo < 1e-9:
        y_lo, y_hi = y_lo - 0.5, y_hi + 0.5
    return LinearAxis(y_lo, y_hi, start, end)
