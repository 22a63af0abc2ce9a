"""Press releases under embargo, the public newsroom, its feeds and the press kit files.

A release is public when a person marked it ready and its embargo has passed; a regional release
tied to the national one also waits for the national embargo, read at the time of the check (so
moving the national embargo moves every check). Mailings that carry a release obey the same rule.
"""

from dataclasses import dataclass
from datetime import datetime
from email.utils import format_datetime as rfc822
from xml.sax.saxutils import escape as xml_escape

from flask import current_app
from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import aliased
from werkzeug.datastructures import FileStorage
from werkzeug.utils import secure_filename

from accounts.models import Region, User
from accounts.scoping import get_readable, readable, require_write
from campaign.models import Campaign
from campaign.services import zone
from contacts.models import Contact
from dbtypes import utcnow
from errors import NotFound, ValidationFailed
from extensions import db
from formatting import date_time, french_date
from i18n import _
from input_rules import refuse_nul
from mailings import services
from mailings.audience import mailing_audience
from mailings.models import Mailing
from mailings.sanitize import images_without_alt
from press.conferences import literal, text_literal
from press.models import FILE_KINDS, PressKitFile, PressRelease
from press.release_body import body_html, stored

DEFAULT_MAX_FILE = 10 * 1024 * 1024
SIGNATURES = {  # what a file must start with, by content type: the name and the browser's word are not trusted
    "image/png": (b"\x89PNG\r\n\x1a\n",),
    "image/jpeg": (b"\xff\xd8\xff",),
    "image/webp": (b"RIFF",),
    "application/pdf": (b"%PDF-",),
}
EXTENSIONS = {"image/png": "png", "image/jpeg": "jpg", "image/webp": "webp", "application/pdf": "pdf"}


# ---- embargo ----------------------------------------------------------------------------------


def effective_embargo(release: PressRelease) -> datetime | None:
    """Its own embargo, or the national one it follows when that is later."""
    times = [release.embargo_until]
    if release.follows_national is not None:
        times.append(release.follows_national.embargo_until)
    times = [t for t in times if t is not None]
    return max(times) if times else None


def is_public(release: PressRelease, now: datetime) -> bool:
    embargo = effective_embargo(release)
    return bool(release.ready) and (embargo is None or embargo <= now)


def release_of(mailing) -> PressRelease | None:
    if not getattr(mailing, "id", None):
        return None
    return db.session.scalar(select(PressRelease).where(PressRelease.mailing_id == mailing.id))


def embargo_of(mailing) -> datetime | None:
    release = release_of(mailing)
    times = [getattr(mailing, "embargo_until", None), effective_embargo(release) if release else None]
    times = [t for t in times if t is not None]
    return max(times) if times else None


def non_media_count(mailing: Mailing) -> int:
    ids = mailing_audience(mailing)
    if ids is None:
        return 0
    return db.session.scalar(
        select(db.func.count()).select_from(Contact).where(Contact.id.in_(ids), Contact.kind != "media")
    )


def send_problem(mailing: Mailing, send_at: datetime) -> str | None:
    """Why the mailing may not go out at `send_at`, or None."""
    release = release_of(mailing)
    national = release.follows_national if release else None
    if national is not None and national.embargo_until and send_at < national.embargo_until:
        when = date_time(national.embargo_until)
        return _("lié à l'embargo national : pas avant le %(when)s (heure de Paris)", when=when)
    embargo = embargo_of(mailing)
    if embargo and send_at < embargo and non_media_count(mailing):
        return _(
            "sous embargo jusqu'au %(when)s (heure de Paris) : avant, seuls les médias (tenus par l'embargo) "
            "peuvent le recevoir",
            when=date_time(embargo),
        )
    return None


def check_send_time(mailing: Mailing, send_at: datetime) -> None:
    """Hook of `services.transition` (schedule, send-now): refuse a time the embargo forbids."""
    problem = send_problem(mailing, send_at)
    if problem:
        raise ValidationFailed(problem, {"send_at": problem})


def hold_reason(mailing: Mailing, now: datetime) -> str | None:
    """Hook of the scheduler: a due mailing whose embargo moved is held (paused) instead of sent."""
    return send_problem(mailing, now)


def embargo_line(embargo: datetime | None, tz) -> str:
    """The release's first line, as French practice prints it."""
    if embargo is None:
        return "Pour diffusion immédiate"
    local = embargo.astimezone(tz)
    hour = f"{local.hour}H" + (f"{local.minute:02d}" if local.minute else "")
    day = french_date(local, "d MMMM y", "fr").upper()
    return f"INFORMATIONS SOUS EMBARGO JUSQU'AU {day} À {hour}"


