"""Regions, users, API tokens, login attempts and the audit log."""

from datetime import datetime

from flask_login import UserMixin
from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbtypes import UTCDateTime, utcnow
from extensions import db

ROLES = ("admin", "national", "regional", "viewer")


class Region(db.Model):
    __tablename__ = "regions"
    __audit__ = ("code", "name", "chamber", "active")

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    chamber: Mapped[str] = mapped_column(String(200), default="")
    active: Mapped[bool] = mapped_column(default=True)


class User(UserMixin, db.Model):
    __tablename__ = "users"
    __audit__ = ("email", "role", "region_id", "active", "name")

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))
    region_id: Mapped[int | None] = mapped_column(ForeignKey("regions.id"))
    active: Mapped[bool] = mapped_column(default=True)
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    reminders_opt_out: Mapped[bool] = mapped_column(default=False)
    # raised at sign-out: the session and remember cookies carry it (get_id), older ones stop working
    session_epoch: Mapped[int] = mapped_column(default=0, server_default="0")
    # the edition this person works on (campaign.services.current_campaign); none: the latest started
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaigns.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    region = relationship("Region")

    @property
    def is_active(self) -> bool:  # Flask-Login
        return self.active

    @property
    def label(self) -> str:
        return self.name or self.email

    def get_id(self) -> str:
        """What session and remember cookies hold: the id and the session generation."""
        return f"{self.id}.{self.session_epoch or 0}"


class ApiToken(db.Model):
    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()


class LoginAttempt(db.Model):
    """A failed sign-in, kept in the database so throttling holds across web workers."""

    __tablename__ = "login_attempts"
    __table_args__ = (Index("ix_login_attempts_email_at", "email", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254))
    remote_addr: Mapped[str] = mapped_column(String(64), default="")
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class AuditEntry(db.Model):
    __tablename__ = "audit_entries"
    __table_args__ = (Index("ix_audit_entries_entity", "entity", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(254), default="")
    action: Mapped[str] = mapped_column(String(20))
    entity: Mapped[str] = mapped_column(String(50))
    entity_id: Mapped[str] = mapped_column(String(50))
    changes: Mapped[dict] = mapped_column(JSON, default=dict)

    user: Mapped[User | None] = relationship()
