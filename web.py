"""What every request and answer goes through: ids that fit the database, the language, text
without NUL characters, security headers, and the proxy in front."""

from flask import Flask, g, has_request_context, request, session
from flask_babel import get_locale
from flask_babel import refresh as refresh_locale
from werkzeug.middleware.proxy_fix import ProxyFix
from werkzeug.routing import IntegerConverter

from dbtypes import MAX_ID
from errors import error_answer
from i18n import _
from input_rules import nul_field


def register_routing(app: Flask) -> None:
    """The proxy in front, and ids that fit the database (before any blueprint adds its routes)."""
    if app.config.get("PROXY_FIX"):
        hops = int(app.config["PROXY_FIX"])
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
    app.url_map.converters["int"] = DatabaseIntConverter


def register_web(app: Flask) -> None:
    """What every request and answer goes through, after the extensions' own hooks (CSRF...)."""
    app.jinja_env.globals["get_locale"] = get_locale
    app.before_request(fresh_request_identity)
    register_security_headers(app)
    register_input_guard(app)


class DatabaseIntConverter(IntegerConverter):
    """`<int:id>` matches only ids a 32-bit integer column can hold: a larger one is a 404, not a 500."""

    def __init__(self, map, *args, **kwargs):
        kwargs.setdefault("max", MAX_ID)
        super().__init__(map, *args, **kwargs)


def select_locale() -> str:
    """French unless the person chose English (?lang=en, kept in the session); French outside requests."""
    if not has_request_context():
        return "fr"
    languages = ("fr", "en")
    asked = request.args.get("lang")
    if asked in languages:
        session["lang"] = asked
    return session.get("lang", "fr")


def fresh_request_identity() -> None:
    """Who acts is decided per request, even where an app context outlives requests (tests, CLI)."""
    for name in ("_login_user", "api_user", "actor_id", "actor_email", "csrf_token"):
        g.pop(name, None)
    refresh_locale()  # the language too is chosen per request


CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; form-action 'self'; base-uri 'none'; object-src 'none'; "
    "frame-src 'self'; frame-ancestors 'self'"
)


# no page uses a device or a sensor: no script, ours or injected, may ask for one
PERMISSIONS_POLICY = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), interest-cohort=()"


def register_security_headers(app: Flask) -> None:
    """Headers on every answer; a view that must be embedded elsewhere sets its own CSP first."""

    @app.after_request
    def security_headers(response):
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Referrer-Policy", "strict-origin-when-cross-origin")
        response.headers.setdefault("X-Frame-Options", "SAMEORIGIN")
        response.headers.setdefault("Permissions-Policy", PERMISSIONS_POLICY)
        if app.config.get("SESSION_COOKIE_SECURE"):
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response


def register_input_guard(app: Flask) -> None:
    """Text with a NUL character is refused up front, naming the field: a 4xx, never a 500."""

    @app.before_request
    def refuse_nul_characters():
        sources = [request.args.to_dict(flat=False), request.view_args or {}]
        if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
            sources.append(request.form.to_dict(flat=False))
            sources.append(
                {name: [upload.filename or "" for upload in uploads] for name, uploads in request.files.lists()}
            )
        elif request.is_json:
            sources.append(request.get_json(silent=True) or {})
        for source in sources:
            field = nul_field(source)
            if field:
                field = field.rsplit(".", 1)[0] if field.rsplit(".", 1)[-1].isdigit() else field
                message = _("Caractère NUL refusé.")
                return error_answer(422, "validation_failed", message, {field: message}, f"{field} : {message}")
        return None
