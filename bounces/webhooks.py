"""`/webhooks/<provider>`: Brevo, Mailjet, Postmark (HTTP basic credentials in the URL, or Brevo's
bearer token) and Amazon SES through SNS (signed messages; the subscription is confirmed). A request
that fails authentication changes nothing; a provider that is not configured is not there (404)."""

import hmac
import json
import logging

from flask import Blueprint, abort, current_app, g, jsonify, request

from bounces import providers, services
from extensions import db

bp = Blueprint("bounce_webhooks", __name__)
log = logging.getLogger("relais.bounces")
READERS = {"brevo": providers.brevo, "mailjet": providers.mailjet, "postmark": providers.postmark}


def credentials_match(secret: str) -> bool:
    """`user:password` as HTTP basic credentials, or the whole secret as a bearer token."""
    header = request.headers.get("Authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer":
        return hmac.compare_digest(value.strip().encode(), secret.encode())
    auth = request.authorization
    if auth is None or auth.type != "basic" or auth.username is None:
        return False
    return hmac.compare_digest(f"{auth.username}:{auth.password or ''}".encode(), secret.encode())


def refused(provider: str, why: str, status: int = 401):
    log.warning("bounces: webhook %s refused: %s", provider, why)
    response = jsonify({"error": {"code": "unauthorized", "message": why, "fields": {}}})
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="relais-webhooks"'
    return response


def body_json():
    try:
        return json.loads(request.get_data(cache=True) or b"null")
    except ValueError:
        return None


@bp.route("/webhooks/<provider>", methods=["POST"])
def webhook(provider: str):
    if provider == "ses":
        return ses_webhook()
    reader = READERS.get(provider)
    secret = current_app.config.get(f"BOUNCE_WEBHOOK_{provider.upper()}") if reader else None
    if not secret:
        abort(404)
    if not credentials_match(str(secret)):
        return refused(provider, "credentials required (as set in the provider's webhook URL)")
    payload = body_json()
    try:
        events = reader(payload)
    except providers.BadPayload as error:
        return jsonify({"error": {"code": "bad_request", "message": str(error), "fields": {}}}), 400
    return apply(provider, events)


def apply(provider: str, events: list[providers.Event]):
    g.actor_id, g.actor_email = None, f"webhook:{provider}"  # the audit log says who reported it
    lines, changed = [], 0
    for event in events:
        outcome = services.report_event(
            event.kind,
            event.email,
            f"webhook:{provider}",
            event.key,
            event.reason,
            event.mailing_id,
            event.status,
            event.message_id,
        )
        lines += outcome.lines
        changed += outcome.changed
    db.session.commit()
    return jsonify({"received": len(events), "changed": changed, "lines": lines})


def ses_webhook():
    config = current_app.config
    topics = [t.strip() for t in str(config.get("BOUNCE_WEBHOOK_SES_TOPICS") or "").split(",") if t.strip()]
    if not topics:
        abort(404)
    message = body_json()
    if not isinstance(message, dict):
        return refused("ses", "not an SNS message", 400)
    if message.get("TopicArn") not in topics:
        return refused("ses", f"unexpected topic {message.get('TopicArn')!r}", 403)
    allowed = str(config["BOUNCE_SNS_CERT_URL"])
    try:
        providers.verify_sns(message, allowed)
    except (providers.BadSignature, providers.BadPayload) as error:
        return refused("ses", str(error), 403)
    except OSError as error:  # the certificate could not be fetched: SNS will send it again
        log.error("bounces: SNS certificate unavailable: %s", error)
        return jsonify({"error": {"code": "unavailable", "message": "certificate unavailable", "fields": {}}}), 503
    kind = message.get("Type")
    if kind == "SubscriptionConfirmation":
        try:
            providers.confirm_subscription(message, allowed)
        except providers.BadSignature as error:
            return refused("ses", str(error), 403)
        except OSError as error:
            log.error("bounces: SNS subscription not confirmed: %s", error)
            return jsonify({"error": {"code": "unavailable", "message": str(error), "fields": {}}}), 503
        log.info("bounces: SNS subscription to %s confirmed", message.get("TopicArn"))
        return jsonify({"confirmed": message.get("TopicArn")})
    if kind != "Notification":
        return jsonify({"received": 0, "changed": 0, "lines": []})
    try:
        events = providers.ses(providers.ses_message(message))
    except providers.BadPayload as error:
        return jsonify({"error": {"code": "bad_request", "message": str(error), "fields": {}}}), 400
    return apply("ses", events)
