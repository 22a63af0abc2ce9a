"""Press releases and press kit files (signed in), and the public newsroom with its feeds."""

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import select
from wtforms.fields.choices import SelectChoice

from accounts.models import Region
from accounts.scoping import require_write
from campaign.brand import brand_of
from campaign.editions import archive, public_edition
from campaign.models import Campaign, Milestone
from campaign.services import current_campaign, region_by_code, to_utc, zone
from dbtypes import utcnow
from errors import DomainError, NotFound
from extensions import db
from forms import ConfirmForm, attach_errors
from mailings import services, states
from mailings.audience import as_list
from mailings.mailing_form import audience_from_request, form_context, list_choices, sender_choices, sender_data
from press import newsroom
from press.conferences import region_media_ids
from press.forms import FileForm, ReleaseForm, ScheduleReleaseForm
from press.models import PressKitFile, PressRelease, RelayKit
from press.release_body import body_html, body_text, has_tags
from public_links import public_url

bp = Blueprint("releases", __name__, url_prefix="/press")
public = Blueprint("newsroom", __name__)


@bp.before_request
@login_required
def signed_in():
    """Releases are written by signed-in teams; the newsroom below is public."""


def release_choices(form: ReleaseForm, campaign: Campaign, release: PressRelease | None) -> None:
    regions = db.session.scalars(select(Region).where(Region.active).order_by(Region.name)).all()
    form.region.choices = [SelectChoice("", _("National"))] + [SelectChoice(r.code, r.name) for r in regions]
    nationals = db.session.scalars(
        select(PressRelease).where(PressRelease.campaign_id == campaign.id, PressRelease.region_id.is_(None))
    ).all()
    form.follows_national.choices = [SelectChoice("", "—")] + [
        SelectChoice(str(n.id), n.title) for n in nationals if release is None or n.id != release.id
    ]


def release_data(form: ReleaseForm, campaign: Campaign, creating: bool) -> dict:
    data = {f: form[f].data for f in ("title", "city", "lead", "body", "press_contact", "ready")}
    embargo = form.embargo_until.data
    data["embargo_until"] = to_utc(embargo, campaign.timezone) if embargo else None
    data["follows_national_id"] = int(form.follows_national.data) if form.follows_national.data else None
    if creating:
        region = region_by_code(form.region.data) if form.region.data else None
        data["region_id"] = region.id if region else None
    return data


@bp.route("/releases", methods=["GET", "POST"])
def releases():
    campaign = current_campaign() or abort(404)
    form = ReleaseForm()
    release_choices(form, campaign, None)
    if form.validate_on_submit():
        try:
            release, _held = newsroom.save_release(current_user, None, release_data(form, campaign, True), campaign)
            db.session.commit()
            flash(_("Communiqué enregistré."), "success")
            return redirect(url_for("releases.release", release_id=release.id))
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
    return render_template(
        "newsroom/releases.html",
        campaign=campaign,
        releases=newsroom.releases(current_user, campaign),
        form=form,
        file_form=FileForm(),
        kit=newsroom.kit_files(campaign, None, utcnow()),
        now=utcnow(),
        newsroom=newsroom,
        tz=zone(campaign.timezone),
    )


@bp.route("/releases/<int:release_id>", methods=["GET", "POST"])
def release(release_id: int):
    item = newsroom.get_release(current_user, release_id)
    campaign = item.campaign
    tz = zone(campaign.timezone)
    form = ReleaseForm(obj=item)
    release_choices(form, campaign, item)
    if request.method == "GET":
        form.embargo_until.data = item.embargo_until.astimezone(tz).replace(tzinfo=None) if item.embargo_until else None
        form.follows_national.data = str(item.follows_national_id or "")
        form.region.data = item.region.code if item.region else ""
        if not has_tags(item.body or ""):
            form.body.data = str(body_html(item.body))  # typed as plain text: opens in the editor as written
    if form.validate_on_submit():
        try:
            _item, held = newsroom.save_release(current_user, item, release_data(form, campaign, False))
            db.session.commit()
            flash(_("Communiqué enregistré."), "success")
            for mailing in held:
                flash(
                    _("L'envoi « %(name)s » est programmé avant l'embargo : il sera retenu.", name=mailing.name),
                    "error",
                )
            return redirect(url_for("releases.release", release_id=item.id))
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
    send_form = ScheduleReleaseForm(formdata=None)
    return render_template(
        "newsroom/release.html",
        release=item,
        form=form,
        send_form=send_form,
        **send_context(item, send_form, posted=False),
        file_form=FileForm(),
        files=newsroom.files_of(release_id=item.id),
        embargo=newsroom.effective_embargo(item),
        public=newsroom.is_public(item, utcnow()),
        line=newsroom.embargo_line(newsroom.effective_embargo(item), tz),
        tz=tz,
    )


