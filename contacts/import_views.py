"""The import pages: upload, column mapping with a preview, the run (with streamed progress), the report.

The uploaded file waits on disk (RELAIS_CONTACTS_IMPORT_DIR, default instance/imports) between the
steps, so nothing lives in a web process; the run reads it as a stream, never whole.
"""

import json
import secrets
import time
from pathlib import Path

from flask import (
    Response,
    abort,
    current_app,
    flash,
    jsonify,
    redirect,
    render_template,
    request,
    send_file,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user

from accounts.scoping import WRITERS, require_role
from contacts import csvfiles, import_jobs, import_rejects, importer
from contacts.blueprint import bp, region_choices
from contacts.forms import ImportUploadForm
from dbtypes import utcnow
from errors import DomainError
from extensions import db
from forms import ConfirmForm

KEEP_SECONDS = 24 * 3600
SHOWN_ERRORS = 1000


def import_dir() -> Path:
    folder = Path(current_app.config.get("CONTACTS_IMPORT_DIR") or Path(current_app.instance_path) / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def paths(token: str) -> tuple[Path, Path, Path]:
    if not token.replace("-", "").replace("_", "").isalnum():
        abort(404)
    folder = import_dir()
    return folder / f"{token}.csv", folder / f"{token}.json", folder / f"{token}.report.json"


def load_meta(token: str) -> dict:
    _upload, meta_path, _report = paths(token)
    if not meta_path.exists():
        abort(404)
    meta = json.loads(meta_path.read_text())
    if meta["user_id"] != current_user.id:
        abort(404)
    return meta


def save_meta(token: str, meta: dict) -> None:
    paths(token)[1].write_text(json.dumps(meta, ensure_ascii=False))


def forget_old_imports() -> None:
    limit = time.time() - KEEP_SECONDS
    for path in [*import_dir().iterdir(), *import_rejects.folder().iterdir()]:
        if path.is_file() and path.stat().st_mtime < limit:
            path.unlink(missing_ok=True)


def options_of(meta: dict, dry_run: bool = False) -> importer.ImportOptions:
    return importer.ImportOptions(
        source=meta["source"],
        legal_basis=meta["legal_basis"],
        on_duplicate=meta["on_duplicate"],
        default_kind=meta["kind"],
        default_region=meta["region"] or None,
        mapping=meta.get("mapping"),
        dry_run=dry_run,
    )


@bp.route("/contacts/import", methods=["GET", "POST"])
def import_upload():
    require_role(current_user, *WRITERS)
    form = ImportUploadForm()
    form.region.choices = region_choices(_("Aucune (nationale)"))
    if request.method == "GET":
        form.source.data = _("Import du %(date)s", date=utcnow().strftime("%d/%m/%Y"))
    if form.validate_on_submit():
        forget_old_imports()
        token = secrets.token_urlsafe(16)
        upload, _meta, _report = paths(token)
        form.file.data.save(upload)
        try:
            with upload.open("rb") as stream:
                headers = importer.open_source(stream).headers
        except DomainError as error:
            upload.unlink(missing_ok=True)
            why = error.fields.get("file", "")
            form.file.errors = [
                _("Ce fichier n'est pas un CSV lisible, ni un classeur Excel ou OpenDocument.")
                + (f" ({why})" if why else "")
            ]
        else:
            meta = {
                "user_id": current_user.id,
                "filename": form.file.data.filename or "contacts.csv",
                "size": upload.stat().st_size,
                "headers": headers,
                "source": form.source.data.strip(),
                "legal_basis": form.legal_basis.data,
                "on_duplicate": form.on_duplicate.data,
                "kind": form.kind.data,
                "region": form.region.data or "",
                "mapping": None,
            }
            save_meta(token, meta)
            return redirect(url_for("contacts.import_mapping", token=token))
    return render_template("contacts/import.html", form=form)


def mapping_from_form(meta: dict) -> dict:
    chosen = {header: request.form.get(f"map-{i}", "") for i, header in enumerate(meta["headers"])}
    return {h: f if f in csvfiles.FIELDS else "" for h, f in chosen.items()}


@bp.route("/contacts/import/<token>", methods=["GET", "POST"])
def import_mapping(token: str):
    meta = load_meta(token)
    upload = paths(token)[0]
    if not upload.exists():
        return redirect(url_for("contacts.import_report", token=token))
    if request.method == "POST" and ConfirmForm().validate_on_submit():
        meta["mapping"] = mapping_from_form(meta)
        save_meta(token, meta)
        return redirect(url_for("contacts.import_mapping", token=token))
    with upload.open("rb") as stream:
        preview = importer.preview(stream, options_of(meta))
    return render_template(
        "contacts/import_mapping.html",
        token=token,
        meta=meta,
        preview=preview,
        fields=csvfiles.FIELDS,
        confirm=ConfirmForm(),
    )


def finish(token: str, meta: dict, report: importer.ImportReport) -> None:
    """Commit (or, for a dry run, roll back) and keep the report for its page."""
    upload, _meta, report_path = paths(token)
    if report.dry_run:
        db.session.rollback()
    else:
        db.session.commit()
        upload.unlink(missing_ok=True)
    report_path.write_text(json.dumps({**report.as_dict(), "filename": meta["filename"]}, ensure_ascii=False))


@bp.route("/contacts/import/<token>/run", methods=["POST"])
def import_run(token: str):
    """Run the import; with `Accept: application/x-ndjson`, answer progress lines as it goes."""
    meta = load_meta(token)
    upload = paths(token)[0]
    if not ConfirmForm().validate_on_submit() or not upload.exists():
        abort(400)
    if any(key.startswith("map-") for key in request.form):
        meta["mapping"] = mapping_from_form(meta)
        save_meta(token, meta)
    options = options_of(meta, dry_run=request.form.get("step") == "dry_run")
    if not options.dry_run and import_jobs.is_large(meta["size"]):
        job = queue_job(token, meta, options)
        job_url = url_for("contacts.import_job", job_id=job.id)
        if request.accept_mimetypes.best == "application/x-ndjson":  # the page's script follows the link
            line = json.dumps({"done": True, "report_url": job_url, "queued": True}) + "\n"
            return Response(line, mimetype="application/x-ndjson")
        return redirect(job_url)
    report_url = url_for("contacts.import_report", token=token)
    if request.accept_mimetypes.best == "application/x-ndjson":
        return Response(
            stream_with_context(progress_lines(token, meta, options, report_url)), mimetype="application/x-ndjson"
        )
    rejects = import_rejects.RejectedRows.for_user(current_user)
    try:
        with upload.open("rb") as stream:
            report = importer.run_import(stream, current_user, options, total_bytes=meta["size"], rejects=rejects)
    except DomainError as error:
        db.session.rollback()
        rejects.discard()
        flash(error.message, "error")
        return redirect(url_for("contacts.import_mapping", token=token))
    finish(token, meta, report)
    return redirect(report_url)


def progress_lines(token: str, meta: dict, options: importer.ImportOptions, report_url: str):
    def line(**data) -> str:
        return json.dumps(data, ensure_ascii=False) + "\n"

    yield line(rows=0, bytes=0, total=meta["size"])
    rejects = import_rejects.RejectedRows.for_user(current_user)
    try:
        with paths(token)[0].open("rb") as stream:
            steps = importer.import_steps(stream, current_user, options, total_bytes=meta["size"], rejects=rejects)
            while True:
                try:
                    rows, done = next(steps)
                except StopIteration as finished:
                    report = finished.value
                    break
                yield line(rows=rows, bytes=done, total=meta["size"])
    except DomainError as error:
        db.session.rollback()
        rejects.discard()
        yield line(error=error.message, fields=error.fields)
        return
    finish(token, meta, report)
    yield line(done=True, report_url=report_url, created=report.created, updated=report.updated)


@bp.route("/contacts/import/<token>/report")
def import_report(token: str):
    meta = load_meta(token)
    upload, _meta, report_path = paths(token)
    if not report_path.exists():
        return redirect(url_for("contacts.import_mapping", token=token))
    report = json.loads(report_path.read_text())
    return render_template(
        "contacts/import_report.html",
        token=token,
        meta=meta,
        report=report,
        shown_errors=report["errors"][:SHOWN_ERRORS],
        can_import=report["dry_run"] and upload.exists(),
        confirm=ConfirmForm(),
    )


def queue_job(token: str, meta: dict, options: importer.ImportOptions) -> import_jobs.ImportJob:
    """A large file goes to the scheduler: the upload moves to the job, the page's files go."""
    upload, meta_path, _report = paths(token)
    job = import_jobs.queue(current_user, meta["filename"], upload.rename, meta["size"], options)
    db.session.commit()
    meta_path.unlink(missing_ok=True)
    return job


@bp.route("/contacts/import/jobs/<int:job_id>")
def import_job(job_id: int):
    """A queued import: its progress while it runs (the page refreshes itself), then its report."""
    job = import_jobs.get_job(current_user, job_id)
    report = job.report or importer.ImportReport().as_dict()
    return render_template(
        "contacts/import_job.html",
        job=job,
        report=report,
        shown_errors=report["errors"][:SHOWN_ERRORS],
        status_url=url_for("contacts.import_job_status", job_id=job.id),
    )


@bp.route("/contacts/import/jobs/<int:job_id>/status")
def import_job_status(job_id: int):
    """The job's status and progress, for the page's script."""
    job = import_jobs.get_job(current_user, job_id)
    data = job.as_dict()
    return jsonify({key: data[key] for key in ("status", "rows", "bytes", "total", "error")})


@bp.route("/contacts/import/rejected/<token>.csv")
def import_rejected(token: str):
    """The rows to fix of an import, as a CSV for a spreadsheet: fix them and import the file again."""
    path = import_rejects.find(current_user, token)
    return send_file(path, mimetype="text/csv", as_attachment=True, download_name="lignes-a-corriger.csv")
