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

import functools
import html as htmllib
import re
import time
from contextvars import ContextVar
from dataclasses import dataclass
from datetime import date, datetime
from functools import lru_cache
from typing import Any

from jinja2 import StrictUndefined, TemplateError, TemplateSyntaxError, meta, nodes, pass_eval_context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import concat
from markupsafe import Markup

from errors import ValidationFailed
from formatting import french_date
from i18n import _

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
        "safe",
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
MAX_VALUE = 1_000_000  # characters of any one value a filter, `~` or `+` makes
MAX_STEPS = 200_000  # loop iterations and filters (a big value counts one step a KB)
MAX_LOOP_DEPTH = 2
MAX_SECONDS = 1.0


class TooCostly(SecurityError):
    """The template does more work than a message may take."""


class Budget:
    """The work one render may still do, and until when."""

    __slots__ = ("steps", "deadline")

    def __init__(self) -> None:
        self.steps = MAX_STEPS
        self.deadline = time.monotonic() + MAX_SECONDS

    def spend(self, steps: int = 1) -> None:
        self.steps -= steps
        if self.steps < 0:
            raise TooCostly("the template does too much work")
        if time.monotonic() > self.deadline:
            raise TooCostly("the template takes too long")


BUDGET: ContextVar[Budget] = ContextVar("relais_template_budget")


def spend(steps: int = 1) -> None:
    budget = BUDGET.get(None)
    if budget is None:
        raise TooCostly("templates render through rendering.run")
    budget.spend(steps)


def too_large() -> TooCostly:
    return TooCostly("a value of the template is too large")


def measured(value: Any) -> Any:
    """A value a template made: refused past MAX_VALUE, a step a KB spent otherwise."""
    size = len(value) if isinstance(value, str | list | tuple) else 0
    if size > MAX_VALUE:
        raise too_large()
    spend(1 + size // 1024)
    return value


def bounded_filter(function):
    @functools.wraps(function)  # keeps Jinja's pass_eval_context / pass_context mark
    def bounded(*args, **kwargs):
        return measured(function(*args, **kwargs))

    return bounded


@pass_eval_context
def bounded_replace(eval_ctx, s, old, new, count=None):
    """`replace`, refused before it builds a value past MAX_VALUE."""
    text, old_text, new_text = str(s), str(old), str(new)
    found = text.count(old_text) if count is None else min(int(count), text.count(old_text))
    if len(text) + found * (len(new_text) - len(old_text)) > MAX_VALUE:
        raise too_large()
    return measured(JINJA_FILTERS["replace"](eval_ctx, s, old, new, count))


@pass_eval_context
def bounded_join(eval_ctx, value, d="", attribute=None):
    """`join`, refused before it builds a value past MAX_VALUE."""
    items = measured(list(value))
    if attribute is None and len(str(d)) * len(items) + sum(len(str(i)) for i in items) > MAX_VALUE:
        raise too_large()
    return measured(JINJA_FILTERS["join"](eval_ctx, items, d, attribute))


@pass_eval_context
def bounded_concat(eval_ctx, parts):
    """`a ~ b`, measured first: what Jinja would write as markup_join / str_join."""
    if sum(len(str(p)) for p in parts) > MAX_VALUE:
        raise too_large()
    spend()
    if eval_ctx.autoescape:
        return Markup("").join(parts)  # escapes what is not markup, as markup_join does
    return concat(str(p) for p in parts)


def bounded_steps(iterable):
    """A loop's items, one step each."""
    for item in iterable:
        spend()
        yield item


def date_fr(value: date | datetime | None) -> str:
    """'jeudi 19 juin 2008' (datetimes arrive already in the campaign's zone)."""
    if value is None or value == "":
        return ""
    if isinstance(value, datetime):
        value = value.date()
    if not isinstance(value, date):
        raise ValidationFailed(_("date_fr attend une date."))
    return long_french_date(value)


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


JINJA_FILTERS = dict(ImmutableSandboxedEnvironment().filters)  # what the bounded filters call once measured
STEPS, CONCAT = "relais_steps", "relais_concat"  # put in by `bound_tree`: not in SAFE_FILTERS, no user can name them


def make_environment() -> MailSandbox:
    env = MailSandbox(autoescape=True, undefined=StrictUndefined, auto_reload=False, cache_size=0)
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in SAFE_FILTERS if name in env.filters}
    env.filters["date_fr"] = date_fr
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
            problem = _("nom inconnu « %(name)s »", name=node.name)
            raise ValidationFailed(f"{field} : {problem}", {field: problem})
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
        raise ValidationFailed(
            _(
                "%(field)s : erreur de syntaxe ligne %(line)s : %(why)s",
                field=field,
                line=error.lineno,
                why=error.message,
            ),
            {field: _("erreur de syntaxe ligne %(line)s : %(why)s", line=error.lineno, why=error.message)},
        ) from error
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
    for name, source, is_text in (("subject", subject, True), ("html", html, False), ("text", text or "", True)):
        if name == "text" and not (text or "").strip():
            source = text_source(html)  # the text part's template, derived once from the HTML one
        try:
            fields[name], names[name] = compile_checked(source, name, is_text)
        except ValidationFailed as error:
            problems.update(error.fields)
    if problems:
        raise ValidationFailed(
            _("Modèle refusé : %(problems)s", problems="; ".join(f"{k} : {v}" for k, v in problems.items())), problems
        )
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
_BREAK = re.compile(r"<\s*(br|/p|/div|/h[1-6]|/li|/tr|/table|hr)\b[^>]*>", re.I)
_ITEM = re.compile(r"<\s*li\b[^>]*>", re.I)
_DROP = re.compile(r"<(style|script|head)\b.*?</\1>", re.I | re.S)
_TAG = re.compile(r"<[^>]+>")
_SPACES = re.compile(r"[ \t\r\f\v]+")
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
    """A readable text part from the HTML one: paragraphs, list items, links with their address."""
    text = _DROP.sub("", html)
    text = _LINK.sub(_link, text)
    text = _ITEM.sub("\n- ", text)
    text = _BREAK.sub("\n", text)
    text = htmllib.unescape(_TAG.sub("", text))
    text = "\n".join(_SPACES.sub(" ", line).strip() for line in text.split("\n"))
    return _BLANKS.sub("\n\n", text).strip() + "\n"
