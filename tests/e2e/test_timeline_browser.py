"""In Chromium: sign in, open the demo timeline, create a milestone, see it in its lane."""

from tests.conftest import PASSWORD


def test_create_milestone_appears_in_its_region_lane(
    page,
    live_server,
    browser_login,
    make_user,
    demo_campaign,
    console_errors,
    artifacts,
):
    user = make_user("national")
    browser_login(user, PASSWORD)
    page.goto(f"{live_server}/campaigns/{demo_campaign.id}")
    assert page.locator(".tl-lane").count() == 21  # national + the seed's 20 regions
    page.get_by_role("button", name="Nouveau jalon").click()
    page.get_by_label("Titre").fill("Point presse à Marseille")
    page.get_by_label("Type", exact=True).select_option("regional_press_conference")
    page.get_by_label("Région").select_option("93")
    page.get_by_label("Début").fill("2008-09-11T11:00")
    page.get_by_role("button", name="Enregistrer").click()
    page.wait_for_load_state()
    page.get_by_text("Jalon enregistré").wait_for()
    lane = page.locator('.tl-lane[data-lane="93"]')
    assert lane.locator('.tl-item[title^="Point presse à Marseille"]').count() == 1
    national = page.locator('.tl-lane[data-lane="national"]')
    assert national.locator('.tl-item[title^="Point presse à Marseille"]').count() == 0
    page.screenshot(path=str(artifacts / "timeline.png"), full_page=True)
    assert console_errors == []
