"""The rules of templates and mailings: plain functions; they flush, the caller commits."""

from datetime import datetime, timedelta
from types import SimpleNamespace

from email_validator import EmailNotValidError, validate_email
from flask import current_app
from flask_babel import gettext
from sqlalchemy import func, select, update

from accounts.models import Region, User
from accounts.scoping import can_read, can_write, get_readable, require_read, require_write
from addresses import address_problem
from campaign.models import Campaign, Milestone
from campaign.services import current_campaign
from campaign.workdays import check_send_day
from contacts.i18n import _
from contacts.models import Contact
from contacts.services import contact_erased
from dbtypes import MAX_ID, utcnow
from errors import Conflict, PermissionDenied, ValidationFailed
from extensions import db
from mail_transport import open_channel
from mailings import approval, checklist, senders, states
from mailings.audience import as_list, audience_filter, audience_size, missing_ids, out_of_reach
from mailings.composer import Composer, Draft, Recipient
from mailings.engine.deliveries import counts, freeze_audience
from mailings.hooks import hooks
from mailings.models import Delivery, EmailTemplate, Mailing, empty_audience
from mailings.rendering import compile_template
from mailings.sanitize import clean_html, images_without_alt
from mailings.spread import check_conferences

# ---- templates --------------------------------------------------------------------------------


def get_template(user: User, template_id: int) -> EmailTemplate:
    return get_readable(user, EmailTemplate, template_id, _("Ce modèle n'existe pas."))


def sample_recipient(campaign: Campaign | None, region_id: int | None = None) -> Recipient:
    """The sample contact of previews: of the mailing's region, or of the first region, so that
    "{{ region.name }}" reads as it will ("en Bretagne", not "en ")."""
    if region_id is None:
        first = select(Region.id).where(Region.active).order_by(Region.name, Region.id).limit(1)
        region_id = db.session.scalar(first)
    return Recipient(
        None, "camille.durand@example.org", "Camille", "Durand", "media", "Le Journal", region_id, "madame", "Lyon"
    )


def check_template(subject: str, html: str, text: str) -> None:
    """Compile and render against a sample contact: any escape or unknown name is refused now."""
    compile_template(subject, html, text)  # its own errors first, named by field
    campaign = db.session.scalar(select(Campaign).order_by(Campaign.id.desc()).limit(1))
    if campaign is None:
        return
    probe = SimpleNamespace(
        id=0, campaign=campaign, name="Aperçu", from_name="Relais", from_email="relais@example.org", reply_to=""
    )
    Composer(probe, template=Draft(subject, html, text)).preview(sample_recipient(campaign))


def save_template(user: User, template: EmailTemplate | None, data: dict) -> EmailTemplate:
    if template is None:
        require_write(user, user.region_id if user.role == "regional" else None)
        template = EmailTemplate(region_id=user.region_id if user.role == "regional" else None)
        db.session.add(template)
    else:
        require_write(user, template.region_id)
    before = tuple(getattr(template, f) or "" for f in CONTENT)
    for field in ("name", "subject", "html", "text"):
        if field in data and data[field] is not None:
            setattr(template, field, clean_html(data[field]) if field == "html" else data[field])
    problems = {f: "required" for f in ("name", "subject", "html") if not (getattr(template, f) or "").strip()}
    if problems:
        raise ValidationFailed(_("Nom, objet et contenu HTML sont obligatoires."), problems)
    if missing := images_without_alt(template.html):
        raise ValidationFailed(
            _(
                "%(num)s image(s) sans texte de remplacement : décrivez chaque image pour qui ne la voit pas.",
                num=missing,
            ),
            {"html": _("image sans texte de remplacement")},
        )
    check_template(template.subject, template.html, template.text or "")
    if template.id is not None and before != tuple(getattr(template, f) or "" for f in CONTENT):
        reopen_approvals(template)
    db.session.flush()
    return template


CONTENT = ("subject", "html", "text")  # what a national lead approves in a template