def release_audience(item: PressRelease) -> dict:
    """What a release's mailing goes to until someone chooses: the media of its region (national: the
    national media), shown ticked in the form so that nobody sends to a hidden audience."""
    if item.mailing is not None:
        return item.mailing.audience or {}
    return {"filter": {"kind": ["media"], "region": [item.region.code if item.region else "national"]}}


def send_context(item: PressRelease, form: ScheduleReleaseForm, posted: bool) -> dict:
    """The sender select and the audience widgets of a release's mailing form."""
    offered = sender_choices(form, item.region_id)
    audience = release_audience(item)
    return {
        "offered": offered,
        "region_code": item.region.code if item.region else "",
        "chosen_lists": [int(i) for i in as_list(audience.get("list_ids"))],
        "chosen_segments": [int(i) for i in as_list(audience.get("segment_ids"))],
        **list_choices(current_user),
        **form_context(current_user, item.region_id, audience, posted=posted),
    }


@bp.post("/releases/<int:release_id>/mail")
def mail_release(release_id: int):
    """Prepare the release's mailing to the audience chosen (the media of its region when none was:
    older clients), then schedule it when a time is given, or show its recipients first."""
    item = newsroom.get_release(current_user, release_id)
    form = ScheduleReleaseForm()
    offered = sender_choices(form, item.region_id)
    if not form.validate_on_submit():
        flash(_("Indiquez l'expéditeur et la date d'envoi."), "error")
        return redirect(url_for("releases.release", release_id=item.id))
    if request.form.get("audience_form"):
        audience = audience_from_request()
    else:
        audience = {"contact_ids": region_media_ids(Milestone(region_id=item.region_id))}
    try:
        data = sender_data(form, offered) | {"audience": audience}
        mailing = item.mailing if item.mailing and states.can_edit(item.mailing.status) else None
        if mailing is not None:
            services.save_mailing(current_user, mailing, data)
        else:
            mailing = newsroom.mail_release(current_user, item, data)
        if not form.send_at.data:
            db.session.commit()
            flash(_("Envoi préparé : voici qui le recevra. Programmez-le ou envoyez-le depuis cette page."), "success")
            return redirect(url_for("mailings.mailing_page", mailing_id=mailing.id, _anchor="recipients"))
        send_at = to_utc(form.send_at.data, item.campaign.timezone)
        services.transition(current_user, mailing, "schedule", send_at=send_at, allow_weekend=form.allow_weekend.data)
        db.session.commit()
        flash(_("Envoi programmé."), "success")
    except DomainError as error:
        db.session.rollback()
        flash(_("Envoi refusé : %(reason)s", reason=error.message), "error")
    return redirect(url_for("releases.release", release_id=item.id))


@bp.post("/files")
def upload():
    """A press kit file for the campaign, a release, a conference or a relay kit."""
    campaign = current_campaign() or abort(404)
    form = FileForm()
    owner, region_id, back = {}, None, url_for("releases.releases")
    for field, model, endpoint, arg in (
        ("release_id", PressRelease, "releases.release", "release_id"),
        ("milestone_id", Milestone, "press.conference", "milestone_id"),
        ("relay_kit_id", RelayKit, "relay.kit", "kit_id"),
    ):
        if request.form.get(field, "").isdigit():
            found = db.session.get(model, int(request.form[field])) or abort(404)
            owner, region_id = {field: found.id}, found.region_id
            back = url_for(endpoint, **{arg: found.id})
    if not form.validate_on_submit():
        flash(_("Formulaire expiré ou invalide : réessayez."), "error")
        return redirect(back)
    try:
        newsroom.add_file(
            current_user, campaign, form.file.data, form.kind.data, region_id=region_id, title=form.title.data, **owner
        )
        db.session.commit()
        flash(_("Fichier ajouté."), "success")
    except DomainError as error:
        db.session.rollback()
        flash(_("Fichier refusé : %(reason)s", reason=error.message), "error")
    return redirect(back)


