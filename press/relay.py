"""Partner relay kits: texts, visuals and links sent to partners and networks as a mailing; each
partner reports through its signed link where, when and at which address it relayed the news."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from email.utils import parseaddr
from urllib.parse import urlsplit

from flask import current_app, url_for
from itsdangerous import BadSignature, Signer
from sqlalchemy import select

from accounts.models import User
from accounts.scoping import get_readable, readable, require_write
from campaign.models import Campaign
from campaign.services import zone
from contacts.models import Contact
from dbtypes import utcnow
from errors import NotFound, ValidationFailed
from extensions import db
from i18n import _
from input_rules import refuse_nul
from mailings import services
from mailings.models import Mailing
from mailings.tokens import signer
from press.conferences import literal, text_literal
from press.models import PressKitFile, RelayKit, RelayReport

RELAY_SALT = "relais-relay"
PARTNER_KINDS = ("partner", "network")


def relay_token(contact_id: int, kit_id: int, sign: Signer | None = None) -> str:
    return (sign or signer(RELAY_SALT)).sign(f"{contact_id}.{kit_id}").decode("ascii")


def read_relay_token(token: str) -> tuple[int, int] | None:
    try:
        contact_id, kit_id = signer(RELAY_SALT).unsign(token.encode("ascii")).decode("ascii").split(".")
        return int(contact_id), int(kit_id)
    except (BadSignature, ValueError, UnicodeError):
        return None


def relay_url(contact_id: int, kit_id: int, sign: Signer | None = None) -> str:
    return f"{current_app.config['PUBLIC_BASE_URL'].rstrip('/')}/relay/{relay_token(contact_id, kit_id, sign)}"


def kit_for_mailing(mailing) -> RelayKit | None:
    if not getattr(mailing, "id", None):
        return None
    return db.session.scalar(select(RelayKit).where(RelayKit.mailing_id == mailing.id))


# ---- kits -------------------------------------------------------------------------------------


def get_kit(user: User, kit_id: int) -> RelayKit:
    return get_readable(user, RelayKit, kit_id, _("Ce kit de relais n'existe pas."))


def kits(user: User, campaign: Campaign) -> list[RelayKit]:
    query = select(RelayKit).where(RelayKit.campaign_id == campaign.id)
    return list(db.session.scalars(readable(query, user, RelayKit.region_id).order_by(RelayKit.id.desc())))


def clean_links(raw: str, problems: dict) -> str:
    links = [line.strip() for line in (raw or "").splitlines() if line.strip()]
    for link in links:
        parts = urlsplit(link)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            problems["links"] = _("pas une adresse web : %(link)s", link=link[:80])
    return "\n".join(links)


def save_kit(user: User, kit: RelayKit | None, data: dict, campaign: Campaign | None = None) -> RelayKit:
    refuse_nul(data)
    if kit is None:
        region_id = user.region_id if user.role == "regional" else None
        require_write(user, region_id)
        kit = RelayKit(campaign=campaign, region_id=region_id)
    else:
        require_write(user, kit.region_id)
    problems: dict[str, str] = {}
    if "title" in data:
        kit.title = " ".join((data["title"] or "").split())[:250]
    if "texts" in data:
        kit.texts = (data["texts"] or "").strip()
    if "links" in data:
        kit.links = clean_links(data["links"], problems)
    if not kit.title:
        problems["title"] = _("obligatoire")
    if problems:
        raise ValidationFailed(_("Kit de relais invalide : vérifiez les champs signalés."), problems)
    db.session.add(kit)
    db.session.flush()
    return kit


def kit_template(kit: RelayKit) -> dict:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    texts = "".join(f"<blockquote>{literal(p)}</blockquote>" for p in kit.texts.split("\n\n") if p.strip())
    links = "".join(f'<li><a href="{literal(u)}">{literal(u)}</a></li>' for u in kit.links.splitlines() if u)
    files = db.session.scalars(select(PressKitFile).where(PressKitFile.relay_kit_id == kit.id)).all()
    visuals = "".join(
        f'<li><a href="{base}{url_for("newsroom.download", file_id=f.id, filename=f.filename)}">'
        f"{literal(f.title or f.filename)}</a></li>"
        for f in files
    )
    return {
        "name": "Kit de relais — " + kit.title[:150],
        "subject": "Kit de relais : " + text_literal(kit.title),
        "html": (
            "<p>Bonjour {{ contact.first_name }},</p>"
            f"<p>Voici de quoi relayer {{{{ campaign.name }}}} auprès de vos réseaux : {literal(kit.title)}.</p>"
            + (f"<h2>Textes à reprendre</h2>{texts}" if texts else "")
            + (f"<h2>Visuels</h2><ul>{visuals}</ul>" if visuals else "")
            + (f"<h2>Liens</h2><ul>{links}</ul>" if links else "")
        ),
        "text": "",
    }


def partner_ids(kit: RelayKit) -> list[int]:
    query = select(Contact.id).where(
        Contact.kind.in_(PARTNER_KINDS), Contact.opted_out.is_(False), Contact.bounced.is_(False)
    )
    if kit.region_id is not None:
        query = query.where(Contact.region_id == kit.region_id)
    return list(db.session.scalars(query.order_by(Contact.id)))


def send_kit(user: User, kit: RelayKit, data: dict, now: datetime | None = None) -> Mailing:
    """Send the kit to the partners and networks (of its region): now, or submitted for approval."""

    require_write(user, kit.region_id)
    refuse_nul(data)
    ids = [int(i) for i in data.get("contact_ids") or []] or partner_ids(kit)
    if not ids:
        raise ValidationFailed(_("Aucun partenaire ni réseau à qui écrire."), {"audience": _("vide")})
    template = services.save_template(user, None, kit_template(kit))
    sender_name, sender_email = parseaddr(current_app.config.get("MAIL_DEFAULT_SENDER") or "")
    mailing = services.save_mailing(
        user,
        None,
        {
            "name": template.name,
            "from_name": data.get("from_name") or (kit.region.chamber if kit.region else "") or sender_name or "Relais",
            "from_email": data.get("from_email") or sender_email,
            "template_id": template.id,
            "audience": {"contact_ids": ids},
        },
        campaign=kit.campaign,
    )
    kit.mailing = mailing
    db.session.flush()
    services.transition(user, mailing, "submit" if services.needs_approval(mailing) else "send_now", now=now)
    return mailing


def relay_footer(kit_id: int | None, contact_id: int | None, sign: Signer | None = None, test_link: str | None = None):
    """The per-partner paragraph the composer appends to a kit's message: (html, text) or None."""
    if not kit_id or not (contact_id or test_link):
        return None
    url = test_link or relay_url(contact_id, kit_id, sign)
    html = f'<p>Vous avez relayé ? Dites-nous où, quand et avec quel lien : <a href="{url}">{url}</a></p>'
    return html, f"Vous avez relayé ? Dites-nous où, quand et avec quel lien : {url}"


