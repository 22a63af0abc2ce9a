"""Operations endpoints: /healthz (the process answers) and /readyz (it can serve)."""

from datetime import timedelta

from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from flask import Blueprint, current_app, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from dbtypes import utcnow
from extensions import db
from mailings.models import SchedulerHeartbeat

bp = Blueprint("ops", __name__)


@bp.route("/healthz")
def healthz():
    return jsonify(status="ok")


def migrations_current() -> bool:
    migrate = current_app.extensions["migrate"]
    script = ScriptDirectory.from_config(migrate.migrate.get_config(migrate.directory))
    with db.engine.connect() as conn:
        return set(MigrationContext.configure(conn).get_current_heads()) == set(script.get_heads())


def scheduler_state(now) -> str:
    """ok when the active scheduler ticked within three dispatch intervals (and a minute of slack)."""

    heartbeat = db.session.get(SchedulerHeartbeat, 1)
    if heartbeat is None:
        return "never seen"
    fresh = timedelta(seconds=3 * float(current_app.config["MAIL_DISPATCH_INTERVAL"]) + 60)
    return "ok" if now - heartbeat.beat_at <= fresh else f"stale since {heartbeat.beat_at:%Y-%m-%d %H:%M:%S} UTC"


@bp.route("/readyz")
def readyz():
    """Database reachable, migrations current, scheduler heartbeat fresh."""
    checks = {}
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
        checks["migrations"] = "ok" if migrations_current() else "pending"
        checks["scheduler"] = scheduler_state(utcnow())
    except SQLAlchemyError as error:
        checks["database"] = f"error: {type(error).__name__}"
    ready = all(value == "ok" for value in checks.values())
    return jsonify(status="ok" if ready else "unavailable", checks=checks), 200 if ready else 503
