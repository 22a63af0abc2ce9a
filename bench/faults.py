"""Faults: Relais on PostgreSQL when the SMTP server, the scheduler, a worker or the database connections go.

    .venv/bin/python bench/faults.py [--only smtp,scheduler,worker,postgres] [--scale 1500] [--rate 3000]
                                     [--outage 12] [--timeout 180]

Each scenario gets its own throwaway PostgreSQL database (`db upgrade`, `demo load --scale N`), a
national lead with an API token, and a counting SMTP sink (aiosmtpd, started here on loopback) that
records every message per recipient, so "exactly once" is counted on the wire, not read from the
database. Mailings go to a segment of every contact through the API (template, segment, mailing,
send-now) and are throttled (`RELAIS_MAIL_RATE_PER_MINUTE`, default 3000/min) so that the fault
lands mid-mailing. Retry delays are shortened to 2, 4, 8, 16 s (`RELAIS_MAIL_RETRY_DELAYS`) and the
scheduler ticks every second so the run stays short; everything else is the production
configuration (a killed worker is found dead through its PostgreSQL advisory lock, not by waiting
for `MAIL_WORKER_DEAD_AFTER`).

(a) smtp: the SMTP server stops mid-mailing for --outage seconds, then comes back: deliveries wait
    (retry), resume, and every recipient ends `sent` exactly once.
(b) scheduler: two `scheduler run` on PostgreSQL; SIGKILL the active one; seconds until the standby
    logs "scheduler: active".
(c) worker: SIGKILL a worker mid-batch, start another: nothing left pending/sending, no duplicate,
    `unknown` <= connections.
(d) postgres: pg_terminate_backend on every connection of the database while gunicorn, two
    schedulers and a worker run; then: does the web answer, do the processes survive, does the
    mailing finish, does a mailing scheduled after the drop start, is anything lost or doubled?

Prints what it did and found per scenario, then a summary; exit status 1 when a check failed.
Removes its databases and stops its processes at the end.
"""

import argparse
import re
import sys
import threading
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from aiosmtpd.controller import Controller  # noqa: E402
from stack import Client, Stack, exit_cleanly_on_sigterm, free_port, mailing_stats, say, start_mailing, wait_port  # noqa: E402

CONNECTIONS = 2
FAST = {
    "RELAIS_MAIL_RETRY_DELAYS": "[2, 4, 8, 16]",
    "RELAIS_MAIL_DISPATCH_INTERVAL": "1",
    "RELAIS_MAIL_CONNECTIONS": str(CONNECTIONS),
}


class CountingSink:
    """An SMTP server on loopback that counts messages per (subject tag, recipient)."""

    def __init__(self, port: int):
        self.port = port
        self.lock = threading.Lock()
        self.counts: Counter = Counter()
        self.controller = None

    async def handle_DATA(self, server, session, envelope):
        subject = message_from_bytes(envelope.content).get("Subject", "")
        match = re.search(r"\[(\w+)\]", str(subject))
        tag = match.group(1) if match else ""
        with self.lock:
            for rcpt in envelope.rcpt_tos:
                self.counts[(tag, rcpt.lower())] += 1
        return "250 2.0.0 OK"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        wait_port(self.port)

    def stop(self) -> None:
        if self.controller:
            self.controller.stop()
            self.controller = None

    def for_tag(self, tag: str) -> Counter:
        with self.lock:
            return Counter({rcpt: n for (t, rcpt), n in self.counts.items() if t == tag})


class Checks:
    def __init__(self):
        self.results: list[tuple[str, bool, str]] = []

    def check(self, scenario: str, ok: bool, what: str) -> bool:
        self.results.append((scenario, ok, what))
        say(f"  [{'ok' if ok else 'FAIL'}] {what}")
        return ok


def deliveries(stack: Stack, mailing_id: int) -> dict[str, str]:
    rows = stack.sql("SELECT lower(email), status FROM deliveries WHERE mailing_id = %s", (mailing_id,))
    return dict(rows)


