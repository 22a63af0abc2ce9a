"""The one path to SMTP: a reused Flask-Mail connection and what each answer means.

The SMTP dialogue is driven by hand (MAIL, RCPT, DATA pipelined when the server offers PIPELINING,
then body and final dot) so that a dropped connection can be told apart: before the end of DATA nothing was accepted (safe to retry); after
the final dot the server may have queued the message (in doubt: `unknown`, never resent).
"""

import contextlib
import re
import smtplib
import socket
import ssl
import threading
import time
from dataclasses import dataclass

from flask import current_app

from extensions import mail
from i18n import _


@dataclass
class Outcome:
    """What became of one hand-over: `sent`, `retry`, `bounced`, `failed`, `blocked` or `unknown`."""

    status: str
    code: int
    reply: str
    reconnect: bool = False
    unreachable: bool = False  # no SMTP conversation could start: nothing was handed to anyone

    @property
    def text(self) -> str:
        return f"{self.code} {self.reply}".strip() if self.code else self.reply


def classify(code: int, reply: str) -> Outcome:
    """2xx sent; 4xx retry; 5.1.x bounced; 5.7.x blocked (the sender is refused: pause); other 5xx failed."""
    if 200 <= code < 300:
        return Outcome("sent", code, reply)
    if 400 <= code < 500:
        return Outcome("retry", code, reply, reconnect=code == 421)
    enhanced = re.match(r"\s*5\.(\d)\.\d+", reply)
    if enhanced and enhanced.group(1) == "1":
        return Outcome("bounced", code, reply)
    if enhanced and enhanced.group(1) == "7":
        return Outcome("blocked", code, reply)
    if code in (550, 551, 553) and not enhanced:
        return Outcome("bounced", code, reply)
    return Outcome("failed", code, reply)


def unreachable(error: BaseException) -> Outcome:
    """The server could not be reached (or would not let us in): said for people, with what to check."""
    state = current_app.extensions["mail"]
    server = f"{state.server}:{state.port}"
    check = _("Vérifiez RELAIS_MAIL_SERVER et RELAIS_MAIL_PORT, et que le serveur est démarré.")
    if isinstance(error, ConnectionRefusedError):
        why = _("connexion refusée : rien n'écoute sur ce port")
    elif isinstance(error, socket.gaierror):
        why = _("nom de serveur inconnu")
    elif isinstance(error, TimeoutError):
        why = _("pas de réponse")
    elif isinstance(error, smtplib.SMTPAuthenticationError):
        why = _("identifiant ou mot de passe refusé")
        check = _("Vérifiez RELAIS_MAIL_USERNAME et RELAIS_MAIL_PASSWORD.")
    elif isinstance(error, ssl.SSLError | smtplib.SMTPNotSupportedError):
        why = _("la connexion chiffrée (TLS) a échoué")
        check = _("Vérifiez RELAIS_MAIL_USE_TLS, RELAIS_MAIL_USE_SSL et RELAIS_MAIL_PORT.")
    elif isinstance(error, smtplib.SMTPConnectError | smtplib.SMTPServerDisconnected):
        why = _("le serveur a fermé la connexion dès l'accueil")
    else:
        why = getattr(error, "strerror", None) or str(error) or type(error).__name__
    sentence = _(
        "Le serveur d'envoi %(server)s est injoignable (%(why)s) : aucun message ne lui a été remis. %(check)s",
        server=server,
        why=why,
        check=check,
    )
    return Outcome("retry", 0, sentence, reconnect=True, unreachable=True)


def reply_text(response: bytes | str) -> str:
    text = response.decode("utf-8", "replace") if isinstance(response, bytes) else str(response)
    return " ".join(text.split())[:480]


def envelope(sender: str, recipient: str) -> bytes:
    return f"MAIL FROM:<{sender}>\r\nRCPT TO:<{recipient}>\r\nDATA\r\n".encode("ascii")


