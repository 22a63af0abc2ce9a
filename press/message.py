"""What press relations add to every mailing's messages, registered as a `message_extras` hook (one
object per mailing): the conference an invitation is about and its RSVP links, the embargo line in
subject and body, and a partner's signed relay link."""

from markupsafe import escape
from sqlalchemy import select

from campaign.models import Milestone
from extensions import db
from mailings.tokens import RSVP_SALT, rsvp_token, signer
from press.conferences import CONFERENCE_KINDS
from press.newsroom import embargo_line, embargo_of, release_of
from press.relay import RELAY_SALT, kit_for_mailing, relay_footer

NO_CONFERENCE = {"id": None, "title": "", "starts_at": None, "venue": "", "city": ""}


class PressExtras:
    def __init__(self, composer, mailing):
        # plain values only: the worker rolls its session back once the composer is built
        self.tz = tz = composer.tz
        self.base = composer.base
        self.campaign_id = composer.campaign_id
        self.region_of = composer.region
        is_release = release_of(mailing) is not None
        self.embargo = embargo_of(mailing)
        self.line = embargo_line(self.embargo, tz) if (self.embargo or is_release) else ""
        kit = kit_for_mailing(mailing)
        self.kit_id = kit.id if kit else None
        self.sign = signer(RELAY_SALT) if kit else None
        self.conference = self.mailing_conference(mailing)
        self.conferences, self.national = self.load_conferences()
        self.rsvp_signer = signer(RSVP_SALT)
        self.signs_rsvp = bool({"rsvp_yes_url", "rsvp_no_url"} & composer.compiled.names)

    def as_value(self, milestone) -> dict:
        return {
            "id": milestone.id,
            "title": milestone.title,
            "starts_at": milestone.starts_at.astimezone(self.tz),
            "venue": milestone.venue,
            "city": milestone.city,
        }

    def mailing_conference(self, mailing) -> dict | None:
        """An invitation tied to a conference speaks of that one, whatever the contact's region."""
        milestone = getattr(mailing, "milestone", None)
        if milestone is None or milestone.kind not in CONFERENCE_KINDS:
            return None
        return self.as_value(milestone)

    def load_conferences(self) -> tuple[dict[int, dict], dict]:
        """The campaign's conferences: each region's first, and the first national one."""
        rows = db.session.scalars(
            select(Milestone)
            .where(
                Milestone.campaign_id == self.campaign_id,
                Milestone.kind.in_(("regional_press_conference", "national_press_conference")),
                Milestone.status != "cancelled",
            )
            .order_by(Milestone.starts_at)
        ).all()
        regional, national = {}, dict(NO_CONFERENCE)
        for m in rows:
            if m.kind == "national_press_conference" and national["id"] is None:
                national = self.as_value(m)
            elif m.kind == "regional_press_conference" and m.region_id not in regional:
                regional[m.region_id] = self.as_value(m)
        return regional, national

    def context(self, person, test_link: str | None = None) -> dict:
        conference = self.conference or self.conferences.get(person.region_id, self.national)
        yes = no = ""
        if conference["id"] and test_link:
            yes = no = test_link
        elif conference["id"] and person.id and self.signs_rsvp:
            yes = f"{self.base}/rsvp/{rsvp_token(person.id, conference['id'], 'yes', self.rsvp_signer)}"
            no = f"{self.base}/rsvp/{rsvp_token(person.id, conference['id'], 'no', self.rsvp_signer)}"
        return {
            "conference": {k: v for k, v in conference.items() if k != "id"},
            "rsvp_yes_url": yes,
            "rsvp_no_url": no,
            "press_kit_url": self.press_kit_url(person.region_id),
        }

    def press_kit_url(self, region_id) -> str:
        """The printed press kit of the contact's region (national without one), public and current."""
        code = self.region_of(region_id)["code"]
        return f"{self.base}/newsroom/press-kit.pdf?campaign={self.campaign_id}" + (f"&region={code}" if code else "")

    def decorate(self, contact_id, subject: str, body: str, text: str | None, test_link: str | None = None):
        if self.embargo:
            local = self.embargo.astimezone(self.tz)
            subject = f"[EMBARGO jusqu'au {local:%d/%m/%Y %H:%M}] {subject}"
        if self.line:
            body = f"<p><strong>{escape(self.line)}</strong></p>{body}"
            text = f"{self.line}\n\n{text}" if text is not None else None
        footer = relay_footer(self.kit_id, contact_id, self.sign, test_link)
        if footer:
            body += footer[0]
            text = f"{text}\n\n{footer[1]}" if text is not None else None
        return subject, body, text
