"""What press relations add to every mailing's messages, called from the composer (one object per
mailing): the embargo line in subject and body, the conference an invitation is about, and a
partner's signed relay link."""

from markupsafe import escape

from mailings.newsroom import embargo_line, embargo_of, release_of
from mailings.relay import RELAY_SALT, kit_for_mailing, relay_footer
from mailings.tokens import signer


class PressExtras:
    def __init__(self, mailing, tz):
        # plain values only: the worker rolls its session back once the composer is built
        is_release = release_of(mailing) is not None
        self.embargo = embargo_of(mailing)
        self.line = embargo_line(self.embargo, tz) if (self.embargo or is_release) else ""
        kit = kit_for_mailing(mailing)
        self.kit_id = kit.id if kit else None
        self.sign = signer(RELAY_SALT) if kit else None
        self.tz = tz
        self.conference = self.mailing_conference(mailing)

    def mailing_conference(self, mailing) -> dict | None:
        """An invitation tied to a conference speaks of that one, whatever the contact's region."""
        from mailings.press import CONFERENCE_KINDS

        milestone = getattr(mailing, "milestone", None)
        if milestone is None or milestone.kind not in CONFERENCE_KINDS:
            return None
        return {
            "id": milestone.id,
            "title": milestone.title,
            "starts_at": milestone.starts_at.astimezone(self.tz),
            "venue": milestone.venue,
            "city": milestone.city,
        }

    def decorate(self, contact_id, subject: str, body: str, text: str | None, test_link: str | None = None):
        """`test_link`: a test message or a preview, whose relay link leads to the test page."""
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
