"""JSON API: events of a campaign and their moderation (the contract's `events` resource)."""

from marshmallow import Schema, fields, validate
from sqlalchemy.orm import selectinload

from accounts.api import api_blueprint, current_api_user
from campaign import events, services
from campaign.models import EVENT_STATUSES, Event
from extensions import db
from pagination import PageArgs, page_schema, paginate

bp = api_blueprint("event_api", "Regional events and their moderation")


class EventSchema(Schema):
    """Nothing is required by the schema itself: rights are checked first, then the service names
    the missing fields (region, title, starts_at to create) in a 422."""

    id = fields.Integer(dump_only=True)
    campaign_id = fields.Integer(dump_only=True)
    region = fields.String(metadata={"description": "Region code (required to create)"})
    title = fields.String(validate=validate.Length(min=1, max=200), metadata={"description": "Required to create"})
    type = fields.String(validate=validate.Length(max=60), metadata={"description": "One of the campaign's types"})
    themes = fields.List(
        fields.String(validate=validate.Length(max=120)), validate=validate.Length(max=events.MAX_THEMES)
    )
    starts_at = fields.DateTime(metadata={"description": "Required to create; without offset: the campaign's zone"})
    ends_at = fields.DateTime(allow_none=True)
    city = fields.String(validate=validate.Length(max=120))
    venue = fields.String(validate=validate.Length(max=200))
    organiser = fields.String(validate=validate.Length(max=200))
    organiser_email = fields.String(validate=[validate.Email(), validate.Length(max=254)])
    description = fields.String(validate=validate.Length(max=5000))
    status = fields.String(
        validate=validate.OneOf(EVENT_STATUSES),
        metadata={"description": "proposed → approved | rejected; created by staff: approved unless given"},
    )
    rejection_reason = fields.String(validate=validate.Length(max=2000))


class EventPatchSchema(EventSchema):
    """PATCH body: any subset of the event's fields (a status change follows the moderation rules)."""


class EventQuery(PageArgs):
    region = fields.String(metadata={"description": "Region code"})
    status = fields.String(validate=validate.OneOf(EVENT_STATUSES))


class RejectSchema(Schema):
    reason = fields.String(validate=validate.Length(max=2000), metadata={"description": "Required"})


def event_out(event: Event) -> dict:
    tz = services.zone(event.campaign.timezone)
    return {
        "id": event.id,
        "campaign_id": event.campaign_id,
        "region": event.region.code,
        "title": event.title,
        "type": event.type,
        "themes": list(event.themes or []),
        "starts_at": event.starts_at.astimezone(tz),
        "ends_at": event.ends_at.astimezone(tz) if event.ends_at else None,
        "city": event.city,
        "venue": event.venue,
        "organiser": event.organiser,
        "organiser_email": event.organiser_email,
        "description": event.description,
        "status": event.status,
        "rejection_reason": event.rejection_reason,
    }


@bp.route("/campaigns/<int:campaign_id>/events")
@bp.arguments(EventQuery, location="query")
@bp.response(200, page_schema(EventSchema))
def list_events(args, campaign_id):
    """The campaign's events this token may read (a coordinator: its region's), by start time."""
    campaign = services.get_campaign(campaign_id)
    query = events.events_query(current_api_user(), campaign, args.get("region"), args.get("status"))
    query = query.options(selectinload(Event.region), selectinload(Event.campaign))
    return paginate(query, args, lambda rows: [event_out(e) for e in rows])


@bp.route("/campaigns/<int:campaign_id>/events", methods=["POST"])
@bp.arguments(EventSchema)
@bp.response(201, EventSchema)
def create_event(data, campaign_id):
    """A new event in a region the token may write."""
    campaign = services.get_campaign(campaign_id)
    event = events.save_event(current_api_user(), campaign, None, data)
    db.session.commit()
    return event_out(event)


@bp.route("/events/<int:event_id>")
@bp.response(200, EventSchema)
def get_event(event_id):
    """One event."""
    return event_out(events.get_event(current_api_user(), event_id))


@bp.route("/events/<int:event_id>", methods=["PATCH"])
@bp.arguments(EventPatchSchema(partial=True))
@bp.response(200, EventSchema)
def update_event(data, event_id):
    """Change an event; `status` moves it through moderation (rejecting needs `rejection_reason`)."""
    event = events.get_event(current_api_user(), event_id)
    before = event.status
    events.save_event(current_api_user(), event.campaign, event, data)
    db.session.commit()
    if event.status != before:
        events.notify_decision(event)
    return event_out(event)


@bp.route("/events/<int:event_id>", methods=["DELETE"])
@bp.response(204)
def delete_event(event_id):
    """Delete an event."""
    events.delete_event(current_api_user(), events.get_event(current_api_user(), event_id))
    db.session.commit()


@bp.route("/events/<int:event_id>/approve", methods=["POST"])
@bp.response(200, EventSchema)
def approve_event(event_id):
    """Publish an event in the programme; the proposer is told by email."""
    event = events.get_event(current_api_user(), event_id)
    events.moderate(current_api_user(), event, "approved")
    db.session.commit()
    events.notify_decision(event)
    return event_out(event)


@bp.route("/events/<int:event_id>/reject", methods=["POST"])
@bp.arguments(RejectSchema)
@bp.response(200, EventSchema)
def reject_event(data, event_id):
    """Refuse (or withdraw) an event with a reason; the proposer is told by email."""
    event = events.get_event(current_api_user(), event_id)
    events.moderate(current_api_user(), event, "rejected", data.get("reason"))
    db.session.commit()
    events.notify_decision(event)
    return event_out(event)


blueprints = [bp]
