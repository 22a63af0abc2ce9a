"""Delivery speed: the wire's limit, the naive Flask-Mail peer, and Relais's engine, on SQLite and PostgreSQL.

    .venv/bin/python bench/delivery.py [--recipients 20000] [--memory 100000] [--naive 2000] [--repeat 3] [--no-postgres]
    .venv/bin/python bench/delivery.py --dkim 2000     # only: what DKIM signing costs a message

Runs against Postfix's `smtp-sink` on loopback (aiosmtpd when it is missing; then the sink is the
bottleneck). Prints messages/s for (1) one smtplib connection sending one pre-built message to every
address, (2) Flask-Mail `mail.send(Message(...))` per recipient with `render_template_string`,
(3) Relais from frozen audience to every delivery row `sent`, with one and two worker processes, and
Relais's peak memory (max RSS of a worker) at two audience sizes. The raw limit is measured again before
each Relais run (the machine's load changes). Each Relais configuration runs `--repeat` times (on a shared
machine one run can be a third off): its median is divided by the best raw figure seen so far (never
flattered by a slow baseline), and the median of each run over the raw measured just before it is printed
too. Workers run with RELAIS_MAIL_CONNECTIONS when it is set; by default the workers of a host share two
connections per core, at most 4 each on PostgreSQL and 2 on SQLite (so on 2 cores: one PostgreSQL worker
runs 4, two run 2 each).
"""