def sync_mailing_embargo(release: PressRelease) -> None:
    """Mailings not sent yet print the embargo in force; a national move reaches the tied regional ones."""
    tied = [release] + list(
        db.session.scalars(select(PressRelease).where(PressRelease.follows_national_id == release.id))
    )
    for item in tied:
        if item.mailing_id:
            db.session.execute(
                update(Mailing)
                .where(Mailing.id == item.mailing_id, Mailing.frozen_at.is_(None))
                .values(embargo_until=effective_embargo(item))
            )


def publish_due(now: datetime) -> int:
    """Hook of the scheduler: stamp `published_at` on the ready releases whose embargo has passed."""
    national = aliased(PressRelease)
    due = db.session.scalars(
        select(PressRelease)
        .outerjoin(national, national.id == PressRelease.follows_national_id)
        .where(PressRelease.ready.is_(True), PressRelease.published_at.is_(None), *public_conditions(now, national))
    ).all()
    for release in due:
        release.published_at = effective_embargo(release) or now
    db.session.flush()
    return len(due)


def public_conditions(now: datetime, national):
    return (
        or_(PressRelease.embargo_until.is_(None), PressRelease.embargo_until <= now),
        or_(national.id.is_(None), national.embargo_until.is_(None), national.embargo_until <= now),
    )


# ---- releases ---------------------------------------------------------------------------------


def get_release(user: User, release_id: int) -> PressRelease:
    return get_readable(user, PressRelease, release_id, _("Ce communiqué n'existe pas."))


def releases(user: User, campaign: Campaign) -> list[PressRelease]:
    query = select(PressRelease).where(PressRelease.campaign_id == campaign.id)
    return list(db.session.scalars(readable(query, user, PressRelease.region_id).order_by(PressRelease.id.desc())))


def save_release(user: User, release: PressRelease | None, data: dict, campaign: Campaign | None = None):
    """Create or edit a release; returns it and the mailings the (moved) embargo now holds back."""

    refuse_nul(data)
    if release is None:
        region_id = user.region_id if user.role == "regional" else data.get("region_id")
        require_write(user, region_id)
        release = PressRelease(campaign=campaign, region_id=region_id, ready=False)
    else:
        require_write(user, release.region_id)
    problems: dict[str, str] = {}
    for field, size in (("title", 250), ("city", 120)):
        if field in data:
            setattr(release, field, " ".join((data[field] or "").split()))
            if len(getattr(release, field)) > size:
                problems[field] = f"at most {size} characters"
    for field in ("lead", "body", "press_contact"):
        if field in data:
            setattr(release, field, (data[field] or "").strip())
    if "body" in data:
        release.body = stored(release.body)  # what the editor (or a paste) sent, to the allow-list
        if missing := images_without_alt(release.body):
            problems["body"] = _(
                "%(num)s image(s) sans texte de remplacement : décrivez chaque image pour qui ne la voit pas.",
                num=missing,
            )
    if "embargo_until" in data:
        release.embargo_until = data["embargo_until"]
    if "ready" in data:
        release.ready = bool(data["ready"])
    if "follows_national_id" in data:
        national = db.session.get(PressRelease, data["follows_national_id"]) if data["follows_national_id"] else None
        if data["follows_national_id"] and (
            national is None or national.region_id is not None or national.campaign_id != release.campaign.id
        ):
            problems["follows_national_id"] = _("pas un communiqué national de cette campagne")
        elif national is not None and release.region_id is None:
            problems["follows_national_id"] = _("seul un communiqué régional suit le national")
        else:
            release.follows_national = national
    if not (release.title or "").strip():
        problems["title"] = _("obligatoire")
    if problems:
        raise ValidationFailed(_("Communiqué invalide : vérifiez les champs signalés."), problems)
    if release.ready and release.published_at is None and is_public(release, utcnow()):
        release.published_at = utcnow()
    db.session.add(release)
    db.session.flush()
    sync_mailing_embargo(release)
    refresh_release_mail(release)
    return release, held_back(release)


def held_back(release: PressRelease) -> list[Mailing]:
    """Scheduled mailings of this release (and those tied to it) that their embargo would now hold."""
    tied = [release] + list(
        db.session.scalars(select(PressRelease).where(PressRelease.follows_national_id == release.id))
    )
    found = []
    for item in tied:
        mailing = item.mailing
        scheduled = mailing is not None and mailing.status == "scheduled" and mailing.scheduled_at
        if scheduled and send_problem(mailing, mailing.scheduled_at):
            found.append(mailing)
    return found


