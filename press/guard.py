"""One guard for every press write, before any input is read: viewers never write, and a region's
objects are written only by those who may write that region (so a refusal is a 403, not a 422)."""

from flask import g, request
from flask_login import current_user

from accounts.scoping import require_write
from campaign.models import Milestone
from errors import NotFound, PermissionDenied
from extensions import db
from mailings.models import Mailing
from press.models import PressKitFile, PressRelease, RelayKit

WRITES = ("POST", "PATCH", "PUT", "DELETE")


def owners():
    return {
        "milestone_id": Milestone,
        "mailing_id": Mailing,
        "release_id": PressRelease,
        "kit_id": RelayKit,
        "file_id": PressKitFile,
    }


def guard_writes() -> None:
    if request.method not in WRITES:
        return
    user = getattr(g, "api_user", None) or current_user
    if user is None or not user.is_authenticated:
        return  # the login or token check answers
    if user.role == "viewer":
        raise PermissionDenied("read-only account")
    for name, model in owners().items():
        if name in (request.view_args or {}):
            found = db.session.get(model, request.view_args[name])
            if found is None:
                raise NotFound("not found")
            require_write(user, found.region_id)
