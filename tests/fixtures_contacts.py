"""Contact factories shared by every test module."""

import secrets

import pytest

from extensions import db


@pytest.fixture
def make_contact(app, regions):
    """make_contact(email=..., kind="media", region="93", **fields) -> Contact, committed."""
    from contacts.models import Contact

    def make(email: str | None = None, region: str | None = None, **fields):
        contact = Contact(
            email=(email or f"contact-{secrets.token_hex(4)}@example.org").lower(),
            region_id=regions[region].id if region else None,
            first_name=fields.pop("first_name", "Camille"),
            last_name=fields.pop("last_name", "Durand"),
            kind=fields.pop("kind", "media"),
            **fields,
        )
        db.session.add(contact)
        db.session.commit()
        return contact

    return make
