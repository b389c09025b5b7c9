"""The board's charts as numbers a template draws as SVG: no script, no library."""

import math
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from services.bahasa import WIB, thousands

ARRIVALS_WIDTH, ARRIVALS_HEIGHT = 480, 240
PLOT = {"left": 44, "right": 460, "top": 14, "bottom": 210}
# The numbers on the count axis stand right-aligned 4 units left of it, 11 units high
# (lacak.css); the axis moves right to fit the widest. A digit is at most .65 of the height in
# common fonts (DejaVu Sans, Roboto, Segoe UI), a thousands dot far less.
TICK_GAP, TICK_MARGIN, TICK_DIGIT_WIDTH, TICK_DOT_WIDTH = 4, 2, 7.2, 4.0
DAYS_BEFORE_H1 = 7  # the arrivals chart shows at least the last week before the deadline
# The bars fill from the left with the batches furthest along.
PROGRESS_ORDER = ("tps", "returned", "pps", "ppk", "transit", "gudang")


class PlacedRow(Protocol):
    code: str
    name: str
    href: str
    planned: int
    percent_ready: float
    gudang: int
    transit: int
    ppk: int
    pps: int
    tps: int
    returned: int


def progress_chart(rows: list[PlacedRow]) -> list[dict[str, Any]]:
    """Per area, its batches by where they are now, as shares (0-100) of those planned."""
    bars = []
    for row in rows:
        x, segments = 0.0, []
        for place in PROGRESS_ORDER:
            count = getattr(row, place)
            width = 100 * count / row.planned if row.planned else 0.0
            if count:
                segments.append(
                    {"place": place, "x": round(x, 3), "width": round(width, 3), "count": count}
                )
            x += width
        bars.append({"row": row, "segments": segments})
    return bars


def arrivals_chart(
    arrivals: list[tuple[str, int]], planned: int, deadline: datetime
) -> dict[str, Any]:
    """Batches delivered at their TPS, added up hour by hour (device clock), against the H-1
    deadline and the number planned."""
    hours = [(datetime.fromisoformat(f"{hour}:00:00+00:00"), n) for hour, n in arrivals]
    start = deadline - timedelta(days=DAYS_BEFORE_H1)
    end = deadline + timedelta(days=1)
    if hours:
        start = min(start, hours[0][0].astimezone(WIB).replace(hour=0))
        end = max(end, hours[-1][0] + timedelta(hours=1))
    top = max(planned, sum(n for _, n in hours), 1)
    span = (end - start).total_seconds()
    counts = (0, top // 2, top)
    plot = PLOT | {"left": max(PLOT["left"], axis_room(thousands(n) for n in counts))}

    def x(at: datetime) -> float:
        return round(
            plot["left"] + (plot["right"] - plot["left"]) * (at - start).total_seconds() / span, 1
        )

    def y(n: int) -> float:
        return round(plot["bottom"] - (plot["bottom"] - plot["top"]) * n / top, 1)

    points, total = [(x(start), y(0))], 0
    for at, n in hours:
        points.append((x(at), y(total)))
        total += n
        points.append((x(at + timedelta(hours=1)), y(total)))
    now = min(datetime.now(UTC), end)
    points.append((x(max(now, hours[-1][0] + timedelta(hours=1)) if hours else now), y(total)))
    days = max(1, round(span / 86400 / 8))  # about eight ticks on the time axis
    ticks, day = [], start.astimezone(WIB).replace(hour=0, minute=0, second=0, microsecond=0)
    while day <= end:
        if day >= start:
            ticks.append({"x": x(day), "label": day.strftime("%d/%m")})
        day += timedelta(days=days)
    return {
        "width": ARRIVALS_WIDTH,
        "height": ARRIVALS_HEIGHT,
        "plot": plot,
        "line": " ".join(f"{px},{py}" for px, py in points),
        "deadline_x": x(deadline),
        "planned_y": y(planned),
        "planned": planned,
        "delivered": total,
        "y_ticks": [
            {"x": plot["left"] - TICK_GAP, "y": y(n), "label": thousands(n)} for n in counts
        ],
        "x_ticks": ticks,
    }


def axis_room(labels: Iterable[str]) -> int:
    """Where the count axis must stand for its widest number to fit left of it."""
    widest = max((width_of(label) for label in labels), default=0.0)
    return math.ceil(TICK_MARGIN + widest + TICK_GAP)


def width_of(label: str) -> float:
    """How wide a tick's number is drawn, at most, in the chart's units."""
    digits = sum(c.isdigit() for c in label)
    return digits * TICK_DIGIT_WIDTH + (len(label) - digits) * TICK_DOT_WIDTH
