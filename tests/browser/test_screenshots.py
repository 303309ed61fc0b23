"""Screenshots of every page on the demo fleet (conftest.demo_fleet), at desktop and at phone
width: `make screenshots` writes them to docs/screenshots/ (the README shows them); a plain test
run writes them to a temporary folder."""

import struct
from pathlib import Path

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db, pytest.mark.usefixtures("demo_fleet")]

SCREENSHOTS = {
    "overview": "/",
    "plugins": "/plugins/",
    "plugin-core": "/plugins/core/",
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
        assert width == 1280
        assert height > 900, name  # the whole page, not only the viewport
    assert tab.problems == []


PHONE_SCREENSHOTS = {"overview-phone": "/", "plugin-core-phone": "/plugins/core/"}


def test_the_overview_and_a_plugin_have_a_screenshot_at_phone_width(phone_tab, folder):
    for name, path in PHONE_SCREENSHOTS.items():
        phone_tab.open(path)
        phone_tab.page.screenshot(path=folder / f"{name}.png", full_page=True)
        assert png_size(folder / f"{name}.png")[0] == 390
        assert all(chart["painted"] for chart in phone_tab.charts().values())
    assert phone_tab.problems == []
