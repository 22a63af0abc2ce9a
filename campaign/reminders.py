"""Deadline reminders: one digest a day at most per person, of the milestones and readiness steps
they own that are due soon or late; never twice for the same item and day (a unique key in
`reminders_sent` holds even when two schedulers run at once); people can opt out.

The scheduler calls `send_due_reminders(now)`; `flask --app app campaign reminders` runs it by hand.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import click
from flask import Blueprint, current_app, flash, redirect, render_template, url_for
from flask.cli import AppGroup
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError

from accounts.models import Region, User
from campaign import readiness
from campaign.events import deliver
from campaign.federation_models import ReminderSent
from campaign.models import Campaign
from campaign.services import OPEN_STATUSES
from dbtypes import utcnow
from extensions import db
from forms import ConfirmForm

DEFAULT_DAYS_AHEAD = 3


@dataclass(frozen=True)
class DueItem:
    item_kind: str  # "milestone" or "readiness:<step key>"
    item_id: int  # the milestone's id, or the region's id for a readiness step
    title: str
    due_at: datetime
    late: bool
    where: str
    campaign: Campaign


def active_campaigns(now: datetime) -> list[Campaign]:
    """Campaigns still being prepared or run: an old edition sends no reminders."""
    today = now.date()
    query = select(Campaign).where(
        Campaign.ends_on >= today - timedelta(days=31), Campaign.starts_on <= today + timedelta(days=366)
    )
    return list(db.session.scalars(query))


def regional_coordinators() -> dict[int, list[User]]:
    people: dict[int, list[User]] = defaultdict(list)
    for user in db.session.scalars(select(User).where(User.role == "regional", User.active)):
        people[user.region_id].append(user)
    return people


def due_items(now: datetime, ahead: timedelta) -> dict[int, list[DueItem]]:
    """What each user owns that is due before now + ahead and not done, by user id."""
    horizon = now + ahead
    found: dict[int, list[DueItem]] = defaultdict(list)
    coordinators = regional_coordinators()
    regions = list(db.session.scalars(select(Region).where(Region.active)))
    for campaign in active_campaigns(now):
        milestones, rows = readiness.campaign_state(campaign)
        for m in milestones:
            if m.owner_id and m.status in OPEN_STATUSES and m.starts_at <= horizon:
                late = m.finishes_at < now
                where = m.region.name if m.region else "National"
                found[m.owner_id].append(DueItem("milestone", m.id, m.title, m.starts_at, late, where, campaign))
        for region in regions:
            for step in readiness.checklist(campaign, region, milestones, rows):
                if step.done or step.due_at is None or step.due_at > horizon:
                    continue
                owners = [step.owner_id] if step.owner_id else [u.id for u in coordinators.get(region.id, [])]
                item = DueItem(
                    f"readiness:{step.key}", region.id, step.title, step.due_at, step.late(now), region.name, campaign
                )
                for owner in owners:
                    found[owner].append(item)
    return found


def local_day(now: datetime) -> date:
    return now.astimezone(ZoneInfo(current_app.config.get("DEFAULT_TIMEZONE", "Europe/Paris"))).date()


def send_due_reminders(now: datetime) -> int:
    """Email each owner one digest of their due-soon and late items; returns how many digests went."""
    ahead = timedelta(days=int(current_app.config.get("REMINDER_DAYS_AHEAD", DEFAULT_DAYS_AHEAD)))
    day, sent = local_day(now), 0
    for user_id, items in due_items(now, ahead).items():
        user = db.session.get(User, user_id)
        if user is None or not user.active or user.reminders_opt_out:
            continue
        already = db.session.scalar(select(exists().where(ReminderSent.user_id == user.id, ReminderSent.day == day)))
        if already:  # once a day at most
            continue
        if send_digest(user, sorted(set(items), key=lambda i: i.due_at), day, now):
            sent += 1
    return sent


def send_digest(user: User, items: list[DueItem], day: date, now: datetime) -> bool:
    """Claim the items for this user and day, send, then commit; a claim taken elsewhere skips it."""
    savepoint = db.session.begin_nested()
    try:
        for item in items:
            db.session.add(
                ReminderSent(user_id=user.id, item_kind=item.item_kind, item_id=item.item_id, day=day, sent_at=now)
            )
        db.session.flush()
    except IntegrityError:
        savepoint.rollback()
        db.session.rollback()
        return False
    late = sum(i.late for i in items)
    subject = f"Relais : {len(items)} échéance(s) à suivre" + (f", dont {late} en retard" if late else "")
    if not deliver([user.email], subject, "reminder_digest", user=user, items=items, day=day, now=now):
        savepoint.rollback()
        db.session.rollback()
        return False
    savepoint.commit()
    db.session.commit()
    return True


# ---- command line and the opt-out page ----------------------------------------------------------

campaign_cli = AppGroup("campaign", help="Campaign chores: deadline reminders.")


@campaign_cli.command("reminders")
def reminders_command() -> None:
    """Send today's deadline reminder digests (safe to run again: nothing goes twice)."""
    count = send_due_reminders(utcnow())
    click.echo(f"reminders: {count} digest(s) sent")


bp = Blueprint("reminders", __name__)


@bp.route("/reminders", methods=["GET", "POST"])
@login_required
def preferences():
    form = ConfirmForm()
    if form.validate_on_submit():
        current_user.reminders_opt_out = not current_user.reminders_opt_out
        db.session.commit()
        flash(
            _("Vous ne recevrez plus de rappels d'échéances.")
            if current_user.reminders_opt_out
            else _("Vous recevrez de nouveau les rappels d'échéances."),
            "success",
        )
        return redirect(url_for("reminders.preferences"))
    return render_template("events/reminders.html", form=form)
