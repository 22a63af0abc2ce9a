"""Region scoping, in one place: who reads and who writes which region's data.

Regional coordinators read national data (region None) and their own region's, and write only
their own region's. Viewers read everything and write nothing. National leads and admins write
everything.
"""

from collections.abc import Callable

from sqlalchemy import or_

from accounts.models import User
from dbtypes import MAX_ID
from errors import NotFound, PermissionDenied
from extensions import db
from i18n import _

WRITERS = ("admin", "national", "regional")


def can_read(user: User, region_id: int | None) -> bool:
    if user.role != "regional":
        return True
    return region_id is None or region_id == user.region_id


def can_write(user: User, region_id: int | None) -> bool:
    if user.role in ("admin", "national"):
        return True
    return user.role == "regional" and region_id is not None and region_id == user.region_id


def require_read(user: User, region_id: int | None) -> None:
    if not can_read(user, region_id):
        raise PermissionDenied(_("Ceci appartient à une autre région."))


def require_write(user: User, region_id: int | None) -> None:
    if user.role not in WRITERS:
        raise PermissionDenied(_("Compte en lecture seule."))
    if not can_write(user, region_id):
        raise PermissionDenied(_("Vous ne pouvez modifier que les données de votre région."))


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise PermissionDenied(_("Votre rôle ne le permet pas."))


def get_readable(user: User | None, model, row_id, missing: str, accept: Callable[[object], bool] | None = None):
    """The `model` row `row_id`, if it exists (and `accept`s it) and `user` may read its region.

    NotFound(`missing`) otherwise, or PermissionDenied; without a user (the CLI) only existence counts.
    """
    row = None if isinstance(row_id, int) and row_id > MAX_ID else db.session.get(model, row_id)
    if row is None or (accept is not None and not accept(row)):
        raise NotFound(missing)
    if user is not None:
        require_read(user, row.region_id)
    return row


def readable(query, user: User, region_column):
    """Narrow a select() to the rows this user may read."""
    if user.role != "regional":
        return query
    return query.where(or_(region_column.is_(None), region_column == user.region_id))


def writable_region_ids(user: User, all_ids: list[int]) -> list[int]:
    if user.role in ("admin", "national"):
        return all_ids
    if user.role == "regional" and user.region_id is not None:
        return [user.region_id]
    return []


# The objects named in URLs (`<int:milestone_id>`...) and how to find their region: filled by the
# app factory, so that one guard applies the rules above to every page and API call that names one.
ScopeResolver = Callable[[object], tuple[bool, int | None]]
URL_OBJECTS: dict[str, ScopeResolver] = {}
WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})


def scope_url_object(argument: str, model=None, resolve: ScopeResolver | None = None) -> None:
    """Declare that `<argument>` in a URL names a `model` row (its `region_id` decides who may act)."""

    def by_region_id(value) -> tuple[bool, int | None]:
        row = db.session.get(model, value)
        return (row is not None, row.region_id if row is not None else None)

    URL_OBJECTS[argument] = resolve or by_region_id


def guard_request(user: User, method: str, view_args: dict | None, self_service: bool = False) -> None:
    """Viewers write nothing; an object of another region is out of reach, read or write.

    A write changes the first object its URL names (`/conferences/<id>/checkin/<contact_id>`
    changes the conference): that one must be writable, the others readable. A write naming an
    object that does not exist is a 404 before any input is read; a read leaves that to the view.
    """
    write = method in WRITE_METHODS
    if write and user.role == "viewer" and not self_service:
        raise PermissionDenied(_("Compte en lecture seule."))
    changed = write
    for argument, value in (view_args or {}).items():
        resolve = URL_OBJECTS.get(argument)
        if resolve is None:
            continue
        found, region_id = resolve(value)
        if not found:
            if write:
                raise NotFound(_("Introuvable."))
            continue  # the view answers 404
        (require_write if changed else require_read)(user, region_id)
        changed = False
