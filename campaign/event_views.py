"""Event pages: the regions' queues and moderation (signed in), the public proposal form and the
public programme (HTML, printable, embeddable per region, and RFC 5545 feeds)."""

from datetime import date, datetime, time

from flask import Blueprint, Response, abort, flash, make_response, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user, login_required
from sqlalchemy import func, select
from sqlalchemy.orm import selectinload
from wtforms.fields.choices import SelectChoice

from accounts.models import Region
from accounts.scoping import can_write, require_write, writable_region_ids
from campaign import calendar, editions, events, services
from campaign.brand import brand_of
from campaign.event_forms import STATUS_LABELS, EventForm, ProposalForm, RejectForm, VocabularyForm
from campaign.models import Campaign, Event
from dbtypes import utcnow
from errors import DomainError, PermissionDenied
from extensions import db
from forms import ConfirmForm, attach_errors
from input_rules import has_nul
from pagination import page_number, paginate
from public_links import public_host

bp = Blueprint("events", __name__)
public = Blueprint("programme", __name__)
PROPOSAL_MAX_BYTES = 32 * 1024


@bp.before_request
@login_required
def signed_in():
    """Every moderation page needs an account."""


def active_regions() -> list[Region]:
    return db.session.scalars(select(Region).where(Region.active).order_by(Region.name)).all()


def the_campaign() -> Campaign:
    return services.current_campaign() or abort(404)


def public_campaign() -> Campaign:
    """The edition a public page shows: `?campaign=<id>` or `?edition=<year>`, else the current one."""
    return editions.public_edition(request.args)


def event_choices(form, campaign: Campaign, regions: list[Region]) -> None:
    types, themes = events.vocabulary(campaign)
    form.region.choices = [SelectChoice("", "—")] + [SelectChoice(r.code, r.name) for r in regions]
    form.type.choices = [SelectChoice("", "—")] + [SelectChoice(t, t) for t in types]
    form.themes.choices = [SelectChoice(t, t) for t in themes]


def form_data(form) -> dict:
    names = ("title", "region", "type", "themes", "starts_at", "ends_at", "city", "venue", "organiser")
    data = {name: form[name].data for name in names}
    data["organiser_email"] = (form.organiser_email.data or "").strip().lower()
    data["description"] = form.description.data or ""
    return data


@bp.route("/events")
def index():
    campaign = the_campaign()
    region, status = request.args.get("region") or None, request.args.get("status") or None
    try:
        query = events.events_query(current_user, campaign, region, status)
    except DomainError:
        abort(404)
    page = page_number()
    found = paginate(query.options(selectinload(Event.region)), {"page": page, "per_page": events.PROGRAMME_PAGE})
    pages = events.programme_pages(found["total"])
    if page > pages:
        abort(404)
    by_status = query.with_only_columns(Event.status, func.count()).group_by(Event.status).order_by(None)
    counts = dict.fromkeys(STATUS_LABELS, 0) | dict(db.session.execute(by_status).all())
    regions = [r for r in active_regions() if current_user.role != "regional" or r.id == current_user.region_id]
    return render_template(
        "events/list.html",
        campaign=campaign,
        events=found["items"],
        page=page,
        pages=pages,
        args={key: value for key, value in (("region", region), ("status", status)) if value},
        regions=regions,
        region=region,
        status=status,
        counts=counts,
        statuses=STATUS_LABELS,
        can_write=lambda e: can_write(current_user, e.region_id),
    )


def save_from_form(campaign: Campaign, event: Event | None):
    allowed = writable_region_ids(current_user, [r.id for r in active_regions()])
    regions = [r for r in active_regions() if r.id in allowed]
    form = EventForm(obj=event)
    event_choices(form, campaign, regions)
    if request.method == "GET":
        tz = services.zone(campaign.timezone)
        if event is not None:
            form.region.data = event.region.code
            form.starts_at.data = event.starts_at.astimezone(tz).replace(tzinfo=None)
            form.ends_at.data = event.ends_at.astimezone(tz).replace(tzinfo=None) if event.ends_at else None
        elif len(regions) == 1:
            form.region.data = regions[0].code
    if form.validate_on_submit():
        try:
            saved = events.save_event(current_user, campaign, event, form_data(form))
        except PermissionDenied:
            raise
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
        else:
            db.session.commit()
            flash(_("Événement enregistré."), "success")
            return redirect(url_for("events.detail", event_id=saved.id))
    return render_template("events/form.html", form=form, campaign=campaign, event=event)


