"""The body's styles written into its tags (css-inline), once per mailing on the template itself:
Outlook, Gmail's app and many webmails drop a `<style>` block, so a button, a link, a quote or the
hidden preheader look as they should only if each tag carries its own `style`.

The template is Jinja, not HTML: its tags are set aside before the HTML is parsed and put back
after. A tag between two elements (a loop between table rows) becomes a comment, which the HTML
parser keeps in place; one inside an element's tag (an address) becomes a word. When what comes
back is not exactly the template's tags, in order, the template is left as written (its layout's
`<style>` block still styles it)."""

import re

import css_inline

JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)
MARK = "relaisinline{}x"
MARKED = re.compile(r"<!--relaisinline(\d+)x-->|relaisinline(\d+)x")
OPENER = re.compile(r"{[{%#]")  # what would start a Jinja tag
OPEN_VALUE = re.compile(r'=\s*"[^"]*\Z')  # the tag so far ends inside a quoted attribute value


def inline_styles(source: str, css: str) -> str:
    """The template's HTML with the rules of `css` written into each tag's `style` attribute."""
    if "relaisinline" in source:
        return source  # a template that spells the marks itself is left as written
    tags: list[str] = []
    marked, last = "", 0
    for match in JINJA.finditer(source):
        marked += source[last : match.start()]
        opened = marked.rfind("<")
        if opened > marked.rfind(">"):  # inside a tag: only an attribute's quoted value is safe
            if not OPEN_VALUE.search(marked, opened):
                return source
            mark = MARK.format(len(tags))
        else:
            mark = "<!--" + MARK.format(len(tags)) + "-->"
        tags.append(match.group(0))
        marked += mark
        last = match.end()
    marked += source[last:]
    try:
        inlined = css_inline.inline_fragment(marked, css)
    except (css_inline.InlineError, ValueError):
        return source
    order = [int(m.group(1) or m.group(2)) for m in MARKED.finditer(inlined)]
    if order != list(range(len(tags))):
        return source  # the parser moved or dropped a tag: not risked
    restored = MARKED.sub(lambda m: tags[int(m.group(1) or m.group(2))], inlined)
    if len(OPENER.findall(restored)) != len(OPENER.findall(source)):
        return source  # a style value would have opened a Jinja tag of its own
    return restored
