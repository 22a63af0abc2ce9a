"""In Chromium: the dashboard of the demo campaign renders its charts with no console error; a
screenshot is kept under tests/artifacts/."""

from demo import events as event_demo
from extensions import db
from tests.conftest import PASSWORD


def test_dashboard_charts_render(page, live_server, browser_login, make_user, demo_campaign, console_errors, artifacts):
    event_demo.load(demo_campaign)
    db.session.commit()
    browser_login(make_user("national"), PASSWORD)
    page.goto(f"{live_server}/")
    page.wait_for_selector("html.dashboard-ready")
    for chart in ("#chart-regions", "#chart-themes", "#chart-progress"):
        box = page.locator(f"{chart} svg.chart-svg").bounding_box()
        assert box and box["width"] > 200 and box["height"] > 100, chart
    assert page.locator("#chart-regions rect.chart-bar").count() >= 16
    assert page.locator("#chart-progress polyline.chart-line").count() == 2
    assert page.locator("tr[data-region]").count() == 20
    page.screenshot(path=str(artifacts / "dashboard.png"), full_page=True)
    page.emulate_media(media="print")
    assert page.locator("#chart-regions svg.chart-svg").is_visible()
    assert page.locator(".site-header").is_hidden()
    assert console_errors == []
