"""The small data set behind the page, API and browser tests and the README's screenshots.

45 days, 2026-01-16 to 2026-03-01, made through the real POST endpoint at frozen times and
summarized by `manage.py summarize`. The expected numbers in the tests follow from this table:

| system | reports on days | components | PostgreSQL | workers | content apps | RBAC |
| A | 0-44 | core 3.44.0 (3.45.2 from day 20), rpm 3.26.1 | 15.4 | 4 on 2 | 2 on 1 | yes |
| B | 0-44 | core 3.45.2, file 1.2.3 | 13.10 | 2 on 1 | 1 on 1 | no |
| C | 10-44 | core 3.46.0, container 2.20.0, file 1.3.0 | 16.2 | 6 on 3 | 3 on 2 | yes |
| D | 30-44 | core 3.46.1, ansible 0.21.3 (an old client) | - | 1 on 1 | 1 on 1 | no |
| E | 44 | core 3.47.0 (new on the latest day) | 16.2 | - | - | no |
"""

import datetime as dt
from io import StringIO

import time_machine
from django.core.management import call_command
from django.test import Client

from tests.helpers import build_telemetry

FIRST_DAY = dt.date(2026, 1, 16)
DAYS = 45
LATEST_DAY = FIRST_DAY + dt.timedelta(days=DAYS - 1)  # 2026-03-01

SYSTEMS = {
    "A": "aaaaaaaa-0000-4000-8000-000000000001",
    "B": "bbbbbbbb-0000-4000-8000-000000000002",
    "C": "cccccccc-0000-4000-8000-000000000003",
    "D": "dddddddd-0000-4000-8000-000000000004",
    "E": "eeeeeeee-0000-4000-8000-000000000005",
}


def reports_of(day: int) -> list[bytes]:
    """The serialized reports every system sends on day number `day` (0 = FIRST_DAY)."""
    reports = []
    core = "3.44.0" if day < 20 else "3.45.2"
    reports.append(
        build_telemetry(
            SYSTEMS["A"],
            components={"core": core, "rpm": "3.26.1"},
            workers=(4, 2),
            content_apps=(2, 1),
            postgresql_version=150004,
            rbac={
                "users": 5,
                "groups": 1,
                "domains": 0,
                "custom_access_policies": 0,
                "custom_roles": 2,
            },
        )
    )
    reports.append(
        build_telemetry(
            SYSTEMS["B"],
            components={"core": "3.45.2", "file": "1.2.3"},
            workers=(2, 1),
            content_apps=(1, 1),
            postgresql_version=130010,
        )
    )
    if day >= 10:
        reports.append(
            build_telemetry(
                SYSTEMS["C"],
                components={"core": "3.46.0", "container": "2.20.0", "file": "1.3.0"},
                workers=(6, 3),
                content_apps=(3, 2),
                postgresql_version=160002,
                rbac={
                    "users": 40,
                    "groups": 4,
                    "domains": 2,
                    "custom_access_policies": 1,
                    "custom_roles": 0,
                },
            )
        )
    if day >= 30:
        reports.append(
            build_telemetry(
                SYSTEMS["D"],
                components={"core": "3.46.1", "ansible": "0.21.3"},
                workers=(1, 1),
                content_apps=(1, 1),
            )
        )
    if day == 44:
        reports.append(
            build_telemetry(SYSTEMS["E"], components={"core": "3.47.0"}, postgresql_version=160002)
        )
    return [report.SerializeToString() for report in reports]


def seed() -> None:
    """POST every report of the data set at noon UTC of its day, then summarize every day."""
    client = Client()
    for number in range(DAYS):
        day = FIRST_DAY + dt.timedelta(days=number)
        noon = dt.datetime(day.year, day.month, day.day, 12, tzinfo=dt.UTC)
        with time_machine.travel(noon, tick=False):
            for body in reports_of(number):
                response = client.generic(
                    "POST", "/", body, content_type="", CONTENT_LENGTH=str(len(body))
                )
                assert response.content == b"stored", response.content
    after = dt.datetime.combine(LATEST_DAY + dt.timedelta(days=1), dt.time(1), tzinfo=dt.UTC)
    with time_machine.travel(after, tick=False):
        call_command("summarize", stdout=StringIO())
