"""Large contact imports in the background: queued by the page or the API, run by the active scheduler.

The file waits under the import folder (RELAIS_CONTACTS_IMPORT_DIR, default instance/imports); the
job holds its options, its owner, its status and progress, and the report as of its last commit.
The scheduler commits batch by batch (importer.import_steps allows it) and saves the report with
each batch, so what is written always has its report. A job cut short (the scheduler stopped, the
machine restarted) is not resumed: once silent for RELAIS_IMPORT_JOB_STALE_SECONDS it is marked
failed, its report telling what its committed batches wrote.
"""

import logging
import secrets
from datetime import datetime, timedelta
from pathlib import Path

from flask import Flask, current_app, g
from sqlalchemy import BigInteger, ForeignKey, String, Text, select, text
from sqlalchemy.orm import Mapped, mapped_column

from accounts.models import User
from contacts.i18n import _
from contacts.import_rejects import RejectedRows
from contacts.import_rows import ImportOptions, ImportReport
from contacts.importer import import_steps
from dbtypes import UTCDateTime, utcnow
from errors import DomainError, NotFound
from extensions import db

log = logging.getLogger("relais.imports")
STATUSES = ("queued", "running", "done", "failed")


class ImportJob(db.Model):
    __tablename__ = "import_jobs"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    filename: Mapped[str] = mapped_column(String(255))
    stored_as: Mapped[str] = mapped_column(String(100))  # the file's name in the import folder
    options: Mapped[dict] = mapped_column(db.JSON)
    status: Mapped[str] = mapped_column(String(20), default="queued", index=True)
    rows: Mapped[int] = mapped_column(default=0)
    bytes_done: Mapped[int] = mapped_column(BigInteger, default=0)
    total_bytes: Mapped[int] = mapped_column(BigInteger, default=0)
    report: Mapped[dict | None] = mapped_column(db.JSON, nullable=True)
    error: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    def as_dict(self) -> dict:
        return {
            "id": self.id,
            "filename": self.filename,
            "status": self.status,
            "rows": self.rows,
            "bytes": self.bytes_done,
            "total": self.total_bytes,
            "report": self.report,
            "error": self.error,
            "created_at": self.created_at,
            "finished_at": self.finished_at,
        }


def job_folder() -> Path:
    folder = Path(current_app.config.get("CONTACTS_IMPORT_DIR") or Path(current_app.instance_path) / "imports")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_large(size: int) -> bool:
    return size > int(current_app.config["IMPORT_BACKGROUND_BYTES"])


def queue(user: User, filename: str, save, size: int, options: ImportOptions) -> ImportJob:
    """Keep the file (`save(path)` writes it) and queue its import; the caller commits."""
    stored_as = f"job-{secrets.token_urlsafe(16)}.csv"
    save(job_folder() / stored_as)
    fields = ("source", "legal_basis", "on_duplicate", "default_kind", "default_region", "mapping")
    job = ImportJob(
        user_id=user.id,
        filename=(filename or "contacts.csv")[:255],
        stored_as=stored_as,
        options={name: getattr(options, name) for name in fields},
        status="queued",
        total_bytes=size,
        error="",
    )
    db.session.add(job)
    db.session.flush()
    return job


def get_job(user: User, job_id: int) -> ImportJob:
    """Its owner sees a job, and the national team and admins; anyone else is told it does not exist."""
    job = db.session.get(ImportJob, job_id)
    if job is None or (job.user_id != user.id and user.role not in ("national", "admin")):
        raise NotFound(_("Import introuvable."))
    return job


def run_queued(app: Flask) -> None:
    """The active scheduler's periodic job: fail the imports cut short, then run the queued ones."""
    with app.app_context():
        try:
            fail_stale(utcnow())
            while (job_id := db.session.scalar(next_queued())) is not None:
                run(job_id)
        except Exception:
            db.session.rollback()
            log.exception("imports: the run failed; the next one tries again")
        finally:
            db.session.remove()


def next_queued():
    query = select(ImportJob.id).where(ImportJob.status == "queued").order_by(ImportJob.id).limit(1)
    if db.engine.dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    return query


def fail_stale(now: datetime) -> int:
    limit = now - timedelta(seconds=int(current_app.config["IMPORT_JOB_STALE_SECONDS"]))
    stale = db.session.scalars(
        select(ImportJob).where(ImportJob.status == "running", ImportJob.updated_at < limit)
    ).all()
    for job in stale:
        job.status, job.finished_at = "failed", now
        job.error = _("Import interrompu (arrêt du serveur) ; le rapport dit ce qui a été écrit avant l'arrêt.")
        (job_folder() / job.stored_as).unlink(missing_ok=True)
    db.session.commit()
    return len(stale)


def run(job_id: int) -> ImportJob:
    """Run one job: a commit per batch with its progress and report, the status at the end."""
    job = db.session.get(ImportJob, job_id)
    job.status = "running"
    job.updated_at = utcnow()
    db.session.commit()
    user = db.session.get(User, job.user_id)
    g.actor_id, g.actor_email = user.id, user.email  # the audit entry names who imported
    report = ImportReport()
    saved = report.as_dict()
    path = job_folder() / job.stored_as
    try:
        with path.open("rb") as stream:
            rejects = RejectedRows.for_user(user)  # what its committed batches refused stays downloadable
            options = ImportOptions(**job.options)
            steps = import_steps(stream, user, options, total_bytes=job.total_bytes, report=report, rejects=rejects)
            while True:
                try:
                    rows, done = next(steps)
                except StopIteration:
                    break
                saved = report.as_dict()
                job.rows, job.bytes_done, job.report, job.updated_at = rows, done, saved, utcnow()
                db.session.commit()
                if db.engine.dialect.name == "postgresql":  # as import_steps asks, for each transaction
                    db.session.execute(text("SET LOCAL plan_cache_mode = force_custom_plan"))
    except Exception as error:
        db.session.rollback()
        job = db.session.get(ImportJob, job_id)
        job.status, job.report, job.finished_at = "failed", saved, utcnow()
        job.error = failure(error, saved)
    else:
        job.status, job.report, job.finished_at = "done", report.as_dict(), utcnow()
        job.bytes_done = job.total_bytes
    job.updated_at = utcnow()
    db.session.commit()
    path.unlink(missing_ok=True)
    return job


def failure(error: Exception, saved: dict) -> str:
    """Why a job stopped, true to what its committed batches wrote (the importer's own message says
    nothing was imported, which holds for one transaction, not for a job committed batch by batch)."""
    if not isinstance(error, DomainError):
        log.exception("imports: a job failed")
        return _("Erreur inattendue pendant l'import ; le rapport dit ce qui a été écrit avant.")
    if not saved["rows"]:
        return error.message
    return _(
        "Import arrêté après %(rows)s lignes : le fichier est illisible plus loin (%(detail)s). "
        "Les lignes d'avant sont importées : voir le rapport.",
        rows=saved["rows"],
        detail=error.fields.get("file", ""),
    )
