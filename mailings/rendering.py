"""User-written templates in a sandbox: checked at save and preview, compiled once per mailing.

Templates run in an `ImmutableSandboxedEnvironment` with `StrictUndefined` and autoescape, and
before that pass a static check of their syntax tree: only allow-listed names (the contract's
context), no attribute starting with `_`, no calls, no assignments, macros, imports or includes,
an allow-list of filters, at most two nested loops. What passes can only read plain values.

The work itself is bounded, the same way at save, preview, test and send (`run`): every loop
iteration and filter spends from a budget (attribute reads need no count: between two
steps they are bounded by the source's size) of steps checked against a wall clock,
no value a filter, `~` or `+` makes may pass MAX_VALUE characters (`replace` and `join` are
measured before they build anything), and the output may not pass MAX_OUTPUT.
"""

import html as htmllib
import re
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, UndefinedError, meta, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

from errors import ValidationFailed
from formatting import french_date
from i18n import _
from mailings.template_budget import (
    BUDGET,
    MAX_VALUE,
    Budget,
    TooCostly,
    bounded_concat,
    bounded_filter,
    bounded_join,
    bounded_replace,
    bounded_steps,
    measured,
    too_large,
)

CONTEXT_NAMES = frozenset(
    {
        "contact",
        "region",
        "campaign",
        "mailing",
        "conference",
        "events",
        "unsubscribe_url",
        "rsvp_yes_url",
        "rsvp_no_url",
        "press_kit_url",
    }
)
# The attributes each name of the context holds (the contract's "Template context"), to say in French
# which field was meant when one is mistyped, before anything is rendered.
FIELDS = {
    "contact": (
        "first_name",
        "last_name",
        "full_name",
        "email",
        "organisation",
        "kind",
        "civility",
        "salutation",
        "city",
        "job_title",
    ),
    "region": ("code", "name"),
    "campaign": ("name", "starts_on", "ends_on"),
    "mailing": ("name",),
    "conference": ("title", "starts_at", "venue", "city"),
}
FIELD_NAMES = {
    "contact.first_name": "Prénom",
    "contact.last_name": "Nom",
    "contact.full_name": "Prénom et nom",
    "contact.email": "Adresse e-mail",
    "contact.organisation": "Nom du média ou de l'organisme",
    "contact.kind": "Type de contact",
    "contact.civility": "Civilité",
    "contact.salutation": "Formule d'appel (Madame Durand, Monsieur Martin, ou Madame, Monsieur)",
    "contact.city": "Ville du contact",
    "contact.job_title": "Fonction",
    "region.code": "Code de la région",
    "region.name": "Région",
    "campaign.name": "Nom de la campagne",
    "campaign.starts_on": "Début de la campagne",
    "campaign.ends_on": "Fin de la campagne",
    "mailing.name": "Nom de l'envoi",
    "conference.title": "Titre de la conférence",
    "conference.starts_at": "Date et heure de la conférence",
    "conference.venue": "Lieu",
    "conference.city": "Ville",
}
PART_NAMES = {"subject": "Objet", "html": "Corps du message", "text": "Version texte"}
SAME_IN_A_REGION = frozenset(
    {"region", "campaign", "mailing", "conference", "events", "press_kit_url"}
)  # nothing personal
SAFE_FILTERS = frozenset(
    {
        "abs",
        "capitalize",
        "count",
        "d",
        "date_fr",
        "datetime_fr",
        "default",
        "e",
        "escape",
        "first",
        "float",
        "int",
        "join",
        "last",
        "length",
        "lower",
        "replace",
        "reverse",
        "round",
        "sort",
        "string",
        "striptags",
        "title",
        "trim",
        "truncate",
        "unique",
        "upper",
        "urlencode",
        "wordcount",
    }
)
ALLOWED_NODES = (
    nodes.Template,
    nodes.Output,
    nodes.TemplateData,
    nodes.Name,
    nodes.Const,
    nodes.Getattr,
    nodes.Getitem,
    nodes.Filter,
    nodes.Test,
    nodes.If,
    nodes.For,
    nodes.CondExpr,
    nodes.Compare,
    nodes.Operand,
    nodes.And,
    nodes.Or,
    nodes.Not,
    nodes.Concat,
    nodes.Add,
    nodes.Sub,
    nodes.Keyword,
    nodes.Tuple,
    nodes.List,
    nodes.Slice,
    nodes.Neg,
    nodes.Pos,
)
MAX_SOURCE = 100_000
MAX_OUTPUT = 1_000_000
MAX_LOOP_DEPTH = 2


