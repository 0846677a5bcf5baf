"""Indicators: one selector per indicator, shared by its page, its export and the reports
API. ``common`` holds what they share (filters, norms, staffing arithmetic); each other
module is one indicator."""

from reporting.indicators.continuity import continuity
from reporting.indicators.delays import LATE_PAGE, delays, late_cases
from reporting.indicators.missed import missed
from reporting.indicators.network import latest_day, network
from reporting.indicators.outcomes import outcomes
from reporting.indicators.staffing import staffing
from reporting.indicators.team import team_dashboard, team_entity, team_trend

__all__ = [
    "LATE_PAGE",
    "continuity",
    "delays",
    "late_cases",
    "latest_day",
    "missed",
    "network",
    "outcomes",
    "staffing",
    "team_dashboard",
    "team_entity",
    "team_trend",
]
