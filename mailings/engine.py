"""The delivery engine: freeze the audience, claim deliveries, hand them to SMTP, record the answers.

The database is the truth. A connection thread claims a batch of deliveries in one short
transaction (`FOR UPDATE SKIP LOCKED` on PostgreSQL, one atomic UPDATE on SQLite), then for each
one commits `sending` (together with the previous one's result) before the hand-over, so a crash
leaves at most one `sending` row per connection; recovery marks those `unknown`, never resends
them. A claim points at its worker; a dead worker's claims are released to the others, and a mark is
only written while the claim is still the worker's own, so a worker never hands over a message that
was taken back from it.

A lost database does not stop a worker: each connection keeps what the database has not heard yet
(the answers it got, the message it marked but did not hand over), waits for the database, records
those facts, and goes on, under its old identity when it still holds it, or as a new worker.
"""

import contextlib
import fcntl
import gc
import hashlib
import logging
import os
import socket
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import lru_cache

from flask import Flask, current_app
from sqlalchemy import JSON, String, and_, any_, bindparam, case, delete, func, insert, or_, select, text, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError, PendingRollbackError

from contacts.models import Contact, Organisation, Suppression
from dbtypes import utcnow
from extensions import db
from mailings import states
from mailings.audience import mailing_audience
from mailings.composer import Composer, Recipient
from mailings.models import Delivery, DeliveryWorker, Mailing
from mailings.transport import Outcome, RateLimiter, SmtpChannel

FIRST_CLAIM = 50  # deliveries in a worker's first claim of a mailing (see `Worker.claim_size`)
HOST_CONNECTIONS_PER_CORE = 2  # SMTP connections a host's workers share by default (see `Worker.share`)
SHARE_EVERY = 2  # heartbeat ticks (seconds) between two counts of the workers on this host
SERVER_DOWN_PAUSE = 5.0  # seconds a connection waits before trying an unreachable SMTP server again
DATABASE_GONE = (OperationalError, InterfaceError, PendingRollbackError)  # a lost connection, not a bug
log = logging.getLogger("relais.delivery")


def drop_session() -> None:
    """End this thread's ORM session, even when its connection died (no rollback on a dead socket)."""
    try:
        db.session.remove()
    except DATABASE_GONE:
        with contextlib.suppress(*DATABASE_GONE):
            db.session.registry().invalidate()
        db.session.registry.clear()


D = Delivery.__table__
M = Mailing.__table__
W = DeliveryWorker.__table__
LOCK_CLASS = 0x52454C  # advisory lock namespace of delivery workers ("REL")
OPEN_STATUSES = ("pending", "sending", "retry")

MARK_SENDING = (  # only while the claim is still ours (a worker thought dead never hands over what was taken back)
    update(D)
    .where(D.c.id == bindparam("b_id"), D.c.worker_id == bindparam("b_w"), D.c.status.in_(("pending", "retry")))
    .values(status="sending", attempts=D.c.attempts + 1, message_id=bindparam("b_mid"), updated_at=bindparam("b_now"))
)
SET_RESULT = (
    update(D)
    .where(D.c.id == bindparam("b_id"))
    .values(
        status=bindparam("b_status"),
        response=bindparam("b_response"),
        last_error=bindparam("b_error"),
        sent_at=bindparam("b_sent"),
        next_attempt_at=bindparam("b_next"),
        worker_id=None,
        updated_at=bindparam("b_now"),
    )
)

RESULT_THEN_SENDING = (  # PostgreSQL only: a data-modifying CTE makes both updates one atomic statement
    "WITH result AS (UPDATE deliveries SET status=%b, response=%b, last_error=%b, sent_at=%b, next_attempt_at=%b, "
    "worker_id=NULL, updated_at=%b WHERE id=%b) "
    "UPDATE deliveries SET status='sending', attempts=attempts+1, message_id=%b, updated_at=%b "
    "WHERE id=%b AND worker_id=%b AND status IN ('pending', 'retry')"
)  # positional binary parameters: the cheapest for the driver to send (see `Marks`)
SETTLE_RESULT = SET_RESULT.where(  # a fact kept through a lost database: only on our own attempt's row
    D.c.message_id == bindparam("b_mid"), D.c.status.in_(("sending", "unknown"))
)

LOAD_CLAIMED = (  # see `Worker.load`
    select(
        D.c.id,
        D.c.email,
        D.c.attempts,
        Contact.id,
        Contact.first_name,
        Contact.last_name,
        Contact.kind,
        Organisation.name,
        Contact.region_id,
        Contact.opted_out,
        Contact.bounced,
    )
    .select_from(D)
    .outerjoin(Contact, Contact.id == D.c.contact_id)
    .outerjoin(Organisation, Organisation.id == Contact.organisation_id)
    .where(
        D.c.mailing_id == bindparam("mailing"),
        D.c.worker_id == bindparam("worker"),
        D.c.id.between(bindparam("low"), bindparam("high")),
        D.c.status.in_(("pending", "retry")),
    )
    .order_by(D.c.id)
)
SUPPRESSED = {  # a batch's suppressed addresses, its hashes sent as ONE parameter (see `Worker.load`)
    "postgresql": select(Suppression.email_hash).where(
        Suppression.email_hash == any_(bindparam("hashes", type_=ARRAY(String)))
    ),
    "sqlite": select(Suppression.email_hash).where(
        Suppression.email_hash.in_(select(func.json_each(bindparam("hashes", type_=JSON)).table_valued("value")))
    ),
}

