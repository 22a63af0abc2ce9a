"""Accounts: passwords, users, sign-in throttling and API tokens."""

import hashlib
import secrets
import time
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from flask import current_app, has_app_context
from sqlalchemy import delete, func, select

from accounts.models import ROLES, ApiToken, LoginAttempt, User
from addresses import address_problem
from dbtypes import utcnow
from errors import Conflict, DomainError, ValidationFailed
from extensions import db
from i18n import _

DEFAULT_HASHER = PasswordHasher()  # argon2id, RFC 9106 low-memory profile (t=3, m=64 MiB, p=4)
MIN_PASSWORD_LENGTH = 10


class LoginRefused(DomainError):
    status = 429
    code = "too_many_requests"


def hasher() -> PasswordHasher:
    """The production profile; tests may set ARGON2_PROFILE to a cheaper argon2id for speed."""
    profile = current_app.config.get("ARGON2_PROFILE") if has_app_context() else None
    return PasswordHasher(**profile) if profile else DEFAULT_HASHER


def hash_password(password: str) -> str:
    return hasher().hash(password)


def check_password(user: User | None, password: str) -> bool:
    """Verify a password; without a user, against a stand-in hash of the same cost, so that an
    unknown address answers as slowly as a known one."""
    try:
        return (
            hasher().verify(user.password_hash if user is not None else stand_in_hash(), password) and user is not None
        )
    except (VerificationError, InvalidHashError):
        return False


_STAND_IN: dict[str, str] = {}


def stand_in_hash() -> str:
    profile = repr(current_app.config.get("ARGON2_PROFILE")) if has_app_context() else ""
    if profile not in _STAND_IN:
        _STAND_IN[profile] = hasher().hash(secrets.token_urlsafe(16))
    return _STAND_IN[profile]


def normalise_email(email: str) -> str:
    """The address as stored: validated, domain lower-cased, whole address lower-cased."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        problem = address_problem(error)
        raise ValidationFailed(problem, {"email": problem}) from error


def create_user(email: str, role: str, password: str, region_id: int | None = None, name: str = "") -> User:
    """A new account; a regional coordinator belongs to exactly one region."""
    email = normalise_email(email)
    if role not in ROLES:
        raise ValidationFailed(
            _("Rôle inconnu : %(role)s", role=role), {"role": _("l'un de : %(values)s", values=", ".join(ROLES))}
        )
    if role == "regional" and region_id is None:
        raise ValidationFailed(
            _("Un coordinateur régional a besoin d'une région."),
            {"region": _("obligatoire pour un coordinateur régional")},
        )
    if role != "regional":
        region_id = None
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationFailed(
            _("Mot de passe trop court."),
            {"password": _("%(n)s caractères au moins", n=MIN_PASSWORD_LENGTH)},
        )
    if db.session.scalar(select(User.id).where(User.email == email)):
        raise Conflict(_("%(email)s a déjà un compte.", email=email), {"email": _("déjà utilisée")})
    user = User(
        email=email,
        role=role,
        region_id=region_id,
        name=name,
        password_hash=hash_password(password),
    )
    db.session.add(user)
    db.session.flush()
    return user


def recent_failures(
    email: str | None, now: datetime, window: int, remote_addr: str | None = None
) -> tuple[int, datetime | None]:
    """Failed sign-ins within the window: for an address, from a client, or both."""
    query = select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(
        LoginAttempt.at > now - timedelta(seconds=window)
    )
    if email is not None:
        query = query.where(LoginAttempt.email == email)
    if remote_addr is not None:
        query = query.where(LoginAttempt.remote_addr == remote_addr[:64])
    count, last = db.session.execute(query).one()
    return count, last


CLIENT_FACTOR = 5  # a client may fail on several addresses (a shared office), not on hundreds


def authenticate(email: str, password: str, remote_addr: str, now: datetime, config) -> User | None:
    """The user for these credentials, None when they are wrong; refuses when attacked."""
    email = email.strip().lower()[:254]
    window = config["LOGIN_WINDOW_SECONDS"]
    # Refused: this client on this address, or this client on too many addresses. Someone else's
    # failures only slow an address down: they never lock its owner out.
    here, _latest = recent_failures(email, now, window, remote_addr)
    client, _latest = recent_failures(None, now, window, remote_addr)
    if here >= config["LOGIN_REFUSE_AFTER"] or client >= config["LOGIN_REFUSE_AFTER"] * CLIENT_FACTOR:
        raise LoginRefused(_("Trop de tentatives de connexion : réessayez plus tard."))
    failures, _latest = recent_failures(email, now, window)
    if failures >= config["LOGIN_SLOW_AFTER"]:
        time.sleep(
            min(
                config["LOGIN_DELAY_STEP"] * (failures - config["LOGIN_SLOW_AFTER"] + 1),
                3,
            )
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if not check_password(user, password) or not user.active:
        db.session.add(LoginAttempt(email=email, remote_addr=remote_addr[:64], at=now))
        return None
    db.session.execute(delete(LoginAttempt).where(LoginAttempt.email == email))
    return user


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def issue_token(user: User) -> str:
    """A new bearer token; only its hash is stored."""
    raw = "rl_" + secrets.token_urlsafe(32)
    db.session.add(ApiToken(user_id=user.id, token_hash=token_digest(raw)))
    db.session.flush()
    return raw


def user_for_token(raw: str, now: datetime | None = None) -> User | None:
    token = db.session.scalar(
        select(ApiToken).where(ApiToken.token_hash == token_digest(raw), ApiToken.revoked_at.is_(None))
    )
    if token is None or not token.user.active:
        return None
    now = now or utcnow()
    if token.last_used_at is None or now - token.last_used_at > timedelta(minutes=5):
        token.last_used_at = now
    return token.user
