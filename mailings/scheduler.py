"""The scheduler: APScheduler is only a timer that calls `dispatch_due(now)`; the database is the truth.

One scheduler is active at a time: on PostgreSQL it holds an advisory lock (a standby waits for it
and takes over when the holder's session ends); on SQLite, one machine, a file lock beside the
database does the same.
"""

import atexit
import fcntl
import logging
import os
import socket
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click
from apscheduler.schedulers.background import BackgroundScheduler
from flask import Flask, current_app
from sqlalchemy import select, update

from campaign.reminders import send_due_reminders
from config import INSTANCE
from dbtypes import utcnow
from extensions import db
from formatting import date_time
from i18n import _
from mailings import states
from mailings.approval import announce_pending
from mailings.engine.database import DATABASE_GONE
from mailings.engine.locks import SessionLock
from mailings.engine.recovery import recover
from mailings.engine.worker import Worker
from mailings.hooks import hooks
from mailings.hooks import init_app as mailing_hooks
from mailings.models import Mailing, SchedulerHeartbeat
from mailings.services import start

log = logging.getLogger("relais.scheduler")
SCHEDULER_LOCK = 0x52454C5343  # "RELSC"


def dispatch_due(now: datetime) -> dict:
    """Start the mailings that are due, mark `missed` those too late, lift embargoes, recover workers."""
    window = timedelta(seconds=int(current_app.config["MAIL_MISSED_AFTER"]))
    query = (
        select(Mailing)
        .where(Mailing.status.in_(states.sources("start")), Mailing.scheduled_at <= now)
        .order_by(Mailing.scheduled_at)
    )
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    started, missed = [], []
    for mailing in db.session.scalars(query).all():
        if now - mailing.scheduled_at > window:
            mailing.status = states.TRANSITIONS["miss"][1]
            mailing.status_reason = _(
                "prévu le %(due)s, repris le %(now)s (heure de Paris) : trop tard pour partir sans qu'une personne "
                "le décide",
                due=date_time(mailing.scheduled_at),
                now=date_time(now),
            )
            missed.append(mailing.id)
        elif reason := held(mailing, now):  # press: an embargo moved after it was scheduled
            mailing.status, mailing.status_reason = "paused", reason
        else:
            start(mailing, now)
            started.append(mailing.id)
    lifted = db.session.execute(
        update(Mailing)
        .where(Mailing.embargo_until <= now, Mailing.embargo_lifted_at.is_(None))
        .values(embargo_lifted_at=now)
    ).rowcount
    for job in hooks().due_jobs:  # press: releases go public in the newsroom when their embargo lifts
        job(now)
    db.session.commit()
    with db.engine.connect() as conn:
        recovered = recover(conn, now)
    if started or missed:
        log.info("dispatch: started %s, missed %s", started, missed)
    return {"started": started, "missed": missed, "embargoes_lifted": lifted, "recovered": recovered}


def held(mailing: Mailing, now: datetime) -> str:
    """The first reason a hook gives to pause a due mailing, or ""."""
    for hold in hooks().holds:
        if reason := hold(mailing, now):
            return reason
    return ""


class Leadership:
    """Who is the active scheduler: an advisory lock on PostgreSQL, a file lock on SQLite."""

    def __init__(self, app: Flask):
        self.app = app
        self.lock: SessionLock | None = None
        self.file = None

    def acquire(self) -> bool:
        with self.app.app_context():
            if db.engine.dialect.name == "postgresql":
                self.lock = self.lock or SessionLock(SCHEDULER_LOCK)
                return self.lock.try_take()
            path = Path(db.engine.url.database or INSTANCE / "relais-memory")
            self.file = self.file or open(f"{path}.scheduler.lock", "a")  # noqa: SIM115 (held for the process's life)
            try:
                fcntl.flock(self.file, fcntl.LOCK_EX | fcntl.LOCK_NB)
                return True
            except BlockingIOError:
                return False

    def held(self) -> bool:
        if self.lock is None:
            return self.file is not None
        return self.lock.alive()

    def forget(self) -> None:
        """Drop a connection whose session (and so whose lock) is gone."""
        if self.lock is not None:
            self.lock.forget()

    def release(self) -> None:
        if self.lock is not None:
            self.lock.release()
        if self.file is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
            self.file.close()
            self.file = None


def beat(now: datetime) -> None:
    """Record that the active scheduler is alive (read by /readyz)."""
    heartbeat = db.session.get(SchedulerHeartbeat, 1) or SchedulerHeartbeat(id=1)
    heartbeat.host, heartbeat.pid, heartbeat.beat_at = socket.gethostname()[:200], os.getpid(), now
    db.session.add(heartbeat)
    db.session.commit()


