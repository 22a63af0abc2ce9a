"""Recovery: a dead worker's claims go back to the pool (its message in hand becomes `unknown`, never
resent), and a live worker that lost the database records what it kept and comes back, under its
old identity when it still holds it, or as a new worker."""

import os
import socket
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, case, delete, insert, select, text, update
from sqlalchemy.engine import Connection

from dbtypes import utcnow
from extensions import db
from mailings.engine.database import DATABASE_GONE, D, M, W, is_postgres, log, prepare_connection
from mailings.engine.deliveries import finish_if_done
from mailings.engine.locks import LOCK_CLASS
from mailings.engine.marks import SETTLE_KEYS, SETTLE_RESULT, suppress

SERVER_DOWN_PAUSE = 5.0  # seconds a connection waits before trying an unreachable SMTP server again


class IdentityLost(Exception):
    """Our worker row was recovered by another process while we ran."""


@dataclass
class Flight:
    """What one connection knows that the database has not recorded yet."""

    results: list[dict] = field(default_factory=list)  # answers (and skips) to write with the next mark
    marked: tuple[int, str] | None = None  # (delivery, message id) marked `sending`, not yet handed over


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
    recovered += forget_orphans(conn, now)
    if recovered or workers:
        for (mailing_id,) in conn.execute(select(M.c.id).where(M.c.status == "sending")).all():
            finish_if_done(conn, mailing_id, now)
    conn.commit()
    return recovered


def forget_orphans(conn: Connection, now: datetime) -> int:
    """Claims under an identity whose row is already gone: a worker declared dead can still claim
    once before it learns so, and no row is left to recover them by. Freed as a dead worker's are;
    the marks refuse that worker anything it then tries to hand over. Returns how many are in doubt."""
    orphan = and_(D.c.worker_id.is_not(None), ~select(W.c.id).where(W.c.id == D.c.worker_id).exists())
    reason = "the worker stopped while handing this message over: it may or may not have arrived"
    in_doubt = conn.execute(
        update(D)
        .where(orphan, D.c.status == "sending")
        .values(status="unknown", worker_id=None, last_error=reason, updated_at=now)
    ).rowcount
    freed = conn.execute(update(D).where(orphan).values(worker_id=None)).rowcount
    if in_doubt or freed:
        log.warning("freed %s claims of workers already recovered: %s in doubt", in_doubt + freed, in_doubt)
    conn.commit()
    return in_doubt


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


class Rejoining:
    """The part of a `Worker` that comes back from a lost database (see the module's docstring). It
    keeps the worker's `owed`, `generation`, `identity_lost` and `lost_id` (under `rejoining`), and
    takes a new identity through the worker's `join` and `hold_lock`."""

    def owe(self, flight: Flight) -> None:
        """Keep what the database has not heard: answers we got, and the message marked `sending`
        that was never handed over (the envelope is abandoned, so it never arrives)."""
        with self.rejoining:
            self.owed.extend(r for r in flight.results if r.get("b_mid"))
            if flight.marked is not None:
                self.owed.append({"b_id": flight.marked[0], "b_mid": flight.marked[1], "not_handed": True})

    def registered(self, conn: Connection, worker_id: int) -> bool:
        found = conn.execute(select(W.c.id).where(W.c.id == worker_id)).first()
        conn.commit()
        return found is not None

    def lose_identity(self, worker_id: int) -> None:
        """Our row `worker_id` was recovered by another process: every connection comes back anew.
        The lost id is kept apart from `worker_id`, which may already name the new worker."""
        self.lost_id = worker_id
        self.identity_lost.set()

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
                suppress(conn, fact["b_contact"], fact["b_email"], now)
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
        self.join(conn)
        self.identity_lost.clear()
        log.warning("worker %s is back as worker %s", old, self.worker_id)
