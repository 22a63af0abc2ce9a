"""The scheduler: due mailings start, too-late ones are `missed`, embargoes lift; one scheduler is active."""

import select as io_select
import signal
import subprocess
import sys
import time
from datetime import timedelta

import pytest
from sqlalchemy import func
from sqlalchemy import select as sql_select

from dbtypes import utcnow
from extensions import db
from mailings.models import Delivery, Mailing
from mailings.scheduler import dispatch_due
from tests.test_delivery_processes import ROOT, worker_env


def schedule(mailing, at):
    mailing = db.session.get(Mailing, mailing.id)
    mailing.status, mailing.scheduled_at = "scheduled", at
    db.session.commit()
    return mailing


def test_dispatch_starts_due_marks_missed_and_lifts_embargoes(app, make_contact, make_mailing):
    now = utcnow()
    people = [make_contact(), make_contact()]
    due = schedule(make_mailing(people, name="due"), now - timedelta(minutes=30))
    late = schedule(make_mailing(people, name="late"), now - timedelta(hours=3))
    later = schedule(make_mailing(people, name="later"), now + timedelta(hours=1))
    embargoed = make_mailing(people, name="embargo", embargo_until=now - timedelta(minutes=1))
    result = dispatch_due(now)
    assert result["started"] == [due.id] and result["missed"] == [late.id] and result["embargoes_lifted"] == 1
    db.session.expire_all()
    assert db.session.get(Mailing, due.id).status == "sending"
    assert db.session.scalar(sql_select(func.count()).where(Delivery.mailing_id == due.id)) == 2
    missed = db.session.get(Mailing, late.id)
    assert missed.status == "missed" and "trop tard" in missed.status_reason
    assert db.session.get(Mailing, later.id).status == "scheduled"
    assert db.session.get(Mailing, embargoed.id).embargo_lifted_at is not None
    assert dispatch_due(now)["started"] == []  # nothing twice


def test_the_missed_window_is_configurable(app, make_contact, make_mailing):
    app.config["MAIL_MISSED_AFTER"] = 60
    try:
        mailing = schedule(make_mailing([make_contact()]), utcnow() - timedelta(minutes=5))
        assert dispatch_due(utcnow())["missed"] == [mailing.id]
    finally:
        app.config["MAIL_MISSED_AFTER"] = 7200


def read_line(process: subprocess.Popen, timeout: float) -> str:
    ready, _, _ = io_select.select([process.stderr], [], [], timeout)
    return process.stderr.readline().decode() if ready else ""


def wait_for_active(process: subprocess.Popen, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if "scheduler: active" in read_line(process, max(0.0, deadline - time.monotonic())):
            return True
    return False


@pytest.mark.engines("postgresql")  # the standby waits on a PostgreSQL advisory lock
def test_two_schedulers_one_active_the_standby_takes_over(
    database_url, engine_name, smtp_server, make_contact, make_mailing
):
    env = worker_env(database_url, smtp_server.port, RELAIS_MAIL_DISPATCH_INTERVAL="0.3")
    args = [sys.executable, "-m", "flask", "--app", "app", "scheduler", "run"]
    first = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    second = None
    try:
        assert wait_for_active(first, 30)
        second = subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert not wait_for_active(second, 3), "two schedulers were active at once"
        mailing = schedule(make_mailing([make_contact(), make_contact()]), utcnow() - timedelta(seconds=1))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            db.session.expire_all()
            if db.session.get(Mailing, mailing.id).status == "sending":
                break
            time.sleep(0.1)
        assert db.session.get(Mailing, mailing.id).status == "sending"
        assert db.session.scalar(sql_select(func.count()).where(Delivery.mailing_id == mailing.id)) == 2
        first.send_signal(signal.SIGKILL)
        first.communicate(timeout=10)
        assert wait_for_active(second, 15), "the standby did not take over"
    finally:
        for process in (first, second):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGTERM)
                process.communicate(timeout=15)
