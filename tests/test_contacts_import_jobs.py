"""Large contact imports: queued, run batch by batch by the active scheduler, followed by their owner."""

import io
import json

import pytest
from sqlalchemy import func, select

from contacts import import_jobs
from contacts.models import Contact
from extensions import db
from mailings.hooks import hooks
from tests.conftest import csrf_from, sign_out

ROWS = 2500  # more than two batches of importer.BATCH_ROWS


def big_csv(rows: int = ROWS, bad_every: int = 500, encoding: str = "cp1252") -> bytes:
    lines = ["Prénom;Nom;Courriel"]
    for n in range(1, rows + 1):
        email = "pas-une-adresse" if n % bad_every == 0 else f"personne{n}@example.org"
        lines.append(f"Élodie;Numéro {n};{email}")
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


def count_contacts() -> int:
    db.session.expire_all()
    return db.session.scalar(select(func.count()).select_from(Contact))


def scheduler_runs_imports(app) -> None:
    """What the active scheduler does on the import job's interval."""
    (job,) = [job for job, _seconds in hooks().periodic_jobs if job is import_jobs.run_queued]
    job(app)
    db.session.expire_all()


@pytest.fixture
def background(app, monkeypatch, tmp_path):
    monkeypatch.setitem(app.config, "CONTACTS_IMPORT_DIR", str(tmp_path))
    monkeypatch.setitem(app.config, "IMPORT_BACKGROUND_BYTES", 10_000)
    return tmp_path


def post(client, data: bytes, **form):
    fields = {"file": (io.BytesIO(data), "grand-fichier.csv"), **form}
    return client.post("/api/v1/contacts/import", data=fields, content_type="multipart/form-data")


def test_a_large_file_is_queued_then_run_by_the_scheduler_with_progress_and_report(app, api, make_user, background):
    owner = make_user("regional", region="93")
    client = api(owner)
    data = big_csv()
    queued = post(client, data, source="Annuaire presse")
    assert queued.status_code == 202
    url = queued.json["url"]
    assert queued.headers["Location"].endswith(url)
    assert queued.json["status"] == "queued" and queued.json["total"] == len(data) and queued.json["rows"] == 0
    assert count_contacts() == 0 and len(list(background.glob("*.csv"))) == 1
    scheduler_runs_imports(app)
    job = client.get(url).json
    assert job["status"] == "done" and job["error"] == ""
    assert job["rows"] == ROWS and job["bytes"] == job["total"] == len(data)
    report = job["report"]
    assert report["created"] == ROWS - 5 and report["rejected"] == 5 and report["encoding"] == "cp1252"
    assert [e["row"] for e in report["errors"]] == [501, 1001, 1501, 2001, 2501]
    assert count_contacts() == ROWS - 5
    assert db.session.scalar(select(Contact).where(Contact.email == "personne7@example.org")).region.code == "93"
    assert not list(background.glob("*.csv"))  # the file is gone once imported
    scheduler_runs_imports(app)  # nothing left to do: nothing imported twice
    assert count_contacts() == ROWS - 5
    small = post(client, b"Courriel\npetit@example.org\n")
    assert small.status_code == 200 and small.json["created"] == 1  # small files answer at once, as before


@pytest.mark.parametrize("mapping", ['{"Courriel": ["email"]}', '{"Absente": "email"}'])
def test_a_large_file_with_a_wrong_mapping_is_refused_before_it_is_queued(app, api, make_user, background, mapping):
    refused = post(api(make_user("national")), big_csv(), mapping=mapping)
    assert refused.status_code == 422 and "mapping" in refused.json["error"]["fields"], refused.json
    assert not list(background.glob("*.csv")) and db.session.scalar(select(func.count(import_jobs.ImportJob.id))) == 0


def test_a_file_broken_half_way_keeps_the_batches_written_with_their_report(app, api, make_user, background):
    client = api(make_user("national"))
    data = big_csv(1500, bad_every=10_000, encoding="utf-8") + "Zoé;Brisé;zoe@example.org\r\n".encode("latin-1")
    queued = post(client, data)
    scheduler_runs_imports(app)
    job = client.get(queued.json["url"]).json
    assert job["status"] == "failed" and "arrêté après 1000 lignes" in job["error"]
    assert job["report"]["created"] == 1000 == count_contacts()  # the first batch, committed, reported
    assert 0 < job["bytes"] < job["total"] and job["rows"] == 1000


def test_a_job_cut_short_is_marked_failed_not_resumed(app, api, make_user, background, monkeypatch):
    client = api(make_user("national"))
    queued = post(client, big_csv())
    job = db.session.get(import_jobs.ImportJob, queued.json["id"])
    job.status = "running"  # the scheduler stopped in the middle of it
    db.session.commit()
    monkeypatch.setitem(app.config, "IMPORT_JOB_STALE_SECONDS", 0)
    scheduler_runs_imports(app)
    answer = client.get(queued.json["url"]).json
    assert answer["status"] == "failed" and "interrompu" in answer["error"]
    assert count_contacts() == 0


def test_only_the_owner_and_the_national_team_read_a_job(app, api, make_user, background):
    owner = make_user("regional", region="93")
    url = post(api(owner), big_csv()).json["url"]
    assert api(make_user("regional", region="53")).get(url).status_code == 404
    assert api(make_user("viewer")).get(url).status_code in (403, 404)
    assert api(make_user("national")).get(url).json["status"] == "queued"
    assert api(owner).get(url.replace("/jobs/", "/jobs/9")).status_code == 404


def test_the_import_pages_send_a_large_file_to_the_background_and_show_its_progress_then_report(
    app, client, login, make_user, background
):
    owner = make_user("national")
    login(owner)
    token = csrf_from(client.get("/contacts/import").get_data(as_text=True))
    fields = {"csrf_token": token, "source": "Annuaire", "legal_basis": "consent", "on_duplicate": "update"}
    fields |= {"kind": "media", "region": "", "file": (io.BytesIO(big_csv()), "annuaire.csv")}
    upload = {**fields, "file": (io.BytesIO(big_csv()), "annuaire.csv")}
    scripted = client.post("/contacts/import", data=upload).headers["Location"]
    streamed = client.post(
        f"{scripted}/run", data={"csrf_token": token, "step": "import"}, headers={"Accept": "application/x-ndjson"}
    )
    (line,) = [json.loads(text) for text in streamed.get_data(as_text=True).splitlines()]
    assert line["queued"] is True and "/contacts/import/jobs/" in line["report_url"]  # the script goes there
    mapping_url = client.post("/contacts/import", data=fields).headers["Location"]
    run = client.post(f"{mapping_url}/run", data={"csrf_token": token, "step": "import"})
    job_url = run.headers["Location"]
    waiting = client.get(job_url).get_data(as_text=True)
    assert "en attente" in waiting and "<progress" in waiting and 'http-equiv="refresh"' in waiting
    assert "contacts-import-job.js" in waiting
    status = client.get(f"{job_url}/status").json
    assert status == {"status": "queued", "rows": 0, "bytes": 0, "total": len(big_csv()), "error": ""}
    assert count_contacts() == 0
    scheduler_runs_imports(app)  # both files: the second updates the contacts the first created
    assert client.get(f"{job_url}/status").json["bytes"] == len(big_csv())
    report = client.get(job_url).get_data(as_text=True)
    assert f'data-count="updated">{ROWS - 5}<' in report and 'data-count="errors">5<' in report
    assert "adresse" in report and 'http-equiv="refresh"' not in report
    sign_out(client)
    login(make_user("regional", region="53"))
    assert client.get(job_url).status_code == 404 and client.get(f"{job_url}/status").status_code == 404
