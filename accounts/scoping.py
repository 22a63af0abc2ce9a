"""Region scoping, in one place: who reads and who writes which region's data.

Regional coordinators read national data (region None) and their own region's, and write only
their own region's. Viewers read everything and write nothing. National leads and admins write
everything.
"""

from sqlalchemy import or_

from accounts.models import User
from errors import PermissionDenied

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
        raise PermissionDenied("this belongs to another region")


def require_write(user: User, region_id: int | None) -> None:
    if user.role not in WRITERS:
        raise PermissionDenied("read-only account")
    if not can_write(user, region_id):
        raise PermissionDenied("you can only change your own region's data")


def require_role(user: User, *roles: str) -> None:
    if user.role not in roles:
        raise PermissionDenied("your role does not allow this")


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