def wait_mailing(
    api: Client, mailing_id: int, timeout: float, label: str, resume_paused: bool = False, give_up=None
) -> dict:
    """Poll until the mailing leaves `sending` with nothing in flight; resume it if paused (a person would)."""
    deadline = time.monotonic() + timeout
    stats: dict = {}
    last = 0.0
    seen, stalled_since = None, time.monotonic()
    while time.monotonic() < deadline:
        stats = mailing_stats(api, mailing_id)
        if stats.get("sent") != seen:
            seen, stalled_since = stats.get("sent"), time.monotonic()
        stalled = time.monotonic() - stalled_since
        reason = give_up(stalled) if give_up else None
        if not reason and stalled > 45:
            reason = f"no delivery progress for {stalled:.0f} s"
        if reason:
            say(f"  {label}: giving up waiting: {reason}; {progress(stats)}")
            return stats
        if stats.get("status") == "paused" and resume_paused:
            say(f"  {label}: mailing paused ({stats.get('reason')}); a person presses resume")
            status, body = api.json("POST", f"/api/v1/mailings/{mailing_id}/resume")
            say(f"  {label}: resume -> {status} {body.get('status') if isinstance(body, dict) else body}")
            continue
        busy = stats.get("pending", 0) + stats.get("sending", 0) + stats.get("retry", 0)
        if stats.get("status") not in ("sending", "scheduled", "approved", None) and not busy:
            return stats
        if time.monotonic() - last > 5:
            last = time.monotonic()
            say(f"  {label}: {progress(stats)}")
        time.sleep(0.5)
    say(f"  {label}: still not finished after {timeout:.0f} s: {progress(stats)}")
    return stats


def progress(stats: dict) -> str:
    keys = ("sent", "pending", "sending", "retry", "unknown", "failed", "skipped")
    return f"status {stats.get('status')} " + ", ".join(f"{k} {stats.get(k, 0)}" for k in keys)


def wire_check(
    checks: Checks, scenario: str, stack: Stack, sink: CountingSink, tag: str, mailing_id: int, unknown_max: int = 0
) -> None:
    rows = deliveries(stack, mailing_id)
    wire = sink.for_tag(tag)
    statuses = Counter(rows.values())
    sent = {e for e, s in rows.items() if s == "sent"}
    dupes = {e: n for e, n in wire.items() if n > 1}
    lost = [e for e in sent if wire.get(e, 0) == 0]
    stray = [e for e in wire if rows.get(e) not in ("sent", "unknown")]
    say(
        f"  {scenario}: deliveries by status {dict(statuses)}; messages on the wire {sum(wire.values())} to {len(wire)} recipients"
    )
    checks.check(
        scenario,
        statuses.get("pending", 0) + statuses.get("sending", 0) + statuses.get("retry", 0) == 0,
        "nothing left pending, sending or retry",
    )
    checks.check(
        scenario,
        not dupes,
        f"no recipient got two messages (duplicates: {len(dupes)}{' e.g. ' + str(list(dupes.items())[:3]) if dupes else ''})",
    )
    checks.check(
        scenario, not lost, f"every `sent` row reached the wire exactly once (sent rows without a message: {len(lost)})"
    )
    checks.check(scenario, not stray, f"no message to a recipient not marked sent/unknown ({len(stray)})")
    checks.check(
        scenario, statuses.get("unknown", 0) <= unknown_max, f"unknown {statuses.get('unknown', 0)} <= {unknown_max}"
    )


def setup(label: str, args, extra: dict | None = None) -> tuple[Stack, Client]:
    stack = Stack(label, {**FAST, "RELAIS_MAIL_RATE_PER_MINUTE": str(args.rate), **(extra or {})})
    stack.__enter__()
    say(f"  database {stack.name}: db upgrade, demo load --scale {args.scale}")
    stack.prepare(args.scale)
    token = stack.user("lead@example.org", "national")
    return stack, token


