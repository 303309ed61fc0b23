"""Screenshots of every page of the seeded site: `make screenshots` writes them to
docs/screenshots/ (the README shows them); a plain test run writes them to a temporary folder."""

import struct
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.usefixtures("site_data")]

SCREENSHOTS = {
    "overview": "/",
    "plugins": "/plugins/",
    "plugin-core": "/plugins/core/?granularity=week",
    "deployments": "/deployments/",
    "postgresql": "/postgresql/",
    "age": "/age/",
    "rbac": "/rbac/",
    "fleet": "/fleet/",
    "about": "/about/",
}


def png_size(path: Path) -> tuple[int, int]:
    header = path.read_bytes()[:24]
    assert header[:8] == b"\x89PNG\r\n\x1a\n", path
    return struct.unpack(">II", header[16:24])


@pytest.fixture
def folder(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    chosen = request.config.getoption("--screenshots")
    path = Path(chosen) if chosen else tmp_path
    path.mkdir(parents=True, exist_ok=True)
    return path


def test_every_page_has_a_full_page_screenshot_at_desktop_width(tab, folder):
    for name, path in SCREENSHOTS.items():
        tab.open(path)
        tab.page.screenshot(path=folder / f"{name}.png", full_page=True)
        width, height = png_size(folder / f"{name}.png")
        assert width == 1200
        assert height > 900, name  # the whole page, not only the viewport
    assert tab.problems == []


def test_the_overview_has_a_screenshot_at_phone_width(phone_tab, folder):
    phone_tab.open("/")
    phone_tab.page.screenshot(path=folder / "overview-phone.png", full_page=True)
    assert png_size(folder / "overview-phone.png")[0] == 390
    assert set(phone_tab.charts()) == {"chart-systems", "chart-plugins"}
    assert phone_tab.problems == []