def reopen_approvals(template: EmailTemplate) -> None:
    """What is approved is what is sent: a changed template sends the approved mailings that use it
    back for approval, and cannot change while one of them is being sent."""
    for mailing in db.session.scalars(select(Mailing).where(Mailing.template_id == template.id)):
        if not regional_approval(mailing) or mailing.approved_at is None:
            continue
        if mailing.frozen_at is not None and mailing.status not in states.FINISHED:
            raise Conflict(
                _("L'envoi « %(name)s » part avec ce modèle : il ne peut pas changer maintenant.", name=mailing.name),
                {"template": _("utilisé par un envoi en cours")},
            )
        if states.can("reopen", mailing.status):
            mailing.status = states.require("reopen", mailing.status)
            mailing.status_reason = gettext("Le modèle a changé après la validation : à valider de nouveau.")
            mailing.approved_by_id = mailing.approved_at = None
            approval.record(mailing, None, "reopened", utcnow(), mailing.status_reason)


# ---- mailings ---------------------------------------------------------------------------------


def get_mailing(user: User, mailing_id: int) -> Mailing:
    return get_readable(user, Mailing, mailing_id, _("Cet envoi n'existe pas."))


def readable_mailings(user: User):
    query = select(Mailing).order_by(Mailing.id.desc())
    if user.role == "regional":
        query = query.where((Mailing.region_id.is_(None)) | (Mailing.region_id == user.region_id))
    return query


def clean_address(value: str, field: str, problems: dict, required: bool = True) -> str:
    value = (value or "").strip()
    if not value:
        if required:
            problems[field] = _("obligatoire")
        return ""
    if "\n" in value or "\r" in value:
        problems[field] = _("sans retour à la ligne")
        return value
    try:
        return validate_email(value, check_deliverability=False).normalized
    except EmailNotValidError as error:
        problems[field] = address_problem(error)
        return value


def id_list(value) -> list[int]:
    """Distinct ids, sorted; ValueError for one no id column holds (the database would refuse it
    nameless, PostgreSQL, or overflow, SQLite)."""
    ids = sorted({int(i) for i in as_list(value)})
    if ids and not (ids[0] >= 0 and ids[-1] <= MAX_ID):
        raise ValueError(ids)
    return ids


def clean_audience(region_id: int | None, raw: dict | None, problems: dict, excluded: list | None = None) -> dict:
    """The audience as stored. `exclude_contact_ids` (contacts left out in one click for contact
    pressure) are kept from `excluded` unless `raw` says otherwise: editing the lists keeps them.
    A regional mailing (`region_id`) names only national lists, segments and contacts and its own."""
    raw = raw or {}
    audience = empty_audience()
    for field in audience:
        try:
            audience[field] = id_list(raw.get(field))
        except (TypeError, ValueError):
            problems[f"audience.{field}"] = _("une liste d'identifiants")
    wanted = raw["exclude_contact_ids"] if raw.get("exclude_contact_ids") is not None else excluded
    try:
        if wanted:
            audience["exclude_contact_ids"] = id_list(wanted)
    except (TypeError, ValueError):
        problems["audience.exclude_contact_ids"] = _("une liste d'identifiants")
    if found := audience_filter(raw.get("filter"), region_id, problems):
        audience["filter"] = found
    problems.update(missing_ids(audience))
    if not problems:
        problems.update(out_of_reach(audience, region_id))
    return audience


