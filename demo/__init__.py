"""The demo campaign (Mois de l'ESS 2008): its data and loaders, out of the domain packages.

`load()` is the one entry point (`flask demo load`); each module loads one domain's part and is
idempotent.
"""

from accounts.models import User
from campaign.models import Campaign
from demo import campaign as campaign_demo
from demo import contacts, events, mailings, press


def load() -> tuple[Campaign, dict[str, tuple[User, str | None]]]:
    """The whole seed: regions, people, the campaign and its timeline, events, contacts, templates,
    press; flushes, the caller commits. Returns the campaign and the people (with new passwords)."""
    campaign, people = campaign_demo.load()
    events.load(campaign)
    contacts.load()
    mailings.load(campaign)
    press.load(campaign)
    return campaign, people
