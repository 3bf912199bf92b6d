"""Server-rendered SVG charts for the back office: no JavaScript, no CDN. Every
chart is drawn from the same rows as the table printed beside it."""

from collections.abc import Sequence

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR = "#b5835a"
TEXT = "#333"


LABEL_CHARS = 30


def _label(text: str) -> str:
    return escape(text if len(text) <= LABEL_CHARS else text[: LABEL_CHARS - 1] + "…")


def _number(value: float) -> str:
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


def bar_chart(rows: Sequence[tuple[str, float]], *, title: str, width: int = 500, bar_height: int = 22) -> SafeString:
    """Horizontal bars, one per (label, value) row, with the value printed."""
    label_width, gap = 210, 6
    height = max(1, len(rows)) * (bar_height + gap) + gap
    largest = max((value for _, value in rows), default=0) or 1
    room = width - label_width - 60
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>'
    ]
    for index, (label, value) in enumerate(rows):
        y = gap + index * (bar_height + gap)
        length = round(room * float(value) / float(largest)) if value else 0
        parts.append(
            f'<text x="{label_width - 8}" y="{y + bar_height * 0.7:.1f}" text-anchor="end" font-size="12" '
            f'fill="{TEXT}"><title>{escape(label)}</title>{_label(label)}</text>'
            f'<rect x="{label_width}" y="{y}" width="{length}" height="{bar_height}" fill="{BAR}" rx="2"/>'
            f'<text x="{label_width + length + 6}" y="{y + bar_height * 0.7:.1f}" font-size="12" '
            f'fill="{TEXT}">{_number(value)}</text>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))


def column_chart(rows: Sequence[tuple[str, float]], *, title: str, width: int = 760, height: int = 180) -> SafeString:
    """Vertical columns over time (one per day), labelled every few columns."""
    bottom, top, left = 24, 12, 36
    count = max(1, len(rows))
    step = (width - left) / count
    largest = max((value for _, value in rows), default=0) or 1
    room = height - bottom - top
    every = max(1, count // 10)
    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<text x="{left - 6}" y="{top + 10}" text-anchor="end" font-size="11" fill="{TEXT}">{_number(largest)}</text>',
        f'<line x1="{left}" y1="{height - bottom}" x2="{width}" y2="{height - bottom}" stroke="#999"/>',
    ]
    for index, (label, value) in enumerate(rows):
        column = room * float(value) / float(largest)
        x = left + index * step
        parts.append(
            f'<rect x="{x + 1:.1f}" y="{height - bottom - column:.1f}" width="{max(1.0, step - 2):.1f}" '
            f'height="{column:.1f}" fill="{BAR}"><title>{escape(label)}: {_number(value)}</title></rect>'
        )
        if index % every == 0:
            parts.append(
                f'<text x="{x + step / 2:.1f}" y="{height - 8}" text-anchor="middle" font-size="10" '
                f'fill="{TEXT}">{escape(label)}</text>'
            )
    parts.append("</svg>")
    return mark_safe("".join(parts))
