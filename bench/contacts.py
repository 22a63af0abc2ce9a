"""Contacts at scale: import rate beside a bare Core insert, peak memory, and the contacts page at 1,000 vs 100,000.

    .venv/bin/python bench/contacts.py [--rows 100000] [--engine sqlite|postgresql]

Prints the figures and the two ratios that matter: import / bare insert (the cost of checking every
row), and page time at 100,000 / at 1,000 (whether the page's cost grows with the base).
"""

import argparse
import csv
import logging
import os
import random
import resource
import secrets
import statistics
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import psycopg  # noqa: E402
from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from app import create_app  # noqa: E402
from config import TestConfig  # noqa: E402
from extensions import db  # noqa: E402

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")
PG_ADMIN_URL = os.environ.get("RELAIS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
FIRST = ["Amélie", "Yann", "Chloé", "François", "Gaël", "Hélène", "Jérôme", "Sandrine", "Noël", "Zoé"]
LAST = ["Heuzé", "Le Bihan", "Noël", "Guérin", "Lœuvre", "Marchand", "Dufau", "Ferracci", "Perrin", "Roig"]
OUTLETS = ["Ouest-France", "Sud Ouest", "La Provence", "La Voix du Nord", "Le Dauphiné Libéré", "AFP"]
KINDS = ["Média", "média", "partenaire", "réseau", "institution", "autre"]
REGIONS = ["42", "72", "83", "25", "26", "53", "24", "43", "23", "11", "91", "74", "41", "73", "31", "52", "22"]
TAGS = ["presse", "pqr", "ess", "partenaires", "relais", "vip"]


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_file(path: Path, rows: int) -> None:
    """A French-Excel-like file: `;`, UTF-8 with BOM, accents, tags, phones on half the rows."""
    rnd = random.Random(2008)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out, delimiter=";")
        writer.writerow(["Prénom", "Nom", "Courriel", "Organisme", "Région", "Type", "Étiquettes", "Téléphone"])
        for i in range(rows):
            phone = f"0{rnd.randint(1, 5)} {rnd.randint(40, 59)} {rnd.randint(10, 99)} {rnd.randint(10, 99)} 00"
            writer.writerow(
                [
                    rnd.choice(FIRST),
                    rnd.choice(LAST),
                    f"contact.{i}@example.org",
                    rnd.choice(OUTLETS),
                    rnd.choice(REGIONS),
                    rnd.choice(KINDS),
                    ", ".join(rnd.sample(TAGS, 2)),
                    phone if i % 2 else "",
                ]
            )


def new_database(engine: str, folder: Path) -> tuple[str, callable]:
    if engine == "sqlite":
        return f"sqlite:///{folder / f'{uuid.uuid4().hex}.db'}", lambda: None
    name = f"relais_bench_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')

    def drop():
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')

    base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
    return f"{base}/{name}", drop


def make_app(url: str):
    settings = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
    app = create_app({**settings, "SQLALCHEMY_DATABASE_URI": url, "WTF_CSRF_ENABLED": False})
    with app.app_context():
        upgrade(directory=MIGRATIONS, revision="heads")
        from demo.campaign import load_regions

        load_regions()
        db.session.commit()
    return app


def run_import(app, path: Path, limit_rows: int | None = None):
    from contacts import importer

    with app.app_context():
        options = importer.ImportOptions(source="bench", default_kind="media")
        started = time.perf_counter()
        with path.open("rb") as stream:
            if limit_rows:
                import io
                import itertools

                head = b"".join(itertools.islice(stream, limit_rows + 1))
                stream = io.BytesIO(head)
            report = importer.run_import(stream, None, options)
        db.session.commit()
        return time.perf_counter() - started, report


