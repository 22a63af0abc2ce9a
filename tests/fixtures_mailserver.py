"""Real mail servers for the bounce tests, started unprivileged on loopback ports with a throwaway
configuration: Dovecot (IMAPS and POP3S, a maildir, a certificate made here) and Postfix (an MTA that
accepts for an unknown local user, then mails its RFC 3464 bounce to the return path's domain).

Without the Debian packages (`dovecot-imapd`, `dovecot-pop3d`, `postfix`) the tests skip with the
reason; with REQUIRE_MAILSERVER=1 (CI sets it) they fail instead.
"""

import grp
import imaplib
import os
import pwd
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from ipaddress import IPv4Address
from pathlib import Path

import pytest

from tests.fixtures_mail import ask_for_smtp, free_port

DOVECOT = "/usr/sbin/dovecot"
POSTFIX_MASTER = "/usr/lib/postfix/sbin/master"
PASSWORD = "boite-des-retours"


def missing(what: str, reason: str):
    if os.environ.get("REQUIRE_MAILSERVER") == "1":
        pytest.fail(f"{what} is required (REQUIRE_MAILSERVER=1) but {reason}")
    pytest.skip(f"{what} unavailable: {reason}")


def certificate(directory: Path) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 (the client trusts it through BOUNCE_MAILBOX_CAFILE)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import rsa
    from cryptography.x509.oid import NameOID

    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = datetime.now(UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(days=1))
        .not_valid_after(now + timedelta(days=7))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(IPv4Address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    key_path.chmod(0o600)
    return cert_path, key_path


class Dovecot:
    """One mailbox `bounces` with password PASSWORD, reachable over IMAPS and POP3S."""

    def __init__(self, root: Path):
        self.root = root
        self.imaps, self.pop3s = free_port(), free_port()
        self.cert, key = certificate(root)
        if os.geteuid() == 0:  # as root, the mail user and the login processes are Debian's own
            mail_user, login_user, internal_user = "nobody", "dovenull", "dovecot"
        else:
            mail_user = login_user = internal_user = pwd.getpwuid(os.geteuid()).pw_name
        entry = pwd.getpwnam(mail_user)
        self.uid, self.gid = entry.pw_uid, entry.pw_gid
        self.home = root / "home"
        self.home.mkdir()
        os.chown(self.home, self.uid, self.gid)
        root.chmod(0o755)
        (root / "passwd").write_text(f"bounces:{{PLAIN}}{PASSWORD}::::::\n")
        (root / "dovecot.conf").write_text(
            f"""
base_dir = {root}/run
state_dir = {root}/state
log_path = {root}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = required
ssl_cert = <{self.cert}
ssl_key = <{key}
disable_plaintext_auth = yes
auth_mechanisms = plain login
default_internal_user = {internal_user}
default_internal_group = {grp.getgrgid(pwd.getpwnam(internal_user).pw_gid).gr_name}
default_login_user = {login_user}
first_valid_uid = {min(self.uid, 1)}
mail_location = maildir:~/Maildir
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/passwd
}}
userdb {{
  driver = static
  args = uid={self.uid} gid={self.gid} home={self.home}/%u
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = {self.imaps}
    ssl = yes
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    port = 0
  }}
  inet_listener pop3s {{
    port = {self.pop3s}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
service pop3-login {{
  chroot =
}}
service stats {{
  unix_listener stats-reader {{
    mode = 0666
  }}
  unix_listener stats-writer {{
    mode = 0666
  }}
}}
protocol pop3 {{
  pop3_uidl_format = %08Xu%08Xv
}}
"""
        )
        self.process = subprocess.Popen(
            [DOVECOT, "-F", "-c", str(root / "dovecot.conf")], stdout=subprocess.PIPE, stderr=subprocess.STDOUT
        )
        self.wait_ready()

    def wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            try:
                with self.imap():
                    return
            except (OSError, imaplib.IMAP4.error):
                time.sleep(0.1)
        log = (self.root / "dovecot.log").read_text() if (self.root / "dovecot.log").exists() else ""
        output = self.process.stdout.read().decode() if self.process.poll() is not None else ""
        self.stop()
        raise RuntimeError(f"Dovecot did not start: {output} {log[-2000:]}")

    def context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.cert))

    def imap(self) -> imaplib.IMAP4_SSL:
        client = imaplib.IMAP4_SSL("127.0.0.1", self.imaps, ssl_context=self.context(), timeout=10)
        try:
            client.login("bounces", PASSWORD)
        except BaseException:
            client.shutdown()
            raise
        return client

    def url(self, scheme: str = "imaps", folder: str = "INBOX") -> str:
        port = self.imaps if scheme == "imaps" else self.pop3s
        return f"{scheme}://bounces:{PASSWORD}@127.0.0.1:{port}/{folder}"

    def deliver(self, *messages: bytes) -> None:
        with self.imap() as client:
            for raw in messages:
                client.append("INBOX", None, None, raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))

    def folder(self, name: str) -> list[bytes]:
        """The messages of one folder, as stored."""
        with self.imap() as client:
            status, _ = client.select(f'"{name}"', readonly=True)
            if status != "OK":
                return []
            _, data = client.uid("SEARCH", None, "ALL")
            found = []
            for uid in (data[0] or b"").split():
                _, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
                found += [item[1] for item in fetched if isinstance(item, tuple)]
            return found

    def empty(self) -> None:
        shutil.rmtree(self.home / "bounces", ignore_errors=True)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process.stdout:
            self.process.stdout.close()