def release_template(release: PressRelease) -> dict:
    paragraphs = str(body_html(release.body)).replace("{", '{{ "{" }}')  # user text opens no Jinja
    place = literal(release.city) + (" — " if release.city else "")
    return {
        "name": "Communiqué — " + release.title[:150],
        "subject": "Communiqué de presse : " + text_literal(release.title),
        "html": (
            "<p><strong>Communiqué de presse</strong></p>"
            f"<h1>{literal(release.title)}</h1>"
            f"<p><strong>{place}{literal(release.lead)}</strong></p>{paragraphs}"
            + (f"<p>Contact presse : {literal(release.press_contact)}</p>" if release.press_contact else "")
        ),
        "text": "",
    }


def refresh_release_mail(release: PressRelease) -> None:
    """The release's mailing, until it starts, says what the release says now: a correction made
    after it was scheduled reaches the journalists, not only the newsroom."""
    if release.mailing is not None and release.mailing.frozen_at is None:
        rewrite(release.mailing, release)


def refresh_at_start(mailing: Mailing, now: datetime) -> None:
    """The `on_start` hook: a release's email is composed from the release as it is when it leaves."""
    release = release_of(mailing)
    if release is not None:
        rewrite(mailing, release)


def rewrite(mailing: Mailing, release: PressRelease) -> None:
    written = release_template(release)
    mailing.template.subject, mailing.template.html = written["subject"], written["html"]


def mail_release(user: User, release: PressRelease, data: dict) -> Mailing:
    """A draft mailing carrying the release to an audience, printing and obeying its embargo."""

    require_write(user, release.region_id)
    template = services.save_template(user, None, release_template(release))
    mailing = services.save_mailing(
        user,
        None,
        {
            "name": template.name,
            "from_name": data.get("from_name") or "",
            "from_email": data.get("from_email") or "",
            "reply_to": data.get("reply_to") or "",
            "template_id": template.id,
            "milestone_id": release.milestone_id,
            "embargo_until": effective_embargo(release),
            "audience": data.get("audience") or {},
        },
        campaign=release.campaign,
    )
    release.mailing = mailing
    db.session.flush()
    return mailing


# ---- the public newsroom ----------------------------------------------------------------------


def public_releases(campaign: Campaign, region: Region | None, now: datetime, limit: int = 50):
    national = aliased(PressRelease)
    query = (
        select(PressRelease)
        .outerjoin(national, national.id == PressRelease.follows_national_id)
        .where(PressRelease.campaign_id == campaign.id, PressRelease.ready.is_(True), *public_conditions(now, national))
    )
    if region is not None:
        query = query.where(or_(PressRelease.region_id == region.id, PressRelease.region_id.is_(None)))
    query = query.order_by(PressRelease.published_at.desc().nulls_last(), PressRelease.id.desc()).limit(limit)
    return list(db.session.scalars(query))


def public_release(release_id: int, now: datetime) -> PressRelease:
    release = db.session.get(PressRelease, release_id)
    if release is None or not is_public(release, now):
        raise NotFound(_("Ce communiqué n'existe pas."))  # an embargoed release does not exist for the public
    return release


def published_on(release: PressRelease) -> datetime:
    return release.published_at or effective_embargo(release) or release.updated_at or release.created_at


@dataclass
class FeedEntry:
    title: str
    url: str
    summary: str
    published: datetime
    author: str  # who publishes it: the region's chamber, or the campaign for a national release


def atom_author(name: str) -> str:
    return f"<author><name>{xml_escape(name)}</name></author>"


def atom(title: str, self_url: str, home_url: str, entries: list[FeedEntry], now: datetime, author: str) -> str:
    """Atom 1.0 (RFC 4287): an author on the feed and on each entry (the one who publishes it)."""
    updated = max((e.published for e in entries), default=now).isoformat()
    items = "".join(
        "<entry>"
        f"<title>{xml_escape(e.title)}</title>"
        f'<link rel="alternate" href="{xml_escape(e.url)}"/>'
        f"<id>{xml_escape(e.url)}</id>"
        f"<updated>{e.published.isoformat()}</updated>"
        f"<published>{e.published.isoformat()}</published>"
        f"{atom_author(e.author)}"
        f"<summary>{xml_escape(e.summary)}</summary>"
        "</entry>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n<feed xmlns="http://www.w3.org/2005/Atom" xml:lang="fr">'
        f"<title>{xml_escape(title)}</title><id>{xml_escape(self_url)}</id>{atom_author(author)}"
        f'<link rel="self" href="{xml_escape(self_url)}"/><link rel="alternate" href="{xml_escape(home_url)}"/>'
        f"<updated>{updated}</updated>{items}</feed>\n"
    )


