"""Who may read and write what, for every route of the app, generated from its own route map.

Every rule × method is tried as anonymous, viewer, regional coordinator (own region 93, PACA,
against region 53, Bretagne) and national lead, on the full demo data. The invariants:
- anonymous: every route that is not public goes to the login page (pages) or answers 401 (API);
- viewer: every write to a non-public route is refused (403);
- regional coordinator: anything of another region is refused (403 or 404), read or write;
- admin pages: only admins;
- national lead: every page and API list/detail read answers (2xx or a redirect);
- nobody ever gets a 5xx.
A route the matrix cannot classify (an argument it does not know how to fill) fails the test, so a
new route cannot slip past it.
"""

import re

import pytest
from sqlalchemy import select

from extensions import db
from tests.conftest import PASSWORD

PUBLIC = re.compile(
    r"^(static|ops\.|api-docs\.|accounts\.login_page|accounts\.logout|calendar\.feed|programme\.|newsroom\.|"
    r"press_public\.|relay_public\.|public_mail\.)"
)
ADMIN_ONLY = {"accounts.users", "accounts.audit"}
# writes any signed-in person may make about themselves
SELF_SERVICE = {"reminders.preferences"}
WRITE_METHODS = ("POST", "PATCH", "PUT", "DELETE")
OWN, OTHER = "93", "53"


def first(query):
    return db.session.scalars(query.limit(1)).first()


def in_region(model, code: str, regions, *where):
    """A row of `model` in region `code`; moves one there when the demo has none."""
    region_id = regions[code].id
    row = first(select(model).where(model.region_id == region_id, *where).order_by(model.id))
    if row is None:
        other = regions[OWN if code == OTHER else OTHER].id
        row = first(select(model).where(model.region_id.is_distinct_from(other), *where).order_by(model.id))
        assert row is not None, f"the demo has no {model.__name__} to place in region {code}"
        row.region_id = region_id
        db.session.commit()
    return row


def resolvers(regions):
    from campaign.federation_models import PressClipping, ReadinessItem
    from campaign.models import Campaign, Event, Milestone
    from contacts.models import Contact, ContactList, Segment
    from mailings.models import EmailTemplate, Mailing
    from press.models import PressKitFile, PressRelease, RelayKit

    conference = Milestone.kind == "regional_press_conference"
    return {
        "campaign_id": lambda code: first(select(Campaign.id)),
        "milestone_id": lambda code: in_region(Milestone, code, regions, conference).id,
        "contact_id": lambda code: in_region(Contact, code, regions).id,
        "event_id": lambda code: in_region(Event, code, regions).id,
        "clipping_id": lambda code: in_region(PressClipping, code, regions).id,
        "release_id": lambda code: in_region(PressRelease, code, regions).id,
        "kit_id": lambda code: in_region(RelayKit, code, regions).id,
        "file_id": lambda code: in_region(PressKitFile, code, regions).id,
        "list_id": lambda code: in_region(ContactList, code, regions).id,
        "segment_id": lambda code: in_region(Segment, code, regions).id,
        "mailing_id": lambda code: in_region(Mailing, code, regions).id,
        "template_id": lambda code: in_region(EmailTemplate, code, regions).id,
        "code": lambda code: code,
        "key": lambda code: (
            first(select(ReadinessItem.key).where(ReadinessItem.region_id == regions[code].id)) or "venue"
        ),
    }


# arguments that are not a region's object: filled with a harmless value
NEUTRAL = {"filename": "file.pdf", "token": "not-a-valid-token", "action": "invite", "path": "x"}


def urls(app, regions):
    """(endpoint, method, url for OWN, url for OTHER, region-scoped?) for every rule."""
    fill = resolvers(regions)
    unknown, out = set(), []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == "static":
            continue
        args = {}
        for scope in (OWN, OTHER):
            values = {}
            for name in rule.arguments:
                if name in fill:
                    values[name] = fill[name](scope)
                elif name in NEUTRAL:
                    values[name] = NEUTRAL[name]
                else:
                    unknown.add(f"{rule.endpoint}: <{name}>")
            args[scope] = values
        scoped = any(n in fill and n != "campaign_id" for n in rule.arguments)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            try:
                own = rule.build(args[OWN], append_unknown=False)[1]
                other = rule.build(args[OTHER], append_unknown=False)[1]
            except Exception:  # noqa: BLE001 - an unbuildable rule is reported as unknown
                unknown.add(f"{rule.endpoint}: cannot build")
                continue
            out.append((rule.endpoint, method, own, other, scoped))
    assert not unknown, f"classify these routes in the authorization matrix: {sorted(unknown)}"
    return out


