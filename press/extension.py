"""Press relations plugged into the app: their pages and API, and what they add to mailings
through the hooks `mailings.hooks` offers (mailings never imports press)."""

from flask import Flask
from sqlalchemy import select

from accounts.scoping import scope_url_object
from campaign.readiness import init_app as readiness_facts
from contacts.history import init_app as contact_history
from contacts.preferences import PARTNERS
from extensions import api, csrf, db
from mailings.hooks import init_app as mailing_hooks
from press import api as press_api
from press import (
    followup_views,  # noqa: F401  (the follow-up pages, on the press blueprint)
    history,
    newsroom_views,
    relay_views,
    views,
)
from press.conferences import reminder_texts
from press.followup import addressless_exclusions, skip_addressless
from press.message import PressExtras
from press.models import PressKitFile, PressRelease, RelayKit
from press.newsroom import check_send_time, hold_reason, publish_due, refresh_at_start
from press.pressure import apply_weekly_limit, weekly_limit_exclusions
from press.readiness_facts import facts as press_readiness_facts
from press.release_body import body_html, body_text

BLUEPRINTS = (views.bp, views.public, newsroom_views.bp, newsroom_views.public, relay_views.bp, relay_views.public)


def relay_stream(mailing) -> str | None:
    """A relay kit's mailing is partner news: stopping it leaves national releases coming."""
    return PARTNERS if db.session.scalar(select(RelayKit.id).where(RelayKit.mailing_id == mailing.id)) else None


def init_app(app: Flask) -> None:
    hooks = mailing_hooks(app)
    hooks.message_extras.append(PressExtras)  # RSVP links, embargo line, relay footer
    hooks.send_checks.append(check_send_time)  # embargoes decide the earliest send time
    hooks.holds.append(hold_reason)  # a due mailing whose embargo moved is paused
    hooks.on_start.append(apply_weekly_limit)  # the hard limit per contact and week
    hooks.on_start.append(skip_addressless)  # a walk-in who gave no address is never written to
    hooks.recipient_exclusions += [weekly_limit_exclusions, addressless_exclusions]  # said before sending
    hooks.on_start.append(refresh_at_start)  # a release's email says what the release says when it leaves
    app.add_template_filter(body_html, "release_body")  # paragraphs, lists and links on the newsroom page
    app.add_template_filter(body_text, "release_text")  # its words alone: a page's description
    hooks.follow_ups.append(reminder_texts)  # an approved invitation's reminder needs no second approval
    hooks.streams.append(relay_stream)  # a relay kit's mailing is partner news (contacts.preferences)
    hooks.due_jobs.append(publish_due)  # releases go public when their embargo lifts
    hooks.page_sections.append("press/_pressure_summary.html")  # contacts solicited twice
    readiness_facts(app).sources.append(press_readiness_facts)  # invitations, reminder, kit, release, who came
    contact_history(app).sources += [history.answers_and_attendance, history.coverage]  # a contact's page
    for argument, model in (("release_id", PressRelease), ("kit_id", RelayKit), ("file_id", PressKitFile)):
        scope_url_object(argument, model)  # the one region guard reaches press objects named in URLs
    for blueprint in BLUEPRINTS:
        app.register_blueprint(blueprint)
    for blueprint in press_api.blueprints:
        csrf.exempt(blueprint)  # bearer tokens, no cookies: nothing to forge
        api.register_blueprint(blueprint)
