"""`flask scheduler run` (the timer, one active at a time) and `flask mailings worker [--once]`."""

import signal
import threading

import click
from flask import current_app
from flask.cli import AppGroup

from dbtypes import utcnow
from mailings.approval import announce_pending
from mailings.engine.worker import Worker, worker_process
from mailings.scheduler import dispatch_due, run_scheduler

scheduler_cli = AppGroup("scheduler", help="The scheduler: due mailings, embargoes, reminders.")
mailings_cli = AppGroup("mailings", help="Delivery workers.")


def stop_on_signals() -> threading.Event:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    return stop


@scheduler_cli.command("run")
@click.option("--interval", type=float, default=None, help="Seconds between two dispatches.")
def scheduler_run(interval: float | None) -> None:
    """Run the scheduler in the foreground (a second one waits as a standby)."""

    stop = stop_on_signals()
    run_scheduler(
        current_app._get_current_object(),
        stop,
        interval=interval,
        on_active=lambda: click.echo("scheduler: active", err=True),
    )


@scheduler_cli.command("tick")
def scheduler_tick() -> None:
    """Dispatch what is due once, send the approval emails waiting, and say what was done."""

    click.echo(dispatch_due(utcnow()))
    click.echo(f"approval notices sent: {announce_pending(utcnow())}")


@mailings_cli.command("worker")
@click.option("--once", is_flag=True, help="Exit when nothing is left to send.")
@click.option("--connections", type=int, default=None, help="Parallel SMTP connections (RELAIS_MAIL_CONNECTIONS).")
def worker(once: bool, connections: int | None) -> None:
    """A delivery worker in the foreground; run as many as you like, on any machine."""

    runner = Worker(current_app._get_current_object(), connections=connections, once=once)
    runner.stop = stop_on_signals()
    worker_process()
    runner.run()
