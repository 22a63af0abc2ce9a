"""The mailing status machine, in one place: which action moves which status where, and what may be edited.

draft ─submit→ submitted ─approve→ approved ─schedule→ scheduled ─(due)→ sending ─→ sent
  └──────────── schedule / send-now (when no approval is needed) ──────────┘
sending ⇄ paused (pause / resume);  scheduled → missed (too late: a person decides);
anything not finished → cancelled;  sent/paused → sending (retry failed, resend unknown);
approved/scheduled/paused/missed → submitted when the approved template changes (reopen).
Approval flows: a submission may carry its send time; approving a mailing that has one makes it
`scheduled` (the scheduler starts it at its time, nobody comes back for it), or starts it at once
when that time has passed; without one it stays `approved` for the region to schedule. Sending
back (reject) needs a comment. A follow-up that an approval covers goes without a second one.
"""

from flask_babel import lazy_gettext as _l

from errors import Conflict
from i18n import _

STATUSES = ("draft", "submitted", "approved", "scheduled", "sending", "paused", "sent", "cancelled", "missed")

# action: (statuses it may start from, status it leads to; None = decided by the service)
TRANSITIONS: dict[str, tuple[frozenset[str], str | None]] = {
    "submit": (frozenset({"draft"}), "submitted"),
    "approve": (frozenset({"submitted"}), "approved"),  # or scheduled / sending when it has a send time
    "reject": (frozenset({"submitted"}), "draft"),  # sent back to the region, with a comment
    "schedule": (frozenset({"draft", "approved", "scheduled", "missed"}), "scheduled"),
    "send_now": (frozenset({"draft", "approved", "scheduled", "missed"}), "sending"),
    "start": (frozenset({"scheduled"}), "sending"),  # the scheduler, when it is due
    "miss": (frozenset({"scheduled"}), "missed"),  # the scheduler, when it is too late
    "pause": (frozenset({"scheduled", "sending"}), "paused"),
    "resume": (frozenset({"paused"}), None),  # back to sending, or scheduled if it never started
    "reopen": (frozenset({"approved", "scheduled", "paused", "missed"}), "submitted"),  # its template changed
    "cancel": (frozenset({"draft", "submitted", "approved", "scheduled", "sending", "paused", "missed"}), "cancelled"),
    "finish": (frozenset({"sending"}), "sent"),  # the engine, when no delivery is left
    "retry_failed": (frozenset({"sent", "paused", "sending"}), "sending"),
    "resend_unknown": (frozenset({"sent", "paused", "sending"}), "sending"),
}
EDITABLE = frozenset({"draft"})
# actions that need national approval first when a regional mailing requires it
NEED_APPROVAL = frozenset({"schedule", "send_now"})
ACTIVE = frozenset({"scheduled", "sending"})
FINISHED = frozenset({"sent", "cancelled"})

LABELS = {
    "draft": _l("Brouillon"),
    "submitted": _l("En attente de validation"),
    "approved": _l("Validé"),
    "scheduled": _l("Programmé"),
    "sending": _l("Envoi en cours"),
    "paused": _l("En pause"),
    "sent": _l("Envoyé"),
    "cancelled": _l("Annulé"),
    "missed": _l("Manqué"),
}

DELIVERY_LABELS = {
    "pending": _l("en attente"),
    "sending": _l("en cours"),
    "retry": _l("à réessayer"),
    "sent": _l("envoyé"),
    "failed": _l("échoué"),
    "bounced": _l("rejeté"),
    "skipped": _l("écarté"),
    "unknown": _l("incertain"),
}


def sources(action: str) -> frozenset[str]:
    return TRANSITIONS[action][0]


def can(action: str, status: str) -> bool:
    return status in TRANSITIONS[action][0]


def require(action: str, status: str) -> str | None:
    """The next status for `action`, or Conflict when the current status does not allow it."""
    allowed, target = TRANSITIONS[action]
    if status not in allowed:
        label = str(LABELS.get(status, status))
        raise Conflict(_("Impossible pour un envoi dans l'état « %(status)s ».", status=label), {"status": label})
    return target


def can_edit(status: str) -> bool:
    return status in EDITABLE
