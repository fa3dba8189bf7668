"""Charts as inline SVG drawn on the server: no chart library, no script. Each point and bar
carries its number (``data-value``) and a ``<title>``, and each chart has a table of the same
numbers beside it, for screen readers and for anyone who wants the figures."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

WIDTH, HEIGHT, PAD = 640, 220, 36
LEFT = 84  # room for the axis' top value, money included


@dataclass(frozen=True, slots=True)
class Dot:
    x: float
    y: float
    value: int
    label: str
    shown: str  # the value as people read it


@dataclass(frozen=True, slots=True)
class Line:
    name: str
    css: str  # the series' class: its colour, and its dash so colour is not all that tells
    dots: tuple[Dot, ...]

    @property
    def points(self) -> str:
        return " ".join(f"{dot.x:.1f},{dot.y:.1f}" for dot in self.dots)


@dataclass(frozen=True, slots=True)
class LineChart:
    lines: tuple[Line, ...]
    top: int  # the value at the top of the axis
    top_shown: str
    labels: tuple[str, ...]
    width: int = WIDTH
    height: int = HEIGHT
    pad: int = PAD
    left: int = LEFT


def _top(values: Sequence[int]) -> int:
    highest = max(values, default=0)
    return max(highest, 1)


def line_chart(
    series: Sequence[tuple[str, str, Sequence[int]]],
    labels: Sequence[str],
    shown: Callable[[int], str] = str,
) -> LineChart:
    """``series``: (name, css class, values), each value at the label of the same index;
    ``shown`` writes a value for people (money in its currency)."""
    top = _top([v for _, _, values in series for v in values])
    count = max(len(labels) - 1, 1)
    inner_w, inner_h = WIDTH - LEFT - PAD, HEIGHT - 2 * PAD
    lines = tuple(
        Line(
            name,
            css,
            tuple(
                Dot(
                    LEFT + inner_w * i / count,
                    PAD + inner_h * (1 - value / top),
                    value,
                    labels[i],
                    shown(value),
                )
                for i, value in enumerate(values)
            ),
        )
        for name, css, values in series
    )
    return LineChart(lines, top, shown(top), tuple(labels))


@dataclass(frozen=True, slots=True)
class Bar:
    label: str
    value: int  # percent
    detail: str
    y: float
    width: float


def bar_chart(rows: Sequence[tuple[str, int, str]]) -> tuple[Bar, ...]:
    """Horizontal bars of percentages: (label, percent, detail)."""
    inner = WIDTH - 2 * PAD - 160
    return tuple(
        Bar(label, value, detail, PAD + 28 * i, inner * min(value, 100) / 100)
        for i, (label, value, detail) in enumerate(rows)
    )


__all__ = ["Bar", "Dot", "Line", "LineChart", "bar_chart", "line_chart"]