def save_mailing(user: User, mailing: Mailing | None, data: dict, campaign: Campaign | None = None) -> Mailing:
    """Create a draft, or edit one: only drafts are edited (states.EDITABLE)."""
    if mailing is None:
        region_id = user.region_id if user.role == "regional" else None
        require_write(user, region_id)
        mailing = Mailing(region_id=region_id, created_by_id=user.id, status="draft", audience=empty_audience())
        if campaign is None:
            campaign = db.session.get(Campaign, data["campaign_id"]) if data.get("campaign_id") else current_campaign()
        if campaign is None:
            raise ValidationFailed(_("Aucune campagne."), {"campaign_id": _("obligatoire")})
        mailing.campaign = campaign
    else:
        require_write(user, mailing.region_id)
        if not states.can_edit(mailing.status):
            label = str(states.LABELS.get(mailing.status, mailing.status))
            raise ValidationFailed(_("Un envoi « %(status)s » ne se modifie plus.", status=label), {"status": label})
    problems: dict[str, str] = {}
    if "name" in data:
        mailing.name = (data["name"] or "").strip()
    if "from_name" in data:
        mailing.from_name = " ".join((data["from_name"] or "").split())
        if "\n" in (data["from_name"] or "") or "\r" in (data["from_name"] or ""):
            problems["from_name"] = _("sans retour à la ligne")
    if "from_email" in data:
        mailing.from_email = clean_address(data["from_email"], "from_email", problems)
    if "reply_to" in data:
        mailing.reply_to = clean_address(data["reply_to"], "reply_to", problems, required=False)
    if "template_id" in data:
        template = db.session.get(EmailTemplate, data["template_id"]) if data["template_id"] else None
        if template is None or not can_read(user, template.region_id):
            problems["template_id"] = _("modèle inconnu")
        else:
            mailing.template = template
    if "milestone_id" in data:
        milestone = db.session.get(Milestone, data["milestone_id"]) if data["milestone_id"] else None
        if data["milestone_id"] and (milestone is None or milestone.campaign_id != mailing.campaign.id):
            problems["milestone_id"] = _("pas un jalon de cette campagne")
        elif milestone is not None and mailing.region_id is not None and not in_reach_of(mailing, milestone.region_id):
            problems["milestone_id"] = _("un jalon d'une autre région")
        mailing.milestone = milestone
    if "embargo_until" in data:
        mailing.embargo_until = data["embargo_until"]
    if "audience" in data:
        mailing.audience = clean_audience(
            mailing.region_id, data["audience"], problems, (mailing.audience or {}).get("exclude_contact_ids")
        )
    for field in ("name", "from_name", "from_email"):
        if not getattr(mailing, field) and field not in problems:
            problems[field] = _("obligatoire")
    if "from_email" not in problems and not senders.may_send_as(mailing.region_id, mailing.from_email):
        problems["from_email"] = _("pas une adresse d'expéditeur de cette région ni de la fédération")
    if mailing.template is None and "template_id" not in problems:
        problems["template_id"] = _("obligatoire")
    if not problems:  # a template about a press conference needs a mailing that has one
        problems.update(checklist.conference_problem(mailing))
    if problems:
        raise ValidationFailed(_("Envoi invalide : vérifiez les champs signalés."), problems)
    db.session.add(mailing)
    db.session.flush()
    return mailing


def in_reach_of(mailing: Mailing, region_id: int | None) -> bool:
    """An object a regional mailing may use: national, or of its own region."""
    return region_id is None or region_id == mailing.region_id


def regional_approval(mailing: Mailing) -> bool:
    """A regional mailing is approved by national (RELAIS_MAIL_APPROVAL_FOR_REGIONAL)."""
    return mailing.region_id is not None and bool(current_app.config["MAIL_APPROVAL_FOR_REGIONAL"])


def needs_approval(mailing: Mailing) -> bool:
    """It waits for national approval, unless an approval already covers it (the reminder of an
    approved invitation, its text unchanged)."""
    return regional_approval(mailing) and approval.covered_by(mailing) is None


def allowed(user: User, mailing: Mailing, action: str) -> bool:
    """Whether `user` may take `action` now: the pages offer only these (nobody sees a button they
    may not use); transition() enforces the same rules."""
    if not can_write(user, mailing.region_id) or not states.can(action, mailing.status):
        return False
    if action in ("approve", "reject"):
        return approval.may_decide(user)
    if action == "submit":
        return needs_approval(mailing)
    if action in states.NEED_APPROVAL and mailing.status == "draft":
        return not needs_approval(mailing)
    return True


