"""A worker rides out a lost database without a restart: PostgreSQL drops every connection of the
database and refuses new ones for a while, then comes back; the mailing finishes, nobody twice."""

import subprocess
import time
from collections import Counter
from contextlib import contextmanager, suppress

import psycopg
import pytest
from sqlalchemy.exc import OperationalError

from extensions import db
from mailings.models import DeliveryWorker, Mailing
from tests.conftest import PG_ADMIN_URL
from tests.test_delivery_processes import start_worker, started, statuses, worker_env


@contextmanager
def running(process: subprocess.Popen):
    """The worker process, killed if the test fails before it ends (never left to hold the database)."""
    try:
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.communicate()


def cut(database: str, seconds: float) -> int:
    """Refuse new connections to `database`, end the open ones, and let them back after `seconds`."""
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS false')
        try:
            ended = admin.execute(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                "WHERE datname = %s AND pid <> pg_backend_pid()",
                (database,),
            ).fetchone()[0]
            time.sleep(seconds)
        finally:
            admin.execute(f'ALTER DATABASE "{database}" ALLOW_CONNECTIONS true')
    return ended


def finished(worker: subprocess.Popen) -> bytes:
    """The worker's stderr once it has ended by itself (`--once`), or a failure saying what it wrote."""
    try:
        _, err = worker.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        worker.kill()
        pytest.fail("the worker did not finish:\n" + worker.communicate()[1].decode()[-3000:])
    assert worker.returncode == 0, err.decode()
    return err


@pytest.mark.engines("postgresql")  # SQLite is a file: there is no server to lose
def test_a_worker_survives_a_database_outage_and_sends_everyone_once(
    database_url, mail_app, smtp_server, make_mailing, many_contacts
):
    smtp_server.handler.every_message_delay = 0.01
    mailing = make_mailing(many_contacts(400, "outage"))
    started(mailing)
    mailing_id = mailing.id
    db.session.remove()
    db.engine.dispose()  # the test's own connections are cut too: start from none
    with running(start_worker(worker_env(database_url, smtp_server.port), once=True)) as worker:
        deadline = time.monotonic() + 60
        while len(smtp_server.messages) < 100 and time.monotonic() < deadline:
            time.sleep(0.02)
        database = database_url.rsplit("/", 1)[1]
        assert cut(database, seconds=3) >= 2, "the worker's connections were not there to cut"
        during = len(smtp_server.messages)
        assert worker.poll() is None, "the worker gave up instead of waiting for the database"
        err = finished(worker)
    assert during < 400, "the outage came after the mailing was over"

    db.engine.dispose()
    found = statuses(mailing_id)
    received = Counter(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos)
    assert Counter(found.values()) == {"sent": 400}, Counter(found.values())  # nothing lost, nothing in doubt
    assert len(received) == 400 and max(received.values()) == 1
    assert db.session.get(Mailing, mailing_id).status == "sent"
    assert db.session.query(DeliveryWorker).count() == 0  # it left cleanly, whatever identity it had
    assert b"database lost" in err and b"is back" in err  # it said what happened


@pytest.mark.engines("postgresql")
def test_a_worker_declared_dead_while_alive_sends_nothing_twice_and_comes_back(
    database_url, mail_app, smtp_server, make_mailing, many_contacts
):
    """Its lock connection alone is cut and the scheduler's recovery takes its claims back: the
    worker must not hand over what was taken back, and goes on as a new worker."""
    from mailings.engine.locks import LOCK_CLASS
    from mailings.engine.recovery import recover

    smtp_server.handler.every_message_delay = 0.01
    mailing = make_mailing(many_contacts(400, "undead"))
    started(mailing)
    mailing_id = mailing.id
    with running(start_worker(worker_env(database_url, smtp_server.port), once=True)) as worker:
        deadline = time.monotonic() + 60
        while len(smtp_server.messages) < 100 and time.monotonic() < deadline:
            time.sleep(0.02)
        database = database_url.rsplit("/", 1)[1]
        for _ in range(5):
            first = db.session.scalar(db.select(DeliveryWorker.id))
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
                deadline = time.monotonic() + 10  # after a first try, the worker takes its lock again
                while True:
                    ended = admin.execute(
                        "SELECT count(pg_terminate_backend(l.pid)) FROM pg_locks l JOIN pg_database d "
                        "ON d.oid = l.database WHERE d.datname = %s AND l.locktype = 'advisory' "
                        "AND l.classid = %s AND l.objid = %s",
                        (database, LOCK_CLASS, first),
                    ).fetchone()[0]
                    if ended or time.monotonic() > deadline:
                        break
                    time.sleep(0.05)
            assert ended == 1
            for _ in range(10):  # what the active scheduler does on each tick (a heartbeat in between defers it)
                with db.engine.connect() as conn, suppress(OperationalError):  # a deadlock with the worker: next tick
                    recover(conn)
                db.session.expire_all()
                if db.session.get(DeliveryWorker, first) is None:
                    break
                time.sleep(0.05)
            if db.session.get(DeliveryWorker, first) is None:
                break
            # The worker saw its own lock go first (a deadlock with the recovery is an error to it) and
            # took its identity back, rightly: it was never declared dead. Cut its lock again.
        assert db.session.get(DeliveryWorker, first) is None
        err = finished(worker)
    assert f"worker {first} is back as worker".encode() in err

    found = statuses(mailing_id)
    received = Counter(rcpt for m in smtp_server.messages for rcpt in m.rcpt_tos)
    by_status = Counter(found.values())
    assert set(by_status) <= {"sent", "unknown"} and by_status["unknown"] <= 2, by_status
    assert max(received.values()) == 1, [a for a, n in received.items() if n > 1][:5]
    assert all(received[address] == 1 for address, status in found.items() if status == "sent")
    assert db.session.get(Mailing, mailing_id).status == "sent"
