"""The site in a headless Chromium before anything is summarized: it says so, and nothing fails."""

import pytest

pytestmark = [pytest.mark.browser, pytest.mark.django_db]


@pytest.mark.parametrize("path", ["/", "/plugins/", "/rbac/"])
def test_an_empty_site_says_there_is_nothing_yet_without_errors(tab, path):
    tab.open(path)
    assert "No day has been summarized yet" in tab.page.inner_text("main")
    assert tab.charts() == {}
    assert not [url for url in tab.requests if "chart.umd" in url or "/api/" in url]
    assert tab.problems == []