@pytest.fixture(scope="session")
def dovecot_server():
    if not (
        Path(DOVECOT).exists() and Path("/usr/lib/dovecot/imap").exists() and Path("/usr/lib/dovecot/pop3").exists()
    ):
        missing("Dovecot (dovecot-imapd, dovecot-pop3d)", f"{DOVECOT} or its imap/pop3 services are not installed")
    root = Path(tempfile.mkdtemp(prefix="relais-dovecot-"))  # not under pytest's 0700 directory: Dovecot's
    try:  # own users (auth, login) must reach its files
        server = Dovecot(root)
        yield server
        server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def dovecot(dovecot_server):
    dovecot_server.empty()
    yield dovecot_server
    dovecot_server.empty()


class Postfix:
    """An MTA on loopback for `mx.relais.test`, whose local users do not exist: it accepts a message,
    then mails its bounce (RFC 3464) to the envelope sender's domain, example.org, which it hands to
    the test's SMTP server."""

    def __init__(self, root: Path, return_port: int):
        self.root = root
        self.port = free_port()
        etc, queue, data = root / "etc", root / "queue", root / "data"
        for path in (etc, queue, data):
            path.mkdir()
        (etc / "main.cf").write_text(
            f"""compatibility_level = 3.6
queue_directory = {queue}
data_directory = {data}
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.relais.test
mydomain = relais.test
myorigin = mx.relais.test
mydestination = mx.relais.test
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
local_recipient_maps =
alias_maps =
alias_database =
transport_maps = inline:{{ example.org=smtp:[127.0.0.1]:{return_port} }}
smtpd_relay_restrictions = permit_mynetworks reject
maillog_file = /dev/stdout
smtp_dns_support_level = disabled
biff = no
shlib_directory = /usr/lib/postfix
"""
        )
        services = []
        for line in Path("/etc/postfix/master.cf").read_text().splitlines():
            fields = line.split()
            if not fields or line[0] in "# \t" or fields[-1] == "pipe" or len(fields) < 8:
                continue
            if fields[:2] == ["smtp", "inet"]:
                fields[0] = f"127.0.0.1:{self.port}"
            fields[4] = "n"  # no chroot: the queue is a temporary directory
            services.append("  ".join(fields))
        (etc / "master.cf").write_text("\n".join(services) + "\n")
        postfix = pwd.getpwnam("postfix")
        postdrop = grp.getgrnam("postdrop").gr_gid
        for name in (
            "active",
            "bounce",
            "corrupt",
            "defer",
            "deferred",
            "flush",
            "hold",
            "incoming",
            "private",
            "saved",
            "trace",
        ):
            (queue / name).mkdir(mode=0o700)
            os.chown(queue / name, postfix.pw_uid, -1)
        for name, mode in (("maildrop", 0o730), ("public", 0o710)):
            (queue / name).mkdir()
            os.chown(queue / name, postfix.pw_uid, postdrop)
            (queue / name).chmod(mode)
        (queue / "pid").mkdir()
        os.chown(data, postfix.pw_uid, -1)
        self.log = open(root / "maillog", "wb")  # noqa: SIM115 (closed by stop)
        self.process = subprocess.Popen(
            [POSTFIX_MASTER, "-c", str(etc), "-d"], stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"Postfix did not start: {(root / 'maillog').read_text()[-2000:]}")
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                    if sock.recv(100).startswith(b"220"):
                        return
            except OSError:
                time.sleep(0.1)
        self.stop()
        raise RuntimeError("Postfix did not answer on its port")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.log.close()


@pytest.fixture
def postfix_server(smtp_server):
    """Postfix on loopback; the bounces it writes to example.org arrive at `smtp_server`."""
    if not Path(POSTFIX_MASTER).exists():
        missing("Postfix", f"{POSTFIX_MASTER} is not installed")
    if os.geteuid() != 0:
        missing("Postfix", "its master process needs root to hand the queue to the postfix user")
    root = Path(tempfile.mkdtemp(prefix="relais-postfix-"))  # reachable by the postfix user
    root.chmod(0o755)
    try:
        server = Postfix(root, smtp_server.port)
        ask_for_smtp(server.port)  # Relais sends through it on purpose
        yield server
        server.stop()
    finally:
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def bounce_app(mail_app):
    """The app sending through the loopback SMTP server with a return path (VERP) set."""
    mail_app.config.update(MAIL_RETURN_PATH="bounces@example.org", BOUNCE_SOFT_LIMIT=3, BOUNCE_SOFT_WINDOW_DAYS=30)
    yield mail_app
    mail_app.config.update(MAIL_RETURN_PATH="")


@pytest.fixture
def sent(bounce_app, make_contact, make_mailing):
    """sent(*emails) -> (mailing, {email: Delivery}): a mailing really handed to the SMTP server."""
    from tests.test_delivery import deliveries, send

    def make(*emails):
        people = [make_contact(email=e, first_name="Camille") for e in emails]
        mailing = send(bounce_app, make_mailing(people))
        return mailing, deliveries(mailing)

    return make
