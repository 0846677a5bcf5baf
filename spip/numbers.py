"""Numbers as people compute them: half-up rounding, percentages of a whole."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

TENTH = Decimal("0.1")


def half_up(value, places: Decimal = TENTH) -> Decimal | None:
    """Rounded as people round (91.25 → 91.3), not to even: every figure stored or shown."""
    if value is None:
        return None
    return Decimal(str(value)).quantize(places, rounding=ROUND_HALF_UP)


def percent(part, whole) -> Decimal | None:
    """part ÷ whole × 100, to one decimal, half up; None for an empty whole."""
    if not whole:
        return None
    return half_up(Decimal(part) * 100 / Decimal(whole))


def share(part, whole) -> float | None:
    """``percent`` as a plain number, for charts and JSON."""
    value = percent(part, whole)
    return None if value is None else float(value)
