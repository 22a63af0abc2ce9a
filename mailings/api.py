"""JSON API for templates and mailings: thin adapters over mailings.services."""

from datetime import datetime

from sqlalchemy import select

from accounts.api import api_blueprint, current_api_user
from accounts.scoping import readable
from campaign.services import to_utc
from extensions import db
from mailings import services
from mailings.approval_models import MailingApproval
from mailings.audience import audience_size, recipient_rows, summary
from mailings.models import Delivery, EmailTemplate, Mailing
from mailings.schemas import (
    ApprovalStepSchema,
    DecisionSchema,
    DeliveryQuery,
    DeliverySchema,
    MailingPatchSchema,
    MailingSchema,
    PreviewQuery,
    PreviewSchema,
    RecipientPageSchema,
    RecipientQuery,
    ScheduleSchema,
    SubmitSchema,
    TemplatePatchSchema,
    TemplateSchema,
    TestSendSchema,
)
from pagination import PageArgs, page_schema, paginate

templates_bp = api_blueprint("mail_templates", "Email templates (Jinja2 in a sandbox)")
mailings_bp = api_blueprint("mailings_api", "Mailings, their status machine and their deliveries")


def mailing_out(mailing: Mailing) -> dict:
    data = {c: getattr(mailing, c) for c in MailingSchema().fields if hasattr(mailing, c) and c != "stats"}
    data["region"] = mailing.region.code if mailing.region else None
    data["audience_summary"] = summary(mailing.audience or {})
    data["audience_size"] = audience_size(mailing.audience or {}, mailing.region_id)["total"]
    data["stats"] = services.stats(mailing)
    return data


def in_campaign_zone(mailing: Mailing, value: datetime | None) -> datetime | None:
    """A time without offset is read in the campaign's time zone."""
    if value is None or value.tzinfo is not None:
        return value
    return to_utc(value, mailing.campaign.timezone)


@templates_bp.route("/templates")
@templates_bp.arguments(PageArgs, location="query")
@templates_bp.response(200, page_schema(TemplateSchema))
def templates(args):
    """The templates this token may read."""
    query = readable(select(EmailTemplate).order_by(EmailTemplate.name), current_api_user(), EmailTemplate.region_id)
    return paginate(query, args)


@templates_bp.route("/templates", methods=["POST"])
@templates_bp.arguments(TemplateSchema)
@templates_bp.response(201, TemplateSchema)
def create_template(data):
    """A new template; an escape attempt or an unknown name is refused with 422."""
    template = services.save_template(current_api_user(), None, data)
    db.session.commit()
    return template


@templates_bp.route("/templates/<int:template_id>")
@templates_bp.response(200, TemplateSchema)
def get_template(template_id):
    return services.get_template(current_api_user(), template_id)


@templates_bp.route("/templates/<int:template_id>", methods=["PATCH"])
@templates_bp.arguments(TemplatePatchSchema(partial=True))
@templates_bp.response(200, TemplateSchema)
def update_template(data, template_id):
    template = services.save_template(current_api_user(), services.get_template(current_api_user(), template_id), data)
    db.session.commit()
    return template


@mailings_bp.route("/mailings")
@mailings_bp.arguments(PageArgs, location="query")
@mailings_bp.response(200, page_schema(MailingSchema))
def mailings(args):
    """The mailings this token may read, the latest first."""
    return paginate(services.readable_mailings(current_api_user()), args, lambda rows: [mailing_out(m) for m in rows])


@mailings_bp.route("/mailings", methods=["POST"])
@mailings_bp.arguments(MailingSchema)
@mailings_bp.response(201, MailingSchema)
def create_mailing(data):
    """A draft mailing; a regional coordinator's mailing belongs to its region."""
    mailing = services.save_mailing(current_api_user(), None, data)
    mailing.embargo_until = in_campaign_zone(mailing, mailing.embargo_until)
    db.session.commit()
    return mailing_out(mailing)


@mailings_bp.route("/mailings/<int:mailing_id>")
@mailings_bp.response(200, MailingSchema)
def get_mailing(mailing_id):
    return mailing_out(services.get_mailing(current_api_user(), mailing_id))


@mailings_bp.route("/mailings/<int:mailing_id>", methods=["PATCH"])
@mailings_bp.arguments(MailingPatchSchema(partial=True))
@mailings_bp.response(200, MailingSchema)
def update_mailing(data, mailing_id):
    """Edit a draft (only drafts are edited)."""
    mailing = services.save_mailing(current_api_user(), services.get_mailing(current_api_user(), mailing_id), data)
    mailing.embargo_until = in_campaign_zone(mailing, mailing.embargo_until)
    db.session.commit()
    return mailing_out(mailing)


@mailings_bp.route("/mailings/<int:mailing_id>/preview")
@mailings_bp.arguments(PreviewQuery, location="query")
@mailings_bp.response(200, PreviewSchema)
def preview(args, mailing_id):
    """The message as one contact would receive it, and its weight."""
    mailing = services.get_mailing(current_api_user(), mailing_id)
    return services.preview(current_api_user(), mailing, args["contact_id"])


@mailings_bp.route("/mailings/<int:mailing_id>/test", methods=["POST"])
@mailings_bp.arguments(TestSendSchema)
@mailings_bp.response(200, TestSendSchema)
def send_test(data, mailing_id):
    """Send a test message to one address."""
    mailing = services.get_mailing(current_api_user(), mailing_id)
    return services.send_test(current_api_user(), mailing, data["email"], data["contact_id"])