def wanted_time(send_at: datetime | None, now: datetime) -> datetime | None:
    """A send time from a form is to the minute: this minute (and the last, for the time it took to
    press the button) means now; earlier is refused."""
    if send_at is not None and send_at < now.replace(second=0, microsecond=0) - timedelta(minutes=1):
        raise ValidationFailed(_("Cette heure est déjà passée."), {"send_at": _("dans le passé")})
    return send_at


def transition(user: User, mailing: Mailing, action: str, now: datetime | None = None, **kw) -> Mailing:
    """Apply one action of the status machine, with its permission and approval rules."""
    now = now or utcnow()
    require_write(user, mailing.region_id)
    target = states.require(action, mailing.status)
    cover = None
    if action in states.NEED_APPROVAL and mailing.status == "draft" and regional_approval(mailing):
        cover = approval.covered_by(mailing)
        if cover is None:
            raise PermissionDenied(
                _("Un envoi régional doit d'abord être validé par l'équipe nationale : soumettez-le.")
            )
    if action in ("approve", "reject"):
        approval.require_decider(user)
    comment = (kw.get("comment") or "").strip()
    if action == "reject" and not comment:
        raise ValidationFailed(_("Dites à la région ce qui doit changer."), {"comment": _("obligatoire")})
    if (
        action in ("submit", "schedule", "send_now")
        and not audience_size(mailing.audience or {}, mailing.region_id)["total"]
    ):
        raise ValidationFailed(_("Aucun destinataire : l'audience est vide."), {"audience": _("vide")})
    if action == "schedule":
        send_at = kw.get("send_at")
        if send_at is None:
            raise ValidationFailed(_("Indiquez une date d'envoi."), {"send_at": _("obligatoire")})
        mailing.scheduled_at = wanted_time(send_at, now)
        check_send_day(send_at, mailing.campaign.timezone, "send_at", _("Envoyer le"), kw.get("allow_weekend", False))
    if action == "submit" and kw.get("send_at") is not None:  # when it goes once approved
        mailing.scheduled_at = wanted_time(kw["send_at"], now)
        if kw["send_at"] > now + timedelta(minutes=1):  # a time chosen, not "as soon as approved"
            check_send_day(
                kw["send_at"], mailing.campaign.timezone, "send_at", _("Envoyer le"), bool(kw.get("allow_weekend"))
            )
    if action in ("submit", "schedule", "send_now"):
        check_conferences(mailing)
        checklist.enforce(mailing)  # errors of the checklist before sending block (422 naming each)
    if action in ("schedule", "send_now"):
        for check in hooks().send_checks:  # press: embargoes decide the earliest send time
            check(mailing, mailing.scheduled_at if action == "schedule" else now)
    if action in ("submit", "reject", "approve") or cover is not None:
        record_step(user, mailing, action, now, comment, cover)
    if action == "approve":
        mailing.approved_by_id, mailing.approved_at = user.id, now
        if mailing.scheduled_at is not None:  # it goes at its time without anyone coming back
            if mailing.scheduled_at <= now:
                start(mailing, now)
                return mailing
            for check in hooks().send_checks:
                check(mailing, mailing.scheduled_at)
            target = "scheduled"
    if action == "send_now":
        mailing.scheduled_at = now
        start(mailing, now)
        return mailing
    if action == "resume":
        target = "sending" if mailing.frozen_at else "scheduled"
        if target == "scheduled" and mailing.scheduled_at and mailing.scheduled_at <= now:
            start(mailing, now)
            return mailing
    if action == "retry_failed":
        requeue(mailing, ("failed",), now)
    if action == "resend_unknown":
        requeue(mailing, ("unknown",), now)
    mailing.status = target
    mailing.status_reason = ""
    if action == "reject":
        mailing.status_reason = _("Renvoyé par l'équipe nationale : %(comment)s", comment=comment)
    db.session.flush()
    return mailing


