"""In Chromium at 375 px (a small phone): every staff page reached from the navigation of the demo
fits the screen, the navigation folds behind "Menu", tables read as labelled cards, and a form sent
back with an error puts the cursor in the wrong field."""

import re

import pytest
from sqlalchemy import select

from accounts.models import User
from accounts.services import hash_password
from extensions import db
from tests.conftest import PASSWORD
from tests.e2e.screens import assert_fits, too_wide

PHONE = {"width": 375, "height": 740}
SKIPPED = ("logout", "/feed.", ".csv", ".vcf", ".pdf", ".ics", "export", "download", "lang=", "/api/")


@pytest.fixture
def demo(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output


def visit_all(page, live_server, start: str, limit: int) -> dict[str, list[str]]:
    """Pages reached by following links from `start`, one per address shape (ids differ, not the
    page); returns those that scroll sideways with what sticks out."""
    wide: dict[str, list[str]] = {}
    seen_shapes: set[str] = set()
    queue = [start]
    while queue and len(seen_shapes) < limit:
        path = queue.pop(0)
        shape = re.sub(r"\d+", "N", path.split("?")[0])
        if shape in seen_shapes:
            continue
        seen_shapes.add(shape)
        answer = page.goto(live_server + path)
        assert answer.status < 500, path
        if found := too_wide(page, PHONE["width"]):
            wide[path] = found
        for href in page.eval_on_selector_all("a[href^='/']", "links => links.map(a => a.getAttribute('href'))"):
            href = href.split("#")[0]
            if href and not any(part in href for part in SKIPPED):
                queue.append(href)
    assert len(seen_shapes) >= min(limit, 15), seen_shapes  # the walk went somewhere
    return wide


@pytest.mark.engines("sqlite")  # the width of a page does not depend on the engine; the crawl is long
@pytest.mark.parametrize("email", ["communication@example.org", "bretagne@example.org"])
def test_staff_pages_fit_a_phone(page, live_server, demo, email, console_errors):
    user = db.session.scalar(select(User).where(User.email == email))
    user.password_hash = hash_password(PASSWORD)
    db.session.commit()
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server}/login")
    page.get_by_label("Adresse e-mail").fill(email)
    page.get_by_label("Mot de passe").fill(PASSWORD)
    page.get_by_role("button", name="Se connecter").click()
    page.wait_for_url(f"{live_server}/")

    menu = page.get_by_role("button", name="Menu")
    mailings_link = page.locator(".site-links").get_by_role("link", name="Envois", exact=True)
    assert menu.is_visible() and not mailings_link.is_visible()
    menu.click()
    assert menu.get_attribute("aria-expanded") == "true"
    mailings_link.click()
    page.wait_for_url(f"{live_server}/mailings")
    first_row = page.locator("main table tbody tr").first
    assert first_row.locator("td").first.get_attribute("data-label") == "Nom"
    assert first_row.bounding_box()["width"] <= PHONE["width"]

    assert visit_all(page, live_server, "/", limit=45) == {}
    assert console_errors == []


def test_desktop_keeps_the_full_navigation(page, live_server, browser_login, make_user):
    page.set_viewport_size({"width": 1280, "height": 900})
    browser_login(make_user("national"), PASSWORD)
    assert not page.get_by_role("button", name="Menu").is_visible()
    assert page.locator(".site-links").get_by_role("link", name="Envois", exact=True).is_visible()


def test_a_form_sent_back_puts_the_cursor_in_the_wrong_field(page, live_server, browser_login, make_user):
    page.set_viewport_size(PHONE)
    browser_login(make_user("national"), PASSWORD)
    page.goto(f"{live_server}/contacts/new")
    page.get_by_label("E-mail").fill("pas-une-adresse")
    page.locator("main form [type=submit]").last.click()
    wrong = page.locator("main [aria-invalid=true]").first
    wrong.wait_for()
    # relais.js runs once the page is parsed (defer): wait for it, then the cursor is in the wrong field
    page.wait_for_function("() => document.documentElement.classList.contains('js')")
    page.wait_for_function("() => document.activeElement && document.activeElement.matches('main [aria-invalid=true]')")
    assert wrong.evaluate("field => field === document.activeElement")
    assert_fits(page, PHONE["width"])
