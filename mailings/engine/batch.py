"""One claimed batch on one SMTP connection: load it, then for each message commit `sending` (with
the previous message's result) while its envelope travels, hand it over, and note the answer."""

import contextlib
import time
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import JSON, String, any_, bindparam, func, select, update
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.engine import Connection

from contacts.i18n import _
from contacts.models import Contact, Organisation, Suppression
from contacts.suppression import email_hash
from dbtypes import utcnow
from extensions import db
from mail_transport import Outcome, SmtpChannel
from mailings.composer import Composer, Recipient
from mailings.engine.database import DATABASE_GONE, D, M
from mailings.engine.deliveries import pause
from mailings.engine.marks import Marks, result
from mailings.engine.recovery import SERVER_DOWN_PAUSE, Flight
from mailings.models import Mailing

LOAD_CLAIMED = (  # see `Worker.load`
    select(
        D.c.id,
        D.c.email,
        D.c.attempts,
        Contact.id,
        Contact.first_name,
        Contact.last_name,
        Contact.kind,
        Organisation.name,
        Contact.region_id,
        Contact.opted_out,
        Contact.bounced,
        Contact.civility,
        Contact.city,
        Contact.job_title,
    )
    .select_from(D)
    .outerjoin(Contact, Contact.id == D.c.contact_id)
    .outerjoin(Organisation, Organisation.id == Contact.organisation_id)
    .where(
        D.c.mailing_id == bindparam("mailing"),
        D.c.worker_id == bindparam("worker"),
        D.c.id.between(bindparam("low"), bindparam("high")),
        D.c.status.in_(("pending", "retry")),
    )
    .order_by(D.c.id)
)
SUPPRESSED = {  # a batch's suppressed addresses, its hashes sent as ONE parameter (see `Worker.load`)
    "postgresql": select(Suppression.email_hash).where(
        Suppression.email_hash == any_(bindparam("hashes", type_=ARRAY(String)))
    ),
    "sqlite": select(Suppression.email_hash).where(
        Suppression.email_hash.in_(select(func.json_each(bindparam("hashes", type_=JSON)).table_valued("value")))
    ),
}


@dataclass(slots=True)
class Claimed:
    """One claimed delivery, loaded for sending (`Worker.load`)."""

    id: int
    email: str
    attempts: int
    person: Recipient | None  # None: the contact was erased
    skip: str = ""  # why it is not sent, when it is not