def scenario_smtp(args, checks: Checks) -> None:
    say("\n=== (a) the SMTP server goes away mid-mailing, then comes back ===")
    stack, token = setup("smtp", args)
    sink = CountingSink(free_port())
    try:
        sink.start()
        mail_env = {"RELAIS_MAIL_SERVER": "127.0.0.1", "RELAIS_MAIL_PORT": str(sink.port)}
        stack.start_flask("worker", "mailings", "worker", env=mail_env)
        web = free_port()
        stack.start_gunicorn(web, workers=2)
        api = Client(f"http://127.0.0.1:{web}", token)
        mailing_id, audience = start_mailing(api, "[smtp] outage", {}, None)
        say(f"  mailing {mailing_id} to {audience} recipients at {args.rate}/min through aiosmtpd :{sink.port}")
        while mailing_stats(api, mailing_id).get("sent", 0) < audience // 4:
            time.sleep(0.2)
        before = mailing_stats(api, mailing_id)
        sink.stop()
        down_at = time.monotonic()
        say(f"  SMTP server stopped at {progress(before)}")
        paused_seen = None
        while time.monotonic() - down_at < args.outage:
            stats = mailing_stats(api, mailing_id)
            if stats.get("status") == "paused" and not paused_seen:
                paused_seen = stats.get("reason")
                say(f"  +{time.monotonic() - down_at:.1f} s: mailing {stats['status']}: {paused_seen}")
            time.sleep(0.5)
        during = mailing_stats(api, mailing_id)
        say(f"  after {args.outage:.0f} s without SMTP: {progress(during)}")
        sink.start()
        up_at = time.monotonic()
        say("  SMTP server back")
        first_sent = during.get("sent", 0)
        resumed_after = None
        manual = False
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            stats = mailing_stats(api, mailing_id)
            if resumed_after is None and stats.get("sent", 0) > first_sent:
                resumed_after = time.monotonic() - up_at
                say(f"  deliveries resumed {resumed_after:.1f} s after the server came back")
            if stats.get("status") == "paused" and time.monotonic() - up_at > 20 and not manual:
                manual = True
                say(f"  still paused 20 s after the server came back ({stats.get('reason')}): a person presses resume")
                status, _ = api.json("POST", f"/api/v1/mailings/{mailing_id}/resume")
                say(f"  POST resume -> {status}")
            busy = stats.get("pending", 0) + stats.get("sending", 0) + stats.get("retry", 0)
            if stats.get("status") not in ("sending", "paused") and not busy:
                break
            time.sleep(0.5)
        final = mailing_stats(api, mailing_id)
        say(f"  finished {time.monotonic() - up_at:.1f} s after the server came back: {progress(final)}")
        checks.check("smtp", final.get("status") == "sent", f"mailing ends `sent` (it is {final.get('status')})")
        checks.check(
            "smtp",
            not manual,
            "deliveries resumed without a person pressing resume"
            + (f" (paused: {paused_seen})" if paused_seen else ""),
        )
        wire_check(checks, "smtp", stack, sink, "smtp", mailing_id)
    finally:
        sink.stop()
        stack.close()


