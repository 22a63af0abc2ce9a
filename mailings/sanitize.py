"""What the editor (or a paste from Word or Google Docs) sends is cleaned with an allow-list before
the Jinja sandbox sees it: no script, no event handler, no `javascript:` link, no style sheet. The
template's Jinja tags are set aside first and put back after, so that a `>` in a condition is not
turned into `&gt;` and an answer link's `{{ rsvp_yes_url }}` stays its address."""

import html
import re

import nh3

TAGS = frozenset(
    {
        "a",
        "b",
        "blockquote",
        "br",
        "div",
        "em",
        "h1",
        "h2",
        "h3",
        "h4",
        "hr",
        "i",
        "img",
        "li",
        "ol",
        "p",
        "s",
        "span",
        "strong",
        "sub",
        "sup",
        "table",
        "tbody",
        "td",
        "th",
        "thead",
        "tr",
        "u",
        "ul",
    }
)
ATTRIBUTES = {
    "a": {"href", "title", "class"},
    "img": {"src", "alt", "width", "height", "class"},
    "p": {"class"},
    "div": {"class"},
    "span": {"class"},
    "td": {"colspan", "rowspan"},
    "th": {"colspan", "rowspan"},
}
URL_SCHEMES = frozenset({"http", "https", "mailto", "tel"})
JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
MARK = "relaisjinja{}x"
MARKED = re.compile(r"relaisjinja(\d+)x")


MARKUP = re.compile(r"<[a-zA-Z/!]")


def has_markup(source: str) -> bool:
    """Written with tags (the visual editor, the HTML mode, a paste), not typed as plain text."""
    return bool(MARKUP.search(JINJA.sub("", source or "")))


def allowed(source: str) -> str:
    """HTML reduced to the allow-list: the editor's blocks, inline styles and addresses, nothing else."""
    return nh3.clean(
        source,
        tags=set(TAGS),
        attributes={tag: set(names) for tag, names in ATTRIBUTES.items()},
        url_schemes=set(URL_SCHEMES),
        link_rel=None,
        strip_comments=True,
    )


def paragraphs(source: str) -> str:
    """Text typed without any markup keeps its paragraphs (a blank line) and its line breaks."""
    if has_markup(source):
        return source
    blocks = [b.strip() for b in re.split(r"\n\s*\n", source.replace("\r\n", "\n")) if b.strip()]
    return "".join("<p>" + "<br>\n".join(escape_text(line) for line in b.split("\n")) + "</p>\n" for b in blocks)


def escape_text(line: str) -> str:
    """Escape a typed line's text, not its Jinja tags."""
    parts, last = [], 0
    for match in JINJA.finditer(line):
        parts.append(html.escape(line[last : match.start()], quote=False))
        parts.append(match.group(0))
        last = match.end()
    parts.append(html.escape(line[last:], quote=False))
    return "".join(parts).strip()


def clean_html(source: str) -> str:
    """The template's HTML reduced to the allow-list, its Jinja tags untouched; plain text becomes
    paragraphs."""
    source = paragraphs(source)
    tags: list[str] = []

    def set_aside(match: re.Match) -> str:
        tags.append(match.group(0))
        return MARK.format(len(tags) - 1)

    cleaned = allowed(JINJA.sub(set_aside, source))
    return MARKED.sub(lambda m: tags[int(m.group(1))] if int(m.group(1)) < len(tags) else "", cleaned)


IMAGE = re.compile(r"<img\b[^>]*>", re.I)
ALT = re.compile(r'\balt="\s*[^"\s][^"]*"', re.I)


def images_without_alt(source: str) -> int:
    """Images a reader who cannot see them would miss: no alternative text."""
    return sum(1 for tag in IMAGE.findall(source) if not ALT.search(tag))
