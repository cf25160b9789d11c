"""Server-rendered SVG charts: coordinates computed here, drawn by templates with SVG
presentation attributes and CSS classes (no script, no inline style, no CDN)."""

from __future__ import annotations

WIDTH, HEIGHT = 720, 220
PAD_LEFT, PAD_RIGHT, PAD_TOP, PAD_BOTTOM = 40, 40, 12, 28


def _nice_max(value: int) -> int:
    if value <= 5:
        return 5
    step = 10 ** (len(str(value)) - 1)
    return ((value + step - 1) // step) * step


def daily_chart(daily: list[dict]) -> dict:
    """Views (a line, left axis) and units sold (bars, right axis) per day.

    Returns what `analytics/partials/daily_chart.svg` draws: the view box, the polyline
    points, one bar per day with a tooltip, axis maxima and a few x-axis date labels."""
    n = max(len(daily), 1)
    plot_w = WIDTH - PAD_LEFT - PAD_RIGHT
    plot_h = HEIGHT - PAD_TOP - PAD_BOTTOM
    views_max = _nice_max(max((d["views"] for d in daily), default=0))
    units_max = _nice_max(max((d["units"] for d in daily), default=0))
    slot = plot_w / n
    bar_w = max(slot * 0.6, 1)
    points, bars, labels = [], [], []
    label_every = max(n // 7, 1)
    for i, d in enumerate(daily):
        cx = PAD_LEFT + slot * i + slot / 2
        vy = PAD_TOP + plot_h - plot_h * d["views"] / views_max
        points.append(f"{cx:.1f},{vy:.1f}")
        bh = plot_h * d["units"] / units_max
        bars.append(
            {
                "x": f"{cx - bar_w / 2:.1f}",
                "y": f"{PAD_TOP + plot_h - bh:.1f}",
                "w": f"{bar_w:.1f}",
                "h": f"{bh:.1f}",
                "title": f"{d['day']:%a %d %b}: {d['views']} views, {d['units']} sold",
            }
        )
        if i % label_every == 0:
            labels.append({"x": f"{cx:.1f}", "text": f"{d['day']:%d %b}"})
    return {
        "width": WIDTH,
        "height": HEIGHT,
        "points": " ".join(points),
        "bars": bars,
        "labels": labels,
        "views_max": views_max,
        "units_max": units_max,
        "left": PAD_LEFT,
        "right": WIDTH - PAD_RIGHT,
        "top": PAD_TOP,
        "baseline": PAD_TOP + plot_h,
        "label_y": HEIGHT - 8,
    }


def histogram_bars(buckets: list[dict], *, width: int = 320, bar_h: int = 18) -> dict:
    """Horizontal bars for a histogram [{"label", "count"}]: widths scaled to the largest."""
    top = max((b["count"] for b in buckets), default=0) or 1
    rows = []
    for i, b in enumerate(buckets):
        rows.append(
            {
                **b,
                "y": i * (bar_h + 6),
                "w": f"{(width - 130) * b['count'] / top:.1f}",
                "text_y": i * (bar_h + 6) + bar_h - 5,
            }
        )
    return {"rows": rows, "width": width, "height": len(buckets) * (bar_h + 6), "bar_h": bar_h}
