"""Domain errors raised by services, and the handlers that turn any error into an answer: the
contract's JSON body under /api/, the error page elsewhere."""

import logging

from flask import Flask, jsonify, render_template, request
from sqlalchemy.exc import DataError
from werkzeug.exceptions import HTTPException

from extensions import db
from i18n import _


class DomainError(Exception):
    """A rule of the domain refused the operation."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, fields: dict[str, str] | None = None):
        super().__init__(message)
        self.message = message
        self.fields = fields or {}


class ValidationFailed(DomainError):
    status = 422
    code = "validation_failed"


class PermissionDenied(DomainError):
    status = 403
    code = "forbidden"


class NotFound(DomainError):
    status = 404
    code = "not_found"


class Conflict(DomainError):
    status = 409
    code = "conflict"


def wants_json() -> bool:
    return request.path.startswith("/api/")


def error_body(code: str, message: str, fields: dict | None = None) -> dict:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_answer(status: int, code: str, message: str, fields: dict | None = None, page_message: str | None = None):
    """The contract's JSON error under /api/, the error page elsewhere."""
    if wants_json():
        return jsonify(error_body(code, message, fields)), status
    shown = message if page_message is None else page_message
    return render_template("errors/error.html", status=status, message=shown), status


def register_error_handlers(app: Flask) -> None:
    @app.errorhandler(DomainError)
    def domain_error(error: DomainError):
        db.session.rollback()
        return error_answer(error.status, error.code, error.message, error.fields)

    @app.errorhandler(HTTPException)
    def http_error(error: HTTPException):
        if wants_json():
            return api_http_error(error)
        if error.code and error.code >= 400:
            return render_template("errors/error.html", status=error.code, message=page_message(error)), error.code
        return error

    @app.errorhandler(DataError)
    def value_out_of_range(error: DataError):
        """A value the database cannot hold (an integer beyond its column...): the input's fault."""
        db.session.rollback()
        return error_answer(422, "validation_failed", _("Une valeur dépasse ce que la base de données peut contenir."))

    if app.testing:
        return  # let tests see the traceback of anything unexpected

    @app.errorhandler(Exception)
    def unexpected_error(error: Exception):
        db.session.rollback()
        logging.getLogger("relais").exception("unhandled error on %s", request.path)
        if wants_json():
            return jsonify(error_body("internal_error", _("Erreur interne."))), 500
        return render_template("errors/error.html", status=500, message=None), 500


def page_message(error: HTTPException) -> str:
    """What an error page says: the sentence the code gave with abort(), else a French one for the
    status (Werkzeug's default descriptions are English)."""
    if error.description and error.description != type(error).description:
        return error.description
    messages = {
        400: _("La demande n'a pas pu être lue : vérifiez l'adresse ou le formulaire."),
        401: _("Connectez-vous pour voir cette page."),
        403: _("Vous n'avez pas accès à cette page."),
        404: _("Cette page n'existe pas, ou plus. Vérifiez l'adresse."),
        405: _("Cette adresse ne s'utilise pas ainsi (méthode %(method)s non acceptée).", method=request.method),
        409: _("Cette modification entre en conflit avec une autre."),
        410: _("Cette page n'existe plus."),
        413: _("Le fichier envoyé est trop volumineux."),
        415: _("Ce type de fichier n'est pas accepté."),
        422: _("Les données envoyées sont invalides."),
        429: _("Trop de demandes : réessayez dans un moment."),
        500: _("Une erreur interne est survenue ; l'équipe technique en a la trace."),
        503: _("Le service est momentanément indisponible ; réessayez dans un moment."),
    }
    return messages.get(error.code, _("La demande a été refusée."))


API_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


def api_http_error(error: HTTPException):
    """The contract's error body for any HTTP error under /api/ (webargs' 422 included)."""
    fields: dict[str, str] = {}
    data = getattr(error, "data", None) or {}
    for location_messages in (data.get("messages") or {}).values():
        for field, messages in flatten_messages(location_messages):
            fields[field] = messages
    code = error.code or 500
    message = error.description
    if code == 422:
        message = "Invalid input: " + ", ".join(sorted(fields))
    elif code == 400 and fields.get("_schema"):
        message = fields.pop("_schema")  # e.g. "Invalid JSON body."
    response = jsonify(error_body(API_CODES.get(code, "error"), message, fields))
    response.status_code = code
    for header in ("WWW-Authenticate", "Retry-After"):
        if error.get_response().headers.get(header):
            response.headers[header] = error.get_response().headers[header]
    return response


def flatten_messages(messages, prefix: str = ""):
    """Turn marshmallow's nested messages into (dotted field, text) pairs."""
    if isinstance(messages, dict):
        for key, value in messages.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if name == "_schema":
                name = "_schema"
            yield from flatten_messages(value, name)
    elif isinstance(messages, list) and messages and all(isinstance(m, str) for m in messages):
        yield prefix or "_schema", " ".join(messages)
    elif isinstance(messages, list):
        for index, value in enumerate(messages):
            yield from flatten_messages(value, f"{prefix}.{index}")
    else:
        yield prefix or "_schema", str(messages)
