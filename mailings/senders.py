"""Who a mailing may send as: the sender identities configured for the federation and each region.

`RELAIS_MAIL_SENDERS` (JSON) maps `"national"` and region codes to addresses or `@domain` entries,
e.g. `{"national": ["presse@cncres.example"], "93": ["@cress-paca.example"]}`. Unset, the federation's
identity is the domain of `RELAIS_MAIL_DEFAULT_SENDER`. A national mailing sends as a national
identity; a regional one as its region's or the federation's, never as another region.

Within that bound, the identities people configure (mailings.identities, page /mailings/senders) are
what the forms offer; once a region or the national team has some, they are the only addresses its
mailings may use.
"""

from email.utils import parseaddr

from flask import current_app

from accounts.models import Region
from extensions import db
from mailings.identities import identities_for


def configured() -> dict[str, list[str]]:
    senders = current_app.config.get("MAIL_SENDERS")
    if senders:
        return {
            str(k): [str(v).strip().lower() for v in (vs if isinstance(vs, list) else [vs])]
            for k, vs in senders.items()
        }
    domain = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")[1].rpartition("@")[2].lower()
    return {"national": [f"@{domain}"]} if domain else {}


def identities(region_id: int | None) -> list[str]:
    """The addresses and `@domain` entries a mailing of this region (None: national) may send as."""
    senders = configured()
    allowed = list(senders.get("national", []))
    if region_id is not None:
        region = db.session.get(Region, region_id)
        allowed += senders.get(region.code, []) if region else []
    return allowed


def allowed_by_config(region_id: int | None, address: str) -> bool:
    address = address.strip().lower()
    domain = "@" + address.rpartition("@")[2]
    return any(entry in (address, domain) for entry in identities(region_id))


def may_send_as(region_id: int | None, address: str) -> bool:
    """Within the configured bound, and one of the identities offered when there are any."""
    if not allowed_by_config(region_id, address):
        return False
    offered = identities_for(region_id)
    return not offered or address.strip().lower() in {i.email for i in offered}
