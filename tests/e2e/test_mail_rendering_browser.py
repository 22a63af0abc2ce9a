"""What a mail program shows, in Chromium: each ready template's message, as it is sent to a real
demo journalist, fits 600 and 375 pixels without a sideways scroll; its answer buttons keep their
colour and padding, its preheader stays hidden and its links their colour even when the message's
`<style>` block is dropped, as Outlook and Gmail's apps do."""

import re

import pytest
from sqlalchemy import select

from accounts.models import User
from campaign.brand import brand_of
from campaign.models import Campaign
from contacts.models import Contact
from extensions import db
from mailings import gallery, services
from mailings.composer import Composer, Recipient

STYLE_BLOCK = re.compile(r"<style>.*?</style>", re.S)

MEASURE = """() => {
  const shown = (el) => el && getComputedStyle(el).display !== "none" && el.getBoundingClientRect().height > 0;
  const button = document.querySelector("a.button");
  const preheader = document.querySelector(".preheader");
  return {
    fits: document.documentElement.scrollWidth <= window.innerWidth,
    button: button && {
      background: getComputedStyle(button).backgroundColor,
      color: getComputedStyle(button).color,
      padding: getComputedStyle(button).paddingLeft,
      right: button.getBoundingClientRect().right,
    },
    preheader_shown: shown(preheader),
    link: [...document.querySelectorAll("td a:not(.button)")].map((a) => getComputedStyle(a).color)[0],
  };
}"""


def rgb(color: str) -> str:
    red, green, blue = (int(color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgb({red}, {green}, {blue})"


@pytest.fixture
def demo_messages(app, runner):
    """Each ready template's message as the demo's Montpellier journalist gets it (preview = send)."""
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    campaign = db.session.scalar(select(Campaign).where(Campaign.name == "Mois de l'ESS 2008"))
    lead = db.session.scalar(select(User).where(User.email == "coordination@example.org"))
    roig = db.session.scalar(select(Contact).where(Contact.last_name == "Roig"))
    messages = {}
    for ready in gallery.items():
        template = gallery.copy(lead, ready.key)
        data = {
            "name": str(ready.name),
            "from_name": "CNCRES — service presse",
            "from_email": "presse@example.org",
            "template_id": template.id,
            "audience": {"contact_ids": [roig.id]},
        }
        mailing = services.save_mailing(lead, None, data, campaign=campaign)
        db.session.commit()
        messages[ready.key] = Composer(mailing).preview(Recipient.of(roig))["html"]
    return brand_of(campaign), messages


@pytest.mark.parametrize("width", [600, 375])
def test_each_ready_message_fits_and_keeps_its_buttons_without_its_style_block(width, page, demo_messages):
    charter, messages = demo_messages
    page.route(re.compile(r"^https?://"), lambda route: route.abort())  # a mail program loads nothing here
    page.set_viewport_size({"width": width, "height": 900})
    with_buttons = set()
    for key, html in messages.items():
        for dropped in (False, True):
            page.set_content(STYLE_BLOCK.sub("", html) if dropped else html)
            seen = page.evaluate(MEASURE)
            where = (key, width, "without <style>" if dropped else "as sent")
            assert seen["fits"], where
            assert seen["preheader_shown"] is False, where
            if seen["link"]:
                assert seen["link"] == rgb(charter.accent_color), where
            if seen["button"]:
                with_buttons.add(key)
                assert seen["button"]["background"] == rgb(charter.primary_color), where
                assert seen["button"]["color"] == "rgb(255, 255, 255)" and seen["button"]["padding"] == "18px", where
                assert seen["button"]["right"] <= width, where
    assert {"invitation_regional", "invitation_national"} <= with_buttons  # the answer buttons were measured
