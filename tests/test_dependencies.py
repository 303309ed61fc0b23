"""docs/reliability.md F7, as far as this machine allows: pip-audit needs PyPI's advisory API, which
is out of reach here, so the pins are held at or above the releases that fixed the advisories
the plan names."""

from importlib.metadata import version


def release(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(".")[:3])


def test_django_is_at_least_the_5_2_13_security_release():
    assert release(version("django")) >= (5, 2, 13)
    assert release(version("django")) < (5, 3, 0)  # the 5.2 LTS line


def test_protobuf_has_the_cve_2025_4565_fix():
    # Fixed in 4.25.8, 5.29.5 and 6.31.1; every later major line includes it.
    assert release(version("protobuf")) >= (6, 31, 1)
