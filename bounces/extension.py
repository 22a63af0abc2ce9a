"""Bounces plugged into the app: the webhooks and API, the commands, the mailbox poll and the page
sections, through the hooks mailings offers (mailings and contacts never import bounces)."""

from flask import Flask

from bounces import api as bounces_api
from bounces import history, views, webhooks
from bounces.cli import bounces_cli
from bounces.mailbox import poll
from contacts.history import init_app as contact_history
from extensions import api, csrf
from mailings.hooks import init_app as mailing_hooks


def init_app(app: Flask) -> None:
    hooks = mailing_hooks(app)
    hooks.page_sections.append("bounces/_mailing_summary.html")  # rates and reports after sending
    if app.config.get("BOUNCE_MAILBOX"):  # the active scheduler reads it every few minutes
        hooks.periodic_jobs.append((poll, int(app.config["BOUNCE_MAILBOX_INTERVAL"])))
    contact_history(app).sources.append(history.reports)  # the contact page's history
    app.register_blueprint(views.bp)
    app.register_blueprint(webhooks.bp)
    csrf.exempt(webhooks.bp)  # providers authenticate with credentials or signatures, not cookies
    for blueprint in bounces_api.blueprints:
        csrf.exempt(blueprint)  # bearer tokens, no cookies: nothing to forge
        api.register_blueprint(blueprint)
    app.cli.add_command(bounces_cli)
