"""The checklist before sending: what a mailing's message will carry, read from the message itself.

The rules read the bytes the composer writes (the code that sends) for up to three real recipients
of the audience, one per region, with the personal links of a test. Errors block `submit`,
`schedule` and `send_now` (`enforce`); warnings are shown on the mailing page. Only links to this
Relais are fetched, through the app itself (its URL map, then its test client): never the internet.
"""

import re
from dataclasses import dataclass
from email import message_from_bytes, policy
from html.parser import HTMLParser
from urllib.parse import urlsplit

from flask import current_app
from sqlalchemy import func, select
from werkzeug.exceptions import HTTPException
from werkzeug.routing import RequestRedirect

from accounts.models import Region
from contacts.models import Contact
from errors import DomainError, ValidationFailed
from extensions import db
from i18n import _
from mailings import senders
from mailings.composer import TEST_MARK, Composer, Recipient
from mailings.models import Mailing
from mailings.spread import conference_spread, reads_conference, recipient_ids

SUBJECT_MAX = 78  # characters most inboxes show before cutting (RFC 5322's line advice, in practice)
WEIGHT_MAX = 100 * 1024  # Gmail clips a message whose HTML passes about 102 KB
RECIPIENTS = 3  # regions whose message is read (links and weight do not change with the person)
LINKS_FETCHED = 12  # distinct local links fetched per run; the others are matched against the URL map
PLACEHOLDER = re.compile(r"\[à compléter[^\]]*\]", re.I)
IMMEDIATE = "diffusion immédiate"
VENUE = re.compile(r"conference\.(venue|city)\b")
OK, WARNING, ERROR = "ok", "warning", "error"
VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"})
UNSUBSCRIBE_WORDS = ("désinscri", "désabonn", "unsubscribe")


@dataclass
class Item:
    """One rule's verdict: `key` names it (the field of a 422), `level` is ok, warning or error."""

    key: str
    label: str
    level: str
    detail: str


@dataclass
class Message:
    """What one recipient's message holds, as a mail program reads it."""

    subject: str
    html: str
    text: str
    unsubscribe: str