import argparse
import json
import os
import resource
import shutil
import smtplib
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
SECRET = "bench-secret-key-" + uuid.uuid4().hex
PG_ADMIN = os.environ.get("RELAIS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_sink(port: int):
    binary = shutil.which("smtp-sink") or "/usr/sbin/smtp-sink"
    if os.path.exists(binary):
        process = subprocess.Popen(
            [binary, "-u", "nobody", f"127.0.0.1:{port}", "1000"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
        )
        for _ in range(50):
            try:
                socket.create_connection(("127.0.0.1", port), 0.2).close()
                return "smtp-sink", process.terminate
            except OSError:
                time.sleep(0.05)
    from aiosmtpd.controller import Controller

    class Sink:
        async def handle_DATA(self, server, session, envelope):
            return "250 OK"

    controller = Controller(Sink(), hostname="127.0.0.1", port=port)
    controller.start()
    return "aiosmtpd", controller.stop


def env_for(database_url: str, port: int) -> dict:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url,
        RELAIS_SECRET_KEY=SECRET,
        RELAIS_MAIL_SERVER="127.0.0.1",
        RELAIS_MAIL_PORT=str(port),
        RELAIS_PUBLIC_BASE_URL="https://relais.example.org",
    )
    env.pop("RELAIS_SCHEDULER_EMBEDDED", None)
    return env


def make_app(database_url: str, port: int):
    os.environ.update(env_for(database_url, port))
    from app import create_app

    return create_app({"MAIL_SERVER": "127.0.0.1", "MAIL_PORT": port})


def prepare(app, contacts: int):
    """Migrate, load the demo campaign and its templates, and `contacts` media contacts in one region."""
    from flask_migrate import upgrade
    from sqlalchemy import insert, select

    from accounts.models import Region
    from contacts.models import Contact, Segment
    from demo import campaign as demo
    from demo import mailings as mailings_demo
    from extensions import db

    with app.app_context():
        upgrade(directory=str(ROOT / "migrations"))
        campaign, people = demo.load()
        mailings_demo.load(campaign)
        region = db.session.scalar(select(Region).where(Region.code == "93"))
        rows = (
            {
                "email": f"journaliste{i:06d}@example.org",
                "first_name": f"Prénom{i}",
                "last_name": "Dupré",
                "kind": "media",
                "region_id": region.id,
            }
            for i in range(contacts)
        )
        batch = []
        for row in rows:
            batch.append(row)
            if len(batch) == 5000:
                db.session.execute(insert(Contact), batch)
                batch = []
        if batch:
            db.session.execute(insert(Contact), batch)
        db.session.add(Segment(name="bench", filter={"kind": "media", "region": "93"}))
        db.session.commit()
        return campaign.id


def new_mailing(app, limit: int | None = None, start: bool = True) -> int:
    """A mailing of the demo invitation to the region's media, frozen (deliveries written)."""
    from sqlalchemy import select, update

    from contacts.models import Contact, Segment
    from dbtypes import utcnow
    from extensions import db
    from mailings import services
    from mailings.models import Delivery, EmailTemplate

    with app.app_context():
        template = db.session.scalar(select(EmailTemplate).where(EmailTemplate.name.like("Invitation%")))
        from accounts.models import User

        user = db.session.scalar(select(User).where(User.role == "national"))
        segment = db.session.scalar(select(Segment).where(Segment.name == "bench"))
        mailing = services.save_mailing(
            user,
            None,
            {
                "name": f"bench {uuid.uuid4().hex[:6]}",
                "from_name": "CRESS Provence-Alpes-Côte d’Azur",
                "from_email": "presse@example.org",
                "reply_to": "contact@example.org",
                "template_id": template.id,
                "audience": {"segment_ids": [segment.id]},
            },
            campaign=template.campaign,
        )
        if start:
            services.start(mailing, utcnow())
        if start and limit:
            keep = select(Contact.id).order_by(Contact.id).limit(limit)
            db.session.execute(
                update(Delivery)
                .where(Delivery.mailing_id == mailing.id, Delivery.contact_id.not_in(keep))
                .values(status="skipped")
            )
        db.session.commit()
        return mailing.id


def sent_count(app, mailing_id: int) -> dict:
    """Counts by status, and `seconds`: from the first message handed over to the last one recorded sent."""
    from sqlalchemy import func, select

    from extensions import db
    from mailings.engine.deliveries import counts
    from mailings.models import Delivery

    with app.app_context():
        stats = counts(mailing_id)
        first, last = db.session.execute(
            select(func.min(Delivery.sent_at), func.max(Delivery.sent_at)).where(Delivery.mailing_id == mailing_id)
        ).one()
        stats["seconds"] = (last - first).total_seconds() if first and last else 0.0
        return stats


def run_workers(database_url: str, port: int, processes: int) -> tuple[float, list[int]]:
    env = env_for(database_url, port)
    started = time.perf_counter()
    children = [
        subprocess.Popen([sys.executable, __file__, "--worker"], cwd=ROOT, env=env, stdout=subprocess.PIPE)
        for _ in range(processes)
    ]
    rss = []
    for child in children:
        out, _ = child.communicate()
        rss.append(json.loads(out.decode().strip().splitlines()[-1])["max_rss_kb"])
    return time.perf_counter() - started, rss


def worker_main() -> None:
    from app import create_app
    from mailings.engine.worker import Worker, worker_process

    app = create_app()
    worker = Worker(app, once=True, idle=0.05)
    worker_process()  # as `flask mailings worker` does
    worker.run()
    print(json.dumps({"max_rss_kb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}))


def raw_limit(port: int, n: int) -> float:
    """(1) one smtplib connection, one pre-built message, every address."""
    from email.message import EmailMessage

    message = EmailMessage()
    message["From"] = "presse@example.org"
    message["To"] = "journaliste@example.org"
    message["Subject"] = "Invitation presse"
    message.set_content("x" * 7800)
    data = message.as_bytes()
    smtp = smtplib.SMTP("127.0.0.1", port)
    started = time.perf_counter()
    for i in range(n):
        smtp.sendmail("presse@example.org", [f"journaliste{i:06d}@example.org"], data)
    elapsed = time.perf_counter() - started
    smtp.quit()
    return n / elapsed


def naive_peer(app, n: int) -> float:
    """(2) Flask-Mail `mail.send(Message(...))` per recipient, each rendered with render_template_string."""
    from flask import render_template_string
    from flask_mail import Message
    from sqlalchemy import select

    from contacts.models import Contact
    from extensions import db, mail
    from mailings.composer import Composer, Recipient
    from mailings.models import Mailing
    from mailings.rendering import date_fr, datetime_fr

    app.jinja_env.filters["date_fr"] = date_fr  # the peer gets the same filter
    app.jinja_env.filters["datetime_fr"] = datetime_fr
    with app.app_context(), app.test_request_context():
        mailing = db.session.scalar(select(Mailing).order_by(Mailing.id.desc()))
        composer = Composer(mailing)
        template = mailing.template
        people = db.session.scalars(select(Contact).order_by(Contact.id).limit(n)).all()
        started = time.perf_counter()
        for contact in people:
            person = Recipient.of(contact)
            context = composer.context(person, composer.unsubscribe_url(person))
            mail.send(
                Message(
                    subject=render_template_string(template.subject, **context),
                    recipients=[contact.email],
                    html=render_template_string(template.html, **context),
                    sender=("CRESS Provence-Alpes-Côte d’Azur", "presse@example.org"),
                )
            )
        return len(people) / (time.perf_counter() - started)


def engine_urls(use_postgres: bool) -> list[tuple[str, str, callable]]:
    found = []
    path = Path(tempfile.mkdtemp()) / "bench.db"
    found.append(("SQLite", f"sqlite:///{path}", lambda: shutil.rmtree(path.parent, ignore_errors=True)))
    if use_postgres:
        try:
            import psycopg

            name = f"relais_bench_{uuid.uuid4().hex[:8]}"
            with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                conn.execute(f'CREATE DATABASE "{name}"')

            def drop(name=name):
                with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
                    conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

            base = PG_ADMIN.rsplit("/", 1)[0]
            found.append(("PostgreSQL", f"{base}/{name}", drop))
        except Exception as error:  # noqa: BLE001 (a bench without PostgreSQL still reports SQLite)
            print(f"PostgreSQL skipped: {error}")
    return found


def dkim_cost(app, n: int) -> None:
    """(4) What DKIM signing adds to each message: the engine's own messages composed with and without it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from sqlalchemy import select

    from contacts.models import Contact
    from extensions import db
    from mailings.composer import Composer, Recipient
    from mailings.models import Mailing

    mailing_id = new_mailing(app, limit=n, start=False)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    with tempfile.NamedTemporaryFile(suffix=".pem") as key_file, app.app_context():
        key_file.write(pem)
        key_file.flush()
        people = [Recipient.of(c) for c in db.session.scalars(select(Contact).limit(n))]
        timings = {}
        for label, config in (
            ("without DKIM", {}),
            ("with DKIM (rsa-sha256, 2048 bits)", {"DKIM_KEY_FILE": key_file.name}),
        ):
            app.config.update({"DKIM_DOMAIN": "example.org", "DKIM_SELECTOR": "bench", "DKIM_KEY_FILE": "", **config})
            composer = Composer(db.session.get(Mailing, mailing_id))
            started = time.perf_counter()
            for index, person in enumerate(people):
                composer.compose(person, index + 1)
            timings[label] = (time.perf_counter() - started) / len(people)
            print(
                f"(4) compose {label}: {1 / timings[label]:,.0f} msg/s on one core ({timings[label] * 1000:.2f} ms a message)"
            )
        app.config.update(DKIM_DOMAIN="", DKIM_SELECTOR="", DKIM_KEY_FILE="")
        extra = timings["with DKIM (rsa-sha256, 2048 bits)"] - timings["without DKIM"]
        print(f"    DKIM adds {extra * 1000:.2f} ms a message, a ceiling of {1 / extra:,.0f} signatures/s per core")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipients", type=int, default=20_000)
    parser.add_argument("--memory", type=int, default=100_000, help="the larger audience for the memory figure")
    parser.add_argument("--naive", type=int, default=2_000, help="recipients for the (slow) naive peer")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each Relais configuration (the median is kept)")
    parser.add_argument("--no-postgres", action="store_true")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--dkim", type=int, default=0, help="only measure DKIM signing's cost on N messages (SQLite)")
    args = parser.parse_args()
    if args.worker:
        worker_main()
        return
    if args.dkim:
        label, url, cleanup = engine_urls(False)[0]
        try:
            app = make_app(url, free_port())
            prepare(app, args.dkim)
            dkim_cost(app, args.dkim)
            with app.app_context():
                from extensions import db

                db.engine.dispose()
        finally:
            cleanup()
        return

    port = free_port()
    sink, stop_sink = start_sink(port)
    print(f"sink: {sink} on 127.0.0.1:{port}; {os.cpu_count()} cores; {args.recipients:,} recipients")
    try:
        raw = raw_limit(port, args.recipients)
        print(f"(1) raw limit, one smtplib connection, pre-built message: {raw:,.0f} msg/s")
        raw_runs = [raw]
        results = []
        naive = None
        for label, url, cleanup in engine_urls(not args.no_postgres):
            try:
                app = make_app(url, port)
                prepare(app, max(args.recipients, args.memory))
                if naive is None:
                    new_mailing(app, start=False)  # the naive peer renders this mailing's template
                    naive = naive_peer(app, args.naive)
                    print(f"(2) naive peer, Flask-Mail + render_template_string per recipient: {naive:,.0f} msg/s")
                for processes in (1, 2):
                    rates, paired = [], []
                    for _ in range(args.repeat):
                        raw_runs.append(raw_limit(port, args.recipients // 2))  # the machine now, not at the start
                        mailing_id = new_mailing(app, limit=args.recipients)
                        elapsed, rss = run_workers(url, port, processes)
                        stats = sent_count(app, mailing_id)
                        assert stats["sent"] == args.recipients, stats
                        rates.append(args.recipients / stats["seconds"])
                        paired.append(rates[-1] / raw_runs[-1])
                        print(
                            f"    run {len(rates)}: raw just before {raw_runs[-1]:,.0f} msg/s, Relais {rates[-1]:,.0f} msg/s "
                            f"({paired[-1]:.2f} x that raw); {args.recipients / elapsed:,.0f} msg/s counting the "
                            f"processes' start-up; max RSS {max(rss) / 1024:.0f} MB",
                            flush=True,
                        )
                    rate, raw = statistics.median(rates), max(raw_runs)
                    results.append((label, processes, rate, max(rss)))
                    print(
                        f"(3) Relais, {label}, {processes} worker process(es), median of {len(rates)}: {rate:,.0f} msg/s "
                        f"(Relais/raw {rate / raw:.2f} against the best raw so far, {raw:,.0f}; "
                        f"{statistics.median(paired):.2f} against the raw measured just before each run; "
                        f"Relais/naive {rate / naive:.1f})",
                        flush=True,
                    )
                if label == "SQLite" and args.memory > args.recipients:
                    mailing_id = new_mailing(app)
                    elapsed, rss = run_workers(url, port, 1)
                    stats = sent_count(app, mailing_id)
                    print(
                        f"    memory: one worker, {args.memory:,} recipients: max RSS {max(rss) / 1024:.0f} MB "
                        f"({stats['sent']:,} sent at {stats['sent'] / stats['seconds']:,.0f} msg/s)"
                    )
                with app.app_context():
                    from extensions import db

                    db.engine.dispose()
            finally:
                cleanup()
    finally:
        stop_sink()


if __name__ == "__main__":
    main()