SETTLE_KEYS = frozenset(("b_id", "b_mid", "b_status", "b_response", "b_error", "b_sent", "b_next", "b_now"))


class IdentityLost(Exception):
    """Our worker row was recovered by another process while we ran."""


@dataclass
class Flight:
    """What one connection knows that the database has not recorded yet."""

    results: list[dict] = field(default_factory=list)  # answers (and skips) to write with the next mark
    marked: tuple[int, str] | None = None  # (delivery, message id) marked `sending`, not yet handed over


@dataclass(slots=True)
class Claimed:
    """One claimed delivery, loaded for sending (`Worker.load`)."""

    id: int
    email: str
    attempts: int
    person: Recipient | None  # None: the contact was erased
    skip: str = ""  # why it is not sent, when it is not


def email_hash(email: str) -> str:
    return hashlib.sha256(email.strip().lower().encode("utf-8")).hexdigest()


# ---- freezing the audience --------------------------------------------------------------------


def freeze_audience(mailing: Mailing, now: datetime) -> int:
    """Turn the audience into one delivery row per recipient, once; returns the rows written."""
    claimed = db.session.execute(update(M).where(M.c.id == mailing.id, M.c.frozen_at.is_(None)).values(frozen_at=now))
    if claimed.rowcount != 1:
        return 0
    ids = mailing_audience(mailing)
    if ids is None:
        return 0
    unreachable = or_(Contact.opted_out.is_(True), Contact.bounced.is_(True))
    from sqlalchemy import case, literal

    rows = select(
        literal(mailing.id),
        Contact.id,
        Contact.email,
        case((unreachable, "skipped"), else_="pending"),
        literal(0),
        case((Contact.opted_out.is_(True), "opted out"), (Contact.bounced.is_(True), "bounced"), else_=""),
        literal(""),
        literal(""),
    ).where(Contact.id.in_(ids))
    result = db.session.execute(
        insert(D).from_select(
            ["mailing_id", "contact_id", "email", "status", "attempts", "last_error", "response", "message_id"], rows
        )
    )
    db.session.expire(mailing, ["frozen_at"])
    if result.rowcount is not None and result.rowcount >= 0:
        return result.rowcount
    return db.session.scalar(select(func.count()).select_from(D).where(D.c.mailing_id == mailing.id)) or 0


