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


def check_password(user: User, password: str) -> bool:
    try:
        return hasher().verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


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


def recent_failures(email: str, now: datetime, window: int) -> tuple[int, datetime | None]:
    count, last = db.session.execute(
        select(func.count(LoginAttempt.id), func.max(LoginAttempt.at)).where(
            LoginAttempt.email == email,
            LoginAttempt.at > now - timedelta(seconds=window),
        )
    ).one()
    return count, last


def authenticate(email: str, password: str, remote_addr: str, now: datetime, config) -> User | None:
    """The user for these credentials, None when they are wrong; refuses when attacked."""
    email = email.strip().lower()[:254]
    failures, _latest = recent_failures(email, now, config["LOGIN_WINDOW_SECONDS"])
    if failures >= config["LOGIN_REFUSE_AFTER"]:
        raise LoginRefused(_("Trop de tentatives de connexion : réessayez plus tard."))
    if failures >= config["LOGIN_SLOW_AFTER"]:
        time.sleep(
            min(
                config["LOGIN_DELAY_STEP"] * (failures - config["LOGIN_SLOW_AFTER"] + 1),
                3,
            )
        )
    user = db.session.scalar(select(User).where(User.email == email))
    if user is None or not user.active or not check_password(user, password):
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