def date_fr(value: date | datetime | None) -> str:
    """'jeudi 19 juin 2008' (datetimes arrive already in the campaign's zone)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise ValidationFailed(_("date_fr attend une date."))
    return long_french_date(value)


def datetime_fr(value: date | datetime | None) -> str:
    """'jeudi 19 juin 2008 à 10 h 30' (a date alone reads as `date_fr`)."""
    if value is None or value == "":
        return ""
    if not isinstance(value, datetime):
        return date_fr(value)
    minutes = f"{value.minute:02d}" if value.minute else ""
    return f"{long_french_date(value.date())} à {value.hour} h {minutes}".rstrip()


@lru_cache(maxsize=1024)
def long_french_date(value: date) -> str:
    """Babel's formatting costs more than the rest of a message: every recipient shares the dates."""
    return french_date(value, "EEEE d MMMM y", "fr")


class MailSandbox(ImmutableSandboxedEnvironment):
    """No method calls and no dunder or private attributes, on top of Jinja's sandbox."""

    intercepted_binops = frozenset({"+", "-"})

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        return not attr.startswith("_") and not callable(value) and super().is_safe_attribute(obj, attr, value)

    def is_safe_callable(self, obj: Any) -> bool:
        return False

    def call_binop(self, context, operator: str, left: Any, right: Any) -> Any:
        if isinstance(left, str | list) and isinstance(right, str | list) and len(left) + len(right) > MAX_VALUE:
            raise too_large()
        return measured(super().call_binop(context, operator, left, right))


STEPS, CONCAT = "relais_steps", "relais_concat"  # put in by `bound_tree`: not in SAFE_FILTERS, no user can name them


def make_environment() -> MailSandbox:
    env = MailSandbox(autoescape=True, undefined=StrictUndefined, auto_reload=False, cache_size=0)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS if name in env.filters}
    env.filters["date_fr"] = date_fr
    env.filters["datetime_fr"] = datetime_fr
    env.filters = {name: bounded_filter(f) for name, f in env.filters.items()}
    env.filters |= {"replace": bounded_replace, "join": bounded_join, STEPS: bounded_steps, CONCAT: bounded_concat}
    env.tests = {name: env.tests[name] for name in ("defined", "none", "number", "string", "even", "odd", "in")}
    return env


def bound_tree(tree: nodes.Template, env: MailSandbox) -> nodes.Template:
    """After `check_tree`: every loop iterates through `relais_steps`, every `~` goes through `relais_concat`."""

    def wrap(node: nodes.Node, name: str) -> nodes.Node:
        if isinstance(node, nodes.Concat):
            node = nodes.List(node.nodes, lineno=node.lineno)
        return nodes.Filter(node, name, [], [], None, None, lineno=node.lineno).set_environment(env)

    for loop in tree.find_all(nodes.For):
        loop.iter = wrap(loop.iter, STEPS)
    for parent in [tree, *tree.find_all(nodes.Node)]:
        for field in parent.fields:
            value = getattr(parent, field)
            if isinstance(value, nodes.Concat):
                setattr(parent, field, wrap(value, CONCAT))
            elif isinstance(value, list):
                setattr(parent, field, [wrap(v, CONCAT) if isinstance(v, nodes.Concat) else v for v in value])
    return tree


ENV = make_environment()
TEXT_ENV = make_environment()
TEXT_ENV.autoescape = False


@dataclass
class TemplateProblem:
    field: str
    message: str


def unknown_field(field: str, name: str, within: str | None = None) -> ValidationFailed:
    """A mistyped field, said in French with the fields that exist (the editor's menu inserts them)."""
    known = [f for f in FIELD_NAMES if within is None or f.startswith(within + ".")]
    listed = ", ".join(f"« {FIELD_NAMES[f]} » {{{{ {f} }}}}" for f in known[: 8 if within else 4])
    message = (
        f"{PART_NAMES.get(field, field)} : « {name} » n'est pas un champ connu. "
        f"Insérez les champs avec le menu « Insérer un champ » ; par exemple {listed}."
    )
    return ValidationFailed(message, {field: f"« {name} » n'est pas un champ connu"})