def scenario_scheduler(args, checks: Checks) -> None:
    say("\n=== (b) the active scheduler is killed (SIGKILL), the standby takes over ===")
    stack, _ = setup("sched", args)
    try:
        first = stack.start_flask("sched-1", "scheduler", "run", "--interval", "1")
        deadline = time.monotonic() + 30
        while "scheduler: active" not in stack.log("sched-1") and time.monotonic() < deadline:
            time.sleep(0.1)
        second = stack.start_flask("sched-2", "scheduler", "run", "--interval", "1")
        time.sleep(4)  # the standby is up and polling
        active = [n for n in ("sched-1", "sched-2") if "scheduler: active" in stack.log(n)]
        say(f"  two schedulers started (pids {first.pid}, {second.pid}); active: {active}")
        checks.check("scheduler", active == ["sched-1"], "exactly one scheduler active")
        beat_before = stack.sql("SELECT pid, beat_at FROM scheduler_heartbeats")
        say(f"  heartbeat row before the kill: {beat_before}")
        killed_at = time.monotonic()
        stack.kill("sched-1")
        say(f"  SIGKILL pid {first.pid} (the active one)")
        took = None
        while time.monotonic() - killed_at < 90:
            if "scheduler: active" in stack.log("sched-2"):
                took = time.monotonic() - killed_at
                break
            time.sleep(0.05)
        if took is None:
            checks.check("scheduler", False, "the standby did not become active within 90 s")
            say(stack.log("sched-2")[-1500:])
            return
        say(f"  the standby (pid {second.pid}) logged 'scheduler: active' {took:.2f} s after the kill")
        time.sleep(2.5)
        beat_after = stack.sql("SELECT pid, extract(epoch FROM now() - beat_at) FROM scheduler_heartbeats")
        say(f"  heartbeat row 2.5 s later: pid {beat_after[0][0]}, {float(beat_after[0][1]):.1f} s old")
        checks.check("scheduler", took < 60, f"standby active within a minute ({took:.2f} s)")
        checks.check(
            "scheduler", beat_after and beat_after[0][0] == second.pid, "the heartbeat now comes from the standby"
        )
    finally:
        stack.close()


def scenario_worker(args, checks: Checks) -> None:
    say("\n=== (c) a worker is killed (SIGKILL) mid-batch, another one starts ===")
    stack, token = setup("worker", args)
    sink = CountingSink(free_port())
    try:
        sink.start()
        mail_env = {"RELAIS_MAIL_SERVER": "127.0.0.1", "RELAIS_MAIL_PORT": str(sink.port)}
        worker = stack.start_flask("worker-1", "mailings", "worker", env=mail_env)
        web = free_port()
        stack.start_gunicorn(web, workers=2)
        api = Client(f"http://127.0.0.1:{web}", token)
        mailing_id, audience = start_mailing(api, "[worker] crash", {}, None)
        say(f"  mailing {mailing_id} to {audience} recipients, worker pid {worker.pid} with {CONNECTIONS} connections")
        while mailing_stats(api, mailing_id).get("sent", 0) < audience // 3:
            time.sleep(0.1)
        in_flight = stack.sql(
            "SELECT status, count(*) FROM deliveries WHERE mailing_id = %s AND worker_id IS NOT NULL GROUP BY status",
            (mailing_id,),
        )
        stack.kill("worker-1")
        killed = mailing_stats(api, mailing_id)
        say(f"  SIGKILL worker at {progress(killed)}; claimed rows at that instant: {dict(in_flight)}")
        restarted = time.monotonic()
        stack.start_flask("worker-2", "mailings", "worker", env=mail_env)
        final = wait_mailing(api, mailing_id, args.timeout, "after restart")
        say(f"  finished {time.monotonic() - restarted:.1f} s after the restart: {progress(final)}")
        recovered = re.findall(r"recovered worker .*", stack.log("worker-2"))
        say(f"  worker-2 log: {recovered[:2] or 'no recovery line'}")
        checks.check("worker", final.get("status") == "sent", f"mailing ends `sent` (it is {final.get('status')})")
        wire_check(checks, "worker", stack, sink, "worker", mailing_id, unknown_max=CONNECTIONS)
    finally:
        sink.stop()
        stack.close()


def alive(stack: Stack, name: str) -> bool:
    process = stack.processes.get(name)
    return bool(process and process.poll() is None)


