"""Daily chart data averaged per ISO week or per month.

A week or month of daily summaries counts mostly the same systems again and again, so a period's
value is the mean of its daily values (a typical day of the period), never their sum. Only days
with a value count: a day without one (a percent of nothing) is no day of the average. A period
with fewer days than it spans (the window cuts the first and the last) is listed in `partial`.
"""

import calendar
from datetime import date, timedelta

from pulpanalytics.metrics.base import ChartData

GRANULARITIES = ("day", "week", "month")
DECIMALS = 2


def period_of(day: str, granularity: str) -> str:
    """The label of the period an ISO date falls in: the Monday of its week, or YYYY-MM."""
    if granularity == "week":
        moment = date.fromisoformat(day)
        return (moment - timedelta(days=moment.weekday())).isoformat()
    if granularity == "month":
        return day[:7]
    return day


def mean(values: list[float | int | None]) -> float | None:
    known = [value for value in values if value is not None]
    if not known:
        return None
    return round(sum(known) / len(known), DECIMALS)


def period_length(period: str, granularity: str) -> int:
    """How many days a period (a label of period_of) spans."""
    if granularity == "week":
        return 7
    year, month = (int(part) for part in period.split("-"))
    return calendar.monthrange(year, month)[1]


def resample(data: ChartData, granularity: str) -> ChartData:
    """Daily data (labels are ISO dates, in order) with one point per period instead.

    Keys of a dataset other than `data` are kept as they are; a period where a dataset has no
    value on any day gets None.
    """
    if granularity == "day":
        return data
    if granularity not in GRANULARITIES:
        raise ValueError(f"unknown granularity {granularity!r}")
    periods: dict[str, list[int]] = {}
    for index, label in enumerate(data["labels"]):
        periods.setdefault(period_of(label, granularity), []).append(index)
    partial = {
        period: len(days)
        for period, days in periods.items()
        if len(days) < period_length(period, granularity)
    }
    return {
        **data,
        **({"partial": partial} if partial else {}),
        "labels": list(periods),
        "datasets": [
            {
                **dataset,
                "data": [mean([dataset["data"][i] for i in days]) for days in periods.values()],
            }
            for dataset in data["datasets"]
        ],
    }
