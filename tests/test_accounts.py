"""Sign-in, passwords, throttling, CSRF, cookies, tokens, the CLI and the audit log."""

import html
import re

from sqlalchemy import select

from accounts.models import ApiToken, AuditEntry, User
from extensions import db
from tests.conftest import PASSWORD, csrf_from, sign_out


def test_sign_in_then_out(client, login, make_user):
    user = make_user("national")
    assert client.get("/").status_code == 302  # to the login page
    response = login(user)
    assert response.status_code == 302 and response.headers["Location"] == "/"
    assert "Tableau de bord" in client.get("/").get_data(as_text=True)
    sign_out(client)
    assert client.get("/").headers["Location"].startswith("/login")


def test_wrong_password_is_a_form_message_not_a_session(client, login, make_user):
    user = make_user("national")
    response = login(user, password="not the password")
    assert response.status_code == 200
    assert "Adresse ou mot de passe incorrect" in response.get_data(as_text=True)
    assert client.get("/").status_code == 302


def test_passwords_are_hashed_with_argon2id(app, make_user):
    user = make_user("viewer")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_repeated_failures_are_refused_for_a_while(app, client, login, make_user):
    user = make_user("national")
    statuses = [login(user, password="wrong").status_code for _ in range(app.config["LOGIN_REFUSE_AFTER"])]
    assert set(statuses) == {200}
    refused = login(user)  # even the right password, while the window lasts
    assert refused.status_code == 429
    assert client.get("/").status_code == 302


def test_success_clears_earlier_failures(app, login, make_user):
    user = make_user("national")
    for _ in range(app.config["LOGIN_REFUSE_AFTER"] - 1):
        login(user, password="wrong")
    assert login(user).status_code == 302
    assert login(user, password="wrong").status_code == 200  # the count started again


def test_open_redirect_after_login_is_refused(client, make_user):
    user = make_user("national")
    token = csrf_from(client.get("/login").get_data(as_text=True))
    response = client.post(
        "/login?next=//evil.example.org/", data={"email": user.email, "password": PASSWORD, "csrf_token": token}
    )
    assert response.headers["Location"] == "/"


def test_form_post_without_csrf_token_is_refused(client, login, make_user, demo_campaign):
    login(make_user("national"))
    response = client.post(
        f"/campaigns/{demo_campaign.id}/milestones/new",
        data={"title": "Sans jeton", "kind": "other", "starts_at": "2008-10-01T10:00", "status": "planned"},
    )
    assert response.status_code == 400
    assert (
        db.session.scalar(
            select(db.func.count()).where(db.text("title = 'Sans jeton'")).select_from(db.table("milestones"))
        )
        == 0
    )


