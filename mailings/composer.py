"""One mailing's messages: template compiled once, layout split once, per-region data loaded once."""

from dataclasses import dataclass
from typing import Any

from flask import current_app, render_template
from markupsafe import Markup
from sqlalchemy import select

from accounts.models import Region
from campaign.brand import brand_of
from campaign.models import Event
from campaign.services import zone
from contacts.models import CIVILITY_WORDS, salutation_of
from extensions import db
from mailings.dkim import DkimSigner
from mailings.hooks import hooks
from mailings.inline_css import inline_styles
from mailings.message import MessageBuilder, QuotedLayout, qp
from mailings.models import EmailTemplate, Mailing
from mailings.rendering import compile_template, html_to_text, render_checked, run
from mailings.return_path import ReturnPath
from mailings.streams import mailing_stream
from mailings.tokens import UNSUBSCRIBE_SALT, signer, unsubscribe_token

BODY, UNSUB, PREFS = "RELAISBODYMARK", "RELAISUNSUBMARK", "RELAISPREFSMARK"
TEST_LINK_PATH = "/test-link"  # served by the public blueprint (mailings.views.test_link)
TEST_MARK = "[TEST]"
NO_CONFERENCE = {"title": "", "starts_at": None, "venue": "", "city": ""}  # the template's names without press


@dataclass
class Recipient:
    """The plain values of a contact that a message needs."""

    id: int | None
    email: str
    first_name: str = ""
    last_name: str = ""
    kind: str = ""
    organisation: str = ""
    region_id: int | None = None
    civility: str | None = None
    city: str = ""
    job_title: str = ""

    @property
    def full_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)

    @property
    def salutation(self) -> str:
        return salutation_of(self.civility, self.last_name)

    @classmethod
    def of(cls, contact) -> "Recipient":
        return cls(
            contact.id,
            contact.email,
            contact.first_name or "",
            contact.last_name or "",
            contact.kind or "",
            contact.organisation.name if contact.organisation else "",
            contact.region_id,
            contact.civility,
            contact.city or "",
            contact.job_title or "",
        )


@dataclass(frozen=True)
class Draft:
    """A template being written (the editor's preview, the check at save): what a Composer reads of one."""

    subject: str
    html: str
    text: str = ""