# ---- workers and recovery ---------------------------------------------------------------------


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def host_cores() -> int:
    """The cores this process may run on (a container's CPU set, not the whole machine's)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def default_connections(app: Flask) -> int:
    """The most SMTP connections a worker runs when RELAIS_MAIL_CONNECTIONS does not say (fewer when
    the host's other workers share the cores: `Worker.share`). On PostgreSQL four overlap one
    another's commit and SMTP waits; SQLite has one writer and no commit wait, so more than two only
    queue on its lock and fight for the interpreter (bench/delivery.py: two workers of four
    connections sent half as fast as two workers of two)."""
    return 4 if app.config["SQLALCHEMY_DATABASE_URI"].startswith("postgresql") else 2


def prepare_connection(conn: Connection) -> None:
    """SQLite: WAL so readers never wait for the sender; each commit then costs no fsync.

    PostgreSQL with RELAIS_MAIL_SYNCHRONOUS_COMMIT=false: the per-message marks skip the WAL flush.
    A worker crash still loses nothing (the server has the commit); a crash of PostgreSQL itself could
    forget the last fraction of a second of marks, and those messages would be sent again: off by default.
    """
    if conn.dialect.name == "postgresql" and not current_app.config.get("MAIL_SYNCHRONOUS_COMMIT", True):
        conn.exec_driver_sql("SET synchronous_commit = off")
        conn.commit()
    if conn.dialect.name == "sqlite":
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")
        conn.exec_driver_sql("PRAGMA synchronous=NORMAL")
        conn.exec_driver_sql("PRAGMA busy_timeout=20000")
        conn.commit()


def worker_is_dead(conn: Connection, worker, now: datetime, dead_after: int) -> bool:
    if worker.heartbeat_at < now - timedelta(seconds=dead_after):
        return True
    if conn.dialect.name == "postgresql":
        got = conn.execute(text("SELECT pg_try_advisory_lock(:c, :w)"), {"c": LOCK_CLASS, "w": worker.id}).scalar()
        if got:
            conn.execute(text("SELECT pg_advisory_unlock(:c, :w)"), {"c": LOCK_CLASS, "w": worker.id})
        return bool(got)
    if worker.host == socket.gethostname():
        try:
            os.kill(worker.pid, 0)
        except ProcessLookupError:
            return True
        except PermissionError:
            return False
    return False


def recover(conn: Connection, now: datetime | None = None, dead_after: int | None = None) -> int:
    """Claims of dead workers: their `sending` rows become `unknown`, the rest go back to the pool."""
    now = now or utcnow()
    dead_after = dead_after or current_app.config["MAIL_WORKER_DEAD_AFTER"]
    workers = conn.execute(select(W)).all()
    conn.commit()
    recovered = 0
    for worker in workers:
        if not worker_is_dead(conn, worker, now, dead_after):
            continue
        gone = conn.execute(delete(W).where(W.c.id == worker.id, W.c.heartbeat_at == worker.heartbeat_at))
        if gone.rowcount != 1:  # it beat meanwhile (back from a lost database): alive after all
            conn.rollback()
            continue
        in_doubt = forget_worker(
            conn, worker.id, "the worker stopped while handing this message over: it may or may not have arrived", now
        )
        conn.commit()
        recovered += in_doubt
        log.warning("recovered worker %s (pid %s on %s): %s in doubt", worker.id, worker.pid, worker.host, in_doubt)
    if recovered or workers:
        for (mailing_id,) in conn.execute(select(M.c.id).where(M.c.status == "sending")).all():
            finish_if_done(conn, mailing_id, now)
    conn.commit()
    return recovered


def forget_worker(conn: Connection, worker_id: int, reason: str, now: datetime) -> int:
    """A worker's row goes: the messages it was handing over become `unknown` (in doubt, never resent
    automatically), its other claims are free again. Returns how many are in doubt; the caller commits."""
    mine = D.c.worker_id == worker_id
    in_doubt = conn.execute(
        update(D)
        .where(mine, D.c.status == "sending")
        .values(status="unknown", worker_id=None, last_error=reason, updated_at=now)
    ).rowcount
    conn.execute(update(D).where(mine).values(worker_id=None))
    conn.execute(delete(W).where(W.c.id == worker_id))
    return in_doubt


def new_worker_row(conn: Connection) -> int:
    now = utcnow()
    return conn.execute(
        insert(W).values(host=socket.gethostname(), pid=os.getpid(), started_at=now, heartbeat_at=now).returning(W.c.id)
    ).scalar_one()


def due_deliveries(mailing_id: int, status: str, now: datetime, limit: int, after: int = 0):
    """A mailing's unclaimed deliveries of one status (`retry` only when due), in id order from `after`:
    one range of the (mailing, status, id) index."""
    due = select(D.c.id).where(D.c.mailing_id == mailing_id, D.c.worker_id.is_(None), D.c.status == status)
    if after:
        due = due.where(D.c.id > after)
    if status == "retry":
        due = due.where(D.c.next_attempt_at <= now)
    return due.order_by(D.c.id).limit(limit)


def finish_if_done(conn: Connection, mailing_id: int, now: datetime) -> bool:
    """`sending` becomes `sent` when no delivery is left pending, sending or to retry."""
    left = select(D.c.id).where(D.c.mailing_id == mailing_id, D.c.status.in_(OPEN_STATUSES)).limit(1)
    done = conn.execute(
        update(M)
        .where(M.c.id == mailing_id, M.c.status.in_(states.sources("finish")), ~left.exists())
        .values(status=states.TRANSITIONS["finish"][1], finished_at=now, status_reason="")
    ).rowcount
    conn.commit()
    return bool(done)


def pause(conn: Connection, mailing_id: int, reason: str) -> None:
    conn.execute(
        update(M)
        .where(M.c.id == mailing_id, M.c.status == "sending")
        .values(status=states.TRANSITIONS["pause"][1], status_reason=reason[:1000])
    )
    conn.commit()
    log.warning("mailing %s paused: %s", mailing_id, reason)


# ---- the worker -------------------------------------------------------------------------------


def worker_process() -> None:
    """For a process that is a delivery worker and nothing else (`flask mailings worker`), once it is
    set up: what it holds then (the app, its libraries, the ORM's metadata) lives as long as it does,
    so it is kept out of the garbage collector's way, whose passes over it took a tenth of a worker's
    CPU (bench/delivery.py). Not for a process that goes on creating apps (tests, the web server)."""
    gc.collect()
    gc.freeze()


class SessionLock:
    """A PostgreSQL advisory lock held on a connection of its own: it lasts as long as that session,
    so a process that dies, or loses the database, lets it go at once (the active scheduler's lock,
    each delivery worker's "I am alive")."""

    def __init__(self, *key: int):
        self.key = key
        self.conn: Connection | None = None

    def try_take(self) -> bool:
        if self.conn is None:
            self.conn = db.engine.connect()
        names = ", ".join(f":k{i}" for i in range(len(self.key)))
        got = self.conn.execute(
            text(f"SELECT pg_try_advisory_lock({names})"), {f"k{i}": k for i, k in enumerate(self.key)}
        ).scalar()
        self.conn.commit()
        return bool(got)

    def alive(self) -> bool:
        if self.conn is None:
            return False
        try:
            self.conn.execute(text("SELECT 1"))
            self.conn.commit()
            return True
        except DATABASE_GONE:  # the session is gone, and the lock with it
            return False

    def forget(self) -> None:
        """Drop a connection whose session (and so whose lock) is gone."""
        if self.conn is not None:
            with contextlib.suppress(*DATABASE_GONE):
                self.conn.invalidate()
                self.conn.close()
            self.conn = None

    def release(self) -> None:
        if self.conn is not None:
            try:
                self.conn.execute(text("SELECT pg_advisory_unlock_all()"))
                self.conn.commit()
            except DATABASE_GONE:
                pass  # the session is gone, and the lock with it
            finally:
                self.conn.close()
                self.conn = None


class WriterQueue:
    """SQLite lets one connection write at a time. A writer that finds the file locked sleeps in
    SQLite's busy handler (1, 2, 5, 10... ms) although the lock is held for some microseconds; with
    several worker processes on one file that sleep, not the work, set the pace. So the threads of a
    worker queue on a lock, and the workers on one file queue on an exclusive `flock` of a file beside
    it, which wakes the next writer as soon as the previous one is done."""

    def __init__(self, app: Flask):
        self.threads = threading.Lock()
        self.path = None
        url = app.config.get("SQLALCHEMY_DATABASE_URI", "")
        if url.startswith("sqlite:///") and ":memory:" not in url and "mode=memory" not in url:
            self.path = url.removeprefix("sqlite:///").split("?", 1)[0] + ".writers.lock"
        self.file = None

    def __enter__(self):
        self.threads.acquire()
        if self.path is not None:
            try:
                if self.file is None:
                    self.file = open(self.path, "ab")  # noqa: SIM115 (held for the worker's life)
                fcntl.flock(self.file, fcntl.LOCK_EX)
            except OSError:
                self.path = None  # a read-only folder: SQLite's own busy handler still keeps writes safe
        return self

    def __exit__(self, *exc):
        if self.file is not None and self.path is not None:
            fcntl.flock(self.file, fcntl.LOCK_UN)
        self.threads.release()

    def close(self) -> None:
        if self.file is not None:
            self.file.close()
            self.file = None


class Worker:
    """`flask mailings worker`: one registered worker running `connections` SMTP connections."""

    def __init__(
        self,
        app: Flask,
        connections: int | None = None,
        once: bool = False,
        idle: float = 0.5,
        batch: int | None = None,
    ):
        self.app = app
        config = app.config
        configured = int(connections or config["MAIL_CONNECTIONS"] or 0)
        self.connections = max(1, configured or default_connections(app))
        self.shares_host = not configured  # the default: this host's workers share its connections
        self.active = self.connections  # connections sending now; the others wait (see `share`)
        self.batch = int(batch or config["MAIL_BATCH_SIZE"])
        self.delays = [float(d) for d in config["MAIL_RETRY_DELAYS"]]
        self.streak_limit = int(config["MAIL_ERROR_STREAK"])
        self.rate = RateLimiter(int(config["MAIL_RATE_PER_MINUTE"] or 0))
        self.once = once
        self.idle = idle
        self.stop = threading.Event()
        self.worker_id: int | None = None
        self.lock: SessionLock | None = None  # PostgreSQL: held while we are alive
        self.generation = 0  # how many times the worker came back from a lost database
        self.rejoining = threading.Lock()
        self.identity_lost = threading.Event()  # the heartbeat found our row gone: come back as a new worker
        self.owed: list[dict] = []  # facts the database must still hear (see `settle`)
        self.rotation = 0
        self.claimed_up_to: dict[int, int] = {}  # mailing -> highest delivery id this worker claimed
        self.claims: dict[int, int] = {}  # mailing -> claims this worker made for it (see `claim_size`)
        self.sqlite_lock = WriterQueue(app)  # SQLite has one writer: queue here, not in its busy-sleep loop

    # registration -------------------------------------------------------------------------
    def register(self) -> int:
        with db.engine.connect() as conn:
            prepare_connection(conn)
            recover(conn)
            self.worker_id = new_worker_row(conn)
            conn.commit()
            self.share(conn)
        if is_postgres():
            self.hold_lock()
        return self.worker_id

    def hold_lock(self) -> bool:
        """PostgreSQL: take our advisory lock (again) on a connection of its own."""
        if self.lock is not None:
            self.lock.forget()
        self.lock = SessionLock(LOCK_CLASS, self.worker_id)
        return self.lock.try_take()

    def share(self, conn: Connection) -> None:
        """Unless RELAIS_MAIL_CONNECTIONS says how many, the workers of one host share two SMTP
        connections per core, each at most its own default: one worker on two cores runs 4, two
        workers run 2 each. More only fight over the cores (bench/delivery.py, two PostgreSQL workers:
        4 connections each sent 15% slower than 2 each, and used a fifth more CPU a message). Counted
        at registration, then by the heartbeat every SHARE_EVERY seconds from the live workers' rows, so
        a worker that starts or stops is felt."""
        if not self.shares_host:
            return
        alive = utcnow() - timedelta(seconds=30)  # three missed heartbeats
        here = conn.execute(
            select(func.count()).select_from(W).where(W.c.host == socket.gethostname(), W.c.heartbeat_at > alive)
        ).scalar()
        conn.commit()
        self.active = min(self.connections, max(1, HOST_CONNECTIONS_PER_CORE * host_cores() // max(1, here)))

    def lock_alive(self) -> bool:
        return self.lock is not None and self.lock.alive()

    def unregister(self) -> None:
        """Leave cleanly: a message still marked `sending` was in doubt when we stopped (`unknown`)."""
        try:
            with db.engine.connect() as conn:
                forget_worker(conn, self.worker_id, "the worker stopped while sending", utcnow())
                conn.commit()
        except DATABASE_GONE:
            log.warning("worker %s left without the database: the scheduler recovers its claims", self.worker_id)
        if self.lock is not None:
            self.lock.release()
            self.lock = None

    def heartbeat(self) -> None:
        beat = 0
        while not self.stop.wait(1.0):
            beat += 1
            if beat % 10 and (beat % SHARE_EVERY or not self.shares_host):
                continue
            try:
                with self.app.app_context(), db.engine.connect() as conn:
                    prepare_connection(conn)
                    if beat % 10 == 0:
                        beat_row = conn.execute(update(W).where(W.c.id == self.worker_id).values(heartbeat_at=utcnow()))
                        conn.commit()
                        if beat_row.rowcount == 0 and not self.identity_lost.is_set():
                            log.warning(
                                "worker %s was recovered by another process: it comes back anew", self.worker_id
                            )
                            self.identity_lost.set()
                        if beat % 30 == 0:
                            recover(conn)
                    self.share(conn)
            except DATABASE_GONE as error:
                log.warning("worker heartbeat: database unavailable (%s)", error)

    # running ------------------------------------------------------------------------------
    def run(self) -> None:
        """Run until stopped (or, with `once`, until nothing is left to send)."""
        with self.app.app_context():
            self.register()
        beat = threading.Thread(target=self.heartbeat, name="relais-heartbeat", daemon=True)
        beat.start()
        threads = [
            threading.Thread(target=self.connection_loop, args=(i,), name=f"relais-smtp-{i}")
            for i in range(self.connections)
        ]
        try:
            for thread in threads:
                thread.start()
            for thread in threads:
                while thread.is_alive():
                    thread.join(0.5)
        finally:
            self.stop.set()
            beat.join(5)
            with self.app.app_context():
                self.unregister()
            self.sqlite_lock.close()

    def connection_loop(self, index: int) -> None:
        """One SMTP connection's loop; a lost database is waited for (`rejoin`), not a reason to stop."""
        with self.app.app_context():
            channel = SmtpChannel()
            composers: dict[int, Composer] = {}
            try:
                while not self.stop.is_set():
                    if index >= self.active:  # this host's workers share its connections (`share`)
                        if self.once:
                            return
                        self.stop.wait(SHARE_EVERY)
                        continue
                    generation = self.generation
                    try:
                        self.serve(index, channel, composers)
                        if self.once:
                            return
                    except (*DATABASE_GONE, IdentityLost) as error:
                        channel.close()  # a transaction in progress is abandoned, never completed
                        drop_session()
                        log.warning("delivery connection %s: database lost (%s); waiting for it", index, error)
                        self.rejoin(generation)
            except Exception:
                log.exception("delivery connection %s stopped", index)
                raise
            finally:
                channel.close()
                drop_session()

    def serve(self, index: int, channel: SmtpChannel, composers: dict) -> None:
        """Claim and send until stopped, done (`once`) or no longer among the host's share (`share`)."""
        with db.engine.connect() as conn, self.marks_connection() as marks:
            prepare_connection(conn)
            while not self.stop.is_set():
                if index >= self.active:  # its turn is over: the SMTP and database connections go back
                    channel.close()
                    return
                mailing_id, ids = self.claim_next(conn, index)
                if ids:
                    self.deliver(conn, channel, composers, mailing_id, ids, marks)
                elif self.once and not self.work_left(conn):
                    return
                else:
                    self.stop.wait(self.idle)

    # coming back from a lost database ------------------------------------------------------
    def owe(self, flight: "Flight") -> None:
        """Keep what the database has not heard: answers we got, and the message marked `sending`
        that was never handed over (the envelope is abandoned, so it never arrives)."""
        with self.rejoining:
            self.owed.extend(r for r in flight.results if r.get("b_mid"))
            if flight.marked is not None:
                self.owed.append({"b_id": flight.marked[0], "b_mid": flight.marked[1], "not_handed": True})

    def registered(self, conn: Connection) -> bool:
        found = conn.execute(select(W.c.id).where(W.c.id == self.worker_id)).first()
        conn.commit()
        return found is not None

    def rejoin(self, generation: int) -> None:
        """Wait for the database, tell it what we owe, and make sure we still are the worker it knows."""
        pause_for = 0.5
        while not self.stop.is_set():
            try:
                with self.rejoining, db.engine.connect() as conn:
                    prepare_connection(conn)
                    self.settle(conn)
                    if generation == self.generation:  # the first connection back does it for all
                        self.reclaim_identity(conn)
                        self.generation += 1
                return
            except DATABASE_GONE as error:
                log.info("database still unavailable (%s); next try in %.1f s", error, pause_for)
                self.stop.wait(pause_for)
                pause_for = min(pause_for * 2, SERVER_DOWN_PAUSE)

    def settle(self, conn: Connection) -> None:
        """Record what we owe, in one transaction. Each fact names the row by its message id: it applies
        whether our mark is still there or a recovery already made it `unknown`, and never elsewhere."""
        if not self.owed:
            return
        now = utcnow()
        settled = 0
        for fact in self.owed:
            if fact.get("not_handed"):
                settled += conn.execute(
                    update(D)
                    .where(
                        D.c.id == fact["b_id"], D.c.message_id == fact["b_mid"], D.c.status.in_(("sending", "unknown"))
                    )
                    .values(
                        status=case((D.c.attempts <= 1, "pending"), else_="retry"),
                        attempts=D.c.attempts - 1,
                        next_attempt_at=now,
                        worker_id=None,
                        last_error="",
                        updated_at=now,
                    )
                ).rowcount
                continue
            params = {key: value for key, value in fact.items() if key in SETTLE_KEYS}
            done = conn.execute(SETTLE_RESULT, params).rowcount
            if done and fact["b_status"] == "bounced":
                self.suppress(conn, fact["b_contact"], fact["b_email"], now)
            settled += done
        conn.commit()
        log.warning("recorded %s delivery facts kept while the database was away", settled)
        self.owed = []

    def reclaim_identity(self, conn: Connection) -> None:
        """Still us (our row is there and we hold our lock again)? Otherwise leave that identity as a
        dead worker would be left, and register anew; the claims of the old one are free again."""
        if is_postgres() and not self.lock_alive():
            self.hold_lock()
        holding = not is_postgres() or self.lock_alive()
        if holding and not self.identity_lost.is_set():
            beat = conn.execute(update(W).where(W.c.id == self.worker_id).values(heartbeat_at=utcnow()))
            conn.commit()
            if beat.rowcount == 1:
                # The batches cut short are free again: a connection still sending one of them finds
                # its next mark refused (the claim is no longer ours) and stops there.
                conn.execute(
                    update(D)
                    .where(D.c.worker_id == self.worker_id, D.c.status.in_(("pending", "retry")))
                    .values(worker_id=None)
                )
                conn.commit()
                log.warning("worker %s is back", self.worker_id)
                return
        old = self.worker_id
        forget_worker(conn, old, "the worker lost the database while sending", utcnow())
        self.worker_id = new_worker_row(conn)
        conn.commit()
        if is_postgres():
            self.hold_lock()
        self.identity_lost.clear()
        log.warning("worker %s is back as worker %s", old, self.worker_id)

    @contextlib.contextmanager
    def marks_connection(self):
        """PostgreSQL: a second connection in autocommit for the per-message mark (see `Marks`)."""
        if not is_postgres():
            yield None
            return
        with db.engine.connect() as conn:
            prepare_connection(conn)
            yield Marks(conn.execution_options(isolation_level="AUTOCOMMIT"))

    def claim_next(self, conn: Connection, index: int) -> tuple[int | None, list[int]]:
        """Claim a batch from the sending mailings in turn, so no mailing waits behind another."""
        if self.identity_lost.is_set():
            raise IdentityLost(f"worker {self.worker_id} was recovered by another process")
        ids = conn.execute(select(M.c.id).where(M.c.status == "sending").order_by(M.c.id)).scalars().all()
        conn.commit()
        if not ids:
            return None, []
        self.rotation += 1
        start = (self.rotation + index) % len(ids)
        for mailing_id in ids[start:] + ids[:start]:
            claimed = self.claim(conn, mailing_id)
            if claimed:
                return mailing_id, claimed
            finish_if_done(conn, mailing_id, utcnow())  # nothing left to claim: maybe nothing left at all
        return None, []

    def claim_size(self, mailing_id: int) -> int:
        """A mailing's first claims are small and double up to MAIL_BATCH_SIZE: a regional mailing of
        a few hundred is spread over every connection, a national one is claimed in few big batches
        (each claim costs a few milliseconds of both processes; bench/delivery.py)."""
        made = self.claims.get(mailing_id, 0)
        self.claims[mailing_id] = made + 1
        return min(self.batch, FIRST_CLAIM << min(made, 16))

    def claim(self, conn: Connection, mailing_id: int) -> list[int]:
        """Retries that are due, then pending deliveries, in id order, up to a batch. Each status is
        asked on its own: one range of the (mailing, status, id) index, where one OR across the two
        had both engines walk every delivery ever written.

        Pending ones are asked from past the highest id this worker claimed, then, when that does not
        fill the batch, from the start: on PostgreSQL every delivery already claimed leaves dead
        entries at the start of the pending range until vacuum, and a claim that began there read
        more of them the further the mailing went (14,000 buffers for a claim half-way through
        20,000). A delivery handed back behind that point (a batch cut short, a recovered worker)
        is found by the second pass, at the latest when the first runs dry."""
        now = utcnow()
        ids: list[int] = []
        size = self.claim_size(mailing_id)
        after = self.claimed_up_to.get(mailing_id, 0)
        passes = [("retry", 0), ("pending", after)] + ([("pending", 0)] if after else [])
        with self.sqlite_lock if conn.dialect.name == "sqlite" else contextlib.nullcontext():
            for status, start in passes:
                due = due_deliveries(mailing_id, status, now, size - len(ids), after=start)
                if conn.dialect.name == "postgresql":
                    due = due.with_for_update(skip_locked=True)
                claim = update(D).where(D.c.id.in_(due)).values(worker_id=self.worker_id)
                ids += conn.execute(claim.returning(D.c.id)).scalars().all()
                if len(ids) >= size:
                    break
            conn.commit()
        if ids:
            self.claimed_up_to[mailing_id] = max(max(ids), self.claimed_up_to.get(mailing_id, 0))
        return sorted(ids)

    def work_left(self, conn: Connection) -> bool:
        """For `--once`: unclaimed deliveries to send now, or retries due within a minute."""
        soon = utcnow() + timedelta(seconds=60)
        sending = select(M.c.id).where(M.c.status == "sending")
        found = None
        for waiting in (D.c.status == "pending", and_(D.c.status == "retry", D.c.next_attempt_at <= soon)):
            found = found or conn.execute(select(D.c.id).where(D.c.mailing_id.in_(sending), waiting).limit(1)).first()
        conn.commit()  # one status at a time, as in `claim`
        return found is not None

    def composer(self, composers: dict, mailing_id: int) -> Composer:
        if mailing_id not in composers:
            composers[mailing_id] = Composer(db.session.get(Mailing, mailing_id))
            db.session.rollback()
        return composers[mailing_id]

    def load(self, conn: Connection, mailing_id: int, ids: list[int]) -> list["Claimed"]:
        """A claimed batch with what each message needs, in id order: one query joins the contacts
        over the batch's id range (this worker's claims only; no list of ids to send and parse), a
        second asks which addresses are suppressed, with their hashes in one array parameter (an IN
        list of 500 binds took SQLAlchemy and the driver longer to write out than the query took to
        run). A row taken back meanwhile is not loaded."""
        if not ids:
            return []
        found = conn.execute(
            LOAD_CLAIMED, {"mailing": mailing_id, "worker": self.worker_id, "low": ids[0], "high": ids[-1]}
        ).all()
        conn.commit()
        wanted = set(ids)
        claimed = []
        for id_, email, attempts, contact_id, first, last, kind, organisation, region, opted_out, bounced in found:
            if id_ not in wanted:
                continue  # another connection's claim inside our range
            if contact_id is None:
                claimed.append(Claimed(id_, email, attempts, None, "contact erased"))
                continue
            person = Recipient(contact_id, email, first or "", last or "", kind or "", organisation or "", region)
            reason = "opted out" if opted_out else "bounced before" if bounced else ""
            claimed.append(Claimed(id_, email, attempts, person, reason))
        hashes: dict[str, list[Claimed]] = {}
        for c in claimed:
            if not c.skip:
                hashes.setdefault(email_hash(c.email), []).append(c)
        if hashes:
            for found_hash in conn.execute(SUPPRESSED[conn.dialect.name], {"hashes": list(hashes)}).scalars():
                for c in hashes[found_hash]:
                    c.skip = "suppressed address"
            conn.commit()
        return claimed

    def deliver(
        self,
        conn: Connection,
        channel: SmtpChannel,
        composers: dict,
        mailing_id: int,
        ids: list[int],
        marks: "Marks | None" = None,
    ) -> None:
        """Send one claimed batch; one commit per message carries the previous result and the next `sending`."""
        composer = self.composer(composers, mailing_id)
        flight = Flight()
        try:
            rows = self.load(conn, mailing_id, ids)
            self.deliver_rows(conn, channel, composer, mailing_id, rows, marks, flight)
        except DATABASE_GONE:
            self.owe(flight)
            raise

    def deliver_rows(
        self, conn, channel, composer, mailing_id: int, rows: list["Claimed"], marks, flight: "Flight"
    ) -> None:
        """Each message: envelope out, `sending` committed meanwhile, then body and final dot. The next
        message is composed before this one's dot so that its envelope can leave in the same packet
        (one round trip a message); without a rate limit only, since a throttled envelope would wait."""
        results = flight.results
        sender = composer.from_email
        checked_at, streak, server_down, lost = time.monotonic(), 0, False, False
        look_ahead = not self.rate.interval

        def ready(start: int):
            """The next row to hand over from `start` (index, row, contact, bytes, Message-ID); the rows
            passed on the way (skipped, or that would not render) get their result."""
            for index in range(start, len(rows)):
                row = rows[index]
                if row.skip:
                    results.append(self.result(row.id, "skipped", utcnow(), error=row.skip))
                    continue
                try:
                    data, message_id = composer.compose(row.person, row.id)
                except Exception as error:  # a template that passed the checks can still fail on odd data
                    results.append(self.result(row.id, "failed", utcnow(), error=f"could not render: {error}"))
                    continue
                return index, row, data, message_id
            return None

        following = ready(0)
        done = following[0] if following else len(rows)  # rows[:done] are handed over or recorded
        while following is not None:
            index, row, data, message_id = following
            if self.stop.is_set() or (time.monotonic() - checked_at > 0.5 and not self.still_sending(conn, mailing_id)):
                break
            if time.monotonic() - checked_at > 0.5:
                checked_at = time.monotonic()
            self.rate.wait()
            channel.begin(sender, row.email)  # the envelope travels while the mark is committed
            flight.marked = (row.id, message_id)
            sending = {"b_id": row.id, "b_mid": message_id, "b_now": utcnow(), "b_w": self.worker_id}
            marked = self.write(conn, results, sending, marks)
            results.clear()
            if not marked:  # the claim was taken back (we were thought dead): not ours to send any more
                channel.close()
                flight.marked = None
                lost = True
                if not self.registered(conn):
                    self.identity_lost.set()
                break
            following = ready(index + 1)
            done = following[0] if following else len(rows)
            then = (sender, following[1].email) if following is not None and look_ahead else None
            outcome = channel.finish(data, then)
            flight.marked = None
            results.append(self.outcome_result(row, outcome, message_id))
            if outcome.status == "retry" and outcome.code == 0:
                server_down = True  # no SMTP server to talk to: wait for it, this is no recipient's failure
                break
            streak = 0 if outcome.status == "sent" else streak + 1
            if outcome.status == "blocked":
                self.write(conn, results)
                results.clear()
                pause(conn, mailing_id, f"the server refuses the sender: {outcome.text}")
                break
            if streak >= self.streak_limit:
                self.write(conn, results)
                results.clear()
                pause(conn, mailing_id, f"{streak} failures in a row, the last one: {outcome.text}")
                break
        channel.drop_ahead()
        self.write(conn, results)
        results.clear()
        unsent = [r.id for r in rows[done:]]
        if unsent and not lost:
            conn.execute(update(D).where(D.c.id.in_(unsent), D.c.worker_id == self.worker_id).values(worker_id=None))
            conn.commit()
        if server_down:
            self.stop.wait(SERVER_DOWN_PAUSE)

    def still_sending(self, conn: Connection, mailing_id: int) -> bool:
        status = conn.execute(select(M.c.status).where(M.c.id == mailing_id)).scalar()
        conn.commit()
        return status == "sending"

    @staticmethod
    def result(delivery_id: int, status: str, now: datetime, response: str = "", error: str = "", next_at=None) -> dict:
        return {
            "b_id": delivery_id,
            "b_status": status,
            "b_response": response[:480],
            "b_error": error,
            "b_sent": now if status == "sent" else None,
            "b_next": next_at,
            "b_now": now,
        }

    def outcome_result(self, row: "Claimed", outcome: Outcome, message_id: str) -> dict:
        """The row's new state after this answer; `b_mid` names the attempt (see `settle`)."""
        found = self.answer(row, outcome)
        found["b_mid"] = message_id
        if outcome.status == "bounced":
            found.update(b_contact=row.person.id, b_email=row.email)  # suppressed with the result (`write`)
        return found

    def answer(self, row, outcome: Outcome) -> dict:
        now = utcnow()
        attempts = row.attempts + 1
        if outcome.status == "sent":
            return self.result(row.id, "sent", now, response=outcome.text)
        if outcome.status == "retry":
            if attempts > len(self.delays):
                return self.result(
                    row.id, "failed", now, response=outcome.text, error=f"gave up after {attempts} tries"
                )
            next_at = now + timedelta(seconds=self.delays[attempts - 1])
            return self.result(row.id, "retry", now, response=outcome.text, error=outcome.text, next_at=next_at)
        if outcome.status == "blocked":
            return self.result(row.id, "retry", now, response=outcome.text, error=outcome.text, next_at=now)
        return self.result(row.id, outcome.status, now, response=outcome.text, error=outcome.text)

    @staticmethod
    def suppress(conn: Connection, contact_id: int, email: str, now: datetime) -> None:
        conn.execute(update(Contact.__table__).where(Contact.id == contact_id).values(bounced=True, bounced_at=now))
        table = Suppression.__table__
        values = {"email_hash": email_hash(email), "reason": "bounced", "created_at": now}
        if conn.dialect.name == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            conn.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            conn.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())

    def write(
        self, conn: Connection, results: list[dict], sending: dict | None = None, marks: "Marks | None" = None
    ) -> bool:
        """One transaction: the previous results, then the next message marked `sending`.

        The hot path speaks to the driver directly (SQLAlchemy's statement set-up costs more than
        the UPDATE itself); the statements are the same as SET_RESULT and MARK_SENDING. On PostgreSQL
        the usual case (one result, one mark, nothing else pending on `conn`) is a single statement
        on the autocommit `marks` connection: half the round trips and one WAL flush. A bounce
        suppresses its address in the same transaction. Returns False when the mark was refused: the
        claim is no longer this worker's.
        """
        if not (results or sending):
            return True
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            with self.sqlite_lock:
                return self._write(conn, results, sending, sqlite)
        if marks is not None and sending and len(results) == 1 and "b_contact" not in results[0]:
            r = results[0]
            return marks.result_then_sending(
                (r["b_status"], r["b_response"], r["b_error"], r["b_sent"], r["b_next"], r["b_now"], r["b_id"])
                + (sending["b_mid"], sending["b_now"], sending["b_id"], sending["b_w"])
            )
        return self._write(conn, results, sending, sqlite)

    @classmethod
    def _write(cls, conn: Connection, results: list[dict], sending: dict | None, sqlite: bool) -> bool:
        p = ":" if sqlite else "%("
        q = "" if sqlite else ")s"
        marked = True
        if results:
            conn.exec_driver_sql(
                f"UPDATE deliveries SET status={p}b_status{q}, response={p}b_response{q}, last_error={p}b_error{q}, "
                f"sent_at={p}b_sent{q}, next_attempt_at={p}b_next{q}, worker_id=NULL, updated_at={p}b_now{q} "
                f"WHERE id={p}b_id{q}",
                [{k: wire_time(v, sqlite) for k, v in r.items() if k in SETTLE_KEYS} for r in results],
            )
            for r in results:
                if "b_contact" in r:
                    cls.suppress(conn, r["b_contact"], r["b_email"], r["b_now"])
        if sending:
            marked = (
                conn.exec_driver_sql(
                    f"UPDATE deliveries SET status='sending', attempts=attempts+1, message_id={p}b_mid{q}, "
                    f"updated_at={p}b_now{q} WHERE id={p}b_id{q} AND worker_id={p}b_w{q} "
                    "AND status IN ('pending', 'retry')",
                    {k: wire_time(v, sqlite) for k, v in sending.items()},
                ).rowcount
                == 1
            )
        conn.commit()
        return marked


class Marks:
    """PostgreSQL's per-message write: the previous result and the next `sending` as ONE statement on
    an autocommit connection (one round trip, one commit), executed on the driver's cursor with
    positional binary parameters: the statement never changes, SQLAlchemy's set-up of each execution
    cost half as much again as the driver, and named text parameters a quarter more than these. Driver errors come out as SQLAlchemy's, so a lost database is told apart as everywhere else."""

    def __init__(self, conn: Connection):
        self.conn = conn
        self.cursor = conn.connection.driver_connection.cursor()
        self.errors = conn.dialect.loaded_dbapi.Error

    def result_then_sending(self, params: tuple) -> bool:
        """Returns False when the mark was refused (the claim is no longer ours)."""
        try:
            self.cursor.execute(RESULT_THEN_SENDING, params)
        except self.errors as error:
            wrapped = DBAPIError.instance(RESULT_THEN_SENDING, params, error, self.errors, dialect=self.conn.dialect)
            if isinstance(wrapped, DATABASE_GONE):
                with contextlib.suppress(Exception):
                    self.conn.invalidate()  # never handed back to the pool
            raise wrapped from error
        return self.cursor.rowcount == 1


def wire_time(value, sqlite: bool):
    """Datetimes as UTCDateTime stores them: naive UTC text on SQLite, aware on PostgreSQL."""
    if sqlite and isinstance(value, datetime):
        return sqlite_time(value)
    return value


@lru_cache(maxsize=16)
def sqlite_time(value: datetime) -> str:
    """A message's result and mark share their timestamps: each is formatted once."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def counts(mailing_id: int) -> dict:
    """Deliveries by status, with `total` (the contract's `stats`)."""
    rows = db.session.execute(
        select(Delivery.status, func.count()).where(Delivery.mailing_id == mailing_id).group_by(Delivery.status)
    ).all()
    stats = dict.fromkeys(("pending", "sending", "retry", "sent", "failed", "bounced", "skipped", "unknown"), 0)
    stats.update({status: n for status, n in rows})
    stats["total"] = sum(stats.values())
    return stats
