"""Daily chart data averaged per ISO week or per month.

A week or month of daily summaries counts mostly the same systems again and again, so a period's
value is the mean of its daily values (a typical day of the period), never their sum.
"""

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
    return {
        **data,
        "labels": list(periods),
        "datasets": [
            {
                **dataset,
                "data": [mean([dataset["data"][i] for i in days]) for days in periods.values()],
            }
            for dataset in data["datasets"]
        ],
    }
