"""Bar charts drawn on the server as SVG, for the overview page.

Hand-drawn rather than a charting library: the few we could use either inline ``style`` (which
the console's CSP forbids) or ship JavaScript. The SVG carries only geometry and class names (the
look is in ``console.css``), a ``<title>`` per bar for hover, and ``role="img"`` with a label;
every chart sits beside a table of the same numbers for screen readers and copying.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from markupsafe import Markup, escape

WIDTH, HEIGHT = 640, 200
LEFT, BOTTOM, TOP = 48, 28, 10


@dataclass(frozen=True, slots=True)
class Bar:
    label: str  # shown under the bar when there is room
    value: int
    hint: str  # the bar's <title>


def bar_chart(bars: Sequence[Bar], label: str, every: int = 1) -> Markup:
    """An SVG bar chart of ``bars`` (labels under every ``every``-th bar), scaled to its largest value."""
    top = nice_top(max((b.value for b in bars), default=0))
    inner_w, inner_h = WIDTH - LEFT - 8, HEIGHT - BOTTOM - TOP
    step = inner_w / max(len(bars), 1)
    parts = [f'<svg class="chart" viewBox="0 0 {WIDTH} {HEIGHT}" role="img" aria-label="{escape(label)}" '
             f'preserveAspectRatio="xMidYMid meet">']
    for tick in (0, top // 2, top):
        y = TOP + inner_h - inner_h * tick / top
        parts.append(f'<line class="grid" x1="{LEFT}" x2="{WIDTH - 8}" y1="{y:.1f}" y2="{y:.1f}"/>'
                     f'<text class="axis" x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{tick}</text>')
    for i, bar in enumerate(bars):
        h = inner_h * bar.value / top
        x = LEFT + i * step + step * 0.15
        parts.append(f'<rect class="bar" x="{x:.1f}" y="{TOP + inner_h - h:.1f}" width="{step * 0.7:.1f}" '
                     f'height="{h:.1f}"><title>{escape(bar.hint)}</title></rect>')
        if i % every == 0:
            parts.append(f'<text class="axis" x="{x + step * 0.35:.1f}" y="{HEIGHT - 10}" '
                         f'text-anchor="middle">{escape(bar.label)}</text>')
    parts.append("</svg>")
    return Markup("".join(parts))


def nice_top(largest: int) -> int:
    """The axis' top: 1, 2 or 5 times a power of ten, at least ``largest`` (and at least 2)."""
    top = 1
    while True:
        for factor in (1, 2, 5):
            if top * factor >= max(largest, 2):
                return top * factor
        top *= 10
