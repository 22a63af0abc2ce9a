"""Load: Relais under gunicorn (4 workers, PostgreSQL, the large demo) while a mailing is being sent.

    .venv/bin/python bench/load.py [--scales 1000,100000] [--duration 30] [--national 2] [--regional 2] [--public 2] [--mail-rate 1200]

For each scale, in one invocation: a throwaway PostgreSQL database, `db upgrade`, `demo load --scale
N`, a national lead and two regional coordinators (93) with API tokens, gunicorn -w 4, a delivery
worker against Postfix's smtp-sink, a mailing to a segment of every contact started with the API
(template, segment, mailing, send-now) and throttled to --mail-rate so that it sends during the whole
run with the same load at every scale, then simulated users (threads, stdlib urllib) for a fixed time:

- national lead (session cookie after /login): /, /campaigns/1, /contacts?q=..., /mailings, and
  /api/v1/contacts?region=93 with a bearer token;
- regional coordinators (session): /regions/93, /contacts?region=93, /events;
- public visitors: /programme, /programme.ics, /newsroom;
- everyone: /healthz (the floor every page is compared with).

Prints requests/s, p50/p95/p99 per page, errors (non-2xx/3xx or exception), each page's p95 over
/healthz's p95 in the same run, the mailing's progress, and at the end each page's p95 ratio
between the largest and smallest scale (does the page's time grow with the data?). Loopback only;
the databases and processes it creates are removed at the end, even on Ctrl-C.
"""

import argparse
import os
import random
import statistics
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from stack import Client, Stack, exit_cleanly_on_sigterm, free_port, mailing_stats, say, start_mailing  # noqa: E402

QUERIES = ("martin", "dupont", "radio", "ess", "bernard", "lefebvre", "presse", "coop")

NATIONAL = ("/", "/campaigns/1", "/contacts?q={q}", "/mailings", "API /api/v1/contacts?region=93")
REGIONAL = ("/regions/93", "/contacts?region=93", "/events")
PUBLIC = ("/programme", "/programme.ics", "/newsroom")


def page_key(path: str) -> str:
    return path.replace("{q}", "…")


class Recorder:
    def __init__(self):
        self.lock = threading.Lock()
        self.times: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, list[str]] = defaultdict(list)

    def add(self, key: str, seconds: float, error: str | None) -> None:
        with self.lock:
            self.times[key].append(seconds)
            if error:
                self.errors[key].append(error)


def hit(client: Client, api: Client, key: str, recorder: Recorder, rng: random.Random) -> None:
    if key.startswith("API "):
        target, path = api, key[4:]
    else:
        target, path = client, key
    path = path.replace("{q}", rng.choice(QUERIES))
    started = time.perf_counter()
    error = None
    try:
        status, _ = target.get(path)
        if not 200 <= status < 400:
            error = f"HTTP {status}"
    except Exception as exc:  # a refused or reset connection counts as an error
        error = f"{type(exc).__name__}: {exc}"
    recorder.add(page_key(key), time.perf_counter() - started, error)