# ---- reports ----------------------------------------------------------------------------------


@dataclass
class RelayLink:
    contact: Contact
    kit: RelayKit


def read_link(token: str) -> RelayLink | None:
    found = read_relay_token(token)
    if found is None:
        return None
    contact, kit = db.session.get(Contact, found[0]), db.session.get(RelayKit, found[1])
    return RelayLink(contact, kit) if contact and kit else None


def parse_day(value, campaign: Campaign) -> datetime | None:
    if isinstance(value, datetime):
        return value if value.tzinfo else value.replace(tzinfo=zone(campaign.timezone)).astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time(12), zone(campaign.timezone)).astimezone(UTC)
    try:
        return parse_day(date.fromisoformat(str(value or "").strip()), campaign)
    except ValueError:
        return None


def report(token: str, data: dict, now: datetime | None = None) -> RelayReport:
    """Record one relay (where, when, link); a bad link raises NotFound, bad fields name themselves."""
    link = read_link(token)
    if link is None:
        raise NotFound(_("Ce lien n'est pas valide."))
    now = now or utcnow()
    refuse_nul({k: v for k, v in data.items() if k in ("channel", "url")})
    problems: dict[str, str] = {}
    channel = " ".join((data.get("channel") or "").split())
    if not channel:
        problems["channel"] = _("obligatoire")
    elif len(channel) > 200:
        problems["channel"] = _("%(n)s caractères au plus", n=200)
    when = parse_day(data.get("relayed_on"), link.kit.campaign)
    if when is None:
        problems["relayed_on"] = _("une date (AAAA-MM-JJ)")
    elif when.date() > now.date().replace(year=now.year + 1):
        problems["relayed_on"] = _("trop loin dans le futur")
    url = (data.get("url") or "").strip()
    if url:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc or len(url) > 1000:
            problems["url"] = _("une adresse web (http ou https)")
    if problems:
        raise ValidationFailed(_("Compte rendu invalide : vérifiez les champs signalés."), problems)
    entry = RelayReport(kit_id=link.kit.id, contact_id=link.contact.id, channel=channel, relayed_on=when, url=url)
    db.session.add(entry)
    db.session.flush()
    return entry


def reports(kit: RelayKit) -> list[RelayReport]:
    return list(
        db.session.scalars(
            select(RelayReport).where(RelayReport.kit_id == kit.id).order_by(RelayReport.relayed_on.desc())
        )
    )