class Page(HTMLParser):
    """The links, images and preheader of a message's HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links: list[tuple[str, str]] = []  # (href, words)
        self.images: list[dict] = []
        self.preheader = ""
        self._in_link: list[str] | None = None
        self._in_preheader = 0

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "a" and attrs.get("href"):
            self.links.append((attrs["href"], ""))
            self._in_link = []
        elif tag == "img":
            self.images.append(attrs)
        if tag in VOID:
            return
        if "preheader" in (attrs.get("class") or "").split() and not self.preheader:
            self._in_preheader = 1
        elif self._in_preheader:
            self._in_preheader += 1

    def handle_endtag(self, tag):
        if tag == "a" and self._in_link is not None and self.links:
            self.links[-1] = (self.links[-1][0], " ".join("".join(self._in_link).split()))
            self._in_link = None
        if self._in_preheader and tag not in VOID:
            self._in_preheader -= 1

    def handle_data(self, data):
        if self._in_link is not None:
            self._in_link.append(data)
        if self._in_preheader:
            self.preheader += data


def recipients(mailing: Mailing) -> list[Recipient]:
    """Real recipients of the audience, one per region (at most RECIPIENTS), else a sample."""
    ids = recipient_ids(mailing)
    people: list[Recipient] = []
    if ids is not None:
        first = select(func.min(Contact.id)).where(Contact.id.in_(ids)).group_by(Contact.region_id).limit(RECIPIENTS)
        found = db.session.scalars(select(Contact).where(Contact.id.in_(first)).order_by(Contact.id))
        people = [Recipient.of(contact) for contact in found]
    if not people:
        region_id = mailing.region_id or db.session.scalar(
            select(Region.id).where(Region.active).order_by(Region.name, Region.id).limit(1)
        )
        people = [Recipient(None, "camille.durand@example.org", "Camille", "Durand", "media", "Le Journal", region_id)]
    return people


def read(composer: Composer, person: Recipient) -> Message:
    """The message `person` will get, through the code that sends (a test's links: they act for nobody)."""
    data, _id = composer.compose(person, 0, careful=True, test=True)
    message = message_from_bytes(data, policy=policy.default)
    subject = str(message["Subject"] or "").removeprefix(TEST_MARK).strip()
    html_part, text_part = message.get_body(("html",)), message.get_body(("plain",))
    unsubscribe = str(message["List-Unsubscribe"] or "").strip().strip("<>")
    return Message(
        subject,
        html_part.get_content() if html_part else "",
        text_part.get_content() if text_part else "",
        unsubscribe,
    )


def local_answers(url: str, fetch: bool = True) -> bool:
    """Whether a link to this Relais answers: it names a page (URL map), and the page answers below
    400 when asked by someone without an account (test client, in an app context of its own)."""
    if not matches(url):
        return False
    if not fetch:
        return True
    parts = urlsplit(url)
    app = current_app._get_current_object()
    with app.app_context():
        response = app.test_client().get(parts.path or "/", query_string=parts.query)
        status = response.status_code
        response.close()
    return status < 400


def check_subject(messages: list[Message]) -> Item:
    label = _("Objet")
    longest = max(messages, key=lambda m: len(m.subject))
    if not all(m.subject for m in messages):
        return Item("subject", label, ERROR, _("L'objet est vide."))
    if len(longest.subject) > SUBJECT_MAX:
        return Item(
            "subject",
            label,
            WARNING,
            _(
                "L'objet fait %(num)s caractères : au-delà d'environ %(max)s, les boîtes de réception le coupent.",
                num=len(longest.subject),
                max=SUBJECT_MAX,
            ),
        )
    return Item("subject", label, OK, _("%(num)s caractères.", num=len(longest.subject)))


def check_preheader(pages: list[Page]) -> Item:
    label = _("Texte d'aperçu")
    text = " ".join(pages[0].preheader.split())
    if not text:
        return Item(
            "preheader",
            label,
            WARNING,
            _("Aucun texte d'aperçu : la boîte de réception montrera le début du message (ajoutez-le en tête)."),
        )
    return Item("preheader", label, OK, text)


def check_links(pages: list[Page]) -> Item:
    label = _("Liens")
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    local, external = [], set()
    for page in pages:
        for href, _words in page.links:
            href = href.strip()  # the parser already turned &amp; into & (unescaping again reads "&reg" as ®)
            if href == base or href.startswith(base + "/"):
                if href not in local:
                    local.append(href)
            elif href.startswith(("http://", "https://")):
                external.add(href)
    broken = []
    for index, href in enumerate(local):  # beyond the budget, the URL map alone says whether it exists
        if not local_answers(href, fetch=index < LINKS_FETCHED):
            broken.append(href.removeprefix(base) or "/")
    if broken:
        return Item(
            "links",
            label,
            ERROR,
            _("Ces liens ne répondent pas : %(links)s", links=", ".join(broken)),
        )
    detail = _("%(num)s lien(s) vers Relais vérifié(s).", num=len(local))
    if external:
        detail += " " + _("%(num)s lien(s) vers d'autres sites, non vérifié(s).", num=len(external))
    return Item("links", label, OK, detail)


def matches(url: str) -> bool:
    parts = urlsplit(url)
    try:
        current_app.url_map.bind(parts.netloc or "localhost").match(parts.path or "/", method="GET")
    except RequestRedirect:
        return True
    except HTTPException:
        return False
    return True


def check_images(pages: list[Page]) -> Item:
    label = _("Images")
    missing = max(sum(1 for image in page.images if not (image.get("alt") or "").strip()) for page in pages)
    if missing:
        return Item(
            "images",
            label,
            ERROR,
            _(
                "%(num)s image(s) sans texte de remplacement : décrivez chaque image pour qui ne la voit pas.",
                num=missing,
            ),
        )
    return Item("images", label, OK, _("Chaque image a son texte de remplacement."))


def check_weight(messages: list[Message]) -> Item:
    label = _("Poids")
    heaviest = max(len(m.html.encode("utf-8")) for m in messages)
    kb = f"{heaviest / 1024:.1f}".replace(".", ",")
    if heaviest > WEIGHT_MAX:
        return Item(
            "weight",
            label,
            WARNING,
            _("Le HTML pèse %(kb)s Ko : Gmail coupe les messages au-delà de 102 Ko.", kb=kb),
        )
    return Item("weight", label, OK, _("%(kb)s Ko de HTML.", kb=kb))


def check_unsubscribe(messages: list[Message], pages: list[Page]) -> Item:
    label = _("Désinscription")
    for message, page in zip(messages, pages, strict=True):
        said = any(
            href == message.unsubscribe and any(w in words.lower() for w in UNSUBSCRIBE_WORDS)
            for href, words in page.links
        )
        if not message.unsubscribe or not said or message.unsubscribe not in message.text:
            return Item(
                "unsubscribe",
                label,
                ERROR,
                _("Le message n'offre pas de lien de désinscription à chaque destinataire."),
            )
    return Item("unsubscribe", label, OK, _("Un lien de désinscription dans chaque message (et son en-tête)."))


def check_embargo(mailing: Mailing, messages: list[Message]) -> Item:
    """An embargo is printed as the first words a journalist reads, and nothing says the opposite."""
    label = _("Ligne d'embargo")
    if mailing.embargo_until is None:
        return Item("embargo", label, OK, _("Pas d'embargo sur cet envoi."))
    for message in messages:
        body = message.text.lower()
        if IMMEDIATE in body:
            return Item(
                "embargo",
                label,
                ERROR,
                _("Le message dit « Pour diffusion immédiate » alors qu'un embargo est fixé : retirez cette ligne."),
            )
        if "embargo" not in body:
            return Item(
                "embargo",
                label,
                ERROR,
                _("Un embargo est fixé mais le message ne porte pas la ligne d'embargo."),
            )
    return Item("embargo", label, OK, _("La ligne d'embargo ouvre le message."))


def check_sender(mailing: Mailing) -> Item:
    label = _("Adresse d'expéditeur")
    if not senders.may_send_as(mailing.region_id, mailing.from_email or ""):
        return Item(
            "from_email",
            label,
            ERROR,
            _(
                "%(email)s n'est pas une adresse d'expéditeur de cette région ni de la fédération.",
                email=mailing.from_email,
            ),
        )
    return Item("from_email", label, OK, mailing.from_email)


def check_conference(mailing: Mailing, composer: Composer) -> Item | None:
    """The conference's place as the template prints it: an empty venue or city reads as a gap."""
    source = " ".join((mailing.template.subject, mailing.template.html, mailing.template.text or ""))
    used = set(VENUE.findall(source))
    if not used:
        return None
    label = _("Lieu de la conférence")
    gaps = [
        share
        for share in conference_spread(mailing, composer)
        if not share.missing and any(not getattr(share, name) for name in used)
    ]
    if gaps:
        return Item(
            "conference",
            label,
            WARNING,
            _(
                "Lieu ou ville non renseignés pour %(which)s : le message les laissera vides "
                "(complétez la conférence dans le calendrier).",
                which=", ".join(f"« {share.title} »" for share in gaps[:4]),
            ),
        )
    return Item("conference", label, OK, _("Le lieu et la ville de chaque conférence sont renseignés."))


def check_placeholders(messages: list[Message]) -> Item:
    label = _("Texte à compléter")
    left = sorted({m.group(0) for message in messages for m in PLACEHOLDER.finditer(message.text)})
    if left:
        return Item(
            "placeholders",
            label,
            WARNING,
            _("Il reste %(num)s passage(s) à compléter : %(which)s", num=len(left), which=" ; ".join(left[:3])),
        )
    return Item("placeholders", label, OK, _("Rien à compléter."))


def run(mailing: Mailing) -> list[Item]:
    """Every rule's verdict on the mailing as it stands."""
    try:
        composer = Composer(mailing)
        messages = [read(composer, person) for person in recipients(mailing)]
    except DomainError as error:
        return [Item("message", _("Message"), ERROR, error.message), check_sender(mailing)]
    pages = []
    for message in messages:
        page = Page()
        page.feed(message.html)
        page.close()
        pages.append(page)
    items = [
        check_subject(messages),
        check_preheader(pages),
        check_links(pages),
        check_images(pages),
        check_weight(messages),
        check_unsubscribe(messages, pages),
        check_embargo(mailing, messages),
        check_sender(mailing),
        check_conference(mailing, composer),
        check_placeholders(messages),
    ]
    return [item for item in items if item is not None]


def enforce(mailing: Mailing) -> list[Item]:
    """Refuse (422 naming each blocking rule) a mailing whose checklist has errors; else its items."""
    items = run(mailing)
    errors = [item for item in items if item.level == ERROR]
    if errors:
        raise ValidationFailed(
            _("Envoi bloqué par la liste de vérification : %(what)s", what=" ; ".join(i.detail for i in errors)),
            {item.key: item.detail for item in errors},
        )
    return items


def hold_reason(mailing: Mailing, now) -> str:
    """A hook of the scheduler: a due mailing whose checklist now has errors (its template or the
    senders changed after it was scheduled) is paused with the reason, instead of sent."""
    try:
        enforce(mailing)
    except ValidationFailed as error:
        return error.message
    return ""


def conference_problem(mailing: Mailing) -> dict[str, str]:
    """A template that speaks of a press conference needs a mailing that has one: its own milestone,
    its region's or the national one, or one for some recipient of its audience."""
    if mailing.template is None or mailing.campaign is None:
        return {}
    composer = Composer(mailing)
    if not reads_conference(composer):
        return {}
    own = composer.context(Recipient(None, "", region_id=mailing.region_id), "")["conference"]
    if own.get("starts_at") is not None:
        return {}
    if any(not share.missing for share in conference_spread(mailing, composer)):
        return {}
    return {
        "template_id": _(
            "ce modèle parle d'une conférence de presse et cet envoi n'en a aucune : "
            "ajoutez-la au calendrier ou choisissez un autre modèle"
        )
    }
