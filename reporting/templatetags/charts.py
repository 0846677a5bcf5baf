"""Server-rendered charts (inline SVG): geometry here, markup in the templates. Every
chart has a table beside it and prints its values, so nothing rests on colour alone."""

from __future__ import annotations

from decimal import Decimal

from django import template
from django.utils.formats import number_format

register = template.Library()

BAR_HEIGHT = 22
LABEL_WIDTH = 190
PLOT_WIDTH = 520


def _x(value, scale_max) -> float:
    return round(LABEL_WIDTH + PLOT_WIDTH * float(value or 0) / float(scale_max), 1)


def svg(number: float) -> str:
    """A coordinate as SVG wants it: a dot, never the locale's decimal comma."""
    return f"{number:.1f}"


@register.inclusion_tag("reporting/_bar_chart.html")
def load_bar_chart(rows, policy, scale_max, caption):
    """Horizontal bars of load % per agent, with the 100 % line and the policy's
    thresholds drawn; bars above the red threshold are hatched and marked."""
    bars = []
    for index, row in enumerate(rows):
        y = 10 + index * BAR_HEIGHT
        end = _x(min(row.load_percent or 0, scale_max), scale_max)
        bars.append(
            {
                "label": row.label,
                "value": row.load_percent,
                "status": row.status,
                "y": y,
                "text_y": y + 14,
                "text_x": svg(end + 6),
                "width": svg(max(end - LABEL_WIDTH, 0)),
                "agent_id": row.agent_id,
            }
        )
    height = 54 + len(rows) * BAR_HEIGHT
    lines = [
        {
            "x": svg(_x(value, scale_max)),
            "label": f"{value} %",
            "kind": kind,
            # Alternate rows so that close thresholds never print over each other.
            "text_y": height - 20 + 14 * (index % 2),
        }
        for index, (value, kind) in enumerate(
            (
                (policy.threshold_amber, "amber"),
                (100, "full"),
                (policy.threshold_red, "red"),
            )
        )
    ]
    return {
        "bars": bars,
        "lines": lines,
        "height": height,
        "axis_y": height - 34,
        "width": LABEL_WIDTH + PLOT_WIDTH + 70,
        "label_x": LABEL_WIDTH - 8,
        "plot_x": LABEL_WIDTH,
        "caption": caption,
    }


@register.inclusion_tag("reporting/_trend_chart.html")
def trend_chart(points, policy, caption):
    """A line of load % over the weeks, with the thresholds."""
    width, height, left, top, bottom = 640, 220, 50, 15, 35
    values = [float(p["load_percent"] or 0) for p in points]
    # The axis spans the values and the thresholds with a margin, not 0 to the top: loads
    # live between 80 and 130 %, where a 0-based axis squeezes them into a thin band.
    top_value = max([*values, float(policy.threshold_red)]) + 10
    floor = max(min([*values, float(policy.threshold_amber)]) - 10, 0)
    plot_h = height - top - bottom
    step = (width - left - 20) / max(len(points) - 1, 1)

    def y(value):
        return round(top + plot_h * (top_value - value) / (top_value - floor), 1)

    dots = [
        {
            "x": svg(left + i * step),
            "y": svg(y(v)),
            "value": p["load_percent"],
            "day": p["day"],
        }
        for i, (p, v) in enumerate(zip(points, values, strict=True))
    ]
    return {
        "dots": dots,
        "path": " ".join(f"{d['x']},{d['y']}" for d in dots),
        "lines": [
            {"y": svg(y(float(value))), "label": f"{value} %"}
            for value in (policy.threshold_amber, 100, policy.threshold_red)
        ],
        "width": width,
        "height": height,
        "left": left,
        "label_x": left - 4,
        "day_y": height - bottom + 18,
        "caption": caption,
    }


@register.filter
def signed(value):
    """+1.5 / −2.0, for gaps in FTE."""
    if value is None:
        return "—"
    value = Decimal(value)
    text = number_format(abs(value), decimal_pos=1)
    return f"+{text}" if value > 0 else f"−{text}" if value < 0 else text


@register.filter
def get(mapping, key):
    return mapping.get(key) if mapping else None


@register.inclusion_tag("reporting/_value_chart.html")
def value_bar_chart(items, value_key, references, caption, unit=""):
    """Horizontal bars of ``value_key`` per item (services), with reference lines (the
    norms). Each bar prints its value; references are labelled on the axis."""
    values = [float(item[value_key] or 0) for item in items]
    scale_max = max([*values, *(float(r.persons_per_agent) for r in references), 1.0]) * 1.1
    bars = []
    for index, (item, value) in enumerate(zip(items, values, strict=True)):
        y = 10 + index * BAR_HEIGHT
        end = _x(value, scale_max)
        bars.append(
            {
                "label": item["label"],
                "value": item[value_key],
                "y": y,
                "text_y": y + 14,
                "text_x": svg(end + 6),
                "width": svg(max(end - LABEL_WIDTH, 0)),
                "above": any(value > r.persons_per_agent for r in references),
            }
        )
    height = 54 + len(items) * BAR_HEIGHT
    return {
        "bars": bars,
        "lines": [
            {
                "x": svg(_x(r.persons_per_agent, scale_max)),
                "label": f"{r.label} {r.persons_per_agent}",
                # Alternate rows so that close references never print over each other.
                "text_y": height - 20 + 14 * (index % 2),
            }
            for index, r in enumerate(references)
        ],
        "height": height,
        "axis_y": height - 34,
        "width": LABEL_WIDTH + PLOT_WIDTH + 80,
        "label_x": LABEL_WIDTH - 8,
        "plot_x": LABEL_WIDTH,
        "caption": caption,
        "unit": unit,
    }
