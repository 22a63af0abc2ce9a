"""How Relais matches what people type against the names it holds: case and accents aside.

"Écho Solidaire", "echo solidaire" and "ÉCHO SOLIDAIRE" are one organisation; "recyclage" is the
theme "Recyclage"; "économie" and "Economie" are one beat. Every comparison of a name people type
(organisations, tags, beats, themes, event types, regions, search boxes, imported values) goes
through `fold()`, computed in Python, never through the database's `lower()`: SQLite's folds only
ASCII letters, and PostgreSQL's `unaccent` is an extension a database owner may not have. Where the
database must find a name, it compares a stored folded column (e.g. `organisations.name_key`) or
the spellings `spellings()` picked from the names in use, so both engines answer the same.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable
from functools import lru_cache

LIGATURES = str.maketrans({"œ": "oe", "Œ": "oe", "æ": "ae", "Æ": "ae", "’": "'", "ß": "ss"})


@lru_cache(maxsize=65536)
def fold(text: str | None) -> str:
    """Lower-case, accent-free text with single spaces: 'Heuzé' -> 'heuze', 'Cœur' -> 'coeur'."""
    if not text:
        return ""
    if not text.isascii():
        decomposed = unicodedata.normalize("NFKD", text.translate(LIGATURES))
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(text.casefold().split())


def same(a: str | None, b: str | None) -> bool:
    """True when two names are the same name for people."""
    return fold(a) == fold(b)


PLACE_MARKS = re.compile(r"[-'’]")


@lru_cache(maxsize=65536)
def place(text: str | None) -> str:
    """A place name's key: `fold`, its hyphens and apostrophes as spaces ("Aix-en-Provence" and
    "aix en provence" are one town, "L'Isle-Adam" and "L Isle Adam" too). Computed, never stored."""
    return fold(PLACE_MARKS.sub(" ", text or ""))


Key = Callable[[str | None], str]


def pick(text: str | None, names: Iterable[str], key: Key = fold) -> str | None:
    """The first of `names` that is `text` case and accents aside (its stored spelling), or None."""
    wanted = key(text)
    if not wanted:
        return None
    return next((name for name in names if key(name) == wanted), None)


def spellings(wanted: Iterable[str], names: Iterable[str], key: Key = fold) -> list[str]:
    """Every one of `names` that matches one of `wanted`: what an SQL `IN (...)` should look for."""
    keys = {key(w) for w in wanted} - {""}
    return [name for name in names if key(name) in keys]


def unique(names: Iterable[str], key: Key = fold) -> list[str]:
    """The names in order without blanks, extra spaces or repeats (case and accents aside)."""
    seen: dict[str, str] = {}
    for name in names:
        name = " ".join((name or "").split())
        if name and key(name) not in seen:
            seen[key(name)] = name
    return list(seen.values())