def tick(app: Flask) -> None:
    with app.app_context():
        try:
            now = utcnow()
            dispatch_due(now)
            beat(now)
        except Exception:
            db.session.rollback()
            log.exception("dispatch failed; the next tick tries again")
        finally:
            db.session.remove()


def remind(app: Flask) -> None:
    """Deadline digests: each owner at most once a day (campaign.reminders keeps the count)."""
    with app.app_context():
        try:
            send_due_reminders(utcnow())
        except Exception:
            db.session.rollback()
            log.exception("reminders failed; the next run tries again")
        finally:
            db.session.remove()


def notify(app: Flask) -> None:
    """The emails of approval steps (a regional mailing waits, national decided): in their own job,
    so that a slow mail server never delays the start of a due mailing."""
    with app.app_context():
        try:
            announce_pending(utcnow())
        except Exception:
            db.session.rollback()
            log.exception("approval notices failed; the next run tries again")
        finally:
            db.session.remove()


def run_scheduler(
    app: Flask, stop: threading.Event, interval: float | None = None, poll: float = 1.0, on_active=None
) -> None:
    """Stand by until this process holds the lock, tick while it holds it; a lost database sends it back to standby."""
    interval = interval or float(app.config["MAIL_DISPATCH_INTERVAL"])
    leadership = Leadership(app)
    try:
        while not stop.is_set():
            if not wait_for_leadership(leadership, stop, poll):
                return
            log.info("scheduler: active (pid %s)", os.getpid())
            if on_active:
                on_active()
            lead(app, leadership, stop, interval, poll)
    finally:
        leadership.release()


def wait_for_leadership(leadership: "Leadership", stop: threading.Event, poll: float) -> bool:
    announced = False
    while not stop.is_set():
        try:
            if leadership.acquire():
                return True
        except DATABASE_GONE as error:
            log.warning("scheduler: database unavailable (%s); retrying", error)
            leadership.forget()
        if not announced:
            log.info("scheduler: another one is active; standing by")
            announced = True
        stop.wait(poll)
    return False


def lead(app: Flask, leadership: "Leadership", stop: threading.Event, interval: float, poll: float) -> None:
    """Tick every `interval` seconds (and send digests every 15 minutes) while the lock is held."""
    timer = BackgroundScheduler(timezone=UTC)
    every = {"coalesce": True, "max_instances": 1, "misfire_grace_time": None}
    timer.add_job(tick, "interval", args=(app,), seconds=interval, next_run_time=datetime.now(UTC), **every)
    timer.add_job(remind, "interval", args=(app,), minutes=15, **every)
    timer.add_job(notify, "interval", args=(app,), seconds=interval, **every)
    for job, seconds in mailing_hooks(app).periodic_jobs:  # added by the floors above (the bounce mailbox)
        timer.add_job(job, "interval", args=(app,), seconds=seconds, **every)
    timer.start()
    try:
        while not stop.wait(poll):
            with app.app_context():
                if not leadership.held():
                    log.error("scheduler: lost the lock (database gone?); standing by again")
                    leadership.forget()
                    return
    finally:
        timer.shutdown(wait=True)


_embedded: dict[str, threading.Event] = {}


def register(app: Flask) -> None:
    """RELAIS_SCHEDULER_EMBEDDED: one scheduler and one worker inside the web process (`make run`)."""
    if not app.config.get("SCHEDULER_EMBEDDED"):
        return
    if app.testing and not app.config.get("SCHEDULER_EMBEDDED_IN_TESTS"):
        return
    if app.debug and os.environ.get("WERKZEUG_RUN_MAIN") != "true":
        return  # the reloader's watcher process: the served child starts them
    ctx = click.get_current_context(silent=True)
    if ctx is not None and ctx.info_name not in ("run",) and not app.config.get("SCHEDULER_EMBEDDED_IN_TESTS"):
        return  # another CLI command (db upgrade, demo load...) must not start them
    if "stop" in _embedded:
        return
    stop = threading.Event()
    _embedded["stop"] = stop
    worker = Worker(app)
    worker.stop = stop
    threading.Thread(target=run_scheduler, args=(app, stop), name="relais-scheduler", daemon=True).start()
    threading.Thread(target=worker.run, name="relais-worker", daemon=True).start()
    atexit.register(stop.set)


def stop_embedded() -> None:
    stop = _embedded.pop("stop", None)
    if stop is not None:
        stop.set()