def action(name: str, doc: str):
    def view(mailing_id):
        user = current_api_user()
        mailing = services.transition(user, services.get_mailing(user, mailing_id), name)
        db.session.commit()
        return mailing_out(mailing)

    view.__name__ = f"mailing_{name}"
    view.__doc__ = doc
    path = name.replace("_", "-")
    mailings_bp.route(f"/mailings/<int:mailing_id>/{path}", methods=["POST"])(
        mailings_bp.response(200, MailingSchema)(view)
    )


for _name, _doc in (
    ("send_now", "Freeze the audience and start sending now."),
    ("pause", "Pause sending (or a scheduled start)."),
    ("resume", "Resume a paused mailing."),
    ("cancel", "Cancel the mailing; what was sent stays sent."),
    ("retry_failed", "Send again to the failed recipients only."),
    ("resend_unknown", "Send again to the recipients whose delivery is unknown (a person decided)."),
):
    action(_name, _doc)


def approval_step(mailing_id: int, action: str, comment: str, send_at=None, allow_weekend: bool = False) -> dict:
    """One step of the approval, committed; the scheduler emails it (a submission to the national
    team, a decision to the region)."""
    user = current_api_user()
    mailing = services.get_mailing(user, mailing_id)
    send_at = in_campaign_zone(mailing, send_at)
    services.transition(user, mailing, action, comment=comment, send_at=send_at, allow_weekend=allow_weekend)
    db.session.commit()
    return mailing_out(mailing)


@mailings_bp.route("/mailings/<int:mailing_id>/submit", methods=["POST"])
@mailings_bp.arguments(SubmitSchema, required=False)
@mailings_bp.response(200, MailingSchema)
def mailing_submit(data, mailing_id):
    """Ask for national approval (regional mailings), with the time it goes once approved; the
    national team is told by email."""
    return approval_step(
        mailing_id, "submit", data.get("comment", ""), data.get("send_at"), data.get("allow_weekend", False)
    )


@mailings_bp.route("/mailings/<int:mailing_id>/approve", methods=["POST"])
@mailings_bp.arguments(DecisionSchema, required=False)
@mailings_bp.response(200, MailingSchema)
def mailing_approve(data, mailing_id):
    """Approve a submitted mailing (national leads and admins): with a send time it becomes
    `scheduled` (or starts when that time has passed); the region is told by email."""
    return approval_step(mailing_id, "approve", data.get("comment", ""))


@mailings_bp.route("/mailings/<int:mailing_id>/reject", methods=["POST"])
@mailings_bp.arguments(DecisionSchema, required=False)
@mailings_bp.response(200, MailingSchema)
def mailing_reject(data, mailing_id):
    """Send a submitted mailing back to the region as a draft, with a `comment` (required) it gets by email."""
    return approval_step(mailing_id, "reject", data.get("comment", ""))


@mailings_bp.route("/mailings/<int:mailing_id>/approvals")
@mailings_bp.arguments(PageArgs, location="query")
@mailings_bp.response(200, page_schema(ApprovalStepSchema))
def mailing_approvals(args, mailing_id):
    """The approval's history, oldest first: who asked, approved or sent back, when, and what they said."""
    mailing = services.get_mailing(current_api_user(), mailing_id)
    query = select(MailingApproval).where(MailingApproval.mailing_id == mailing.id)
    return paginate(query.order_by(MailingApproval.created_at, MailingApproval.id), args)


@mailings_bp.route("/mailings/<int:mailing_id>/schedule", methods=["POST"])
@mailings_bp.arguments(ScheduleSchema)
@mailings_bp.response(200, MailingSchema)
def schedule(data, mailing_id):
    """Send at `send_at` (the scheduler starts it)."""
    user = current_api_user()
    mailing = services.get_mailing(user, mailing_id)
    send_at = in_campaign_zone(mailing, data["send_at"])
    mailing = services.transition(user, mailing, "schedule", send_at=send_at, allow_weekend=data["allow_weekend"])
    db.session.commit()
    return mailing_out(mailing)


@mailings_bp.route("/mailings/<int:mailing_id>/recipients")
@mailings_bp.arguments(RecipientQuery, location="query")
@mailings_bp.response(200, RecipientPageSchema)
def recipients(args, mailing_id):
    """Who will receive the mailing if it left now, then who is left out and why (`excluded_because`:
    opted_out, bounced, stopped_stream, erased, pressure, other_region, no_address)."""
    user = current_api_user()
    mailing = services.get_mailing(user, mailing_id)
    return recipient_rows(user, mailing, args["page"], args["per_page"], args["excluded"])


@mailings_bp.route("/mailings/<int:mailing_id>/deliveries")
@mailings_bp.arguments(DeliveryQuery, location="query")
@mailings_bp.response(200, page_schema(DeliverySchema))
def deliveries(args, mailing_id):
    """Who got it, when, the server's answer; who did not and why."""
    mailing = services.get_mailing(current_api_user(), mailing_id)
    query = select(Delivery).where(Delivery.mailing_id == mailing.id).order_by(Delivery.id)
    if args["status"]:
        query = query.where(Delivery.status == args["status"])
    return paginate(query, args)


blueprints = [templates_bp, mailings_bp]