class Composer:
    """Everything needed to write one mailing's message to any of its recipients."""

    def __init__(self, mailing: Mailing, template: EmailTemplate | Draft | None = None):
        self.mailing_id = mailing.id
        self.stream = mailing_stream(mailing)  # what a one-click unsubscribe stops (contacts.preferences)
        self.from_email = current_app.config.get("MAIL_RETURN_PATH") or mailing.from_email  # test sends' sender
        self.return_path = ReturnPath.configured(current_app.config)  # each delivery's own (VERP)
        self.dkim = DkimSigner.configured(current_app.config)
        config = current_app.config
        self.base = config["PUBLIC_BASE_URL"].rstrip("/")
        self.unsub_signer = signer(UNSUBSCRIBE_SALT)
        campaign = mailing.campaign
        self.tz = zone(campaign.timezone)
        self.campaign_id = campaign.id
        self.campaign = {"name": campaign.name, "starts_on": campaign.starts_on, "ends_on": campaign.ends_on}
        self.mailing = {"name": mailing.name}
        sender = mailing.from_name or mailing.from_email
        charter = brand_of(campaign)
        css = render_template("email/body.css", color=charter.primary_color, accent=charter.accent_color)
        template = template or mailing.template
        # the body's styles go into its tags once here, so every path (preview, test, send) writes the same
        self.compiled = compile_template(template.subject, inline_styles(template.html, css), template.text)
        layout = {
            "css": Markup(css),
            "campaign_name": campaign.name,
            "color": charter.primary_color,
            "accent": charter.accent_color,
            "footer": charter.footer,
            "logo_url": charter.logo_url or config.get("MAIL_LOGO_URL"),
            "sender": sender,
            "body": Markup(BODY),
            "unsubscribe_url": Markup(UNSUB),
            "preferences_url": Markup(PREFS),  # the footer's link (contacts.preferences)
        }
        html_layout = render_template("email/layout.html", **layout)
        text_layout = render_template("email/layout.txt", **layout)
        self.html_head, self.html_tail = html_layout.split(BODY)
        self.text_head, self.text_tail = text_layout.split(BODY)
        self.html_wire = QuotedLayout(html_layout, (BODY, UNSUB, PREFS))  # the fast path's parts (`compose`)
        self.text_wire = QuotedLayout(text_layout, (BODY, UNSUB, PREFS))
        self.builder = MessageBuilder(mailing.id, mailing.from_name, mailing.from_email, mailing.reply_to)
        self.extras = [make(self, mailing) for make in hooks().message_extras]  # press: RSVP, embargo, relay
        self.events: dict[int | None, list[dict]] = {}
        self.rendered: dict[tuple[str, int | None], str] = {}  # (field, region) -> output (see `render`)
        self.regions: dict[int | None, dict] = {None: {"code": "", "name": ""}}
        # Every personal link of a test message or a preview (unsubscribe, RSVP, relay...) leads here:
        # a page that says it was a test and records nothing. No live link is signed for them.
        self.test_link = f"{self.base}{TEST_LINK_PATH}"

    def envelope_sender(self, delivery_id: int) -> str:
        """MAIL FROM of one delivery: the return path tagged for it (VERP), else the From address."""
        return self.return_path.address(delivery_id) if self.return_path else self.from_email

    def region(self, region_id: int | None) -> dict:
        if region_id not in self.regions:
            region = db.session.get(Region, region_id)
            self.regions[region_id] = {"code": region.code, "name": region.name} if region else self.regions[None]
        return self.regions[region_id]

    def region_events(self, region_id: int | None) -> list[dict]:
        if region_id not in self.events:
            rows = (
                db.session.scalars(
                    select(Event)
                    .where(
                        Event.campaign_id == self.campaign_id, Event.region_id == region_id, Event.status == "approved"
                    )
                    .order_by(Event.starts_at)
                ).all()
                if region_id
                else []
            )
            self.events[region_id] = [
                {"title": e.title, "type": e.type, "starts_at": e.starts_at.astimezone(self.tz), "city": e.city}
                for e in rows
            ]
        return self.events[region_id]

    def context(self, person: Recipient, unsubscribe_url: str, test: bool = False) -> dict[str, Any]:
        context = {
            "contact": {
                "first_name": person.first_name,
                "last_name": person.last_name,
                "full_name": person.full_name,
                "email": person.email,
                "organisation": person.organisation,
                "kind": person.kind,
                "civility": CIVILITY_WORDS.get(person.civility or "", ""),
                "salutation": person.salutation,
                "city": person.city,
                "job_title": person.job_title,
            },
            "region": self.region(person.region_id),
            "campaign": self.campaign,
            "mailing": self.mailing,
            "conference": dict(NO_CONFERENCE),
            "events": self.region_events(person.region_id),
            "unsubscribe_url": unsubscribe_url,
            "rsvp_yes_url": "",
            "rsvp_no_url": "",
            "press_kit_url": "",
        }
        for extra in self.extras:
            context.update(extra.context(person, self.test_link if test else None))
        return context

    def decorate(self, contact_id: int | None, subject: str, body: str, text: str | None, test: bool = False):
        """What the extras add (a test or a preview: their personal links lead to the test page)."""
        for extra in self.extras:
            subject, body, text = extra.decorate(contact_id, subject, body, text, self.test_link if test else None)
        return subject, body, text

    def unsubscribe_url(self, person: Recipient, test: bool = False) -> str:
        if test:
            return self.test_link
        return f"{self.base}/unsubscribe/{unsubscribe_token(person.id, self.mailing_id, self.unsub_signer)}"

    def preferences_url(self, unsubscribe_url: str) -> str:
        """The preference page's link: the same signed token as the unsubscribe link's (a test: the test page)."""
        if unsubscribe_url == self.test_link:
            return self.test_link
        return f"{self.base}/preferences/{unsubscribe_url.rpartition('/')[2]}"

    @staticmethod
    def plain_body(body: str, text: str | None) -> str:
        """What the text part's layout holds: the text body, or one made from the HTML."""
        return (text if text is not None else html_to_text(body)).strip() + "\n"

    def wrap(self, body: str, text: str | None, unsubscribe_url: str) -> tuple[str, str]:
        """Both parts in the layout, as text (the preview); `compose` writes the same, encoded."""
        prefs = self.preferences_url(unsubscribe_url)
        html = self.html_head + body + self.html_tail.replace(UNSUB, unsubscribe_url).replace(PREFS, prefs)
        plain = self.text_head + self.plain_body(body, text) + self.text_tail
        return html, plain.replace(UNSUB, unsubscribe_url).replace(PREFS, prefs)

    def render(self, person: Recipient, context: dict) -> tuple[str, str, str | None]:
        """The fast path's fields. One that reads nothing personal (a subject naming the campaign and
        the region) is the same for all of a region's recipients: rendered once per region."""
        out = []
        for field in ("subject", "html", "text"):
            template = getattr(self.compiled, field)
            if template is None:
                out.append(None)
            elif field in self.compiled.same_in_a_region:
                key = (field, person.region_id)
                if key not in self.rendered:
                    self.rendered[key] = run(template, context, field)
                out.append(self.rendered[key])
            else:
                out.append(run(template, context, field))
        return out[0], out[1], out[2]

    def compose(
        self, person: Recipient, delivery_id: int, careful: bool = False, test: bool = False
    ) -> tuple[bytes, str]:
        """The message's bytes and its Message-ID (the fast path unless `careful`)."""
        url = self.unsubscribe_url(person, test)
        context = self.context(person, url, test)
        subject, body, text = render_checked(self.compiled, context) if careful else self.render(person, context)
        subject, body, text = self.decorate(person.id, subject, body, text, test)
        if test:
            subject = f"{TEST_MARK} {subject}"
        prefs = self.preferences_url(url)
        html_part = self.html_wire.encode({BODY: body, UNSUB: url, PREFS: prefs})
        text_part = self.text_wire.encode({BODY: self.plain_body(body, text), UNSUB: url, PREFS: prefs})
        message_id = self.builder.message_id(delivery_id)
        data = self.builder.build(person.full_name, person.email, subject, html_part, text_part, url, message_id)
        if self.dkim is not None:
            data = self.dkim.sign(data)
        return data, message_id

    def preview(self, person: Recipient) -> dict:
        """What the editor shows: subject, both parts and the weight of the whole message; its
        personal links, like a test message's, lead to the test page (but no [TEST] mark)."""
        url = self.unsubscribe_url(person, test=True)
        subject, body, text = render_checked(self.compiled, self.context(person, url, test=True))
        subject, body, text = self.decorate(person.id, subject, body, text, test=True)
        html, plain = self.wrap(body, text, url)
        data = self.builder.build(
            person.full_name, person.email, subject, qp(html), qp(plain), url, self.builder.message_id(0)
        )
        return {"subject": subject, "html": html, "text": plain, "size": len(data), "kb": round(len(data) / 1024, 1)}
