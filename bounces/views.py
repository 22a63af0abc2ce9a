"""What the pages show of bounces: template globals that the mailing page, the contact page and the
dashboard include (mailings and contacts never import this package)."""

from flask import Blueprint

from bounces import services

bp = Blueprint("bounces", __name__)


@bp.app_template_global("bounce_summary")
def bounce_summary(mailing) -> dict:
    """For `{% include "bounces/_mailing_summary.html" %}`: the mailing's rates and reports."""
    return {"rates": services.mailing_rates(mailing.id), "events": services.events_of_mailing(mailing.id)}


@bp.app_template_global("contact_bounces")
def contact_bounces(contact) -> list:
    """For `{% include "bounces/_contact_events.html" %}`: what the servers said about this person."""
    return services.events_of_contact(contact.id)


@bp.app_template_global("campaign_bounce_rates")
def campaign_bounce_rates(campaign) -> dict:
    """For `{% include "bounces/_campaign_rates.html" %}` on the dashboard, per region."""
    return services.campaign_rates(campaign.id)