def check_tree(tree: nodes.Node, field: str) -> None:
    """Refuse anything beyond reading the allowed context (see the module docstring)."""
    bound: set[str] = set()
    for node in tree.find_all(nodes.For):
        targets = [node.target, *node.target.find_all(nodes.Name)]
        bound |= {n.name for n in targets if isinstance(n, nodes.Name)}
    bound.add("loop")

    def visit(node: nodes.Node, depth: int) -> None:
        if not isinstance(node, ALLOWED_NODES):
            raise ValidationFailed(
                _(
                    "%(field)s : « %(what)s » n'est pas permis dans un modèle d'envoi",
                    field=field,
                    what=type(node).__name__,
                ),
                {field: _("« %(what)s » non permis", what=type(node).__name__)},
            )
        if isinstance(node, nodes.Name) and node.ctx == "load" and node.name not in CONTEXT_NAMES | bound:
            raise unknown_field(field, node.name)
        if (
            isinstance(node, nodes.Getattr)
            and isinstance(node.node, nodes.Name)
            and node.node.name in FIELDS
            and node.node.name not in bound
            and node.attr not in FIELDS[node.node.name]
        ):
            raise unknown_field(field, f"{node.node.name}.{node.attr}", node.node.name)
        if isinstance(node, nodes.Getattr) and node.attr.startswith("_"):
            raise ValidationFailed(f"{field} : {_('attribut privé refusé')}", {field: _("attribut privé refusé")})
        if (
            isinstance(node, nodes.Getitem)
            and isinstance(node.arg, nodes.Const)
            and str(node.arg.value).startswith("_")
        ):
            raise ValidationFailed(f"{field} : {_('attribut privé refusé')}", {field: _("attribut privé refusé")})
        if isinstance(node, nodes.Getitem) and not isinstance(node.arg, nodes.Const | nodes.Slice):
            raise ValidationFailed(f"{field} : {_('indice calculé refusé')}", {field: _("indice calculé refusé")})
        if isinstance(node, nodes.Filter | nodes.Test) and node.name not in SAFE_FILTERS | set(ENV.tests):
            problem = _("filtre « %(name)s » non permis", name=node.name)
            raise ValidationFailed(f"{field} : {problem}", {field: problem})
        if isinstance(node, nodes.For):
            depth += 1
            if depth > MAX_LOOP_DEPTH:
                raise ValidationFailed(
                    f"{field} : {_('boucles trop imbriquées')}", {field: _("boucles trop imbriquées")}
                )
            if node.recursive:
                raise ValidationFailed(
                    f"{field} : {_('boucle récursive refusée')}", {field: _("boucle récursive refusée")}
                )
        for child in node.iter_child_nodes():
            visit(child, depth)

    visit(tree, 0)


def compile_checked(source: str, field: str, text: bool = False) -> tuple[Any, frozenset[str]]:
    """Parse, check and compile one template field, with the context's names it reads; a
    ValidationFailed names the field."""
    if len(source) > MAX_SOURCE:
        raise ValidationFailed(f"{field} : {_('modèle trop long')}", {field: _("modèle trop long")})
    env = TEXT_ENV if text else ENV
    try:
        tree = env.parse(source)
    except TemplateSyntaxError as error:
        message = (
            f"{PART_NAMES.get(field, field)} : le modèle est mal formé à la ligne {error.lineno} "
            f"(une accolade {{{{ ou }}}} en trop ou en moins ?) — {error.message}"
        )
        raise ValidationFailed(message, {field: f"mal formé ligne {error.lineno} : {error.message}"}) from error
    check_tree(tree, field)
    names = frozenset(meta.find_undeclared_variables(tree))
    return env.from_string(bound_tree(tree, env)), names


def run(template, context: dict, field: str) -> str:
    """Render within the work budget (see the module docstring): the one way a template runs, at save,
    preview, test and send; every template error becomes a ValidationFailed naming the field."""
    token = BUDGET.set(Budget())
    size, parts = 0, []
    try:
        for chunk in template.generate(context):
            size += len(chunk)
            parts.append(chunk)
            if size > MAX_OUTPUT:
                raise ValidationFailed(
                    f"{field} : {_('le modèle produit trop de texte')}", {field: _("le modèle produit trop de texte")}
                )
    except ValidationFailed:
        raise
    except TooCostly as error:
        raise ValidationFailed(
            f"{field} : {_('le modèle demande trop de travail')}", {field: _("le modèle demande trop de travail")}
        ) from error
    except UndefinedError as error:
        missing = re.search(r"has no attribute '([^']+)'|'([^']+)' is undefined", str(error))
        raise unknown_field(field, (missing.group(1) or missing.group(2)) if missing else str(error)) from error
    except (TemplateError, SecurityError, TypeError, ValueError, ArithmeticError, LookupError) as error:
        raise ValidationFailed(f"{field}: {error}", {field: str(error)}) from error
    finally:
        BUDGET.reset(token)
    return "".join(parts)