def scenario_postgres(args, checks: Checks) -> None:
    say("\n=== (d) every PostgreSQL connection is dropped while web, schedulers and worker run ===")
    stack, token = setup("pg", args)
    sink = CountingSink(free_port())
    try:
        sink.start()
        mail_env = {"RELAIS_MAIL_SERVER": "127.0.0.1", "RELAIS_MAIL_PORT": str(sink.port)}
        web = free_port()
        stack.start_gunicorn(web, workers=4)
        stack.start_flask("sched-1", "scheduler", "run", "--interval", "1")
        time.sleep(3)
        stack.start_flask("sched-2", "scheduler", "run", "--interval", "1")
        stack.start_flask("worker", "mailings", "worker", env=mail_env)
        base = f"http://127.0.0.1:{web}"
        api = Client(base, token)
        page = Client(base)
        page.login("lead@example.org")
        mailing_id, audience = start_mailing(api, "[pg] drop", {}, None)
        say(f"  gunicorn -w 4, 2 schedulers, 1 worker; mailing {mailing_id} to {audience} recipients")
        while mailing_stats(api, mailing_id).get("sent", 0) < audience // 4:
            time.sleep(0.2)
        say(f"  before the drop: {progress(mailing_stats(api, mailing_id))}")
        for round_ in range(args.drops):
            n = stack.terminate_backends()
            say(f"  drop {round_ + 1}: pg_terminate_backend -> {n} connections terminated")
            time.sleep(1.5)
        dropped_at = time.monotonic()
        # the web app: first answers after the drop
        answers = []
        for path, client in (
            ("/healthz", page),
            ("/readyz", page),
            ("/", page),
            ("/mailings", page),
            (f"/api/v1/mailings/{mailing_id}", api),
        ):
            status, _ = client.get(path)
            answers.append((path, status))
        say(f"  web answers right after: {answers}")
        bad = [a for a in answers if not 200 <= a[1] < 400]
        retry_answers = []
        if bad:
            time.sleep(1)
            retry_answers = [(p, (api if p.startswith("/api") else page).get(p)[0]) for p, _ in bad]
            say(f"  the failed ones again 1 s later: {retry_answers}")
        checks.check("postgres", not bad, f"every web request after the drop answered 2xx/3xx ({len(bad)} did not)")
        # a mailing scheduled after the drop: the scheduler must start it
        _, template = api.json(
            "POST", "/api/v1/templates", {"name": "pg later", "subject": "[pglater] suite", "html": "<p>Suite</p>"}
        )
        status, later = api.json(
            "POST",
            "/api/v1/mailings",
            {
                "template_id": template.get("id"),
                "name": "[pglater]",
                "from_name": "Bench",
                "from_email": "bench@example.org",
                "audience": {"contact_ids": stack_contact_ids(stack, 20)},
            },
        )
        send_at = (datetime.now(UTC) + timedelta(seconds=4)).isoformat()
        status, scheduled = api.json("POST", f"/api/v1/mailings/{later['id']}/schedule", {"send_at": send_at})
        say(
            f"  mailing {later['id']} scheduled for {send_at} -> {status} {scheduled.get('status') if isinstance(scheduled, dict) else scheduled}"
        )

        def no_worker(stalled: float):
            if stalled > 15 and not alive(stack, "worker"):
                return f"no progress for {stalled:.0f} s and the worker process has exited (code {stack.processes['worker'].returncode})"
            return None

        def no_scheduler(stalled: float):
            if stalled > 15 and not (alive(stack, "sched-1") or alive(stack, "sched-2")):
                return "no scheduler process left"
            return None

        final = wait_mailing(api, mailing_id, args.timeout, "after the drop", give_up=no_worker)
        later_final = wait_mailing(api, later["id"], 30, "scheduled after the drop", give_up=no_scheduler)
        say(f"  mailing {mailing_id}: {progress(final)} ({time.monotonic() - dropped_at:.1f} s after the drop)")
        say(f"  mailing {later['id']} (scheduled after the drop): {progress(later_final)}")
        processes = {n: alive(stack, n) for n in ("gunicorn", "sched-1", "sched-2", "worker")}
        say(f"  processes still running: {processes}")
        for name in ("sched-1", "sched-2", "worker"):
            log = stack.log(name)
            lines = [ln for ln in log.splitlines() if re.search(r"lost the lock|active|stopped|Error|error", ln)]
            if lines:
                say(f"  {name} log: " + " | ".join(ln.strip()[:160] for ln in lines[-4:]))
        beat = stack.sql("SELECT pid, extract(epoch FROM now() - beat_at) FROM scheduler_heartbeats")
        say(
            f"  scheduler heartbeat: pid {beat[0][0] if beat else None}, {float(beat[0][1]) if beat else float('nan'):.1f} s old"
        )
        checks.check(
            "postgres", all(processes.values()), f"every process survived the drop without a restart {processes}"
        )
        checks.check(
            "postgres", final.get("status") == "sent", f"the running mailing finished (status {final.get('status')})"
        )
        checks.check(
            "postgres",
            later_final.get("status") == "sent",
            f"the mailing scheduled after the drop was sent (status {later_final.get('status')})",
        )
        checks.check("postgres", bool(beat) and float(beat[0][1]) < 10, "a scheduler heartbeat is fresh (< 10 s)")
        if not all(processes.values()):
            say(
                "  restarting the processes that exited, as systemd's Restart=always would, to see whether anything was lost"
            )
            for name in ("sched-1", "sched-2", "worker"):
                if not alive(stack, name):
                    stack.processes.pop(name, None)
                    if name == "worker":
                        stack.start_flask(name, "mailings", "worker", env=mail_env)
                    else:
                        stack.start_flask(name, "scheduler", "run", "--interval", "1")
            restarted = time.monotonic()
            final = wait_mailing(api, mailing_id, args.timeout, "after the restart", give_up=no_worker)
            later_final = wait_mailing(api, later["id"], 30, "scheduled, after the restart", give_up=no_scheduler)
            say(f"  after the restart ({time.monotonic() - restarted:.1f} s): mailing {mailing_id} {progress(final)}")
            say(f"  mailing {later['id']}: {progress(later_final)}")
            checks.check("postgres", final.get("status") == "sent", "after a restart the mailing finished")
        wire_check(checks, "postgres", stack, sink, "pg", mailing_id, unknown_max=CONNECTIONS)
        wire_check(checks, "pg-later", stack, sink, "pglater", later["id"])
    finally:
        sink.stop()
        stack.close()


