"""A release's body is typed as plain text: its blank lines make paragraphs, lines starting with
"- " (or "• ", "* ") a list, "1. " a numbered list, and addresses become links, in the email and
on the newsroom page alike."""

import re

from markupsafe import Markup, escape

BULLET = re.compile(r"^\s*[-•*]\s+")
NUMBER = re.compile(r"^\s*\d+[.)]\s+")
ADDRESS = re.compile(r"(https?://[^\s<>\"]+[^\s<>\".,;:!?)\]»])")


def linked(line: str) -> str:
    """One line's text, escaped, with its web addresses as links."""
    parts, last = [], 0
    for match in ADDRESS.finditer(line):
        parts.append(str(escape(line[last : match.start()])))
        url = str(escape(match.group(1)))
        parts.append(f'<a href="{url}">{url}</a>')
        last = match.end()
    parts.append(str(escape(line[last:])))
    return "".join(parts)


def body_html(text: str | None) -> Markup:
    """The body as HTML: paragraphs, lists and links."""
    out = []
    for block in re.split(r"\n\s*\n", (text or "").replace("\r\n", "\n").replace("\r", "\n")):
        lines = [line for line in block.split("\n") if line.strip()]
        if not lines:
            continue
        if all(BULLET.match(line) for line in lines):
            out.append("<ul>" + "".join(f"<li>{linked(BULLET.sub('', line))}</li>" for line in lines) + "</ul>")
        elif all(NUMBER.match(line) for line in lines):
            out.append("<ol>" + "".join(f"<li>{linked(NUMBER.sub('', line))}</li>" for line in lines) + "</ol>")
        else:
            out.append("<p>" + "<br>\n".join(linked(line.strip()) for line in lines) + "</p>")
    return Markup("\n".join(out))