def record_step(user: User, mailing: Mailing, action: str, now: datetime, comment: str, cover: Mailing | None):
    """The approval's history: a submission, a decision (with the text approved), a covered follow-up."""
    if cover is not None:
        note = _("Couvert par la validation de « %(name)s » : même texte, mêmes destinataires.", name=cover.name)
        approval.record(mailing, user, "covered", now, note, covered_by_id=cover.id)
    elif action == "approve":
        approval.record(
            mailing,
            user,
            "approved",
            now,
            comment,
            fingerprint=approval.text_of(mailing),
            covers=approval.covered_texts(mailing),
        )
    else:
        approval.record(mailing, user, "submitted" if action == "submit" else "sent_back", now, comment)


def start(mailing: Mailing, now: datetime) -> int:
    """Freeze the audience into deliveries and hand the mailing to the workers."""
    if mailing.frozen_at is None:  # no start (resume included) before the checks allow
        for check in hooks().send_checks:
            check(mailing, now)
    written = freeze_audience(mailing, now)
    for action in hooks().on_start:  # press: the hard limit per contact and week
        action(mailing, now)
    mailing.status = "sending"
    mailing.status_reason = ""
    mailing.started_at = mailing.started_at or now
    db.session.flush()
    return written


def requeue(mailing: Mailing, statuses: tuple[str, ...], now: datetime) -> int:
    result = db.session.execute(
        update(Delivery)
        .where(Delivery.mailing_id == mailing.id, Delivery.status.in_(statuses))
        .values(status="pending", next_attempt_at=None, attempts=0, worker_id=None, updated_at=now)
    )
    mailing.finished_at = None
    return result.rowcount


def stats(mailing: Mailing) -> dict:
    return counts(mailing.id)


# ---- preview, test ----------------------------------------------------------------------------


def recipient_for(user: User, contact_id: int | None, campaign: Campaign | None, region_id: int | None) -> Recipient:
    """Whom a preview or a test message is written as: a contact the user may read, or a sample
    of `region_id`."""
    if not contact_id:
        return sample_recipient(campaign, region_id)
    contact = db.session.get(Contact, contact_id) if 0 < contact_id <= MAX_ID else None
    if contact is None:
        raise ValidationFailed(_("Ce contact n'existe pas."), {"contact_id": _("inconnu")})
    require_read(user, contact.region_id)
    return Recipient.of(contact)


def preview(user: User, mailing: Mailing, contact_id: int | None, template: EmailTemplate | None = None) -> dict:
    person = recipient_for(user, contact_id, mailing.campaign, mailing.region_id)
    return Composer(mailing, template=template).preview(person)


def send_test(user: User, mailing: Mailing, email: str, contact_id: int | None = None) -> dict:
    """Send the message as `contact_id` (or a sample) would receive it, to one test address."""
    problems: dict[str, str] = {}
    email = clean_address(email, "email", problems)
    if problems:
        raise ValidationFailed(_("Adresse invalide."), problems)
    person = recipient_for(user, contact_id, mailing.campaign, mailing.region_id)
    person.email = email
    composer = Composer(mailing)
    data, message_id = composer.compose(person, 0, careful=True, test=True)
    channel = open_channel(session=db.session)
    outcome = channel.send(composer.from_email, email, data)
    channel.close()
    if outcome.status != "sent":
        raise ValidationFailed(
            _("Le message d'essai n'est pas parti : %(why)s", why=outcome.text), {"email": outcome.text}
        )
    return {"email": email, "message_id": message_id, "response": outcome.text}


def forget_recipient(sender=None, contact_id: int | None = None, email: str = "", **_) -> None:
    """On erasure (GDPR): the delivery log keeps the counts, not the person: no address, no contact,
    and the server's answers that quoted the address no longer do."""
    if not contact_id:
        return
    mine = Delivery.contact_id == contact_id
    if email:
        for column in (Delivery.last_error, Delivery.response):
            db.session.execute(update(Delivery).where(mine).values({column: func.replace(column, email, ERASED)}))
    db.session.execute(update(Delivery).where(mine).values(email="", contact_id=None))


ERASED = "[adresse effacée]"
contact_erased.connect(forget_recipient)