@bp.route("/events/new", methods=["GET", "POST"])
def new():
    if current_user.role == "viewer":
        raise PermissionDenied(_("Compte en lecture seule."))
    return save_from_form(the_campaign(), None)


@bp.route("/events/<int:event_id>")
def detail(event_id: int):
    event = events.get_event(current_user, event_id)
    return render_template(
        "events/detail.html",
        event=event,
        campaign=event.campaign,
        statuses=STATUS_LABELS,
        writable=can_write(current_user, event.region_id),
        transitions=events.TRANSITIONS[event.status],
        confirm=ConfirmForm(),
        reject=RejectForm(),
    )


@bp.route("/events/<int:event_id>/edit", methods=["GET", "POST"])
def edit(event_id: int):
    event = events.get_event(current_user, event_id)
    if not can_write(current_user, event.region_id):
        raise PermissionDenied(_("Vous ne pouvez modifier que les événements de votre région."))
    return save_from_form(event.campaign, event)


def decide(event: Event, status: str, reason: str | None = None):
    events.moderate(current_user, event, status, reason)
    db.session.commit()
    told = events.notify_decision(event)
    message = _("Événement approuvé : il est au programme.") if status == "approved" else _("Événement refusé.")
    if event.organiser_email:
        message += " " + (
            _("L'organisateur en est informé par e-mail.")
            if told
            else _("L'e-mail à l'organisateur n'a pas pu partir.")
        )
    flash(message, "success" if told or not event.organiser_email else "error")
    return redirect(url_for("events.detail", event_id=event.id))


@bp.route("/events/<int:event_id>/approve", methods=["POST"])
def approve(event_id: int):
    event = events.get_event(current_user, event_id)
    require_write(current_user, event.region_id)
    if not ConfirmForm().validate_on_submit():
        abort(400)
    return decide(event, "approved")


@bp.route("/events/<int:event_id>/reject", methods=["POST"])
def reject(event_id: int):
    event = events.get_event(current_user, event_id)
    require_write(current_user, event.region_id)
    form = RejectForm()
    if not form.validate_on_submit():
        flash(_("Indiquez le motif du refus : l'organisateur le recevra."), "error")
        return redirect(url_for("events.detail", event_id=event.id))
    return decide(event, "rejected", form.reason.data)


@bp.route("/events/<int:event_id>/delete", methods=["POST"])
def delete(event_id: int):
    event = events.get_event(current_user, event_id)
    require_write(current_user, event.region_id)
    if ConfirmForm().validate_on_submit():
        events.delete_event(current_user, event)
        db.session.commit()
        flash(_("Événement supprimé."), "success")
    return redirect(url_for("events.index"))


@bp.route("/events/vocabulary", methods=["GET", "POST"])
def vocabulary():
    campaign = the_campaign()
    if current_user.role not in ("admin", "national"):
        raise PermissionDenied(_("Seule l'équipe nationale modifie les listes."))
    form = VocabularyForm()
    if request.method == "GET":
        types, themes = events.vocabulary(campaign)
        form.types.data, form.themes.data = "\n".join(types), "\n".join(themes)
    if form.validate_on_submit():
        try:
            events.save_vocabulary(current_user, campaign, form.types.data.splitlines(), form.themes.data.splitlines())
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
        else:
            db.session.commit()
            flash(_("Listes enregistrées."), "success")
            return redirect(url_for("events.index"))
    return render_template("events/vocabulary.html", form=form, campaign=campaign)


# ---- public pages -------------------------------------------------------------------------------


@public.route("/events/propose", methods=["GET", "POST"])
def propose():
    campaign = editions.open_edition() or abort(404)
    if request.content_length and request.content_length > PROPOSAL_MAX_BYTES:
        abort(413)
    form = ProposalForm()
    event_choices(form, campaign, active_regions())
    if request.method == "GET" and request.args.get("region"):
        form.region.data = request.args["region"]
    status = 200
    if form.validate_on_submit():
        now, address = utcnow(), request.remote_addr or "unknown"
        if form.website.data:  # the honeypot: look accepted, keep nothing
            return redirect(url_for("programme.proposed"))
        try:
            events.check_rate(address, now)
            event = events.propose_event(campaign, form_data(form), now)
        except events.TooManyProposals:
            db.session.rollback()
            form.form_errors.append(_("Trop de propositions depuis cette adresse : réessayez dans une heure."))
            status = 429
        except DomainError as error:
            db.session.rollback()
            attach_errors(form, error)
            status = 422
        else:
            events.record_attempt(address, now)
            db.session.commit()
            events.notify_proposal(event)
            return redirect(url_for("programme.proposed"))
    elif request.method == "POST":
        status = 400 if "csrf_token" in form.errors else 422
    return render_template("events/propose.html", form=form, campaign=campaign), status


