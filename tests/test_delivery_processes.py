"""Real worker processes: killed with SIGKILL mid-mailing, and several sending one mailing together."""

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest
from sqlalchemy import select

from extensions import db
from mailings import services
from mailings.models import Delivery, Mailing

ROOT = Path(__file__).resolve().parent.parent
PROCESS_KEY = secrets.token_urlsafe(48)  # processes outside tests refuse a published key


def worker_env(database_url: str, smtp_port: int, **extra) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        RELAIS_SECRET_KEY=PROCESS_KEY,
        RELAIS_MAIL_SERVER="127.0.0.1",
        RELAIS_MAIL_PORT=str(smtp_port),
        RELAIS_PUBLIC_BASE_URL="http://relais.test",
        RELAIS_MAIL_CONNECTIONS="2",
        RELAIS_MAIL_RETRY_DELAYS="[0, 0]",
        **extra,
    )
    env.pop("RELAIS_SCHEDULER_EMBEDDED", None)
    return env


def start_worker(env: dict, once: bool = True) -> subprocess.Popen:
    args = [sys.executable, "-m", "flask", "--app", "app", "mailings", "worker"] + (["--once"] if once else [])
    return subprocess.Popen(args, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def finish(processes: list[subprocess.Popen], timeout: float = 90) -> None:
    for process in processes:
        _, err = process.communicate(timeout=timeout)
        assert process.returncode == 0, err.decode()


def statuses(mailing_id: int) -> dict[str, str]:
    db.session.expire_all()
    return dict(
        db.session.execute(select(Delivery.email, Delivery.status).where(Delivery.mailing_id == mailing_id)).all()
    )


def started(mailing) -> None:
    services.start(db.session.get(Mailing, mailing.id), __import__("dbtypes").utcnow())
    db.session.commit()


def test_a_worker_killed_mid_mailing_loses_nothing_and_resends_nothing(
    database_url, mail_app, smtp_server, make_mailing, many_contacts
):
    smtp_server.handler.every_message_delay = 0.01
    ids = many_contacts(300, "kill")
    mailing = make_mailing(ids)
    started(mailing)
    env = worker_env(database_url, smtp_server.port)
    worker = start_worker(env, once=True)
    deadline = time.monotonic() + 60
    while len(smtp_server.messages) < 100 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    worker.communicate(timeout=10)
    assert 0 < len(smtp_server.messages) < 300, "the worker was not killed mid-mailing"
    finish([start_worker(env, once=True)])

    found = statuses(mailing.id)
    received = Counter(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos)
    by_status = Counter(found.values())
    assert set(by_status) <= {"sent", "unknown"}, by_status  # nothing left pending, sending or to retry
    assert by_status["unknown"] <= 2, by_status  # at most one per connection
    for address, status in found.items():
        if status == "sent":
            assert received[address] == 1, address
        else:
            assert received[address] <= 1, address  # in doubt, and never resent automatically
    assert db.session.get(Mailing, mailing.id).status == "sent"


@pytest.mark.parametrize(
    "workers", [2, 4]
)  # on PostgreSQL as on several machines; on SQLite, workers queue on its file
def test_several_workers_send_one_mailing_without_duplicates(
    database_url, engine_name, mail_app, smtp_server, make_mailing, many_contacts, workers
):
    ids = many_contacts(2000, f"team{workers}-")
    mailing = make_mailing(ids)
    started(mailing)
    env = worker_env(database_url, smtp_server.port)
    finish([start_worker(env) for _ in range(workers)], timeout=120)
    received = Counter(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos)
    assert len(received) == 2000
    assert max(received.values()) == 1, [a for a, n in received.items() if n > 1][:5]
    assert Counter(statuses(mailing.id).values()) == {"sent": 2000}
    assert db.session.get(Mailing, mailing.id).status == "sent"