def test_session_cookie_is_httponly_and_samesite_lax(client, login, make_user):
    response = login(make_user("national"))
    cookie = next(v for v in response.headers.getlist("Set-Cookie") if v.startswith("session="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie


def test_cli_creates_users_and_refuses_bad_input(runner, regions):
    result = runner.invoke(
        args=["users", "create", "Lead@Example.org", "--role", "national", "--password-stdin"],
        input="a long password\n",
    )
    assert result.exit_code == 0, result.output
    assert db.session.scalar(select(User).where(User.email == "lead@example.org")).role == "national"
    regional = runner.invoke(
        args=["users", "create", "paca@example.org", "--role", "regional", "--region", "93", "--password-stdin"],
        input="a long password\n",
    )
    assert regional.exit_code == 0, regional.output
    assert db.session.scalar(select(User).where(User.email == "paca@example.org")).region.name.startswith("Provence")
    no_region = runner.invoke(
        args=["users", "create", "x@example.org", "--role", "regional", "--password-stdin"], input="a long password\n"
    )
    assert no_region.exit_code != 0 and "region" in no_region.output
    duplicate = runner.invoke(
        args=["users", "create", "lead@example.org", "--role", "viewer", "--password-stdin"], input="a long password\n"
    )
    assert duplicate.exit_code != 0 and "a déjà un compte" in duplicate.output


def test_cli_token_prints_one_line_and_stores_only_its_hash(runner, client, make_user):
    user = make_user("viewer")
    result = runner.invoke(args=["users", "token", user.email])
    assert result.exit_code == 0
    token = result.output.strip()
    assert "\n" not in token and len(token) > 30
    stored = db.session.scalars(select(ApiToken.token_hash)).all()
    assert token not in stored and len(stored) == 1
    me = client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status_code == 200 and me.json["email"] == user.email


def test_audit_log_records_who_changed_what_and_only_admins_see_it(client, login, make_user, api, demo_campaign):
    lead = make_user("national")
    milestone = demo_campaign.milestones[0]
    milestone_title = milestone.title
    assert (
        api(lead).patch(f"/api/v1/milestones/{milestone.id}", json={"title": "Partenariats signés"}).status_code == 200
    )
    entry = db.session.scalars(
        select(AuditEntry).where(AuditEntry.entity == "milestones", AuditEntry.user_id == lead.id)
    ).one()
    assert (entry.action, entry.actor, entry.entity_id) == ("update", lead.email, str(milestone.id))
    assert entry.changes == {"title": [milestone_title, "Partenariats signés"]}
    login(lead)
    assert client.get("/admin/audit").status_code == 403
    sign_out(client)
    login(make_user("admin"))
    page = client.get("/admin/audit").get_data(as_text=True)
    assert "Partenariats signés" in page and lead.email in page


def test_audit_log_pages_by_fifty_and_keeps_its_filter(client, login, make_user):
    from datetime import timedelta

    from dbtypes import utcnow

    start = utcnow()
    db.session.add_all(
        AuditEntry(
            at=start + timedelta(seconds=i),
            actor="a@example.org",
            action="update",
            entity="contacts",
            entity_id=str(i),
            changes={"city": ["Lyon", f"Ville {i}"]},
        )
        for i in range(60)
    )
    db.session.add(
        AuditEntry(
            at=start + timedelta(minutes=5), actor="a@example.org", action="delete", entity="lists&x=1", entity_id="9"
        )
    )
    db.session.commit()
    login(make_user("admin"))
    first = client.get("/admin/audit?entity=contacts").get_data(as_text=True)
    assert "Ville 59" in first and "Ville 10" in first and "Ville 9<" not in first  # newest first, fifty a page
    older = re.search(r'href="([^"]+)" rel="next"', first).group(1)
    assert 'rel="prev"' not in first
    second = client.get(html.unescape(older)).get_data(as_text=True)
    assert "Ville 9<" in second and "Ville 0<" in second and "Ville 10<" not in second and 'rel="next"' not in second
    assert "lists&amp;x=1" not in second  # the filter came along
    everything = client.get("/admin/audit").get_data(as_text=True)
    assert 'href="/admin/audit?entity=lists%26x%3D1"' in everything


def test_admin_creates_an_account_with_field_errors_first(client, login, make_user):
    login(make_user("admin"))
    page = client.get("/admin/users").get_data(as_text=True)
    bad = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf_from(page),
            "email": "pas-une-adresse",
            "role": "regional",
            "region": "",
            "password": "court",
        },
    )
    text = bad.get_data(as_text=True)
    assert bad.status_code == 200 and 'aria-invalid="true"' in text and "Un coordinateur régional a une région" in text
    good = client.post(
        "/admin/users",
        data={
            "csrf_token": csrf_from(text),
            "email": "bzh@example.org",
            "role": "regional",
            "region": "53",
            "password": "a long password",
        },
    )
    assert good.status_code == 302
    assert db.session.scalar(select(User).where(User.email == "bzh@example.org")).region.code == "53"


def test_audit_log_names_created_rows_by_their_id(api, make_user, demo_campaign):
    lead = make_user("national")
    made = (
        api(lead)
        .post(
            f"/api/v1/campaigns/{demo_campaign.id}/milestones",
            json={"kind": "other", "title": "Point d'étape", "starts_at": "2008-10-01T10:00"},
        )
        .get_json()
    )
    entry = db.session.scalars(
        select(AuditEntry).where(
            AuditEntry.entity == "milestones", AuditEntry.action == "create", AuditEntry.user_id == lead.id
        )
    ).one()
    assert entry.entity_id == str(made["id"]) and entry.changes["title"] == "Point d'étape"