class Batches:
    """The part of a `Worker` that sends the batches it claimed. It reads the worker's `worker_id`,
    `rate`, `stop`, `delays`, `streak_limit` and `writer`, and reports to its recovery (`owe`,
    `registered`, `lose_identity`)."""

    def composer(self, composers: dict, mailing_id: int) -> Composer:
        if mailing_id not in composers:
            composers[mailing_id] = Composer(db.session.get(Mailing, mailing_id))
            db.session.rollback()
        return composers[mailing_id]

    def load(self, conn: Connection, mailing_id: int, ids: list[int]) -> list[Claimed]:
        """A claimed batch with what each message needs, in id order: one query joins the contacts
        over the batch's id range (this worker's claims only; no list of ids to send and parse), a
        second asks which addresses are suppressed, with their hashes in one array parameter (an IN
        list of 500 binds took SQLAlchemy and the driver longer to write out than the query took to
        run). A row taken back meanwhile is not loaded."""
        if not ids:
            return []
        found = conn.execute(
            LOAD_CLAIMED, {"mailing": mailing_id, "worker": self.worker_id, "low": ids[0], "high": ids[-1]}
        ).all()
        conn.commit()
        wanted = set(ids)
        claimed = []
        for row in found:
            id_, email, attempts, contact_id, first, last, kind, organisation, region, opted_out, bounced = row[:11]
            if id_ not in wanted:
                continue  # another connection's claim inside our range
            if contact_id is None:
                claimed.append(Claimed(id_, email, attempts, None, "contact erased"))
                continue
            person = Recipient(contact_id, email, first or "", last or "", kind or "", organisation or "", region)
            person.civility, person.city, person.job_title = row.civility, row.city or "", row.job_title or ""
            reason = "opted out" if opted_out else "bounced before" if bounced else ""
            claimed.append(Claimed(id_, email, attempts, person, reason))
        hashes: dict[str, list[Claimed]] = {}
        for c in claimed:
            if not c.skip:
                hashes.setdefault(email_hash(c.email), []).append(c)
        if hashes:
            for found_hash in conn.execute(SUPPRESSED[conn.dialect.name], {"hashes": list(hashes)}).scalars():
                for c in hashes[found_hash]:
                    c.skip = "suppressed address"
            conn.commit()
        return claimed

    def deliver(
        self,
        conn: Connection,
        channel: SmtpChannel,
        composers: dict,
        mailing_id: int,
        ids: list[int],
        marks: Marks | None = None,
    ) -> None:
        """Send one claimed batch; one commit per message carries the previous result and the next `sending`."""
        composer = self.composer(composers, mailing_id)
        flight = Flight()
        try:
            rows = self.load(conn, mailing_id, ids)
            self.deliver_rows(conn, channel, composer, mailing_id, rows, marks, flight)
        except DATABASE_GONE:
            self.owe(flight)
            raise

    def deliver_rows(
        self, conn, channel, composer, mailing_id: int, rows: list[Claimed], marks, flight: Flight
    ) -> None:
        """Each message: envelope out, `sending` committed meanwhile, then body and final dot. The next
        message is composed before this one's dot so that its envelope can leave in the same packet
        (one round trip a message); without a rate limit only, since a throttled envelope would wait."""
        results = flight.results
        checked_at, streak, server_down, lost = time.monotonic(), 0, False, False
        look_ahead = not self.rate.interval

        def ready(start: int):
            """The next row to hand over from `start` (index, row, contact, bytes, Message-ID); the rows
            passed on the way (skipped, or that would not render) get their result."""
            for index in range(start, len(rows)):
                row = rows[index]
                if row.skip:
                    results.append(result(row.id, "skipped", utcnow(), error=row.skip))
                    continue
                try:
                    data, message_id = composer.compose(row.person, row.id)
                except Exception as error:  # a template that passed the checks can still fail on odd data
                    results.append(
                        result(row.id, "failed", utcnow(), error=_("mise en forme impossible : %(e)s", e=error))
                    )
                    continue
                return index, row, data, message_id
            return None

        following = ready(0)
        done = following[0] if following else len(rows)  # rows[:done] are handed over or recorded
        while following is not None:
            index, row, data, message_id = following
            if self.stop.is_set() or (time.monotonic() - checked_at > 0.5 and not self.still_sending(conn, mailing_id)):
                break
            if time.monotonic() - checked_at > 0.5:
                checked_at = time.monotonic()
            self.rate.wait()
            channel.begin(
                composer.envelope_sender(row.id), row.email
            )  # the envelope travels while the mark is committed
            if channel.failure is not None and channel.failure.unreachable:
                # Nothing was handed to anyone: no attempt is counted, the row waits for the server.
                results.append(self.unreachable_result(row, channel.failure))
                channel.envelope, done, server_down = None, index + 1, True
                self.report_unreachable(conn, mailing_id, channel.failure)
                break
            flight.marked = (row.id, message_id)
            sending = {"b_id": row.id, "b_mid": message_id, "b_now": utcnow(), "b_w": self.worker_id}
            marked = self.writer.write(conn, results, sending, marks)
            results.clear()
            if not marked:  # the claim was taken back (we were thought dead): not ours to send any more
                channel.close()
                flight.marked = None
                lost = True
                mine = self.worker_id
                if not self.registered(conn, mine):
                    self.lose_identity(mine)
                break
            following = ready(index + 1)
            done = following[0] if following else len(rows)
            then = (composer.envelope_sender(following[1].id), following[1].email) if following and look_ahead else None
            outcome = channel.finish(data, then)
            flight.marked = None
            results.append(self.outcome_result(row, outcome, message_id))
            if outcome.status == "sent" and mailing_id in self.reported_unreachable:
                self.server_is_back(conn, mailing_id)
            if outcome.status == "retry" and outcome.code == 0:
                server_down = True  # no SMTP server to talk to: wait for it, this is no recipient's failure
                break
            streak = 0 if outcome.status == "sent" else streak + 1
            if outcome.status == "blocked":
                self.writer.write(conn, results)
                results.clear()
                pause(conn, mailing_id, _("le serveur refuse l'expéditeur : %(why)s", why=outcome.text))
                break
            if streak >= self.streak_limit:
                self.writer.write(conn, results)
                results.clear()
                pause(conn, mailing_id, _("%(n)s échecs d'affilée, le dernier : %(why)s", n=streak, why=outcome.text))
                break
        channel.drop_ahead()
        self.writer.write(conn, results)
        results.clear()
        unsent = [r.id for r in rows[done:]]
        if unsent and not lost:
            conn.execute(update(D).where(D.c.id.in_(unsent), D.c.worker_id == self.worker_id).values(worker_id=None))
            conn.commit()
        if server_down:
            self.stop.wait(SERVER_DOWN_PAUSE)

    def unreachable_result(self, row: Claimed, outcome: Outcome) -> dict:
        now = utcnow()
        return result(row.id, "retry", now, error=outcome.reply, next_at=now + timedelta(seconds=SERVER_DOWN_PAUSE))

    def report_unreachable(self, conn: Connection, mailing_id: int, outcome: Outcome) -> None:
        """Say on the mailing (its page, the dashboard) that the server cannot be reached, and when the
        next try is; the mailing goes on sending as soon as the server answers."""
        next_try = (utcnow() + timedelta(seconds=SERVER_DOWN_PAUSE)).astimezone(ZoneInfo(self.zone))
        then = _("Prochain essai à %(time)s ; l'envoi reprendra seul.", time=f"{next_try:%H:%M:%S}")
        self.reported_unreachable.add(mailing_id)
        self.sending_reason(conn, mailing_id, f"{outcome.reply} {then}"[:1000])

    def server_is_back(self, conn: Connection, mailing_id: int) -> None:
        self.reported_unreachable.discard(mailing_id)
        self.sending_reason(conn, mailing_id, "")

    def sending_reason(self, conn: Connection, mailing_id: int, reason: str) -> None:
        with self.sqlite_lock if conn.dialect.name == "sqlite" else contextlib.nullcontext():
            conn.execute(update(M).where(M.c.id == mailing_id, M.c.status == "sending").values(status_reason=reason))
            conn.commit()

    def still_sending(self, conn: Connection, mailing_id: int) -> bool:
        status = conn.execute(select(M.c.status).where(M.c.id == mailing_id)).scalar()
        conn.commit()
        return status == "sending"

    def outcome_result(self, row: Claimed, outcome: Outcome, message_id: str) -> dict:
        """The row's new state after this answer; `b_mid` names the attempt (see `settle`)."""
        found = self.answer(row, outcome)
        found["b_mid"] = message_id
        if outcome.status == "bounced":
            found.update(b_contact=row.person.id, b_email=row.email)  # suppressed with the result (`write`)
        return found

    def answer(self, row, outcome: Outcome) -> dict:
        now = utcnow()
        attempts = row.attempts + 1
        if outcome.status == "sent":
            return result(row.id, "sent", now, response=outcome.text)
        if outcome.status == "retry":
            if attempts > len(self.delays):
                return result(
                    row.id, "failed", now, response=outcome.text, error=_("abandon après %(n)s essais", n=attempts)
                )
            next_at = now + timedelta(seconds=self.delays[attempts - 1])
            return result(row.id, "retry", now, response=outcome.text, error=outcome.text, next_at=next_at)
        if outcome.status == "blocked":
            return result(row.id, "retry", now, response=outcome.text, error=outcome.text, next_at=now)
        return result(row.id, outcome.status, now, response=outcome.text, error=outcome.text)