@bp.post("/files/<int:file_id>/delete")
def delete_file(file_id: int):
    record = db.session.get(PressKitFile, file_id) or abort(404)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    require_write(current_user, record.region_id)
    db.session.delete(record)
    db.session.commit()
    flash(_("Fichier supprimé."), "success")
    return redirect(request.referrer or url_for("releases.releases"))


# ---- the public newsroom ----------------------------------------------------------------------


def newsroom_scope() -> tuple[Campaign, Region | None]:
    """The edition (`?campaign=<id>`, `?edition=<year>`, else the current one) and the region asked for."""
    try:
        campaign = public_edition(request.args)
    except NotFound:
        abort(404)
    code = request.args.get("region") or None
    if code and len(code) > 10:
        abort(404)
    try:
        region = region_by_code(code) if code else None
    except DomainError:
        region = None
    if code and region is None:
        abort(404)
    return campaign, region


def scope_args(campaign: Campaign, region: Region | None) -> dict:
    return {"campaign": campaign.id, **({"region": region.code} if region else {})}


@public.route("/newsroom")
def index():
    campaign, region = newsroom_scope()
    now = utcnow()
    items = newsroom.public_releases(campaign, region, now)
    regions = db.session.scalars(select(Region).where(Region.active).order_by(Region.name)).all()
    return render_template(
        "newsroom/index.html",
        campaign=campaign,
        region=region,
        regions=regions,
        releases=items,
        kit=newsroom.kit_files(campaign, region, now),
        published_on=newsroom.published_on,
        args=scope_args(campaign, region),
        tz=zone(campaign.timezone),
        brand=brand_of(campaign),
        brand_region=region,
        archive=archive(campaign),
        is_current=campaign == current_campaign(public=True),
    )


@public.route("/newsroom/<int:release_id>")
def show(release_id: int):
    now = utcnow()
    try:
        item = newsroom.public_release(release_id, now)
    except NotFound:
        abort(404)
    files = newsroom.files_of(release_id=item.id)
    image = next((f for f in files if f.kind in ("photo", "logo")), None)
    if image is None:
        image = next((f for f in newsroom.kit_files(item.campaign, item.region, now) if f.kind == "logo"), None)
    return render_template(
        "newsroom/show.html",
        release=item,
        files=files,
        image=image,
        published=newsroom.published_on(item),
        tz=zone(item.campaign.timezone),
        brand=brand_of(item.campaign),
        brand_region=item.region,
    )


def publisher(campaign: Campaign, region: Region | None) -> str:
    """Who publishes a feed or a release: the region's chamber (its name when none is set), or the
    campaign for the national newsroom."""
    return (region.chamber or region.name) if region else campaign.name


def feed_entries(campaign: Campaign, region: Region | None) -> list[newsroom.FeedEntry]:
    return [
        newsroom.FeedEntry(
            r.title,
            public_url("newsroom.show", release_id=r.id),
            r.lead or body_text(r.body)[:300],
            newsroom.published_on(r),
            publisher(campaign, r.region),
        )
        for r in newsroom.public_releases(campaign, region, utcnow())
    ]


@public.route("/newsroom/feed.atom")
def atom():
    campaign, region = newsroom_scope()
    title = f"{campaign.name} — " + (region.name if region else _("salle de presse"))
    body = newsroom.atom(
        title,
        public_url("newsroom.atom", **scope_args(campaign, region)),
        public_url("newsroom.index", **scope_args(campaign, region)),
        feed_entries(campaign, region),
        utcnow(),
        publisher(campaign, region),
    )
    return Response(body, mimetype="application/atom+xml")


@public.route("/newsroom/feed.rss")
def rss():
    campaign, region = newsroom_scope()
    title = f"{campaign.name} — " + (region.name if region else _("salle de presse"))
    home = public_url("newsroom.index", **scope_args(campaign, region))
    self_url = public_url("newsroom.rss", **scope_args(campaign, region))
    body = newsroom.rss(title, home, self_url, feed_entries(campaign, region))
    return Response(body, mimetype="application/rss+xml")


@public.route("/newsroom/files/<int:file_id>/<filename>")
def download(file_id: int, filename: str):
    record = db.session.get(PressKitFile, file_id)
    if record is None or record.filename != filename or not newsroom.file_is_public(record, utcnow()):
        abort(404)
    response = Response(record.data, mimetype=record.content_type)
    disposition = "inline" if record.content_type.startswith("image/") else "attachment"
    response.headers["Content-Disposition"] = f'{disposition}; filename="{record.filename}"'
    response.headers["Cache-Control"] = "public, max-age=3600"
    return response
