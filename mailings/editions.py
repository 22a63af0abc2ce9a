"""What a new edition carries over from mailings: the templates tied to the earlier campaign (shared
templates, without a campaign, serve every edition already). Sends and deliveries stay behind."""

from sqlalchemy import select

from extensions import db
from mailings.models import EmailTemplate


def copy_templates(source, target) -> dict:
    """Each template of `source`, copied for `target` (same region, subject and bodies)."""
    found = db.session.scalars(
        select(EmailTemplate).where(EmailTemplate.campaign_id == source.id).order_by(EmailTemplate.id)
    ).all()
    for template in found:
        db.session.add(
            EmailTemplate(
                campaign_id=target.id,
                region_id=template.region_id,
                name=template.name,
                subject=template.subject,
                html=template.html,
                text=template.text,
            )
        )
    return {"templates": len(found)}
