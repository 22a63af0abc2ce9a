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

`test_side_doors_by_every_role` visits what URLs do not show: ids of a region's lists, segments,
contacts and milestones inside request bodies and query strings (mailing audiences, milestone_id,
previews, test sends, list members), the links a preview signs, and each reader's calendar feed
(68 requests a run, 35 of them refused as they must be).
"""

import re

import pytest
from sqlalchemy import select

from extensions import db
from tests.conftest import PASSWORD

PUBLIC = re.compile(
    r"^(static|ops\.|api-docs\.|accounts\.login_page|accounts\.logout|calendar\.feed|programme\.|newsroom\.|"
    r"press_public\.|relay_public\.|public_mail\.|brand\.|printing\.|bounce_webhooks\.)"
)
ADMIN_ONLY = {"accounts.users", "accounts.audit"}
# writes any signed-in person may make about themselves
SELF_SERVICE = {"reminders.preferences", "campaign.choose", "campaigns.choose_campaign"}  # own preferences
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


def import_job_of(code: str, regions) -> int:
    """A queued contact import of someone of region `code` (jobs belong to a person, not a region)."""
    import secrets

    from accounts.services import create_user
    from contacts.import_jobs import ImportJob

    owner = create_user(
        f"import-{code}-{secrets.token_hex(3)}@example.org", "regional", PASSWORD, regions[code].id, name="Import"
    )
    job = ImportJob(user_id=owner.id, filename="f.csv", stored_as="absent.csv", options={}, total_bytes=1, error="")
    db.session.add(job)
    db.session.commit()
    return job.id


def identity_of(code: str, regions) -> int:
    """A sender identity of region `code` (the demo configures none)."""
    from mailings.identities import SenderIdentity

    identity = SenderIdentity(region_id=regions[code].id, name="CRES", email=f"cres-{code}@example.org")
    db.session.add(identity)
    db.session.commit()
    return identity.id


def resolvers(regions):
    from campaign.federation_models import PressClipping, ReadinessItem
    from campaign.models import Campaign, Event, Milestone
    from contacts.models import Contact, ContactList, Segment
    from mail_outbox import OutboxMessage
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
        "message_id": lambda code: first(select(OutboxMessage.id)),  # the outbox is national: not a region's
        "code": lambda code: code,
        "job_id": lambda code: import_job_of(code, regions),
        "identity_id": lambda code: identity_of(code, regions),
        "key": lambda code: (
            first(select(ReadinessItem.key).where(ReadinessItem.region_id == regions[code].id)) or "venue"
        ),
    }


# arguments that are not a region's object: filled with a harmless value
NEUTRAL = {
    "filename": "file.pdf",
    "token": "not-a-valid-token",
    "action": "invite",
    "path": "x",
    "provider": "brevo",
    "ready": "reminder",
}


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
    from mail_outbox import keep

    keep("presse@example.org", "journaliste@example.org", b"Subject: Essai\r\n\r\nBonjour\r\n", db.session)
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


# ---- side doors: ids that arrive in bodies and query strings, signed links, feeds ------------------

LIVE_LINK = re.compile(r"/(unsubscribe|rsvp|relay|preferences)/[A-Za-z0-9._-]{8,}")


def side_doors(regions, own_mailing, other_mailing):
    """(name, method, url, json body, page?) for a region's `scope` (OWN or OTHER): every place where an id
    of a region's object arrives in a body or a query string rather than in the URL's path."""
    from campaign.models import Milestone
    from contacts.models import Contact, ContactList, Segment

    conference = Milestone.kind == "regional_press_conference"

    def ids(code):
        return {
            "contact": in_region(Contact, code, regions).id,
            "list": in_region(ContactList, code, regions).id,
            "segment": in_region(Segment, code, regions).id,
            "milestone": in_region(Milestone, code, regions, conference).id,
        }

    def mailing(audience, **extra):
        return {
            "template_id": own_mailing.template_id,
            "name": "Porte dérobée",
            "from_name": "CRES",
            "from_email": "cres@example.org",
            "audience": audience,
            **extra,
        }

    doors = {}
    for scope in (OWN, OTHER):
        x = ids(scope)
        doors[scope] = [
            ("mailing audience list_ids", "POST", "/api/v1/mailings", mailing({"list_ids": [x["list"]]}), False),
            (
                "mailing audience segment_ids",
                "POST",
                "/api/v1/mailings",
                mailing({"segment_ids": [x["segment"]]}),
                False,
            ),
            (
                "mailing audience contact_ids",
                "POST",
                "/api/v1/mailings",
                mailing({"contact_ids": [x["contact"]]}),
                False,
            ),
            (
                "mailing milestone_id",
                "POST",
                "/api/v1/mailings",
                mailing({"contact_ids": [ids(OWN)["contact"]]}, milestone_id=x["milestone"]),
                False,
            ),
            (
                "mailing edit audience",
                "PATCH",
                f"/api/v1/mailings/{own_mailing.id}",
                {"audience": {"list_ids": [x["list"]]}},
                False,
            ),
            (
                "mailing preview contact_id",
                "GET",
                f"/api/v1/mailings/{own_mailing.id}/preview?contact_id={x['contact']}",
                None,
                False,
            ),
            (
                "test send contact_id",
                "POST",
                f"/api/v1/mailings/{own_mailing.id}/test",
                {"email": "essai@example.org", "contact_id": x["contact"]},
                False,
            ),
            (
                "template preview contact_id",
                "POST",
                "/templates/preview",
                {"subject": "Objet", "html": "<p>{{ contact.first_name }}</p>", "contact_id": x["contact"]},
                True,
            ),
            (
                "list members contact_ids",
                "POST",
                f"/api/v1/lists/{in_region(ContactList, OWN, regions).id}/members",
                {"contact_ids": [x["contact"]]},
                False,
            ),
        ]
    return doors


def test_side_doors_by_every_role(app, demo_everything, make_user, monkeypatch, capsys, mail_app):
    """Ids in bodies and query strings, signed links in previews, feeds: a regional coordinator is
    refused another region's objects wherever they arrive; viewers write nothing; anonymous visitors
    get nothing; the national lead goes through every door (the doors are real)."""
    from accounts.services import issue_token
    from campaign.models import Campaign, Milestone
    from contacts.models import Contact
    from mailings.models import Mailing

    regions = demo_everything
    monkeypatch.setitem(app.config, "MAIL_SUPPRESS_SEND", True)
    own_mailing = db.session.scalar(select(Mailing).where(Mailing.name == f"Matrice {OWN}"))
    other_mailing = db.session.scalar(select(Mailing).where(Mailing.name == f"Matrice {OTHER}"))
    people = {
        role: make_user(role, region=OWN if role == "regional" else None) for role in ("viewer", "regional", "national")
    }
    tokens = {role: {"Authorization": f"Bearer {issue_token(user)}"} for role, user in people.items()}
    db.session.commit()
    clients = {role: signed_in(app, user) for role, user in people.items()}
    monkeypatch.setitem(app.config, "WTF_CSRF_ENABLED", False)  # authorization, not CSRF, is under test
    other_emails = set(db.session.scalars(select(Contact.email).where(Contact.region_id == regions[OTHER].id)))
    doors = side_doors(regions, own_mailing, other_mailing)
    problems, asked, refused = [], 0, 0

    def send(who, method, url, body, page):
        nonlocal asked, refused
        client = clients[who] if who != "anonymous" else app.test_client()
        headers = {} if page or who == "anonymous" else tokens[who]
        answer = client.open(url, method=method, json=body, headers=headers)
        asked += 1
        refused += answer.status_code in (401, 403, 404, 422) or (answer.status_code in (302, 400) and page)
        if answer.status_code >= 500:
            problems.append(f"{who} {method} {url}: {answer.status_code}")
        return answer

    for name, method, url, body, page in doors[OTHER]:
        anonymous = send("anonymous", method, url, body, page)
        if anonymous.status_code not in ((302, 400) if page else (401,)):
            problems.append(f"anonymous {name}: {anonymous.status_code}")
        regional = send("regional", method, url, body, page)
        leaked = [e for e in other_emails if e in regional.get_data(as_text=True)]
        if regional.status_code not in (403, 404, 422) or leaked:
            problems.append(f"regional {name} (other region): {regional.status_code} {leaked[:1]}")
        db.session.rollback()
    for name, method, url, body, page in doors[OWN] + doors[OTHER]:
        viewer = send("viewer", method, url, body, page)
        if method != "GET" and name != "template preview contact_id" and viewer.status_code != 403:
            problems.append(f"viewer {name}: {viewer.status_code} (expected 403)")
    for name, method, url, body, page in doors[OWN]:
        regional = send("regional", method, url, body, page)
        # a test send that passed the checks may still be refused by the server: 422 "not sent"
        failed = regional.status_code >= 400 and not (name == "test send contact_id" and regional.status_code == 422)
        if failed and name not in ("mailing edit audience", "list members contact_ids"):
            problems.append(f"regional {name} (own region): {regional.status_code}")
    for name, method, url, body, page in doors[OTHER]:
        national = send("national", method, url, body, page)
        if name == "mailing edit audience":  # the rule follows the mailing's region, whoever edits it
            if national.status_code != 422:
                problems.append(
                    f"national {name}: {national.status_code} (a regional mailing takes no other region's list)"
                )
        elif national.status_code >= 400 and name not in ("test send contact_id", "list members contact_ids"):
            problems.append(f"national {name}: {national.status_code} (the door must work for a national lead)")

    # signed links: a preview, by anyone who may read it, never signs a live link
    contact = in_region(Contact, OWN, regions).id
    for who in ("viewer", "regional", "national"):
        preview = send(who, "GET", f"/api/v1/mailings/{own_mailing.id}/preview?contact_id={contact}", None, False)
        if LIVE_LINK.search(preview.get_data(as_text=True)):
            problems.append(f"{who}: a preview carries a live link")

    # feeds: each reader's calendar_url holds what that reader may read, whatever the query string adds
    campaign = db.session.scalar(select(Campaign))
    for who in ("viewer", "regional", "national"):
        url = send(who, "GET", f"/api/v1/campaigns/{campaign.id}", None, False).get_json()["calendar_url"]
        for query in ("", f"?region={OTHER}"):
            feed = send("anonymous", "GET", url.replace(app.config["PUBLIC_BASE_URL"], "") + query, None, True)
            uids = re.findall(rb"UID:milestone-(\d+)@", feed.data)
            regions_seen = {db.session.get(Milestone, int(i)).region_id for i in uids}
            if who == "regional" and regions[OTHER].id in regions_seen:
                problems.append(f"regional feed{query} shows region {OTHER}")

    # query strings: another region named in a filter reads nothing of it
    for url in (f"/api/v1/contacts?region={OTHER}&per_page=200", f"/api/v1/contacts/export?region={OTHER}"):
        answer = send("regional", "GET", url, None, False)
        if any(e in answer.get_data(as_text=True) for e in other_emails):
            problems.append(f"regional GET {url} shows region {OTHER}'s contacts")

    with capsys.disabled():
        print(f"\nside doors: {asked} requests, {refused} refused")
    assert not problems, f"{len(problems)} side-door problems:\n" + "\n".join(problems)
