"""A throwaway Relais deployment on loopback for bench/load.py and bench/faults.py.

One PostgreSQL database created for the run (dropped at the end), the `flask` commands run against
it, and the processes started by the bench (gunicorn, workers, schedulers, smtp-sink), each logged
to a file and stopped at the end. Nothing here leaves 127.0.0.1.
"""

import contextlib
import http.cookiejar
import json
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
VENV = ROOT / ".venv" / "bin"
PG_ADMIN_URL = os.environ.get("RELAIS_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
PASSWORD = "bench-password-1234"
SMTP_SINK = "/usr/sbin/smtp-sink"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_port(port: int, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), 0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f} s")


def exit_cleanly_on_sigterm() -> None:
    """SIGTERM (and SIGINT, even in a background job) unwinds the stack so databases and processes are removed."""

    def bail(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, bail)
    signal.signal(signal.SIGINT, bail)


def say(*parts) -> None:
    print(*parts, flush=True)


class Stack:
    """One database and the processes around it; use as a context manager (cleans up on exit)."""

    def __init__(self, label: str, extra_env: dict | None = None, keep_logs: bool = False):
        self.name = f"relais_bench_{label}_{uuid.uuid4().hex[:8]}"
        self.logs = Path(tempfile.mkdtemp(prefix=f"{self.name}-"))
        self.keep_logs = keep_logs
        base = PG_ADMIN_URL.rsplit("/", 1)[0].replace("postgresql://", "postgresql+psycopg://", 1)
        self.url = f"{base}/{self.name}"
        self.dsn = self.url.replace("postgresql+psycopg://", "postgresql://", 1)
        self.env = dict(os.environ)
        self.env.update(
            {
                "DATABASE_URL": self.url,
                "RELAIS_SECRET_KEY": "bench-secret-key-" + uuid.uuid4().hex,
                "RELAIS_LOG_LEVEL": "INFO",
                "PYTHONUNBUFFERED": "1",
            }
        )
        self.env.update({k: str(v) for k, v in (extra_env or {}).items()})
        self.processes: dict[str, subprocess.Popen] = {}
        self.created = False

    # ---- database ----------------------------------------------------------------------------
    def __enter__(self):
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{self.name}"')
        self.created = True
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        for name in list(self.processes):
            self.stop(name)
        if self.created:
            with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{self.name}" WITH (FORCE)')
            self.created = False
            say(f"  cleanup: database {self.name} dropped, processes stopped (logs in {self.logs})")

    def sql(self, query: str, params=None) -> list:
        with psycopg.connect(self.dsn, autocommit=True) as conn:
            cur = conn.execute(query, params)
            return cur.fetchall() if cur.description else []

    def terminate_backends(self) -> int:
        rows = self.sql(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
            (self.name,),
        )
        return sum(1 for (ok,) in rows if ok)

    # ---- commands ----------------------------------------------------------------------------
    def flask(self, *args: str, stdin: str | None = None, env: dict | None = None) -> str:
        run_env = dict(self.env, **(env or {}))
        done = subprocess.run(
            [str(VENV / "flask"), "--app", "app", *args],
            cwd=ROOT,
            env=run_env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=900,
        )
        if done.returncode != 0:
            raise RuntimeError(f"flask {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
        return done.stdout

    def prepare(self, scale: int | None) -> float:
        """Migrate, load the demo (at `scale` contacts), return the seconds the demo took."""
        self.flask("db", "upgrade")
        started = time.monotonic()
        out = self.flask("demo", "load", *(["--scale", str(scale)] if scale else []))
        took = time.monotonic() - started
        for line in out.strip().splitlines():
            if line.startswith("demo: campaign") or line.startswith("demo: added"):
                say(f"  {line}")
        return took

    def user(self, email: str, role: str, region: str | None = None) -> str:
        """Create an account and return a bearer token for it."""
        self.flask(
            "users",
            "create",
            email,
            "--role",
            role,
            *(["--region", region] if region else []),
            "--password-stdin",
            stdin=PASSWORD + "\n",
        )
        return self.flask("users", "token", email).strip()

    # ---- processes ---------------------------------------------------------------------------
    def start(self, name: str, argv: list[str], env: dict | None = None) -> subprocess.Popen:
        log = open(self.logs / f"{name}.log", "ab")  # noqa: SIM115 (kept for the process's life)
        process = subprocess.Popen(
            argv,
            cwd=ROOT,
            env=dict(self.env, **(env or {})),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        return process

    def start_flask(self, name: str, *args: str, env: dict | None = None) -> subprocess.Popen:
        return self.start(name, [str(VENV / "flask"), "--app", "app", *args], env=env)

    def start_gunicorn(self, port: int, workers: int = 4) -> subprocess.Popen:
        process = self.start(
            "gunicorn",
            [
                str(VENV / "gunicorn"),
                "-w",
                str(workers),
                "-b",
                f"127.0.0.1:{port}",
                "--timeout",
                "60",
                "app:create_app()",
            ],
        )
        wait_port(port, 30)
        return process

    def start_smtp_sink(self, port: int) -> subprocess.Popen:
        process = self.start("smtp-sink", [SMTP_SINK, "-u", "nobody", f"127.0.0.1:{port}", "1000"])
        wait_port(port)
        return process

    def log(self, name: str) -> str:
        path = self.logs / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def stop(self, name: str, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int | None:
        process = self.processes.pop(name, None)
        if process is None:
            return None
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, sig)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGKILL)
                process.wait(5)
        return process.returncode

    def kill(self, name: str) -> None:
        """SIGKILL the process only (not its session): a crash, as the kernel's OOM killer would do."""
        process = self.processes.pop(name)
        process.send_signal(signal.SIGKILL)
        process.wait(5)


# ---- HTTP (stdlib only) ------------------------------------------------------------------------
class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Client:
    """A browser-ish session (cookies, no redirect following) or an API client (bearer token)."""

    def __init__(self, base: str, token: str | None = None, timeout: float = 30.0):
        self.base = base
        self.token = token
        self.timeout = timeout
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), NoRedirect())

    def request(self, method: str, path: str, data: bytes | None = None, headers: dict | None = None):
        """Return (status, body bytes); never raises for an HTTP status."""
        headers = dict(headers or {})
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(req, timeout=self.timeout) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as error:
            return error.code, error.read()

    def get(self, path: str):
        return self.request("GET", path)

    def json(self, method: str, path: str, payload: dict | None = None) -> tuple[int, dict]:
        body = json.dumps(payload).encode() if payload is not None else b"{}"
        status, raw = self.request(method, path, body, {"Content-Type": "application/json"})
        try:
            return status, json.loads(raw or b"null")
        except ValueError:
            return status, {"raw": raw[:300].decode(errors="replace")}

    def login(self, email: str, password: str = PASSWORD) -> None:
        status, html = self.get("/login")
        match = re.search(rb'name="csrf_token"[^>]*value="([^"]+)"', html) or re.search(
            rb'value="([^"]+)"[^>]*name="csrf_token"', html
        )
        if status != 200 or not match:
            raise RuntimeError(f"login page: {status}, no CSRF token")
        form = urllib.parse.urlencode({"csrf_token": match.group(1).decode(), "email": email, "password": password})
        status, body = self.request(
            "POST", "/login", form.encode(), {"Content-Type": "application/x-www-form-urlencoded"}
        )
        if status not in (302, 303):
            raise RuntimeError(f"login of {email} answered {status}: {body[:300]!r}")


