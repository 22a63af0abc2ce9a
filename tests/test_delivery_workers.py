"""Delivery workers among themselves: a stop mid-batch, claims and their ranges, deliveries handed
back, recovery and identity, the host's share of connections."""

from sqlalchemy import delete, select

from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.engine.recovery import new_worker_row
from mailings.engine.worker import Worker
from mailings.models import Delivery, DeliveryWorker, Mailing
from tests.test_delivery import deliveries, run_then_stop, send


def test_a_worker_stopped_mid_batch_hands_over_only_what_it_marked(mail_app, smtp_server, make_contact, make_mailing):

    people = [make_contact(email=f"lot{i}@example.org") for i in range(40)]
    mailing = make_mailing(people)
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    smtp_server.handler.every_message_delay = 0.03
    run_then_stop(mail_app, seconds=0.4)
    db.session.expire_all()
    found = deliveries(mailing)
    received = smtp_server.by_recipient()
    sent = {address for address, d in found.items() if d.status == "sent"}
    in_doubt = {address for address, d in found.items() if d.status == "unknown"}
    assert 0 < len(sent) < len(people)
    assert sent <= set(received) <= sent | in_doubt  # nobody got a message the database does not know of
    assert {d.status for d in found.values()} <= {"pending", "sent", "unknown"}
    smtp_server.handler.every_message_delay = 0.0
    done = send(mail_app, mailing)
    assert done.status == "sent"
    received = smtp_server.by_recipient()
    assert all(len(received[p.email]) == 1 for p in people if p.email not in in_doubt)


