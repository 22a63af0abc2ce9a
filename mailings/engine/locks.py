"""Locks: a PostgreSQL advisory lock held by a session of its own, and the queue of SQLite's writers."""

import contextlib
import fcntl
import threading

from flask import Flask
from sqlalchemy import text
from sqlalchemy.engine import Connection

from extensions import db
from mailings.engine.database import DATABASE_GONE

LOCK_CLASS = 0x52454C  # advisory lock namespace of delivery workers ("REL")


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
