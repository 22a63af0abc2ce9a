"""Printed programmes: a region's booklet (about 50 events) and the national one (about 2,000).

    .venv/bin/python bench/printing.py [--regional 50] [--national 2000]

Prints, in one process on a throwaway SQLite database: the baseline (WeasyPrint printing a
one-page document with the same fonts: the fixed cost of any PDF), each document printed cold,
then asked again (served from the cache by data version) and revalidated (304), with pages and
weight. Ratios against the baseline say what the content itself costs.
"""

import argparse
import logging
import random
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from flask_migrate import upgrade  # noqa: E402
from sqlalchemy import func, select, update  # noqa: E402

from app import create_app  # noqa: E402
from config import TestConfig  # noqa: E402
from extensions import db  # noqa: E402

MIGRATIONS = str(Path(__file__).resolve().parent.parent / "migrations")


def timed(call):
    start = time.perf_counter()
    result = call()
    return result, time.perf_counter() - start


def seed(regional: int, national: int) -> tuple[str, int, int]:
    """The demo campaign, `regional` approved events in PACA and `national` approved in all."""
    from accounts.models import Region
    from campaign.models import Event
    from dbtypes import utcnow
    from demo.campaign import load, load_regions
    from operations.scale import generate_events

    regions = load_regions()
    campaign, _ = load(date(2008, 6, 19), date(2008, 11, 1))
    rng, now = random.Random(2008), utcnow()
    paca = regions["93"].id
    others = [r.id for r in db.session.scalars(select(Region).where(Region.id != paca))]
    generate_events(campaign, regional, [paca], rng, now)
    generate_events(campaign, max(0, national - regional), others, rng, now)
    db.session.execute(update(Event).values(status="approved"))
    db.session.commit()
    count = select(func.count(Event.id)).where(Event.status == "approved")
    return "93", db.session.scalar(count.where(Event.region_id == paca)), db.session.scalar(count)


def baseline() -> float:
    """One page, the same fonts and fetcher: what any printed document costs at least."""
    from weasyprint import HTML

    from printing.render import font_faces

    html = f"<style>{font_faces()} body {{ font-family: 'Relais Sans' }}</style><p>Mois de l’ESS</p>"
    HTML(string=html).write_pdf()  # fonts loaded once, as a running server has them
    return min(timed(lambda: HTML(string=html).write_pdf())[1] for _ in range(3))


def measure(client, url: str) -> dict:
    first, cold = timed(lambda: client.get(url))
    assert first.status_code == 200, (url, first.status_code, first.get_data(as_text=True)[:300])
    _, warm = timed(lambda: client.get(url))
    revalidated, conditional = timed(lambda: client.get(url, headers={"If-None-Match": first.headers["ETag"]}))
    assert revalidated.status_code == 304
    return {
        "url": url,
        "cold": cold,
        "warm": warm,
        "304": conditional,
        "pages": int(first.headers["X-Relais-Pages"]),
        "kb": len(first.data) / 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--regional", type=int, default=50)
    parser.add_argument("--national", type=int, default=2000)
    args = parser.parse_args()
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    with tempfile.TemporaryDirectory() as tmp:
        config = {k: getattr(TestConfig, k) for k in dir(TestConfig) if k.isupper()}
        app = create_app({**config, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp}/bench.db"})
        with app.app_context():
            upgrade(directory=MIGRATIONS)
            code, in_region, in_all = seed(args.regional, args.national)
            base = baseline()
            client = app.test_client()
            print(f"baseline: one-page PDF with the vendored fonts {base * 1000:.0f} ms")
            rows = [
                (f"regional booklet ({in_region} events)", f"/programme.pdf?region={code}"),
                ("regional booklet, grey", f"/programme.pdf?region={code}&colour=grey"),
                ("regional poster A3", f"/programme.pdf?region={code}&format=poster"),
                ("regional flyer A5", f"/programme.pdf?region={code}&format=flyer"),
                (f"national booklet ({in_all} events)", "/programme.pdf"),
            ]
            for label, url in rows:
                m = measure(client, url)
                print(
                    f"{label:34} cold {m['cold']:6.2f} s ({m['cold'] / base:5.0f}x baseline) · "
                    f"cached {m['warm'] * 1000:5.1f} ms · 304 {m['304'] * 1000:5.1f} ms · "
                    f"{m['pages']:3d} pages · {m['kb']:6.0f} KB"
                )
            db.session.remove()
            db.engine.dispose()


if __name__ == "__main__":
    main()
