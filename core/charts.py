"""Server-rendered SVG charts for the back office: no JavaScript, no CDN. Every
chart is drawn from the same rows as the table printed beside it."""

from collections.abc import Sequence
from datetime import datetime

from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

BAR = "#b5835a"
TEXT = "#333"
MARK = "#5a7fb5"


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


def step_chart(
    steps: Sequence[tuple[datetime, float]],
    *,
    start: datetime,
    end: datetime,
    marks: Sequence[tuple[datetime, str]] = (),
    title: str,
    top_value: float = 100,
    guides: Sequence[tuple[float, str]] = (),
    width: int = 560,
    height: int = 160,
) -> SafeString:
    """A value over time that holds until it changes (a score): a step line from
    `start` to `end` through each (moment, value), 0 before the first, a dot and a
    tooltip at each step; dashed vertical `marks` (moment, label) for events that
    explain the steps (rule changes); faint horizontal `guides` (value, label)."""
    left, right, top, bottom = 32, 12, 14, 22
    span = max((end - start).total_seconds(), 1.0)
    room_x, room_y = width - left - right, height - top - bottom

    def x_of(moment: datetime) -> float:
        return left + room_x * min(max((moment - start).total_seconds() / span, 0.0), 1.0)

    def y_of(value: float) -> float:
        return top + room_y * (1 - min(max(float(value) / top_value, 0.0), 1.0))

    parts = [
        f'<svg xmlns="http://www.w3.org/2000/svg" class="chart" role="img" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}"><title>{escape(title)}</title>',
        f'<line x1="{left}" y1="{y_of(0):.1f}" x2="{width - right}" y2="{y_of(0):.1f}" stroke="#999"/>',
        f'<text x="{left - 4}" y="{y_of(top_value) + 4:.1f}" text-anchor="end" font-size="10" fill="{TEXT}">'
        f'{_number(top_value)}</text>',
        f'<text x="{left - 4}" y="{y_of(0) + 4:.1f}" text-anchor="end" font-size="10" fill="{TEXT}">0</text>',
        f'<text x="{left}" y="{height - 6}" font-size="10" fill="{TEXT}">{start:%d %b %Y}</text>',
        f'<text x="{width - right}" y="{height - 6}" text-anchor="end" font-size="10" fill="{TEXT}">'
        f'{end:%d %b %Y}</text>',
    ]
    for value, label in guides:
        parts.append(
            f'<line x1="{left}" y1="{y_of(value):.1f}" x2="{width - right}" y2="{y_of(value):.1f}" stroke="#ddd">'
            f'<title>{escape(label)}</title></line>'
        )
    for index, (moment, label) in enumerate(marks):
        x = x_of(moment)
        # Labels near the right edge end at their line; neighbours alternate in height.
        anchor, text_x = ("end", x - 2) if x > width - right - 30 else ("start", x + 2)
        parts.append(
            f'<g class="mark"><line x1="{x:.1f}" y1="{top}" x2="{x:.1f}" y2="{y_of(0):.1f}" stroke="{MARK}" '
            f'stroke-dasharray="3 3"><title>{escape(label)} ({moment:%d %b %Y %H:%M})</title></line>'
            f'<text x="{text_x:.1f}" y="{top - 3 + (index % 2) * 11}" text-anchor="{anchor}" font-size="10" '
            f'fill="{MARK}">{_label(label)}</text></g>'
        )
    points, value = [(left, y_of(0))], 0.0
    for moment, new_value in steps:
        x = x_of(moment)
        points += [(x, y_of(value)), (x, y_of(new_value))]
        value = new_value
    points.append((width - right, y_of(value)))
    path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
    parts.append(f'<polyline points="{path}" fill="none" stroke="{BAR}" stroke-width="2"/>')
    for moment, new_value in steps:
        parts.append(
            f'<circle cx="{x_of(moment):.1f}" cy="{y_of(new_value):.1f}" r="3" fill="{BAR}">'
            f'<title>{_number(new_value)} from {moment:%d %b %Y %H:%M}</title></circle>'
        )
    parts.append("</svg>")
    return mark_safe("".join(parts))