def simulated_user(make_client, api, pages, recorder: Recorder, stop: threading.Event, seed: int) -> None:
    rng = random.Random(seed)
    try:
        client = make_client()
    except Exception as exc:
        recorder.add("login", 0.0, f"{type(exc).__name__}: {exc}")
        return
    cycle = [*pages, "/healthz"]
    while not stop.is_set():
        for key in cycle:
            if stop.is_set():
                return
            hit(client, api, key, recorder, rng)


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def run_scale(scale: int, args) -> dict:
    say(f"\n=== scale {scale:,} contacts ===")
    extra = {"RELAIS_MAIL_CONNECTIONS": args.connections, "RELAIS_MAIL_RATE_PER_MINUTE": args.mail_rate}
    with Stack(f"load{scale}", extra) as stack:
        say(f"  database {stack.name}: db upgrade, demo load --scale {scale}")
        took = stack.prepare(scale)
        say(f"  demo generated in {took:.1f} s")
        rows = stack.sql(
            "SELECT (SELECT count(*) FROM contacts), (SELECT count(*) FROM events), (SELECT count(*) FROM mailings), "
            "(SELECT count(*) FROM deliveries)"
        )[0]
        say(f"  rows: {rows[0]:,} contacts, {rows[1]:,} events, {rows[2]:,} mailings, {rows[3]:,} deliveries")
        national_token = stack.user("lead@example.org", "national")
        regional = [("coord93a@example.org", "93"), ("coord93b@example.org", "93")]
        for email, region in regional:
            stack.user(email, "regional", region)
        web, smtp = free_port(), free_port()
        stack.start_smtp_sink(smtp)
        stack.start_gunicorn(web, workers=4)
        base = f"http://127.0.0.1:{web}"
        stack.start_flask(
            "worker", "mailings", "worker", env={"RELAIS_MAIL_SERVER": "127.0.0.1", "RELAIS_MAIL_PORT": str(smtp)}
        )
        api = Client(base, national_token)
        mailing_id, audience = start_mailing(api, f"Bench {scale}", {})
        while mailing_stats(api, mailing_id).get("sent", 0) == 0:
            time.sleep(0.2)
        say(
            f"  gunicorn -w 4 on :{web}, worker -> smtp-sink :{smtp}; mailing {mailing_id} to a segment of every contact ({audience:,} recipients, {args.mail_rate}/min) sending"
        )

        def national():
            client = Client(base)
            client.login("lead@example.org")
            return client

        def coordinator(email):
            def make():
                client = Client(base)
                client.login(email)
                return client

            return make

        recorder, stop = Recorder(), threading.Event()
        threads = []
        for _ in range(args.national):
            threads.append((national, NATIONAL))
        for i in range(args.regional):
            threads.append((coordinator(regional[i % len(regional)][0]), REGIONAL))
        for _ in range(args.public):
            threads.append((lambda: Client(base), PUBLIC))
        workers = []
        for seed, (make, pages) in enumerate(threads, 1):
            thread = threading.Thread(target=simulated_user, args=(make, api, pages, recorder, stop, seed), daemon=True)
            workers.append(thread)
        before = mailing_stats(api, mailing_id)
        load_before = os.getloadavg()[0]
        started = time.monotonic()
        for thread in workers:
            thread.start()
        time.sleep(args.duration)
        stop.set()
        for thread in workers:
            thread.join(60)
        elapsed = time.monotonic() - started
        after = mailing_stats(api, mailing_id)
        say(
            f"  machine: {os.cpu_count()} CPUs, load average {load_before:.1f} before and {os.getloadavg()[0]:.1f} after "
            "(other processes on the machine share these CPUs: compare ratios, not absolute times)"
        )
        total = sum(len(v) for v in recorder.times.values())
        errors = sum(len(v) for v in recorder.errors.values())
        say(
            f"  {len(workers)} simulated users ({args.national} national, {args.regional} regional, {args.public} public) "
            f"for {elapsed:.1f} s: {total:,} requests, {total / elapsed:.1f} requests/s, {errors} errors"
        )
        say(
            f"  mailing {mailing_id} during the run: sent {before.get('sent', 0):,} -> {after.get('sent', 0):,} "
            f"of {audience:,} (status {after.get('status')}, pending {after.get('pending', 0):,}, retry {after.get('retry', 0)})"
        )
        healthz = percentile(recorder.times.get("/healthz", []), 95)
        say(f"  {'page':38} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'errors':>6} {'p95/healthz':>11}")
        summary = {}
        order = [page_key(p) for p in (*NATIONAL, *REGIONAL, *PUBLIC)] + ["/healthz"]
        for key in order + sorted(set(recorder.times) - set(order)):
            values = recorder.times.get(key, [])
            if not values:
                continue
            p50, p95, p99 = (percentile(values, p) * 1000 for p in (50, 95, 99))
            summary[key] = p95
            say(
                f"  {key:38} {len(values):6} {p50:8.1f} {p95:8.1f} {p99:8.1f} {len(recorder.errors.get(key, [])):6} "
                f"{p95 / (healthz * 1000):11.1f}"
            )
        for key, messages in recorder.errors.items():
            counts = defaultdict(int)
            for message in messages:
                counts[message] += 1
            for message, n in counts.items():
                say(f"  error on {key}: {message} ×{n}")
        worker_log = stack.log("worker")
        if "Traceback" in worker_log:
            say("  worker log has a traceback:\n" + worker_log[-2000:])
        return {
            "p95": summary,
            "healthz": healthz * 1000,
            "rps": total / elapsed,
            "errors": errors,
            "median_all": statistics.median([t for v in recorder.times.values() for t in v]) * 1000 if total else 0,
        }


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scales", default="1000,100000", help="comma-separated contact counts (default 1000,100000)")
    parser.add_argument("--duration", type=float, default=30, help="seconds of load per scale (default 30)")
    parser.add_argument("--national", type=int, default=2, help="simulated national leads (default 2)")
    parser.add_argument("--regional", type=int, default=2, help="simulated regional coordinators (default 2)")
    parser.add_argument("--public", type=int, default=2, help="simulated public visitors (default 2)")
    parser.add_argument("--connections", type=int, default=2, help="worker SMTP connections (default 2)")
    parser.add_argument(
        "--mail-rate",
        type=int,
        default=1200,
        help="RELAIS_MAIL_RATE_PER_MINUTE of the worker (default 1200: the same sending load at every scale)",
    )
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    scales = [int(s.replace("_", "")) for s in args.scales.split(",") if s.strip()]
    results = {}
    for scale in scales:
        results[scale] = run_scale(scale, args)
    if len(scales) >= 2:
        small, large = min(scales), max(scales)
        a, b = results[small], results[large]
        say(
            f"\n=== p95 at {large:,} contacts / p95 at {small:,} contacts (1.0 = the page does not grow with the data) ==="
        )
        say(f"  {'page':38} {'p95 small':>10} {'p95 large':>10} {'ratio':>7} {'ratio/healthz ratio':>20}")
        h = b["healthz"] / a["healthz"] if a["healthz"] else float("nan")
        for key in a["p95"]:
            if key in b["p95"]:
                ratio = b["p95"][key] / a["p95"][key]
                say(f"  {key:38} {a['p95'][key]:10.1f} {b['p95'][key]:10.1f} {ratio:7.2f} {ratio / h:20.2f}")
        say(f"  requests/s: {a['rps']:.1f} -> {b['rps']:.1f}; errors: {a['errors']} and {b['errors']}")
    return 1 if any(r["errors"] for r in results.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
