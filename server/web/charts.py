"""Charts drawn on the server as inline SVG: no JavaScript library, no CDN.

Pure functions, data in, SVG text out (as ``Markup``, every label escaped). Each chart
is one ``role="img"`` with an ``aria-label`` and a ``<title>``; the page puts a data
table next to it (the text alternative). Colours are presentation attributes, not
``style=`` (the Content-Security-Policy refuses inline styles).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from markupsafe import Markup, escape

INK = "#161616"
BLACK = "#000000"  # heatmap text: mid-blue cells need pure black to reach 4.5:1
GREY = "#555555"
LINE = "#c8c8c8"
BLUE = "#000091"
RED = "#ce0500"
AREA = "#e3e3fd"
LIGHT = (245, 245, 254)  # the empty end of the heatmap scale
DARK = (0, 0, 145)  # bleu France, the full end
_NICE_STEPS = (1, 2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)

Span = tuple[datetime, datetime, int]


def _svg(width: int, height: int, label: str, body: list[str]) -> Markup:
    text = escape(label)
    head = (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {width} {height}" '
        f'width="{width}" height="{height}" role="img" aria-label="{text}" '
        f'font-family="system-ui, sans-serif" font-size="12">'
    )
    # Every text put in the parts went through escape() where it was written.
    return Markup(head + f"<title>{text}</title>" + "".join(body) + "</svg>")  # noqa: S704


def nice_step(maximum: int, *, most: int = 6) -> int:
    """A round tick step giving at most ``most`` intervals up to ``maximum``."""
    for step in _NICE_STEPS:
        if maximum / step <= most:
            return step
    return _NICE_STEPS[-1] * (maximum // (_NICE_STEPS[-1] * most) + 1)


def step_chart(
    spans: Sequence[Span],
    *,
    start: datetime,
    end: datetime,
    ticks: Sequence[tuple[datetime, str]],
    capacity: int | None,
    label: str,
    capacity_label: str = "",
    width: int = 720,
    height: int = 260,
) -> Markup:
    """A count over time (a step function, filled below) with the capacity as a dashed
    line; ``ticks`` are the time axis labels, already formatted by the caller."""
    left, right, top, bottom = 44, 12, 12, 28
    plot_w, plot_h = width - left - right, height - top - bottom
    peak = max([count for _, _, count in spans] + [capacity or 0, 1])
    step = nice_step(peak)
    top_value = -(-peak // step) * step
    total = max((end - start).total_seconds(), 1.0)

    def x(moment: datetime) -> float:
        return round(left + plot_w * (moment - start).total_seconds() / total, 1)

    def y(value: float) -> float:
        return round(top + plot_h * (1 - value / top_value), 1)

    body = [_y_axis(step, top_value, left, width - right, y)]
    body += [_x_tick(x(moment), top, top + plot_h, text) for moment, text in ticks]
    if spans:
        points = []
        for first, last, count in spans:
            points += [f"{x(first)},{y(count)}", f"{x(last)},{y(count)}"]
        line = " ".join(points)
        base = f"{x(spans[-1][1])},{y(0)} {x(spans[0][0])},{y(0)}"
        body.append(f'<polygon points="{line} {base}" fill="{AREA}" stroke="none"/>')
        body.append(f'<polyline points="{line}" fill="none" stroke="{BLUE}" stroke-width="2"/>')
    if capacity:
        body.append(
            f'<line x1="{left}" x2="{width - right}" y1="{y(capacity)}" y2="{y(capacity)}" '
            f'stroke="{RED}" stroke-width="2" stroke-dasharray="6 4"/>'
            f'<text x="{width - right - 4}" y="{y(capacity) - 4}" text-anchor="end" '
            f'fill="{RED}">{escape(capacity_label)}</text>'
        )
    return _svg(width, height, label, body)


def _y_axis(step: int, top_value: int, x1: int, x2: int, y: Callable[[float], float]) -> str:
    parts = []
    for value in range(0, top_value + 1, step):
        parts.append(
            f'<line x1="{x1}" x2="{x2}" y1="{y(value)}" y2="{y(value)}" stroke="{LINE}"/>'
            f'<text x="{x1 - 6}" y="{y(value) + 4}" text-anchor="end" fill="{GREY}">{value}</text>'
        )
    return "".join(parts)


def _x_tick(at: float, y1: float, y2: float, text: str) -> str:
    return (
        f'<line x1="{at}" x2="{at}" y1="{y1}" y2="{y2}" stroke="{LINE}" stroke-dasharray="2 3"/>'
        f'<text x="{at}" y="{y2 + 18}" text-anchor="middle" fill="{GREY}">{escape(text)}</text>'
    )


def heatmap(
    cells: Mapping[tuple[int, int], float],
    *,
    rows: Sequence[str],
    hours: Sequence[int],
    label: str,
    value_text: Callable[[float], str],
    maximum: float | None = None,
) -> Markup:
    """Rows are weekdays (0 = Monday, labelled by ``rows``), columns local hours; each
    cell prints its value in the colour that contrasts best with its background."""
    cell_w, cell_h, left, top = 44, 30, 56, 22
    width, height = left + cell_w * len(hours) + 2, top + cell_h * len(rows) + 2
    highest = maximum or max([*cells.values(), 1.0])
    body = []
    for column, hour in enumerate(hours):
        body.append(
            f'<text x="{left + column * cell_w + cell_w / 2}" y="{top - 7}" '
            f'text-anchor="middle" fill="{GREY}">{hour}h</text>'
        )
    for row, name in enumerate(rows):
        y = top + row * cell_h
        body.append(
            f'<text x="{left - 6}" y="{y + cell_h / 2 + 4}" text-anchor="end" '
            f'fill="{INK}">{escape(name)}</text>'
        )
        for column, hour in enumerate(hours):
            body.append(
                _cell(
                    left + column * cell_w,
                    y,
                    cell_w,
                    cell_h,
                    cells.get((row, hour)),
                    highest,
                    value_text,
                )
            )
    return _svg(width, height, label, body)


def _cell(
    x: float,
    y: float,
    w: int,
    h: int,
    value: float | None,
    highest: float,
    value_text: Callable[[float], str],
) -> str:
    if value is None:
        return (
            f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="#ffffff" stroke="{LINE}"/>'
            f'<text x="{x + w / 2}" y="{y + h / 2 + 4}" text-anchor="middle" fill="{GREY}">–</text>'
        )
    background = shade(min(1.0, value / highest) if highest else 0.0)
    return (
        f'<rect x="{x}" y="{y}" width="{w}" height="{h}" fill="{background}" stroke="#ffffff"/>'
        f'<text x="{x + w / 2}" y="{y + h / 2 + 4}" text-anchor="middle" '
        f'fill="{text_colour(background)}">{escape(value_text(value))}</text>'
    )


def shade(share: float) -> str:
    """The colour of a cell: light for 0, bleu France for 1."""
    red, green, blue = (round(a + (b - a) * share) for a, b in zip(LIGHT, DARK, strict=True))
    return f"#{red:02x}{green:02x}{blue:02x}"


def luminance(colour: str) -> float:
    """WCAG relative luminance of ``#rrggbb``."""
    channels = [int(colour[i : i + 2], 16) / 255 for i in (1, 3, 5)]
    linear = [c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4 for c in channels]
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2]