def bare_insert(app, path: Path) -> tuple[float, int]:
    """The same rows, already parsed, through one Core executemany per 1,000 rows: the floor."""
    from contacts.models import Contact

    with path.open(encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=";")
        next(reader)
        now = __import__("dbtypes").utcnow()
        rows = [
            {
                "email": r[2],
                "first_name": r[0],
                "last_name": r[1],
                "organisation_id": None,
                "job_title": "",
                "kind": "media",
                "region_id": None,
                "phone": "",
                "media_type": None,
                "media_scope": None,
                "outlet": r[3],
                "partnership_status": None,
                "partnership_level": "",
                "source": "bench",
                "legal_basis": "legitimate_interest",
                "collected_at": now,
                "opted_out": False,
                "opted_out_at": None,
                "bounced": False,
                "bounced_at": None,
                "notes": "",
                "search_text": "",
                "created_at": now,
                "updated_at": now,
            }
            for r in reader
        ]
    with app.app_context():
        started = time.perf_counter()
        with db.engine.begin() as conn:
            for i in range(0, len(rows), 1000):
                conn.execute(insert(Contact.__table__), rows[i : i + 1000])
        return time.perf_counter() - started, len(rows)


def page_times(app, queries: list[str], runs: int = 15) -> dict[str, float]:
    """Median milliseconds of GET /contacts?<query>, signed in as a national lead."""
    from accounts.services import create_user

    with app.app_context():
        email = f"bench-{uuid.uuid4().hex[:6]}@example.org"
        create_user(email, "national", "correct horse battery", None, "Bench")
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"email": email, "password": "correct horse battery"})
    times = {}
    for query in queries:
        samples = []
        for _ in range(runs):
            started = time.perf_counter()
            response = client.get(f"/contacts?{query}")
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        times[query] = statistics.median(samples[2:])
    return times


def analyse(app) -> None:
    """What autovacuum (PostgreSQL) or a periodic ANALYZE (SQLite) does to a live base: fresh statistics."""
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("VACUUM ANALYZE" if conn.dialect.name == "postgresql" else "ANALYZE")


def count(app) -> int:
    from contacts.models import Contact

    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(Contact))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--engine", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)  # keeps Alembic's per-migration lines out of the figures
    os.environ.setdefault("RELAIS_SECRET_KEY", secrets.token_urlsafe(48))
    folder = Path(tempfile.mkdtemp(prefix="relais-bench-"))
    path = folder / "contacts.csv"
    write_file(path, args.rows)
    print(f"engine {args.engine}; file {args.rows:,} rows, {path.stat().st_size / 1e6:.1f} MB")

    url, drop = new_database(args.engine, folder)
    cleanups = [drop]
    try:
        app = make_app(url)
        before = rss_mb()
        seconds, report = run_import(app, path)
        grown = rss_mb() - before
        rate = report.created / seconds
        print(
            f"import: {report.created:,} created, {len(report.errors)} rejected in {seconds:.1f} s "
            f"= {rate:,.0f} rows/s; peak RSS {rss_mb():.0f} MB (+{grown:.0f} MB during the import)"
        )
        bare_url, bare_drop = new_database(args.engine, folder)
        cleanups.append(bare_drop)
        bare_app = make_app(bare_url)
        bare_seconds, bare_rows = bare_insert(bare_app, path)
        bare_rate = bare_rows / bare_seconds
        print(f"bare Core insert of the same rows: {bare_seconds:.1f} s = {bare_rate:,.0f} rows/s")
        print(f"ratio import / bare insert: {bare_rate / rate:.1f}x slower (validation, lookups, tags, phones)")

        small_url, small_drop = new_database(args.engine, folder)
        cleanups.append(small_drop)
        small_app = make_app(small_url)
        run_import(small_app, path, limit_rows=1000)
        analyse(small_app)
        analyse(app)
        queries = ["kind=media&region=53", "tag=vip&region=91", "", "q=heuze&region=53"]
        small, large = page_times(small_app, queries), page_times(app, queries)
        print(f"contacts page, median ms ({count(small_app):,} vs {count(app):,} contacts):")
        for query in queries:
            ratio = large[query] / small[query]
            print(
                f"  /contacts?{query or '(no filter)':<24} {small[query]:7.1f} ms  {large[query]:7.1f} ms  x{ratio:.1f}"
            )
        for each in (app, bare_app, small_app):
            with each.app_context():
                db.engine.dispose()
    finally:
        for cleanup in cleanups:
            cleanup()


if __name__ == "__main__":
    main()
