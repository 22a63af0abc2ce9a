"""The audit log: every change to an audited model is recorded at flush, with who made it.

Models opt in with `__audit__ = (column names...)`. The actor comes from `flask.g` (the
signed-in user or the API token's user); a request without an account (a signed link: unsubscribe,
RSVP) is `public`, and only the command line is `cli`.
"""

from datetime import date, datetime

from flask import g, has_app_context, has_request_context
from sqlalchemy import event, insert, inspect
from sqlalchemy.orm import Session

from accounts.models import AuditEntry
from dbtypes import utcnow
from extensions import db


def current_actor() -> tuple[int | None, str]:
    if has_app_context() and getattr(g, "actor_email", None):
        return g.actor_id, g.actor_email
    return None, "public" if has_request_context() else "cli"


def record(action: str, entity: str, entity_id: str, changes: dict, actor=None, at=None) -> None:
    """One audit entry written by hand, for a change that is more than its rows' own (a move of
    several milestones, a new edition, an import, an erasure), by `actor` (a User) or else the
    request's actor, at `at` (else now)."""
    user_id, label = (actor.id, actor.email) if actor is not None else current_actor()
    db.session.execute(
        insert(AuditEntry).values(
            at=at or utcnow(),
            user_id=user_id,
            actor=label,
            action=action,
            entity=entity,
            entity_id=entity_id,
            changes=changes,
        )
    )


def plain(value):
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, list | tuple | set):
        return [plain(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool | dict):
        return value
    return str(value)


def changes_of(obj, columns) -> dict:
    state = inspect(obj)
    changed = {}
    for name in columns:
        history = state.attrs[name].history
        if history.has_changes():
            before = history.deleted[0] if history.deleted else None
            after = history.added[0] if history.added else None
            changed[name] = [plain(before), plain(after)]
    return changed


def snapshot(obj, columns) -> dict:
    return {name: plain(getattr(obj, name)) for name in columns}


@event.listens_for(Session, "after_flush")
def record_changes(session: Session, flush_context) -> None:
    user_id, actor = current_actor()
    rows = []
    for action, objects in (
        ("create", session.new),
        ("update", session.dirty),
        ("delete", session.deleted),
    ):
        for obj in objects:
            columns = getattr(obj, "__audit__", None)
            if not columns:
                continue
            if action == "update":
                data = changes_of(obj, columns)
                if not data:
                    continue
            else:
                data = snapshot(obj, columns)
            rows.append(
                {
                    "at": utcnow(),
                    "user_id": user_id,
                    "actor": actor,
                    "action": action,
                    "entity": obj.__tablename__,
                    "entity_id": ",".join(str(v) for v in inspect(obj).mapper.primary_key_from_instance(obj)),
                    "changes": data,
                }
            )
    if rows:
        session.connection().execute(insert(AuditEntry), rows)
