"""What every room of the engine shares about the database: the tables, a lost connection told
apart from a bug, each engine's connection settings, and the times as each engine stores them."""

import contextlib
import logging
import os
from datetime import UTC, datetime
from functools import lru_cache

from flask import Flask, current_app
from sqlalchemy.engine import Connection
from sqlalchemy.exc import InterfaceError, OperationalError, PendingRollbackError

from extensions import db
from mailings.models import Delivery, DeliveryWorker, Mailing

DATABASE_GONE = (OperationalError, InterfaceError, PendingRollbackError)  # a lost connection, not a bug
log = logging.getLogger("relais.delivery")

D = Delivery.__table__
M = Mailing.__table__
W = DeliveryWorker.__table__


def drop_session() -> None:
    """End this thread's ORM session, even when its connection died (no rollback on a dead socket)."""
    try:
        db.session.remove()
    except DATABASE_GONE:
        with contextlib.suppress(*DATABASE_GONE):
            db.session.registry().invalidate()
        db.session.registry.clear()


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


def wire_time(value, sqlite: bool):
    """Datetimes as UTCDateTime stores them: naive UTC text on SQLite, aware on PostgreSQL."""
    if sqlite and isinstance(value, datetime):
        return sqlite_time(value)
    return value


@lru_cache(maxsize=16)
def sqlite_time(value: datetime) -> str:
    """A message's result and mark share their timestamps: each is formatted once."""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