def rss(title: str, home_url: str, self_url: str, entries: list[FeedEntry]) -> str:
    """RSS 2.0 with the `atom:link rel="self"` that feed readers and validators expect."""
    items = "".join(
        "<item>"
        f"<title>{xml_escape(e.title)}</title><link>{xml_escape(e.url)}</link>"
        f'<guid isPermaLink="true">{xml_escape(e.url)}</guid>'
        f"<pubDate>{rfc822(e.published)}</pubDate><description>{xml_escape(e.summary)}</description>"
        "</item>"
        for e in entries
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?>\n'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>{xml_escape(title)}</title><link>{xml_escape(home_url)}</link>"
        f'<atom:link href="{xml_escape(self_url)}" rel="self" type="application/rss+xml"/>'
        f"<description>{xml_escape(title)}</description><language>fr</language>{items}</channel></rss>\n"
    )


# ---- press kit files --------------------------------------------------------------------------


def sniff(data: bytes) -> str | None:
    for content_type, starts in SIGNATURES.items():
        if any(data.startswith(s) for s in starts):
            if content_type == "image/webp" and data[8:12] != b"WEBP":
                continue
            return content_type
    return None


def add_file(user: User, campaign: Campaign, upload: FileStorage | None, kind: str, **owner) -> PressKitFile:
    """Store an upload after checking its size and what it really is (PNG, JPEG, WebP or PDF)."""
    region_id = owner.pop("region_id", None)
    require_write(user, region_id)
    if kind not in FILE_KINDS:
        raise ValidationFailed(
            _("Type de fichier inconnu."), {"kind": _("l'un de : %(values)s", values=", ".join(FILE_KINDS))}
        )
    if upload is None or not upload.filename:
        raise ValidationFailed(_("Choisissez un fichier."), {"file": _("obligatoire")})
    limit = int(current_app.config.get("PRESS_KIT_MAX_BYTES", DEFAULT_MAX_FILE))
    data = upload.stream.read(limit + 1)
    if len(data) > limit:
        raise ValidationFailed(_("Le fichier dépasse %(n)s Ko.", n=limit // 1024), {"file": _("trop volumineux")})
    if not data:
        raise ValidationFailed(_("Le fichier est vide."), {"file": _("vide")})
    content_type = sniff(data)
    if content_type is None:
        raise ValidationFailed(
            _("Seulement des images PNG, JPEG, WebP et des fichiers PDF."), {"file": _("type non accepté")}
        )
    if kind == "pdf" and content_type != "application/pdf" or kind != "pdf" and content_type == "application/pdf":
        raise ValidationFailed(
            _("Le fichier ne correspond pas au type choisi."), {"file": _("pas un fichier %(kind)s", kind=kind)}
        )
    stem = secure_filename(upload.filename).rsplit(".", 1)[0][:150] or kind
    record = PressKitFile(
        campaign_id=campaign.id,
        region_id=region_id,
        kind=kind,
        title=(owner.pop("title", "") or stem)[:200],
        filename=f"{stem}.{EXTENSIONS[content_type]}",
        content_type=content_type,
        size=len(data),
        data=data,
        **owner,
    )
    db.session.add(record)
    db.session.flush()
    return record


def file_is_public(record: PressKitFile, now: datetime) -> bool:
    """Campaign and relay-kit files are public; a release's follow its embargo; a conference's its start."""
    if record.release_id is not None:
        return is_public(record.release, now)
    if record.milestone_id is not None:
        return record.milestone.starts_at <= now
    return True


def kit_files(campaign: Campaign, region: Region | None, now: datetime) -> list[PressKitFile]:
    """The public press kit of the campaign (and of the region, when one is asked for)."""
    query = select(PressKitFile).where(
        PressKitFile.campaign_id == campaign.id,
        PressKitFile.release_id.is_(None),
        PressKitFile.milestone_id.is_(None),
        PressKitFile.relay_kit_id.is_(None),
    )
    regions = [PressKitFile.region_id.is_(None)]
    if region is not None:
        regions.append(PressKitFile.region_id == region.id)
    return list(db.session.scalars(query.where(or_(*regions)).order_by(PressKitFile.kind, PressKitFile.id)))


def files_of(**owner) -> list[PressKitFile]:
    ((column, value),) = owner.items()
    return list(db.session.scalars(select(PressKitFile).where(and_(getattr(PressKitFile, column) == value))))


def local(value: datetime | None, campaign: Campaign) -> datetime | None:
    return value.astimezone(zone(campaign.timezone)) if value else None
