"""Time units shared by every stage: months to days, and the default horizons."""

from __future__ import annotations

DAYS_PER_MONTH = 30.4375
DEFAULT_HORIZON_MONTHS = (6, 12, 24)


def months_to_days(months: float) -> int:
    """Whole days in ``months`` average months: 6 -> 183, 12 -> 365, 24 -> 730."""
    return round(months * DAYS_PER_MONTH)


DEFAULT_HORIZON_DAYS = tuple(months_to_days(m) for m in DEFAULT_HORIZON_MONTHS)
