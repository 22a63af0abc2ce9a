"""Styles in each tag: the body's buttons, links, quotes, images and hidden preheader carry their own
`style` in the message that arrives (mail programs that drop a `<style>` block still show them), the
template's Jinja comes through the HTML parser untouched, and a template the parser would change is
sent as written."""

from email import message_from_bytes, policy
from html.parser import HTMLParser

from campaign.brand import brand_of
from dbtypes import utcnow
from extensions import db
from mailings import services
from mailings.engine.worker import Worker
from mailings.inline_css import inline_styles
from mailings.models import Mailing
from mailings.rendering import compile_template, run

CSS = "a{color:#0a5}a.button{background:#123456;padding:10px 18px}blockquote{border-left:4px solid #123456}"


class Styles(HTMLParser):
    """Each start tag's name, classes and style, as a mail program reads them."""

    def __init__(self):
        super().__init__()
        self.tags: list[tuple[str, str, str]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        self.tags.append((tag, attrs.get("class") or "", attrs.get("style") or ""))


def styles(html: str) -> list[tuple[str, str, str]]:
    parser = Styles()
    parser.feed(html)
    return parser.tags


def test_the_template_s_jinja_comes_through_the_parser_untouched(app):
    source = (
        "<p>Bonjour {{ contact.first_name }}, {% if events|length > 1 %}plusieurs{% endif %} dates &amp; lieux</p>"
        "<table><tbody>{% for e in events %}<tr><td>{{ e.title }}</td></tr>{% endfor %}</tbody></table>"
        '<p class="button-row"><a class="button" href="{{ rsvp_yes_url }}">Je viendrai</a></p>'
        "<blockquote>« Une citation »</blockquote>"
    )
    inlined = inline_styles(source, CSS)
    button = inlined[inlined.index('href="{{ rsvp_yes_url }}" style="') :].split(">")[0]
    assert "background: #123456" in button and "padding: 10px 18px" in button and "color: #0a5" in button
    assert '<blockquote style="border-left: 4px solid #123456;">' in inlined
    # the loop stays between the rows (an HTML parser moves text out of a table; a comment stays)
    assert "<tbody>{% for e in events %}<tr><td>{{ e.title }}</td></tr>{% endfor %}</tbody>" in inlined
    compiled = compile_template("Objet", inlined)
    context = {
        "contact": {"first_name": "Aïcha"},
        "events": [{"title": "Forum"}, {"title": "Portes ouvertes"}],
        "rsvp_yes_url": "https://relais.example.org/rsvp/abc?x=1&y=2",
    }
    out = run(compiled.html, context, "html")
    assert "Bonjour Aïcha, plusieurs dates &amp; lieux" in out
    assert "<tr><td>Forum</td></tr><tr><td>Portes ouvertes</td></tr>" in out
    assert 'href="https://relais.example.org/rsvp/abc?x=1&amp;y=2" style=' in out


def test_a_template_the_parser_would_change_is_sent_as_written(app):
    # a tag in an element's tag outside any quoted value, a text that spells the marks: left as written
    for source in ('<p {{ "class" }}="x">Bonjour</p>', "<p>relaisinline0x {{ contact.first_name }}</p>"):
        assert inline_styles(source, CSS) == source
    # a style value that would open a Jinja tag of its own is not written into the template
    assert inline_styles("<p><a href='https://example.org'>x</a> {{ a }}</p>", "a{font-family:'{{'}") == (
        "<p><a href='https://example.org'>x</a> {{ a }}</p>"
    )


def test_the_message_that_arrives_carries_its_styles_in_each_tag(
    mail_app, smtp_server, make_mailing, make_contact, demo_campaign
):
    html = (
        '<p class="preheader">Conférence de presse le {{ conference.starts_at|date_fr }}</p>'
        "<p>Bonjour {{ contact.first_name }},</p>"
        "<blockquote>Une citation du président</blockquote>"
        '<p class="button-row"><a class="button" href="{{ rsvp_yes_url }}">Je viendrai</a> '
        '<a class="button button-secondary" href="{{ rsvp_no_url }}">Je ne pourrai pas venir</a></p>'
        '<p><a href="https://example.org/programme">Le programme</a></p>'
        '<img src="https://example.org/affiche.png" alt="Affiche">'
    )
    mailing = make_mailing([make_contact(region="93", first_name="Aïcha")], html=html)
    services.start(db.session.get(Mailing, mailing.id), utcnow())
    db.session.commit()
    Worker(mail_app, connections=1, once=True, idle=0.05).run()
    message = message_from_bytes(smtp_server.messages[-1].data, policy=policy.default)
    body = message.get_body(("html",)).get_content()
    charter = brand_of(demo_campaign)
    start = body.index("Bonjour") - 200
    tags = styles(body[start : body.index("</td></tr>", start)])  # the body's cell, not the layout's footer
    by_class = {(tag, cls): style for tag, cls, style in tags}
    yes = by_class[("a", "button")]
    assert f"background: {charter.primary_color}" in yes and "color: #ffffff !important" in yes
    assert "padding: 10px 18px" in yes and "display: inline-block" in yes
    assert "background: #5b6660 !important" in by_class[("a", "button button-secondary")]
    assert f"color: {charter.accent_color}" in by_class[("a", "")]
    assert f"border-left: 4px solid {charter.primary_color}" in by_class[("blockquote", "")]
    assert "max-width: 100%" in by_class[("img", "")]
    preheader = next(style for tag, cls, style in styles(body) if cls == "preheader")
    assert "display: none !important" in preheader and "mso-hide: all" in preheader
    assert "Bonjour Aïcha," in body and "{{" not in body and "relaisinline" not in body
