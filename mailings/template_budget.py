"""The work a template may do, bounded the same way at save, preview, test and send: loop
iterations and filters spend from a budget of steps checked against a wall clock, and no value a
filter, `~` or `+` makes may pass MAX_VALUE characters (`replace` and `join` are measured before
they build anything). `mailings.rendering.run` opens a budget for each render."""

import functools
import time
from contextvars import ContextVar
from typing import Any

from jinja2 import pass_eval_context
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError
from jinja2.utils import concat
from markupsafe import Markup

JINJA_FILTERS = dict(ImmutableSandboxedEnvironment().filters)  # what the bounded filters call once measured
MAX_VALUE = 1_000_000  # characters of any one value a filter, `~` or `+` makes
MAX_STEPS = 200_000  # loop iterations and filters (a big value counts one step a KB)
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