def start_mailing(api: Client, name: str, segment_filter: dict, html: str | None = None) -> tuple[int, int]:
    """Template + segment + mailing through the API, then send-now; returns (mailing id, audience size)."""
    status, template = api.json(
        "POST",
        "/api/v1/templates",
        {
            "name": f"{name} template",
            "subject": f"{name}: le programme",
            "html": html or "<p>Bonjour {{ contact.first_name }},</p><p>Le programme du mois est en ligne.</p>",
            "text": "Bonjour {{ contact.first_name }}, le programme du mois est en ligne.",
        },
    )
    if status != 201:
        raise RuntimeError(f"POST /api/v1/templates: {status} {template}")
    status, segment = api.json("POST", "/api/v1/segments", {"name": f"{name} segment", "filter": segment_filter})
    if status != 201:
        raise RuntimeError(f"POST /api/v1/segments: {status} {segment}")
    status, mailing = api.json(
        "POST",
        "/api/v1/mailings",
        {
            "template_id": template["id"],
            "name": name,
            "from_name": "Relais bench",
            "from_email": "bench@example.org",
            "audience": {"segment_ids": [segment["id"]]},
        },
    )
    if status != 201:
        raise RuntimeError(f"POST /api/v1/mailings: {status} {mailing}")
    status, sent = api.json("POST", f"/api/v1/mailings/{mailing['id']}/send-now")
    if status != 200:
        raise RuntimeError(f"send-now: {status} {sent}")
    return mailing["id"], sent.get("audience_size") or 0


def mailing_stats(api: Client, mailing_id: int) -> dict:
    status, body = api.json("GET", f"/api/v1/mailings/{mailing_id}")
    if status != 200:
        return {"http": status}
    return {"status": body["status"], "reason": body.get("status_reason") or "", **(body.get("stats") or {})}


if __name__ == "__main__":
    sys.exit("bench/stack.py is a helper: run bench/load.py or bench/faults.py")
