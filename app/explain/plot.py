"""Geometry for small log-log line plots drawn as inline SVG by the templates (no JavaScript library).

Everything here is plain numbers and strings; the template only places them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass
class Axis:
    """A log10 axis mapping [lo, hi] (decades) onto pixels [start, end]."""

    lo: int
    hi: int
    start: float
    end: float

    def at(self, value: float) -> float:
        return self.start + (math.log10(value) - self.lo) / (self.hi - self.lo) * (self.end - self.start)

    def ticks(self) -> list[tuple[float, str]]:
        """One tick per power of ten: (pixel, label)."""
        return [(round(self.at(10.0**d), 1), tick_label(d)) for d in range(self.lo, self.hi + 1)]


@dataclass
class Plot:
    width: int
    height: int
    x: Axis
    y: Axis
    lines: dict[str, str] = field(default_factory=dict)  # name -> SVG polyline points
    markers: list[dict] = field(default_factory=list)  # vertical guides with a label and a dot


def tick_label(decade: int) -> str:
    """1,000 for 3 and 0.01 for -2; powers of ten beyond a million or below a thousandth as 1e7."""
    if -3 <= decade <= 6:
        return f"{10.0**decade:,.{max(0, -decade)}f}"
    return f"1e{decade}"


def decades(values: list[float]) -> tuple[int, int]:
    """The powers of ten just around the positive values."""
    positive = [v for v in values if v > 0]
    lo, hi = math.floor(math.log10(min(positive))), math.ceil(math.log10(max(positive)))
    return lo, max(hi, lo + 1)


def loglog(
    ns: list[int],
    lines: dict[str, list[float]],
    markers: list[tuple[str, int, float]],
    width: int = 640,
    height: int = 300,
    margin: tuple[int, int, int, int] = (20, 40, 40, 80),
) -> Plot | None:
    """A plot of each line (values over ns) on log-log axes, or None when nothing is positive.

    markers are (label, n, value) points to point out; margin is (top, right, bottom, left).
    """
    values = [v for line in lines.values() for v in line]
    if not any(v > 0 for v in values):
        return None
    top, right, bottom, left = margin
    x = Axis(0, math.ceil(math.log10(max(ns))), left, width - right)
    y = Axis(*decades(values), height - bottom, top)
    plot = Plot(width, height, x, y)
    for name, line in lines.items():
        plot.lines[name] = " ".join(f"{x.at(n):.1f},{y.at(v):.1f}" for n, v in zip(ns, line) if v > 0)
    for label, n, value in markers:
        if value > 0:
            px = round(x.at(n), 1)
            # labels point inwards, so that neither end of the plot cuts them off
            anchor = "start" if px < (x.start + x.end) / 2 else "end"
            # the lines rise to the right: a label below-right or above-left of its dot stays off them
            plot.markers.append(
                {
                    "label": label,
                    "x": px,
                    "y": round(y.at(value), 1),
                    "anchor": anchor,
                    "dx": 8 if anchor == "start" else -8,
                    "dy": 16 if anchor == "start" else -8,
                }
            )
    return plot
