"""Small server-rendered SVG bar charts (no chart library, no JavaScript).

Each chart is an ``<svg role="img">`` with a <title> and <desc> for screen readers, and every
bar has its own <title> so hovering shows the exact value.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH = 560
HEIGHT = 180
PAD_TOP = 18
PAD_BOTTOM = 26
PAD_X = 6


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # under the bar (e.g. "12 Mar")
    value: int  # a count, or an amount in minor units
    hint: str = ""  # hover text; the formatted value when empty


def _nice_max(value: int) -> int:
    """A round top for the axis at or above ``value`` (1, 2, 5 × 10^n)."""
    if value <= 0:
        return 1
    magnitude = 1
    while magnitude * 10 <= value:
        magnitude *= 10
    for step in (1, 2, 5, 10):
        if step * magnitude >= value:
            return step * magnitude
    return 10 * magnitude  # pragma: no cover


def bar_chart(
    bars: Sequence[Bar],
    *,
    title: str,
    chart_id: str,
    fmt: Callable[[int], str] = str,
    label_every: int = 1,
    css_class: str = "chart",
) -> Markup:
    top = _nice_max(max((b.value for b in bars), default=0))
    inner_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    n = max(len(bars), 1)
    slot = (WIDTH - 2 * PAD_X) / n
    bar_w = max(slot * 0.64, 2)
    total = sum(b.value for b in bars)
    highest = max((b.value for b in bars), default=0)
    desc = f"{len(bars)} bars, total {fmt(total)}, highest {fmt(highest)}"
    cid = escape(chart_id)
    parts = [
        f'<svg class="{escape(css_class)}" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" '
        f'aria-labelledby="{cid}-t {cid}-d">',
        f'<title id="{cid}-t">{escape(title)}</title>',
        f'<desc id="{cid}-d">{escape(desc)}</desc>',
        f'<line class="chart-axis" x1="{PAD_X}" x2="{WIDTH - PAD_X}" '
        f'y1="{HEIGHT - PAD_BOTTOM}" y2="{HEIGHT - PAD_BOTTOM}"/>',
        f'<line class="chart-gridline" x1="{PAD_X}" x2="{WIDTH - PAD_X}" '
        f'y1="{PAD_TOP}" y2="{PAD_TOP}"/>',
        f'<text class="chart-top" x="{WIDTH - PAD_X}" y="{PAD_TOP - 5}" text-anchor="end">'
        f"{escape(fmt(top))}</text>",
    ]
    for i, bar in enumerate(bars):
        h = 0.0 if top == 0 else inner_h * bar.value / top
        x = PAD_X + i * slot + (slot - bar_w) / 2
        y = HEIGHT - PAD_BOTTOM - h
        hint = bar.hint or f"{bar.label}: {fmt(bar.value)}"
        parts.append(
            f'<rect class="chart-bar" x="{x:.1f}" y="{y:.1f}" width="{bar_w:.1f}" '
            f'height="{max(h, 0):.1f}" rx="2"><title>{escape(hint)}</title></rect>'
        )
        if (len(bars) - 1 - i) % label_every == 0:  # counted from the newest bar
            # The outermost labels are anchored inwards so they are never cut off.
            anchor, lx = "middle", x + bar_w / 2
            if i == len(bars) - 1:
                anchor, lx = "end", x + bar_w
            elif i == 0:
                anchor, lx = "start", x
            parts.append(
                f'<text class="chart-label" x="{lx:.1f}" y="{HEIGHT - 8}" '
                f'text-anchor="{anchor}">{escape(bar.label)}</text>'
            )
    parts.append("</svg>")
    return Markup("".join(parts))


@dataclass(frozen=True, slots=True)
class Mark:
    """A moment on a per-minute chart: a pin ("P") or a flash deal ("D")."""

    index: int  # which bar (minute) it falls on
    kind: str  # "pin" | "deal"
    hint: str


def minute_chart(
    bars: Sequence[Bar],
    marks: Sequence[Mark],
    *,
    title: str,
    chart_id: str,
    fmt: Callable[[int], str] = str,
    label_every: int = 30,
) -> Markup:
    """A per-minute bar chart with the show's pins and deals drawn as marked vertical lines
    (each with its own <title>), over the ordinary bars."""
    chart = str(bar_chart(bars, title=title, chart_id=chart_id, fmt=fmt, label_every=label_every))
    n = max(len(bars), 1)
    slot = (WIDTH - 2 * PAD_X) / n
    extra = []
    for mark in marks:
        if not 0 <= mark.index < n:
            continue
        x = PAD_X + mark.index * slot + slot / 2
        letter = "P" if mark.kind == "pin" else "D"
        extra.append(
            f'<g class="chart-mark chart-mark-{escape(mark.kind)}"><title>{escape(mark.hint)}'
            f'</title><line x1="{x:.1f}" x2="{x:.1f}" y1="{PAD_TOP}" '
            f'y2="{HEIGHT - PAD_BOTTOM}"/><text x="{x:.1f}" y="{PAD_TOP - 5}" '
            f'text-anchor="middle">{letter}</text></g>'
        )
    return Markup(chart.replace("</svg>", "".join(extra) + "</svg>"))
