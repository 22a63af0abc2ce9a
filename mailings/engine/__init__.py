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

The rooms, from the bottom up: `database` (tables, a lost connection, each engine's settings),
`deliveries` (freezing the audience, what is due, counts, the mailing's finish and pause), `locks`
(PostgreSQL advisory locks, SQLite's writer queue), `marks` (what a delivery row is marked, with a
bounce's suppression), `recovery` (dead workers' claims, coming back from a lost database), `batch`
(one claimed batch on one SMTP connection) and `worker` (registration, heartbeat, the connections'
loop and their claims). The names the rest of Relais uses are re-exported here.
"""

from mailings.engine.database import DATABASE_GONE
from mailings.engine.deliveries import counts, freeze_audience
from mailings.engine.locks import SessionLock
from mailings.engine.recovery import recover
from mailings.engine.worker import Worker, worker_process

__all__ = [
    "DATABASE_GONE",
    "SessionLock",
    "Worker",
    "counts",
    "freeze_audience",
    "recover",
    "worker_process",
]
