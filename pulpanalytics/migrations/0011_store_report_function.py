"""On PostgreSQL a report is counted and stored by one call of a function: one round trip and one
implicit transaction instead of eight (the request's count, BEGIN, registry, month and report,
the new system's count, components, COMMIT), and its statements are planned once per connection
rather than once per report (plpgsql keeps their plans). pulpanalytics/ingest.py calls it; SQLite runs the same steps as
separate statements there. Changing what a report writes means a new migration that replaces
this function (CREATE OR REPLACE), with ingest.py's SQLite steps changed to match: the whole
test suite runs on both databases.

What it does, in this order, so that nothing is written before the report is known to be kept:

1. The request is counted against the client's report limit (when a key is given): over it, it
   returns -2 (the count stays, as every request's does, limits.py).
2. The registry row, if the system is known.
3. An unknown system is counted against the client's new-system limit (the counter row of
   limits.py, when a key is given): over the limit, it takes the count back, returns -1 and
   writes nothing else.
4. The registry row of an unknown system: inserted (ON CONFLICT: a concurrent first report of
   the same system made it meanwhile).
5. The day's report: a repeat on the same day returns NULL and writes nothing (a count made in
   3 for it is taken back: the system was not new after all).
6. last_seen, the day's bit in the month, the components.

It returns the report's age in days (0: the system is new today), NULL for a same-day repeat,
-1 for a new system the limit refused, -2 for a request over the report limit. Each counter
row stays locked from its count to the commit, so concurrent requests of one client are counted
one after the other and exactly.
"""

from django.db import migrations

STORE_REPORT_SQL = """
CREATE OR REPLACE FUNCTION pulpanalytics_store_report(
    p_hash text, p_day date, p_data jsonb, p_names text[], p_versions text[],
    p_requests text, p_requests_expire timestamptz, p_requests_limit integer,
    p_new_systems text, p_new_systems_expire timestamptz, p_new_systems_limit integer
) RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
    v_system bigint;
    v_first date;
    v_known boolean;
    v_counted boolean := false;
    v_count integer;
    v_report bigint;
    v_age integer;
BEGIN
    IF p_requests IS NOT NULL THEN
        INSERT INTO pulpanalytics_limitcounter AS c (key, count, expires)
            VALUES (p_requests, 1, p_requests_expire)
            ON CONFLICT (key) DO UPDATE SET count = c.count + 1
            RETURNING c.count INTO v_count;
        IF v_count > p_requests_limit THEN
            RETURN -2;
        END IF;
    END IF;
    SELECT id, first_seen INTO v_system, v_first
        FROM pulpanalytics_system WHERE system_hash = p_hash;
    v_known := FOUND;
    IF NOT v_known THEN
        IF p_new_systems IS NOT NULL THEN
            INSERT INTO pulpanalytics_limitcounter AS c (key, count, expires)
                VALUES (p_new_systems, 1, p_new_systems_expire)
                ON CONFLICT (key) DO UPDATE SET count = c.count + 1
                RETURNING c.count INTO v_count;
            IF v_count > p_new_systems_limit THEN
                UPDATE pulpanalytics_limitcounter SET count = count - 1 WHERE key = p_new_systems;
                RETURN -1;
            END IF;
            v_counted := true;
        END IF;
        INSERT INTO pulpanalytics_system AS s (system_hash, first_seen, last_seen)
            VALUES (p_hash, p_day, p_day)
            ON CONFLICT (system_hash) DO UPDATE SET last_seen = GREATEST(s.last_seen, p_day)
            RETURNING id, first_seen INTO v_system, v_first;
    END IF;
    v_age := GREATEST(p_day - v_first, 0);
    INSERT INTO pulpanalytics_report (system_id, day, age_days, data)
        VALUES (v_system, p_day, v_age, p_data)
        ON CONFLICT (system_id, day) DO NOTHING
        RETURNING id INTO v_report;
    IF v_report IS NULL THEN
        IF v_counted THEN
            UPDATE pulpanalytics_limitcounter SET count = count - 1 WHERE key = p_new_systems;
        END IF;
        RETURN NULL;
    END IF;
    IF v_known THEN
        UPDATE pulpanalytics_system SET last_seen = p_day
            WHERE id = v_system AND last_seen < p_day;
    END IF;
    INSERT INTO pulpanalytics_systemmonth AS m (system_id, month, days)
        VALUES (v_system, date_trunc('month', p_day)::date,
                1 << (extract(day FROM p_day)::integer - 1))
        ON CONFLICT (system_id, month) DO UPDATE SET days = m.days | excluded.days
        WHERE m.days & excluded.days = 0;
    INSERT INTO pulpanalytics_component (report_id, day, age_days, name, version)
        SELECT v_report, p_day, v_age, c.name, c.version
        FROM unnest(p_names, p_versions) AS c (name, version);
    RETURN v_age;
END
$$
"""

DROP_SQL = (
    "DROP FUNCTION IF EXISTS pulpanalytics_store_report"
    "(text, date, jsonb, text[], text[], text, timestamptz, integer, text, timestamptz, integer)"
)


def create(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(STORE_REPORT_SQL)


def drop(apps: object, schema_editor: object) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP_SQL)


class Migration(migrations.Migration):
    dependencies = [("pulpanalytics", "0010_partition_raw_rows")]

    operations = [migrations.RunPython(create, drop)]