@pytest.fixture
def demo_everything(app, runner):
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    from accounts.models import Region
    from campaign.models import Campaign
    from contacts.models import ContactList, Segment
    from mailings.models import EmailTemplate, Mailing
    from press.models import PressKitFile, PressRelease, RelayKit

    regions = {r.code: r for r in db.session.scalars(select(Region))}
    campaign = first(select(Campaign))
    for code in (OWN, OTHER):  # a draft mailing per region, whatever the demo ships
        template = EmailTemplate(
            campaign_id=campaign.id,
            region_id=regions[code].id,
            name=f"Matrice {code}",
            subject="Bonjour {{ contact.first_name }}",
            html="<p>Bonjour</p>",
            text="",
        )
        db.session.add(template)
        db.session.flush()
        db.session.add(
            Mailing(
                campaign_id=campaign.id,
                template_id=template.id,
                region_id=regions[code].id,
                name=f"Matrice {code}",
                from_name="CRES",
                from_email="cres@example.org",
            )
        )
        db.session.add(
            PressKitFile(
                campaign_id=campaign.id,
                region_id=regions[code].id,
                kind="pdf",
                title="Dossier",
                filename="dossier.pdf",
                content_type="application/pdf",
                size=4,
                data=b"%PDF",
            )
        )
        db.session.add(ContactList(name=f"Liste {code}", region_id=regions[code].id))
        db.session.add(Segment(name=f"Segment {code}", filter={"kind": "media"}, region_id=regions[code].id))
        db.session.add(RelayKit(campaign_id=campaign.id, region_id=regions[code].id, title=f"Kit {code}"))
        db.session.add(PressRelease(campaign_id=campaign.id, region_id=regions[code].id, title=f"Communiqué {code}"))
    db.session.commit()
    return regions


def signed_in(app, user):
    client = app.test_client()
    page = client.get("/login")
    from tests.conftest import csrf_from

    client.post(
        "/login", data={"email": user.email, "password": PASSWORD, "csrf_token": csrf_from(page.get_data(as_text=True))}
    )
    return client


def call(client, method, url, headers=None):
    return client.open(url, method=method, headers=headers or {}, data={} if method != "GET" else None)


def test_every_route_by_every_role(app, demo_everything, make_user, monkeypatch):
    from accounts.services import issue_token

    regions = demo_everything
    routes = urls(app, regions)
    people = {
        role: make_user(role, region=OWN if role == "regional" else None) for role in ("viewer", "regional", "national")
    }
    tokens = {role: {"Authorization": f"Bearer {issue_token(user)}"} for role, user in people.items()}
    db.session.commit()
    clients = {role: signed_in(app, user) for role, user in people.items()}
    assert {role: c.get("/").status_code for role, c in clients.items()} == dict.fromkeys(clients, 200)
    anonymous = app.test_client()
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # authorization, not CSRF, is under test here
    problems = []

    def expect(ok: bool, who: str, method: str, url: str, status: int, wanted: str):
        if not ok:
            problems.append(f"{who:9} {method:6} {url} -> {status} (expected {wanted})")

    for endpoint, method, own, other, scoped in routes:
        api = own.startswith("/api/")
        public = bool(PUBLIC.match(endpoint))
        write = method in WRITE_METHODS
        for who, url in (("anonymous", own),):
            status = call(anonymous, method, url).status_code
            # /readyz answers 503 by design while no scheduler keeps time (none runs in tests)
            expect(status < 500 or endpoint == "ops.readyz", who, method, url, status, "no 5xx")
            if not public:
                wanted = {401} if api else {302}
                expect(status in wanted or (not api and status == 400 and write), who, method, url, status, str(wanted))
        if public:
            continue
        headers = {role: tokens[role] if api else {} for role in tokens}
        client = {role: clients[role] for role in clients}
        # viewer: reads, never writes
        status = call(client["viewer"], method, own, headers["viewer"]).status_code
        expect(status < 500, "viewer", method, own, status, "no 5xx")
        if write and endpoint not in SELF_SERVICE:
            expect(status in (403, 404, 405), "viewer", method, own, status, "403")
        if endpoint in ADMIN_ONLY:
            for role in ("viewer", "regional", "national"):
                status = call(client[role], method, own, headers[role]).status_code
                expect(status == 403, role, method, own, status, "403 (admins only)")
            continue
        # regional coordinator: another region's objects are out of reach
        if scoped:
            status = call(client["regional"], method, other, headers["regional"]).status_code
            expect(status in (403, 404), "regional", method, other, status, "403/404 (other region)")
        # national lead: every read answers
        if not write:
            status = call(client["national"], method, own, headers["national"]).status_code
            expect(status < 400 or status == 404 and "token" in own, "national", method, own, status, "2xx/3xx")
    assert not problems, f"{len(problems)} authorization problems:\n" + "\n".join(problems)
