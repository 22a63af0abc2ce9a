"""The national dashboard: the regions table and the charts, with their numbers as tables."""

import re

import pytest

from demo import events as event_demo
from extensions import db


@pytest.fixture
def demo(app, demo_campaign):
    event_demo.load(demo_campaign)
    db.session.commit()
    return demo_campaign


def row(html: str, code: str) -> str:
    match = re.search(rf'<tr data-region="{code}">(.*?)</tr>', html, re.S)
    assert match, f"no row for region {code}"
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", match.group(1))).strip()


def test_regions_table_and_charts(app, client, demo, make_user, login):
    login(make_user("national"))
    html = client.get("/").get_data(as_text=True)
    # PACA in the demo: 3 approved events, 1 proposed; readiness all done; conference on 11 September
    paca = row(html, "93")
    assert paca.startswith("Provence-Alpes-Côte d’Azur 3 1 11 septembre 2008"), paca
    assert "100 %" in paca
    limousin = row(html, "74")
    assert "70 %" in limousin  # three steps left open in the demo
    assert html.count('<tr data-region="') == 20
    for chart in ("chart-regions", "chart-themes", "chart-progress"):
        assert f'id="{chart}"' in html
    assert html.count('<svg class="chart-svg"') == 3
    assert html.count('class="chart-bar"') >= 16  # a bar per region with events, and per theme
    assert "Événements par région — en chiffres" in html and "Insertion" in html
    assert "<script>" not in html and "js/dashboard.js" in html


def test_regional_coordinator_sees_its_region_only(app, client, demo, make_user, login):
    login(make_user("regional", region="91"))
    html = client.get("/").get_data(as_text=True)
    assert html.count('<tr data-region="') == 1 and '<tr data-region="91">' in html


def test_dashboard_without_events(app, client, demo_campaign, make_user, login):
    login(make_user("viewer"))
    html = client.get("/").get_data(as_text=True)
    assert "Aucune donnée." in html and row(html, "93").split()[-3:] == ["0", "0", "0"]


def test_figures_that_grow_with_the_data_are_at_most_a_minute_old(
    app, client, demo, make_user, make_contact, login, monkeypatch
):
    login(make_user("national"))
    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 60)
    before = row(client.get("/").get_data(as_text=True), "93")
    make_contact(email="nouvelle@example.org", region="93")
    assert row(client.get("/").get_data(as_text=True), "93") == before  # the same minute: the same figures
    monkeypatch.setitem(app.config, "DASHBOARD_CACHE_SECONDS", 0)
    after = row(client.get("/").get_data(as_text=True), "93")
    assert after != before  # one more contact in Provence
