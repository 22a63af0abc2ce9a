"""Translation that also works outside a request (command line, scheduler, delivery workers): French there."""

from flask import has_request_context
from flask_babel import gettext


def _(text: str, **values) -> str:
    if has_request_context():
        return gettext(text, **values)
    return text % values if values else text