def test_a_claim_reads_its_own_range_however_many_deliveries_came_before(
    mail_app, smtp_server, make_contact, make_mailing
):
    """Deliveries pile up mailing after mailing; claiming the next batch must not walk through them."""
    import json
    from datetime import timedelta

    from sqlalchemy import insert

    from mailings.engine.database import D
    from mailings.engine.deliveries import due_deliveries

    earlier = make_mailing([make_contact(email="ancien@example.org")])
    services.start(db.session.get(Mailing, earlier.id), utcnow())
    db.session.execute(
        insert(D),
        [{"mailing_id": earlier.id, "email": f"ancien{i}@example.org", "status": "sent"} for i in range(3000)],
    )
    people = [make_contact(email=f"suivant{i}@example.org") for i in range(60)]
    mailing = make_mailing(people)
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    retry = db.session.scalar(select(Delivery).where(Delivery.email == "suivant59@example.org"))
    retry.status, retry.next_attempt_at = "retry", utcnow() - timedelta(seconds=1)
    db.session.commit()

    conn = db.session.connection()
    for status in ("retry", "pending"):
        query = due_deliveries(mailing.id, status, utcnow(), 50)
        sql = str(query.compile(conn, compile_kwargs={"literal_binds": True}))
        if conn.dialect.name == "sqlite":
            plan = " ".join(row[-1] for row in conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {sql}"))
            assert "USING INDEX ix_deliveries_mailing_status_id (mailing_id=? AND status=?)" in plan, plan
        else:
            plan = conn.exec_driver_sql(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}").scalar()
            plan = plan if isinstance(plan, list) else json.loads(plan)
            nodes, read = [plan[0]["Plan"]], 0
            while nodes:
                node = nodes.pop()
                read += node.get("Rows Removed by Filter", 0)
                nodes.extend(node.get("Plans", []))
            assert read <= 10, plan  # not the 3,000 rows of the earlier mailing
    db.session.rollback()

    worker = Worker(mail_app, once=True, batch=50)
    with db.engine.connect() as conn:
        worker.worker_id = new_worker_row(conn)
        conn.commit()
        claimed = worker.claim(conn, mailing.id)
    worker.sqlite_lock.close()
    assert len(claimed) == 50
    first_pending = db.session.scalars(
        select(Delivery.id)
        .where(Delivery.mailing_id == mailing.id, Delivery.status == "pending")
        .order_by(Delivery.id)
        .limit(49)
    ).all()
    assert set(claimed) == {retry.id, *first_pending}  # a due retry first, then in id order


def test_deliveries_handed_back_behind_a_worker_are_claimed_again(mail_app, smtp_server, make_contact, make_mailing):
    """Claims go on past the worker's last claim; what was handed back behind it (a batch cut short)
    is claimed when nothing is left ahead, and the mailing still reaches everyone exactly once."""
    from sqlalchemy import update

    people = [make_contact(email=f"relance{i:02d}@example.org") for i in range(30)]
    mailing = make_mailing(people)
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    ids = sorted(d.id for d in deliveries(mailing).values())

    worker = Worker(mail_app, once=True, batch=10)
    with db.engine.connect() as conn:
        worker.worker_id = new_worker_row(conn)
        conn.commit()
        first = worker.claim(conn, mailing.id)
        conn.execute(update(Delivery).where(Delivery.id.in_(first[5:])).values(worker_id=None))  # cut short
        conn.commit()
        later = [worker.claim(conn, mailing.id) for _ in range(4)]
    worker.sqlite_lock.close()
    assert first == ids[:10]
    assert later == [ids[10:20], ids[20:30], ids[5:10], []]

    db.session.execute(update(Delivery).where(Delivery.mailing_id == mailing.id).values(worker_id=None))
    db.session.execute(delete(DeliveryWorker).where(DeliveryWorker.id == worker.worker_id))
    db.session.commit()
    assert send(mail_app, mailing).status == "sent"
    received = smtp_server.by_recipient()
    assert sorted(received) == sorted(p.email for p in people)
    assert all(len(messages) == 1 for messages in received.values())


def test_a_worker_registering_while_another_recovers_is_not_taken_for_dead(mail_app):
    """Another process recovers dead workers just as this one registers: the new worker's row must
    never be seen without the sign that it is alive (its lock on PostgreSQL, its process here)."""
    from mailings.engine.recovery import recover

    worker = Worker(mail_app, connections=1)
    share = worker.share

    def share_after_a_recovery(conn):  # registration goes on while the scheduler's recovery runs
        with db.engine.connect() as other:
            recover(other)
        share(conn)

    worker.share = share_after_a_recovery
    try:
        worker.register()
        assert db.session.get(DeliveryWorker, worker.worker_id) is not None  # still a worker, not a dead one
    finally:
        worker.unregister()
        worker.sqlite_lock.close()


def test_a_worker_found_recovered_names_the_identity_it_lost(mail_app, smtp_server, make_contact, make_mailing):
    """A worker taken for dead while it holds a batch finds its mark refused; while one of its
    connections is already coming back as a new worker, another one stops on its next claim and
    says which worker was lost."""
    from datetime import timedelta

    from sqlalchemy import update

    from mail_transport import SmtpChannel
    from mailings.engine.recovery import Flight, IdentityLost, recover

    mailing = make_mailing([make_contact(email=f"perdu{i}@example.org") for i in range(2)])
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    worker = Worker(mail_app, connections=1, once=True)
    said = []
    try:
        worker.register()
        lost = worker.worker_id
        with db.engine.connect() as conn:
            new_worker_row(conn)  # a worker registered after it (SQLite would give its id to the next one)
            conn.commit()
            rows = worker.load(conn, mailing.id, worker.claim(conn, mailing.id))
            stale = utcnow() - timedelta(hours=1)  # frozen longer than the recovery waits: taken for dead
            conn.execute(update(DeliveryWorker).where(DeliveryWorker.id == lost).values(heartbeat_at=stale))
            conn.commit()
            recover(conn)
            channel = SmtpChannel()
            composer = worker.composer({}, mailing.id)
            worker.deliver_rows(conn, channel, composer, mailing.id, rows, None, Flight())  # its mark is refused
            channel.close()
        assert worker.identity_lost.is_set()

        class ComingBack(type(worker.identity_lost)):
            def clear(self):  # the new identity is written, the worker is about to say so
                with db.engine.connect() as conn:
                    try:
                        worker.claim_next(conn, 0)
                    except IdentityLost as error:
                        said.append(str(error))
                super().clear()

        worker.identity_lost = ComingBack()
        worker.identity_lost.set()
        worker.rejoin(worker.generation)
        assert worker.worker_id != lost
        assert said == [f"worker {lost} was recovered by another process"]
        assert smtp_server.messages == []  # nothing taken back was handed over
    finally:
        worker.unregister()
        worker.sqlite_lock.close()


def test_a_once_worker_does_not_wait_for_deliveries_another_worker_holds(
    mail_app, smtp_server, make_contact, make_mailing
):
    """`--once` stops when nothing is left for it to send: what another live worker claimed is that
    worker's to send; a delivery handed back is work left again."""
    from sqlalchemy import update

    mailing = make_mailing([make_contact(email=f"tenu{i}@example.org") for i in range(3)])
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    holder, other = Worker(mail_app, once=True), Worker(mail_app, once=True)
    with db.engine.connect() as conn:
        holder.worker_id = new_worker_row(conn)
        conn.commit()
        claimed = holder.claim(conn, mailing.id)
        assert len(claimed) == 3
        assert not other.work_left(conn)
        conn.execute(update(Delivery).where(Delivery.id == claimed[0]).values(worker_id=None))
        conn.commit()
        assert other.work_left(conn)
    holder.sqlite_lock.close()
    other.sqlite_lock.close()


def test_the_host_share_counts_the_workers_the_configuration_holds_alive(mail_app):
    """A worker is counted in its host's share for as long as RELAIS_MAIL_WORKER_DEAD_AFTER holds it
    alive, not for a fixed half-minute: a neighbour whose last beat is a minute old still shares."""
    from datetime import timedelta

    from sqlalchemy import update

    from mailings.engine.database import host_cores
    from mailings.engine.locks import LOCK_CLASS, SessionLock
    from mailings.engine.worker import HOST_CONNECTIONS_PER_CORE

    saved = mail_app.config["MAIL_WORKER_DEAD_AFTER"]
    mail_app.config["MAIL_WORKER_DEAD_AFTER"] = 300
    crowd = HOST_CONNECTIONS_PER_CORE * host_cores()  # so many neighbours leave one connection each
    with db.engine.connect() as conn:
        others = [new_worker_row(conn) for _ in range(crowd)]
        minute_ago = utcnow() - timedelta(seconds=60)
        conn.execute(update(DeliveryWorker).where(DeliveryWorker.id.in_(others)).values(heartbeat_at=minute_ago))
        conn.commit()
    locks = [SessionLock(LOCK_CLASS, w) for w in others] if db.engine.dialect.name == "postgresql" else []
    assert all(lock.try_take() for lock in locks)  # alive: each holds its lock
    worker = Worker(mail_app)
    try:
        worker.register()
        assert worker.active == 1
    finally:
        mail_app.config["MAIL_WORKER_DEAD_AFTER"] = saved
        worker.unregister()
        worker.sqlite_lock.close()
        for lock in locks:
            lock.release()