@dataclass
class CompiledTemplate:
    """A template's fields compiled once (per mailing)."""

    subject: Any
    html: Any
    text: Any | None
    names: frozenset[str] = frozenset()  # the context's names the fields read
    same_in_a_region: frozenset[str] = frozenset()  # fields that read nothing personal (see `Composer.render`)


def compile_template(subject: str, html: str, text: str = "") -> CompiledTemplate:
    fields = {}
    names: dict[str, frozenset[str]] = {}
    problems: dict[str, str] = {}
    messages: list[str] = []
    for name, source, is_text in (("subject", subject, True), ("html", html, False), ("text", text or "", True)):
        if name == "text" and not (text or "").strip():
            if "html" in problems:
                continue  # derived from the HTML: its problem is already said
            source = text_source(html)  # the text part's template, derived once from the HTML one
        try:
            fields[name], names[name] = compile_checked(source, name, is_text)
        except ValidationFailed as error:
            problems.update(error.fields)
            messages.append(error.message)
    if problems:
        raise ValidationFailed(" ".join(messages), problems)
    return CompiledTemplate(
        fields["subject"],
        fields["html"],
        fields["text"],
        names=frozenset().union(*names.values()),
        same_in_a_region=frozenset(field for field, used in names.items() if used <= SAME_IN_A_REGION),
    )


def render_checked(compiled: CompiledTemplate, context: dict) -> tuple[str, str, str | None]:
    """The careful path (save, preview, test): bounded, and errors name the field."""
    subject = run(compiled.subject, context, "subject")
    body = run(compiled.html, context, "html")
    text = run(compiled.text, context, "text") if compiled.text is not None else None
    return clean_header(subject), body, text


def clean_header(value: str) -> str:
    """No header built from user input can carry a line break."""
    return " ".join(value.split())


# ---- HTML to text ----------------------------------------------------------------------------

_LINK = re.compile(r'<a\s[^>]*?href="([^"]*)"[^>]*>(.*?)</a>', re.I | re.S)
_BREAK = re.compile(r"<\s*(br|/div|/tr)\b[^>]*>", re.I)
_BLOCK = re.compile(r"<\s*(/p|/h[1-6]|/ul|/ol|/table|/blockquote|hr)\b[^>]*>", re.I)
_ITEM = re.compile(r"<\s*li\b[^>]*>", re.I)
_DROP = re.compile(r"<(style|script|head)\b.*?</\1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
_SOURCE_SPACE = re.compile(r"\s+")
_BLANKS = re.compile(r"\n\s*\n\s*(\n\s*)+")


def _link(match: re.Match) -> str:
    href, label = htmllib.unescape(match.group(1)), _TAG.sub("", match.group(2)).strip()
    return f"{label} ({href})" if label and label != href else href


_JINJA = re.compile(r"{{.*?}}|{%.*?%}|{#.*?#}", re.S)


def text_source(html_source: str) -> str:
    """A text template from an HTML template: the markup becomes text, the Jinja tags stay as they are."""
    tags: list[str] = []

    def keep(match: re.Match) -> str:
        tags.append(match.group(0))
        return f"\x00{len(tags) - 1}\x00"

    text = html_to_text(_JINJA.sub(keep, html_source))
    return re.sub(r"\x00(\d+)\x00", lambda m: tags[int(m.group(1))], text)


def html_to_text(html: str) -> str:
    """A readable text part from the HTML one: paragraphs apart (a blank line), list items, links
    with their address. Line breaks in the HTML source are spaces, as a mail program shows them."""
    text = _SOURCE_SPACE.sub(" ", _DROP.sub("", html))
    text = _LINK.sub(_link, text)
    text = _ITEM.sub("\n- ", text)
    text = _BLOCK.sub("\n\n", text)
    text = _BREAK.sub("\n", text)
    text = htmllib.unescape(_TAG.sub("", text))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip() + "\n"
