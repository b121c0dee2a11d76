"""Date ranges for the `timespan`, `previous` and `next` filter operators (frappe/utils/data.py)."""

from __future__ import annotations

from datetime import date, timedelta

from .errors import throw

PERIOD_MONTHS = {"week": 0, "month": 1, "quarter": 3, "6 months": 6, "year": 12}


def timespan_range(value: str, today: date | None = None) -> tuple[date, date]:
    """get_timespan_date_range: "today", "yesterday", "tomorrow", "this|last|next <period>"."""
    today = today or date.today()
    single = {"today": today, "yesterday": today - timedelta(days=1), "tomorrow": today + timedelta(days=1)}
    text = str(value).strip().lower()
    if text in single:
        return single[text], single[text]
    which, _, period = text.partition(" ")
    if which not in ("this", "last", "next") or period not in PERIOD_MONTHS:
        throw(f"Invalid timespan: {value}")
    start, end = _period(today, period)
    if which == "last":
        start, end = _period(start - timedelta(days=1), period)
    elif which == "next":
        start, end = _period(end + timedelta(days=1), period)
    return start, end


def relative_range(value: str, *, forward: bool, today: date | None = None) -> tuple[date, date]:
    """`previous` / `next` with "1 day", "1 week", "1 month", "3 months", "6 months", "1 year"."""
    today = today or date.today()
    count_text, _, unit = str(value).strip().lower().partition(" ")
    if not count_text.isdigit() or unit.rstrip("s") not in ("day", "week", "month", "quarter", "year"):
        throw(f"Invalid period: {value}")
    count, unit = int(count_text), unit.rstrip("s")
    months = {"month": 1, "quarter": 3, "year": 12}.get(unit, 0) * count
    days = {"day": 1, "week": 7}.get(unit, 0) * count
    other = _add_months(today, months if forward else -months) + timedelta(days=days if forward else -days)
    return (today, other) if forward else (other, today)


def _period(day: date, period: str) -> tuple[date, date]:
    if period == "week":
        start = day - timedelta(days=day.weekday())
        return start, start + timedelta(days=6)
    months = PERIOD_MONTHS[period]
    first_month = (day.month - 1) // months * months + 1 if months < 12 else 1
    start = date(day.year, first_month, 1)
    return start, _add_months(start, months) - timedelta(days=1)


def _add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    next_month = date(year + (month + 1) // 12, (month + 1) % 12 + 1, 1)
    last_day = (next_month - timedelta(days=1)).day
    return date(year, month + 1, min(day.day, last_day))
