"""Demo templates for the seed's moments (idempotent): partner relay kit, regional press conference
invitation, national press release. People and addresses are invented (example.org)."""

from sqlalchemy import select

from campaign.models import Campaign
from extensions import db
from mailings.models import EmailTemplate
from mailings.rendering import compile_template

RELAY_KIT = (
    "Kit relais partenaires",
    "{{ campaign.name }} : le kit pour relayer le Mois dans votre réseau",
    """<p>Bonjour {{ contact.first_name }},</p>
<p>En novembre, {{ campaign.name }} rassemble associations, coopératives, mutuelles et fondations dans toutes
les régions. Merci de relayer l'information auprès de vos fédérations, unions et structures adhérentes.</p>
<p>Vous trouverez dans ce kit le logo, la charte graphique commune et un texte court à reprendre dans vos
lettres d'information.</p>
<p>La conférence de presse nationale aura lieu le {{ conference.starts_at|date_fr }}{% if conference.city %}
à {{ conference.city }}{% endif %}.</p>
<p>Bien cordialement,<br>L'équipe du Mois</p>""",
)
INVITATION = (
    "Invitation à la conférence de presse régionale",
    "Invitation presse : {{ campaign.name }} en {{ region.name }}",
    """<p>Bonjour {{ contact.first_name }},</p>
<p>La chambre régionale de l'économie sociale et solidaire a le plaisir de vous inviter à sa conférence de presse
de lancement du Mois en {{ region.name }}, le <strong>{{ conference.starts_at|date_fr }}</strong>{% if conference.venue %},
{{ conference.venue }}{% endif %}{% if conference.city %} à {{ conference.city }}{% endif %}.</p>
{% if events %}<p>Quelques rendez-vous du programme régional :</p>
<ul>{% for event in events[:5] %}<li>{{ event.title }} — {{ event.starts_at|date_fr }}, {{ event.city }}</li>{% endfor %}</ul>{% endif %}
<p>Merci de nous indiquer votre présence :
<a href="{{ rsvp_yes_url }}">je serai présent·e</a> · <a href="{{ rsvp_no_url }}">je ne pourrai pas venir</a></p>
<p>Bien cordialement,<br>Le service presse</p>""",
)
PRESS_RELEASE = (
    "Communiqué de presse national",
    "Communiqué : {{ campaign.name }}, du {{ campaign.starts_on|date_fr }} au {{ campaign.ends_on|date_fr }}",
    """<p>Madame, Monsieur,</p>
<p><strong>{{ campaign.name }}</strong> : pour la première fois, vingt chambres régionales de l'économie sociale et
solidaire organisent ensemble un mois d'événements, du {{ campaign.starts_on|date_fr }} au
{{ campaign.ends_on|date_fr }}.</p>
<p>Forums, visites d'entreprises, colloques, portes ouvertes, marchés et fêtes : le programme complet de votre région
sera présenté lors de la conférence de presse du {{ conference.starts_at|date_fr }}.</p>
<p>Contact presse : répondez simplement à ce message.</p>""",
)
TEMPLATES = (RELAY_KIT, INVITATION, PRESS_RELEASE)


def load(campaign: Campaign) -> list[EmailTemplate]:
    """The three demo templates of the campaign, created once."""
    found = []
    for name, subject, html in TEMPLATES:
        compile_template(subject, html)  # the demo passes the same checks as any template
        template = db.session.scalar(
            select(EmailTemplate).where(EmailTemplate.campaign_id == campaign.id, EmailTemplate.name == name)
        )
        if template is None:
            template = EmailTemplate(campaign_id=campaign.id, name=name, subject=subject, html=html, text="")
            db.session.add(template)
        found.append(template)
    db.session.flush()
    return found
