"""Marks: what the engine writes on a delivery row as a message goes out (`sending`, then its result),
a bounce's suppression with it, and the statements the hot path hands to the driver directly."""

import contextlib
from datetime import datetime

from sqlalchemy import bindparam, update
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError

from contacts.models import Contact, Suppression
from contacts.suppression import email_hash
from mailings.engine.database import DATABASE_GONE, D, wire_time
from mailings.engine.locks import WriterQueue

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
SETTLE_KEYS = frozenset(("b_id", "b_mid", "b_status", "b_response", "b_error", "b_sent", "b_next", "b_now"))


def result(delivery_id: int, status: str, now: datetime, response: str = "", error: str = "", next_at=None) -> dict:
    """A delivery's new state, as the parameters of its result's UPDATE."""
    return {
        "b_id": delivery_id,
        "b_status": status,
        "b_response": response[:480],
        "b_error": error,
        "b_sent": now if status == "sent" else None,
        "b_next": next_at,
        "b_now": now,
    }


def suppress(conn: Connection, contact_id: int, email: str, now: datetime) -> None:
    """A bounced address: the contact is marked bounced and its address suppressed; the caller commits."""
    conn.execute(update(Contact.__table__).where(Contact.id == contact_id).values(bounced=True, bounced_at=now))
    table = Suppression.__table__
    values = {"email_hash": email_hash(email), "reason": "bounced", "created_at": now}
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        conn.execute(pg_insert(table).values(**values).on_conflict_do_nothing())
    else:
        from sqlalchemy.dialects.sqlite import insert as sqlite_insert

        conn.execute(sqlite_insert(table).values(**values).on_conflict_do_nothing())


class MarkWriter:
    """One connection's marks: the previous results (with a bounce's suppression) and the next `sending`."""

    def __init__(self, sqlite_lock: WriterQueue):
        self.sqlite_lock = sqlite_lock  # SQLite has one writer: queue here, not in its busy-sleep loop

    def write(
        self, conn: Connection, results: list[dict], sending: dict | None = None, marks: "Marks | None" = None
    ) -> bool:
        """One transaction: the previous results, then the next message marked `sending`.

        The hot path speaks to the driver directly (SQLAlchemy's statement set-up costs more than
        the UPDATE itself); the result is SET_RESULT's statement, and the mark is refused unless the
        claim is still this worker's and the row still waits (`pending`, `retry`). On PostgreSQL
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

    @staticmethod
    def _write(conn: Connection, results: list[dict], sending: dict | None, sqlite: bool) -> bool:
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
                    suppress(conn, r["b_contact"], r["b_email"], r["b_now"])
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
