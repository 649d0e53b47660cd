"""A small bar chart of weekly hours, drawn as inline SVG on the server (no script, no
library, works offline and under the strict CSP). Pure: values in, markup out.

Each week is a bar (hours attended) with a dark tick at the hours expected. The chart is
one image for assistive technologies (``role="img"`` and ``aria-label``); the page puts
the same figures in a table next to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH_PER_BAR = 36
HEIGHT = 220
TOP, BOTTOM, LEFT, RIGHT = 16, 36, 48, 8
MET, SHORT, TARGET, AXIS, TEXT = "#18753c", "#000091", "#161616", "#c8c8c8", "#555555"


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # under the bar, short: "23/11"
    value: float  # hours attended
    target: float  # hours expected


def weekly_bars(
    bars: Sequence[Bar],
    *,
    label: str,
    unit: Callable[[float], str] = lambda value: f"{value:g} h",
) -> Markup:
    """An SVG of ``bars`` described by ``label``; ``unit`` writes an axis value."""
    top = _scale_top(max([1.0, *(b.value for b in bars), *(b.target for b in bars)]))
    width = LEFT + RIGHT + WIDTH_PER_BAR * max(len(bars), 1)
    plot = HEIGHT - TOP - BOTTOM
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {HEIGHT}" '
        f'width="{width}" height="{HEIGHT}" role="img" aria-label="{escape(label)}">',
        f"<title>{escape(label)}</title>",
    ]
    for tick in (0.0, top / 2, top):
        y = _y(tick, top, plot)
        parts.append(
            f'<line x1="{LEFT}" x2="{width - RIGHT}" y1="{y}" y2="{y}" stroke="{AXIS}"/>'
            f'<text x="{LEFT - 4}" y="{y + 4}" text-anchor="end" font-size="11" '
            f'fill="{TEXT}">{escape(unit(tick))}</text>'
        )
    every = max(1, -(-len(bars) // 12))  # at most 12 labels under the bars
    for index, bar in enumerate(bars):
        parts.append(_bar(index, bar, top, plot, show_label=index % every == 0))
    parts.append("</svg>")
    return Markup("".join(parts))  # noqa: S704 - every text in it is escaped above


def _bar(index: int, bar: Bar, top: float, plot: int, *, show_label: bool) -> str:
    x = LEFT + index * WIDTH_PER_BAR + 6
    width = WIDTH_PER_BAR - 12
    y = _y(bar.value, top, plot)
    colour = MET if bar.target and bar.value >= bar.target else SHORT
    drawn = [f'<rect x="{x}" y="{y}" width="{width}" height="{TOP + plot - y}" fill="{colour}"/>']
    if bar.target:
        target = _y(bar.target, top, plot)
        drawn.append(
            f'<line x1="{x - 3}" x2="{x + width + 3}" y1="{target}" y2="{target}" '
            f'stroke="{TARGET}" stroke-width="3"/>'
        )
    if show_label:
        drawn.append(
            f'<text x="{x + width / 2:g}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle" '
            f'font-size="11" fill="{TEXT}">{escape(bar.label)}</text>'
        )
    return "".join(drawn)


def _y(value: float, top: float, plot: int) -> int:
    return round(TOP + plot - plot * min(value, top) / top)


def _scale_top(highest: float) -> float:
    """A round top for the axis: the next multiple of 4 hours (2 under 4 h)."""
    step = 4 if highest > 4 else 2
    return float(-(-highest // step) * step)
