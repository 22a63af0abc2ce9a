"""A release's body, in the email, on the newsroom page, in the press kit and in the feeds alike.

Written in the visual editor, it is HTML, kept to the template editor's allow-list when saved and
again when shown. Typed as plain text (through the API, or before the editor), its blank lines make
paragraphs, lines starting with "- " (or "• ", "* ") a list, "1. " a numbered list, and addresses
become links. A release is not a template: "{{" in it is text."""

import html
import re
from collections.abc import Callable

from markupsafe import Markup, escape

from mailings.rendering import html_to_text
from mailings.sanitize import MARKUP, allowed

BULLET = re.compile(r"^\s*[-•*]\s+")
NUMBER = re.compile(r"^\s*\d+[.)]\s+")
ADDRESS = re.compile(r"(https?://[^\s<>\"]+[^\s<>\".,;:!?)\]»])")
TAG = re.compile(r"(<[^>]*>)")


def has_tags(body: str) -> bool:
    return bool(MARKUP.search(body))


def stored(body: str | None) -> str:
    """What is kept of a body as written: HTML to the allow-list, plain text as typed."""
    body = body or ""
    return allowed(body) if has_tags(body) else body


def linked(line: str, typeset: Callable[[str], str] = str) -> str:
    """One line's text, escaped, with its web addresses as links."""
    parts, last = [], 0
    for match in ADDRESS.finditer(line):
        parts.append(str(escape(typeset(line[last : match.start()]))))
        url = str(escape(match.group(1)))
        parts.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    parts.append(str(escape(typeset(line[last:]))))
    return "".join(parts)


def typeset_html(source: str, typeset: Callable[[str], str]) -> str:
    """`typeset` applied to the text between the tags (unescaped first: an entity is not text)."""
    parts = TAG.split(source)
    for i in range(0, len(parts), 2):  # the text between two tags
        parts[i] = str(escape(typeset(html.unescape(parts[i]))))
    return "".join(parts)


def body_html(text: str | None, typeset: Callable[[str], str] = str) -> Markup:
    """The body as HTML: paragraphs, lists and links; `typeset` (French spacing in the press kit)
    is applied to its words."""
    if has_tags(text or ""):
        cleaned = allowed(text or "")
        return Markup(cleaned if typeset is str else typeset_html(cleaned, typeset))
    out = []
    for block in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if all(BULLET.match(line) for line in lines):
            out.append(
                "<ul>" + "".join(f"<li>{linked(BULLET.sub('', line), typeset)}</li>" for line in lines) + "</ul>"
            )
        elif all(NUMBER.match(line) for line in lines):
            out.append(
                "<ol>" + "".join(f"<li>{linked(NUMBER.sub('', line), typeset)}</li>" for line in lines) + "</ol>"
            )
        else:
            out.append("<p>" + "<br>\n".join(linked(line.strip(), typeset) for line in lines) + "</p>")
    return Markup("\n".join(out))


def body_text(text: str | None) -> str:
    """The body's words without markup (a feed's summary, a page's description)."""
    return html_to_text(str(body_html(text))).strip()
