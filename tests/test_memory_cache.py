"""The chart cache: bounded in bytes per worker, least recently used out first."""

import time_machine

from pulpanalytics.memory_cache import ENTRY_OVERHEAD, BoundedMemoryCache


def cache(max_bytes: int) -> BoundedMemoryCache:
    return BoundedMemoryCache("test", {"OPTIONS": {"MAX_BYTES": max_bytes}})


def test_distinct_large_answers_never_hold_more_than_max_bytes():
    # 1,100 distinct answers of about 100 KB (the attack's summary lists were up to 4 MB).
    charts = cache(2_000_000)
    for n in range(1100):
        charts.set(f"list-{n}", "x" * 100_000)
    assert charts.size <= 2_000_000
    kept = [n for n in range(1100) if charts.get(f"list-{n}") is not None]
    assert kept == list(range(1081, 1100))  # the 19 newest fit


def test_the_least_recently_used_entry_goes_first():
    charts = cache(8 * (ENTRY_OVERHEAD + 1100))  # room for eight values of 1,000 characters
    for key in "abcdefgh":
        charts.set(key, "x" * 1000)
    assert charts.get("a") == "x" * 1000  # a is now the most recently used
    charts.set("i", "x" * 1000)
    assert [key for key in "abcdefghi" if charts.get(key) is None] == ["b"]


def test_a_value_larger_than_an_eighth_of_the_cache_is_not_kept():
    charts = cache(80_000)
    charts.set("small", "y")
    charts.set("big", "x" * 10_001)
    assert (charts.get("big"), charts.get("small")) == (None, "y")


def test_replacing_and_deleting_keep_the_byte_count_exact():
    charts = cache(1_000_000)
    charts.set("k", "x" * 5000)
    one = charts.size
    charts.set("k", "x" * 5000)
    assert charts.size == one
    assert charts.delete("k") is True
    assert charts.size == 0
    assert charts.add("k", 1) is True
    assert charts.add("k", 2) is False
    assert charts.get("k") == 1


def test_an_entry_expires_after_its_timeout():
    charts = cache(1_000_000)
    with time_machine.travel(0, tick=False) as clock:
        charts.set("k", "v", timeout=10)
        clock.shift(9)
        assert charts.get("k") == "v"
        clock.shift(2)
        assert charts.get("k", "gone") == "gone"
        assert charts.size == 0
