"""What the floors above mailings add to it, registered by them when the app is built (as Flask
extensions register themselves): mailings calls these hooks and imports none of their owners."""

from collections.abc import Callable
from dataclasses import dataclass, field

from flask import Flask, current_app

KEY = "relais.mailings"


@dataclass
class MailingHooks:
    # factory(composer, mailing) -> an object with `context(person, test_link) -> dict` (values the
    # template reads, over the composer's defaults) and `decorate(contact_id, subject, html, text,
    # test_link)`; with a `test_link` (a test message, a preview) every personal link is that one
    message_extras: list[Callable] = field(default_factory=list)
    # stream(mailing) -> the stream a mailing belongs to when its owner knows better ("partners" for a
    # relay kit), or None (see mailings.streams)
    streams: list[Callable] = field(default_factory=list)
    # check(mailing, when): raise a DomainError if the mailing may not go out at `when`
    send_checks: list[Callable] = field(default_factory=list)
    # hold(mailing, now) -> a reason to pause a due mailing instead of starting it, or ""
    holds: list[Callable] = field(default_factory=list)
    # action(mailing, now): once the audience is frozen, before the workers see it
    on_start: list[Callable] = field(default_factory=list)
    # excluded(mailing, now) -> (reason, a select of contact ids or None): whom the start will skip and
    # why, shown in the recipient list before sending (press: "pressure" for the weekly limit,
    # "no_address" for walk-ins without an address); reason is one of mailings.audience.EXCLUSIONS
    recipient_exclusions: list[Callable] = field(default_factory=list)
    # job(now): run by every scheduler tick, inside its transaction
    due_jobs: list[Callable] = field(default_factory=list)
    # templates included in a mailing's page (they read `mailing`)
    page_sections: list[str] = field(default_factory=list)
    # (job(app), seconds): run by the active scheduler on an interval of its own (the bounce mailbox)
    periodic_jobs: list[tuple[Callable, int]] = field(default_factory=list)
    # follow_up(mailing) -> texts ({"subject", "html", "text"}) of the follow-ups that approving the
    # mailing also approves (press: the reminder of an invitation to those who did not answer)
    follow_ups: list[Callable] = field(default_factory=list)


def init_app(app: Flask) -> MailingHooks:
    return app.extensions.setdefault(KEY, MailingHooks())


def hooks() -> MailingHooks:
    """The current app's hooks (empty lists when nothing registered any)."""
    return current_app.extensions.get(KEY) or MailingHooks()