class SmtpChannel:
    """One reused SMTP connection opened through Flask-Mail."""

    def __init__(self, timeout: float | None = None):
        self.timeout = timeout or current_app.config.get("MAIL_SMTP_TIMEOUT", 30)
        self.connection = None
        self.smtp: smtplib.SMTP | None = None
        self.envelope: tuple[str, str] | None = None  # between begin() and finish()
        self.ahead: tuple[str, str] | None = None  # sent behind the last final dot, its answers not read yet
        self.pipelined = False
        self.failure: Outcome | None = None

    def open(self) -> None:
        self.connection = mail.connect()
        self.connection.__enter__()  # Flask-Mail's Connection: connects, STARTTLS and login as configured
        self.smtp = self.connection.host
        if self.smtp is None:
            raise RuntimeError("Flask-Mail is suppressing mail (MAIL_SUPPRESS_SEND): nothing can be sent")
        if self.smtp.sock is not None:
            self.smtp.sock.settimeout(self.timeout)
        self.smtp.ehlo_or_helo_if_needed()

    def close(self) -> None:
        if self.envelope is not None or self.ahead is not None:
            self.abandon()  # a transaction is open: QUIT would become message text, so it is never completed
            self.envelope = None
        if self.smtp is not None:
            try:
                self.smtp.quit()
            except (smtplib.SMTPException, OSError):
                self.smtp.close()
        self.smtp = self.connection = None

    def drop_ahead(self) -> None:
        """The message whose envelope already left will not follow: close rather than complete it."""
        if self.ahead is not None:
            self.abandon()

    def abandon(self) -> None:
        self.ahead = None
        if self.smtp is not None:
            with contextlib.suppress(OSError):
                self.smtp.close()
        self.smtp = self.connection = None

    def send(self, sender: str, recipient: str, data: bytes) -> Outcome:
        """Hand one message over; never raises for SMTP or network trouble."""
        self.begin(sender, recipient)
        return self.finish(data)

    def begin(self, sender: str, recipient: str) -> None:
        """Open the transaction. With PIPELINING (RFC 2920) MAIL, RCPT and DATA leave in one packet and
        their answers are read by `finish`: the engine commits its `sending` mark meanwhile. When the
        previous `finish` already sent this envelope behind its final dot, nothing more leaves here."""
        self.envelope = (sender, recipient)
        self.failure = None
        if self.ahead is not None:
            ahead, self.ahead = self.ahead, None
            if ahead == (sender, recipient) and self.smtp is not None:
                self.pipelined = True
                return
            self.abandon()  # another recipient's transaction is open: it must never be completed
        self.pipelined = False
        if self.smtp is None:
            try:
                self.open()
            except (TimeoutError, smtplib.SMTPException, OSError) as error:
                self.abandon()
                self.failure = unreachable(error)
                return
        try:
            if self.smtp.has_extn("pipelining"):
                self.smtp.send(envelope(sender, recipient))
                self.pipelined = True
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            self.abandon()
            self.failure = Outcome(
                "retry", 0, _("connexion perdue avant la fin du message (DATA) : %(e)s", e=error), reconnect=True
            )

    def finish(self, data: bytes, then: tuple[str, str] | None = None) -> Outcome:
        """Read the envelope's answers, send the body and the final dot, and say what became of it.

        `then` (sender, recipient), on a pipelining server: the next message's envelope leaves in the
        same packet as this final dot (RFC 2920 lets MAIL follow the end of data), so a message costs one
        round trip, not two. That envelope opens a transaction and delivers nothing: the next `begin`
        for the same addresses goes on with it, anything else drops the connection first."""
        if self.envelope is None:
            raise RuntimeError("finish() without begin()")
        (sender, recipient), self.envelope = self.envelope, None
        if self.failure is not None:
            return self.failure
        handed = False
        try:
            smtp = self.smtp
            refused = self._envelope_answers(smtp) if self.pipelined else self._envelope_steps(smtp, sender, recipient)
            if refused is not None:
                return refused
            body = data.replace(b"\r\n.", b"\r\n..")
            if body.startswith(b"."):
                body = b"." + body
            if not body.endswith(b"\r\n"):
                body += b"\r\n"
            following = envelope(*then) if then is not None and self.pipelined else b""
            smtp.send(body + b".\r\n" + following)
            if following:
                self.ahead = then
            handed = True
            code, resp = smtp.getreply()
            outcome = classify(code, reply_text(resp))
            if outcome.reconnect or (outcome.status != "sent" and self.ahead is not None):
                self.abandon()  # nor RSET behind a pipelined envelope: it would be read as message text
            elif outcome.status != "sent":
                self._reset()  # some servers keep the failed transaction open: start the next one clean
            return outcome
        except (TimeoutError, smtplib.SMTPException, OSError) as error:
            self.abandon()
            if handed:
                return Outcome("unknown", 0, _("connexion perdue après la fin du message (DATA) : %(e)s", e=error))
            return Outcome(
                "retry", 0, _("connexion perdue avant la fin du message (DATA) : %(e)s", e=error), reconnect=True
            )

    def _envelope_steps(self, smtp: smtplib.SMTP, sender: str, recipient: str) -> Outcome | None:
        """MAIL, RCPT, DATA one round trip each (servers without PIPELINING); None when 354 came."""
        for verb, argument, expected in (
            ("MAIL", f"FROM:<{sender}>", (250,)),
            ("RCPT", f"TO:<{recipient}>", (250, 251)),
        ):
            code, resp = smtp.docmd(verb, argument)
            if code not in expected:
                return self._refused(code, resp)
        code, resp = smtp.docmd("DATA")
        return None if code == 354 else self._refused(code, resp)

    def _envelope_answers(self, smtp: smtplib.SMTP) -> Outcome | None:
        """The three pipelined answers; the first refusal decides (the later answers only follow it)."""
        answers = []
        for _answer in range(3):
            answers.append(smtp.getreply())
            code = answers[-1][0]
            if code == 421 or code == -1:  # the server is closing: no further answer will come
                return self._refused(code, answers[-1][1])
        (mail_code, mail_resp), (rcpt_code, rcpt_resp), (data_code, data_resp) = answers
        if mail_code == 250 and rcpt_code in (250, 251) and data_code == 354:
            return None
        if data_code == 354:  # a server that opened DATA for a refused envelope: close it empty
            smtp.send(b".\r\n")
            smtp.getreply()
        if mail_code != 250:
            return self._refused(mail_code, mail_resp)
        if rcpt_code not in (250, 251):
            return self._refused(rcpt_code, rcpt_resp)
        return self._refused(data_code, data_resp)

    def _refused(self, code: int, resp: bytes) -> Outcome:
        outcome = classify(code, reply_text(resp))
        if outcome.reconnect or code == -1:
            self.abandon()
        else:
            self._reset()
        return outcome

    def _reset(self) -> None:
        try:
            self.smtp.rset()
        except (smtplib.SMTPException, OSError):
            self.abandon()


class RateLimiter:
    """At most `per_minute` hand-overs a minute across the threads of one worker (0: no limit)."""

    def __init__(self, per_minute: int):
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.next_at = time.monotonic()
        self.lock = threading.Lock()

    def wait(self) -> None:
        if not self.interval:
            return
        with self.lock:
            now = time.monotonic()
            slot = max(self.next_at, now)
            self.next_at = slot + self.interval
        if slot > now:
            time.sleep(slot - now)