@public.route("/events/propose/thanks")
def proposed():
    return render_template("events/proposed.html")


def programme_filters(campaign: Campaign) -> dict:
    args = request.args
    if any(has_nul(value) for value in args.values()):
        abort(400)
    region = None
    if args.get("region"):
        region = db.session.scalar(select(Region).where(Region.code == args["region"])) or abort(404)
    return {
        "region": region,
        "theme": args.get("theme") or None,
        "type_": args.get("type") or None,
        "date_from": parse_day(args.get("from")),
        "date_to": parse_day(args.get("to")),
    }


def parse_day(value: str | None) -> date | None:
    try:
        return date.fromisoformat(value) if value else None
    except ValueError:
        abort(400, description=_("Date invalide : attendu AAAA-MM-JJ."))


FILTER_ARGS = ("region", "theme", "type", "from", "to", "campaign", "edition")


def filter_args() -> dict:
    """The programme's filters as given, to keep them in pager and feed links."""
    return {key: request.args[key] for key in FILTER_ARGS if request.args.get(key)}


@public.route("/programme")
def programme():
    campaign = public_campaign()
    filters, page = programme_filters(campaign), page_number()
    found = events.public_events(campaign, **filters, page=page)
    pages = events.programme_pages(found["total"])
    if page > pages:
        abort(404)
    types, themes = events.vocabulary(campaign)
    return render_template(
        "programme/index.html",
        campaign=campaign,
        events=found["items"],
        total=found["total"],
        page=page,
        pages=pages,
        args=filter_args(),
        filters=filters,
        regions=active_regions(),
        types=types,
        themes=themes,
        brand=brand_of(campaign),
        brand_region=filters["region"],
        archive=editions.archive(campaign),
        is_current=campaign == services.current_campaign(public=True),
    )


@public.route("/programme.ics")
def programme_ics():
    """The selection as an RFC 5545 feed, bounded (see events.feed_since: 30 days back while the
    campaign runs, its whole span once it has ended; 1,000 events at most), with an ETag from one
    aggregate, so a subscriber's unchanged poll costs a 304 and no rows, and a poll without
    validators gets the feed already rendered for that version (calendar.RenderedFeeds)."""
    campaign = public_campaign()
    filters = programme_filters(campaign)
    title = f"{campaign.name} — programme" + (f" — {filters['region'].name}" if filters["region"] else "")
    since = events.feed_since(campaign, utcnow())
    tag = events.feed_version(
        campaign, since, filters, campaign.id, public_host(), title, campaign.timezone, sorted(filter_args().items())
    )
    response = Response(mimetype="text/calendar", headers={"Content-Disposition": "inline; filename=programme.ics"})
    response.set_etag(tag, weak=True)  # weak: DTSTAMP differs between two renderings of the same feed
    response.cache_control.no_cache = True  # always ask, a 304 is cheap
    if response.make_conditional(request).status_code == 304:
        return response
    body = calendar.PROGRAMME_FEEDS.get(tag)
    if body is None:
        body = calendar.programme_calendar(
            campaign, events.feed_events(campaign, since, **filters), public_host(), title
        )
        calendar.PROGRAMME_FEEDS.put(tag, body)
    response.set_data(body)
    return response


@public.route("/programme/embed/<code>")
def embed(code: str):
    """One region's programme, to put in an iframe on the chamber's own website: its next events
    (from today in the campaign's zone; the whole programme once the campaign is over), one page."""
    campaign = public_campaign()
    region = db.session.scalar(select(Region).where(Region.code == code)) or abort(404)
    tz = campaign.timezone
    today = utcnow().astimezone(services.zone(tz)).date()
    since = services.to_utc(datetime.combine(today, time()), tz) if today <= campaign.ends_on else None
    found = events.public_events(campaign, region=region, ends_from=since)
    response = make_response(
        render_template(
            "programme/embed.html", campaign=campaign, region=region, events=found["items"], total=found["total"]
        )
    )
    # Any chamber's website may frame this page (frame-ancestors overrides X-Frame-Options).
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; script-src 'none'; style-src 'self'; img-src 'self' data:; frame-ancestors *"
    )
    return response
