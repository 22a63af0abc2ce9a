"""The history of a mailing's approval: who submitted, approved or sent it back, when, and what they said."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from dbtypes import UTCDateTime, utcnow
from extensions import db

# submitted (by the region), approved / sent_back (by national), reopened (its template changed),
# covered (a follow-up that went without a second approval: the approval of `covered_by` covers it)
APPROVAL_DECISIONS = ("submitted", "approved", "sent_back", "reopened", "covered")


class MailingApproval(db.Model):
    """One step of a mailing's approval; an approval keeps the fingerprint of the text it approved."""

    __tablename__ = "mailing_approvals"
    __table_args__ = (
        # the steps whose email has not gone yet, for the scheduler's scan (a handful at most)
        Index(
            "ix_mailing_approvals_unannounced",
            "id",
            postgresql_where=text("announced_at IS NULL"),
            sqlite_where=text("announced_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    mailing_id: Mapped[int] = mapped_column(ForeignKey("mailings.id", ondelete="CASCADE"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    author: Mapped[str] = mapped_column(String(254), default="")  # kept when the account goes
    decision: Mapped[str] = mapped_column(String(20))
    comment: Mapped[str] = mapped_column(Text, default="")
    fingerprint: Mapped[str] = mapped_column(String(64), default="")  # the approved subject and bodies
    covers: Mapped[list] = mapped_column(db.JSON, default=list)  # fingerprints of follow-ups it also approves
    covered_by_id: Mapped[int | None] = mapped_column(ForeignKey("mailings.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    announced_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # its email went (or needs none)

    mailing = relationship("Mailing", foreign_keys=[mailing_id])
    covered_by = relationship("Mailing", foreign_keys=[covered_by_id])
    user = relationship("User")


class ApprovalNotice(db.Model):
    """One person told of one approval step: never twice (the unique key), written in the transaction
    that hands the email over, so a retry or a second scheduler skips whoever was already told."""

    __tablename__ = "approval_notices"
    __table_args__ = (UniqueConstraint("approval_id", "email", name="uq_approval_notices_person"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("mailing_approvals.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    email: Mapped[str] = mapped_column(String(254))  # lower case: one mailbox, one notice
    outcome: Mapped[str] = mapped_column(String(20))  # sent, refused (for good), unknown (the line dropped after it)
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
