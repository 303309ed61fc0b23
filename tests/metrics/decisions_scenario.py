"""A small fleet over six days for the decision statistics (docs/design.md), every number by hand.

    system  D0                         D1                         D2..D3  D4
    1       core 3.44.1, file 1.2.0    core 3.45.0, file 1.2.0            .
    2       core 3.45.0                core 3.44.1 (a downgrade)          .
    3       core 3.44.1                .                          .       core 3.45.2 (after a gap)
    4       file 1.2.0 (no core)       file 1.3.0 (no core)               .
    5       core 3.44.1, rpm 3.25.0    core 3.44.1, deb 1.0.0             .
    6       core 3.45.1                core 3.45.1                        .
    7       .                          core 3.45.0 (new: not persistent)  .

PostgreSQL on D1: 1 sends 150004 (15), 2 sends 0 (unknown), 4 sends 90624 (9.6, but no core),
5 sends nothing, 6 sends 90624 (9.6); on D4, 3 sends 123456 (no server_version_num: unknown).
"""

import datetime as dt

from tests.helpers import system_id

D0, D1, D4 = dt.date(2026, 3, 1), dt.date(2026, 3, 2), dt.date(2026, 3, 5)


def store_scenario(report_on) -> None:
    report_on(D0, system_id(1), components={"core": "3.44.1", "file": "1.2.0"})
    report_on(D0, system_id(2), components={"core": "3.45.0"})
    report_on(D0, system_id(3), components={"core": "3.44.1"})
    report_on(D0, system_id(4), components={"file": "1.2.0"})
    report_on(D0, system_id(5), components={"core": "3.44.1", "rpm": "3.25.0"})
    report_on(D0, system_id(6), components={"core": "3.45.1"})
    report_on(
        D1,
        system_id(1),
        components={"core": "3.45.0", "file": "1.2.0"},
        postgresql_version=150004,
        workers=(2, 1),
        rbac={"users": 3},
    )
    report_on(D1, system_id(2), components={"core": "3.44.1"}, postgresql_version=0, workers=(8, 3))
    report_on(D1, system_id(4), components={"file": "1.3.0"}, postgresql_version=90624)
    report_on(D1, system_id(5), components={"core": "3.44.1", "deb": "1.0.0"}, content_apps=(1, 1))
    report_on(D1, system_id(6), components={"core": "3.45.1"}, postgresql_version=90624)
    report_on(D1, system_id(7), components={"core": "3.45.0"}, postgresql_version=150004)
    report_on(D4, system_id(3), components={"core": "3.45.2"}, postgresql_version=123456)
