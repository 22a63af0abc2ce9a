"""The worker: `flask mailings worker` registers, beats, and runs its SMTP connections, each of which
claims batches from the sending mailings in turn (the batch itself: `batch.py`)."""

import contextlib
import gc
import socket
import threading
from datetime import timedelta

from flask import Flask
from sqlalchemy import and_, func, select, update
from sqlalchemy.engine import Connection

from dbtypes import utcnow
from extensions import db
from mail_transport import RateLimiter, SmtpChannel, open_channel
from mailings.composer import Composer
from mailings.engine.batch import Batches
from mailings.engine.database import (
    DATABASE_GONE,
    D,
    M,
    W,
    default_connections,
    drop_session,
    host_cores,
    is_postgres,
    log,
    prepare_connection,
)
from mailings.engine.deliveries import due_deliveries, finish_if_done
from mailings.engine.locks import LOCK_CLASS, SessionLock, WriterQueue
from mailings.engine.marks import Marks, MarkWriter
from mailings.engine.recovery import IdentityLost, Rejoining, forget_worker, new_worker_row, recover

FIRST_CLAIM = 50  # deliveries in a worker's first claim of a mailing (see `Worker.claim_size`)
HOST_CONNECTIONS_PER_CORE = 2  # SMTP connections a host's workers share by default (see `Worker.share`)
SHARE_EVERY = 2  # heartbeat ticks (seconds) between two counts of the workers on this host


def worker_process() -> None:
    """For a process that is a delivery worker and nothing else (`flask mailings worker`), once it is
    set up: what it holds then (the app, its libraries, the ORM's metadata) lives as long as it does,
    so it is kept out of the garbage collector's way, whose passes over it took a tenth of a worker's
    CPU (bench/delivery.py). Not for a process that goes on creating apps (tests, the web server)."""
    gc.collect()
    gc.freeze()


class Worker(Batches, Rejoining):
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
        self.identity_lost = threading.Event()  # our row was found gone: come back as a new worker
        self.lost_id: int | None = None  # the worker id found gone (see `lose_identity`)
        self.owed: list[dict] = []  # facts the database must still hear (see `settle`)
        self.rotation = 0
        self.claimed_up_to: dict[int, int] = {}  # mailing -> highest delivery id this worker claimed
        self.claims: dict[int, int] = {}  # mailing -> claims this worker made for it (see `claim_size`)
        self.sqlite_lock = WriterQueue(app)  # SQLite has one writer: queue here, not in its busy-sleep loop
        self.writer = MarkWriter(self.sqlite_lock)
        self.zone = config.get("DEFAULT_TIMEZONE", "Europe/Paris")  # for the times said to people
        self.reported_unreachable: set[int] = set()  # mailings whose page says the server cannot be reached

    # registration -------------------------------------------------------------------------
    def register(self) -> int:
        with db.engine.connect() as conn:
            prepare_connection(conn)
            recover(conn)
            self.join(conn)
            self.share(conn)
        return self.worker_id

    def join(self, conn: Connection) -> None:
        """Take a new worker row. On PostgreSQL its lock is held before the row is committed: a
        recovery running meanwhile in another process never sees the row without its lock, which it
        would take for a dead worker's (and recover its claims while it sends)."""
        self.worker_id = new_worker_row(conn)
        if is_postgres():
            self.hold_lock()
        conn.commit()

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
        alive = utcnow() - timedelta(seconds=self.app.config["MAIL_WORKER_DEAD_AFTER"])  # as `recover` holds it
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
                        mine = self.worker_id
                        beat_row = conn.execute(update(W).where(W.c.id == mine).values(heartbeat_at=utcnow()))
                        conn.commit()
                        if beat_row.rowcount == 0 and not self.identity_lost.is_set():
                            log.warning("worker %s was recovered by another process: it comes back anew", mine)
                            self.lose_identity(mine)
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
            channel = open_channel()
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
            raise IdentityLost(f"worker {self.lost_id} was recovered by another process")
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
        mine = self.worker_id
        if not self.registered(conn, mine):  # claims need our row: were we declared dead meanwhile?
            self.lose_identity(mine)
            raise IdentityLost(f"worker {mine} was recovered by another process")
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
                # Only while our row is there: a worker declared dead claims nothing more (`claim_next`).
                registered = select(W.c.id).where(W.c.id == self.worker_id).exists()
                claim = update(D).where(D.c.id.in_(due), registered).values(worker_id=self.worker_id)
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
            unclaimed = select(D.c.id).where(D.c.mailing_id.in_(sending), D.c.worker_id.is_(None), waiting)
            found = found or conn.execute(unclaimed.limit(1)).first()
        conn.commit()  # one status at a time, as in `claim`
        return found is not None