def stack_contact_ids(stack: Stack, n: int) -> list[int]:
    rows = stack.sql(
        "SELECT id FROM contacts WHERE NOT opted_out AND NOT bounced AND email LIKE %s ORDER BY id LIMIT %s",
        ("%@example.org", n),
    )
    return [r[0] for r in rows]


SCENARIOS = {
    "smtp": scenario_smtp,
    "scheduler": scenario_scheduler,
    "worker": scenario_worker,
    "postgres": scenario_postgres,
}


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--only", default=",".join(SCENARIOS), help="scenarios to run, comma-separated (default: all)")
    parser.add_argument(
        "--scale", type=int, default=1500, help="contacts generated by `demo load --scale` (default 1500)"
    )
    parser.add_argument("--rate", type=int, default=3000, help="RELAIS_MAIL_RATE_PER_MINUTE (default 3000)")
    parser.add_argument("--outage", type=float, default=12, help="seconds the SMTP server stays down (default 12)")
    parser.add_argument(
        "--drops", type=int, default=2, help="times every PostgreSQL connection is terminated (default 2)"
    )
    parser.add_argument("--timeout", type=float, default=180, help="seconds a mailing may take to finish after a fault")
    args = parser.parse_args()
    exit_cleanly_on_sigterm()
    checks = Checks()
    for name in args.only.split(","):
        name = name.strip()
        started = time.monotonic()
        try:
            SCENARIOS[name](args, checks)
        except Exception as error:
            checks.check(name, False, f"scenario crashed: {type(error).__name__}: {error}")
        say(f"  ({name}: {time.monotonic() - started:.0f} s)")
    say("\n=== summary ===")
    for scenario, ok, what in checks.results:
        say(f"  {scenario:10} {'ok  ' if ok else 'FAIL'} {what}")
    failed = sum(1 for _, ok, _ in checks.results if not ok)
    say(f"  {len(checks.results) - failed} checks passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
