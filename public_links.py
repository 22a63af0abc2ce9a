"""Absolute links to Relais's own pages, from RELAIS_PUBLIC_BASE_URL, never from the request's Host
header (which a client chooses): feeds, Open Graph tags and embed codes are copied elsewhere."""

from urllib.parse import urlsplit

from flask import current_app, url_for


def public_url(endpoint: str, **values) -> str:
    """url_for(endpoint, **values) made absolute with the public base URL."""
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + url_for(endpoint, **values)


def public_host() -> str:
    """The public host name (calendar UIDs and the like)."""
    return urlsplit(current_app.config["PUBLIC_BASE_URL"]).hostname or "relais"