def contrast(first: str, second: str) -> float:
    high, low = sorted((luminance(first), luminance(second)), reverse=True)
    return (high + 0.05) / (low + 0.05)


def text_colour(background: str) -> str:
    """Black or white, whichever reads best on ``background``: at least 4.5:1 (WCAG AA)
    on every shade of the scale."""
    return BLACK if contrast(BLACK, background) >= contrast("#ffffff", background) else "#ffffff"


def bar_chart(bars: Sequence[tuple[str, float]], label: str, *, unit: str = "") -> Markup:
    """Vertical bars, one per ``(label, value)`` in order, each with its value written
    above it (the annual report's headcount over the years, hours distribution)."""
    width, height, left, bottom, top = 60 + 80 * max(1, len(bars)), 220, 44, 28, 20
    top_value = max([value for _, value in bars] + [1])
    step = nice_step(int(top_value) + 1)
    ceiling = step * (int(top_value) // step + 1)

    def y(value: float) -> float:
        return height - bottom - (height - bottom - top) * value / ceiling

    body = [_y_axis(step, ceiling, left, width - 10, y)]
    for index, (name, value) in enumerate(bars):
        x = left + 16 + index * 80
        body.append(
            f'<rect x="{x}" y="{y(value):.1f}" width="48" height="{y(0) - y(value):.1f}" '
            f'fill="{BLUE}"><title>{escape(name)}: {value:g}{escape(unit)}</title></rect>'
            f'<text x="{x + 24}" y="{y(value) - 4:.1f}" text-anchor="middle" fill="{INK}">'
            f"{value:g}{escape(unit)}</text>"
            f'<text x="{x + 24}" y="{height - 10}" text-anchor="middle" fill="{INK}">'
            f"{escape(name)}</text>"
        )
    return _svg(width, height, label, body)
