"""French typography for printed documents (Lexique des règles typographiques de l'Imprimerie nationale).

- a narrow no-break space (U+202F) before `;` `!` `?` and inside « », a no-break space (U+00A0)
  before `:` (the colon takes a full space), so the sign never starts a line;
- ordinals as superscripts: 1er, 1re, 2e, XXIe (in HTML);
- capitals keep their accents: « Economie » becomes « Économie », « ETAT » « ÉTAT »;
- the typographic apostrophe between letters.

Times (`10:30`), addresses (`https://…`) and queries (`?a=b`) are left alone: a space is only put
where the sign is followed by a space or the end of the text.
"""

import re

from markupsafe import Markup, escape

NNBSP, NBSP = "\u202f", "\u00a0"

_BEFORE_HIGH = re.compile(r"[ \u00a0\u202f]*([;!?])(?=\s|$|[»)\"”])")
_BEFORE_COLON = re.compile(r"(?<!\d)[ \u00a0\u202f]*:(?=\s|$)")
_OPEN_QUOTE = re.compile(r"«[ \u00a0\u202f]*")
_CLOSE_QUOTE = re.compile(r"[ \u00a0\u202f]*»")
_APOSTROPHE = re.compile(r"(?<=[A-Za-zÀ-ÿ])'(?=[A-Za-zÀ-ÿ])")
# Roman numerals of one letter only for I, V, X: "Le", "Ce", "Les" are words, not ordinals
_ORDINAL = re.compile(r"\b(\d+|[IVX]|[IVXLC]{2,})(er|re|ers|res|e|es)\b")

# Words that lose their accent when written in capitals by hand (the seed itself writes
# "Mois de l'Economie Sociale et Solidaire"): put it back, in capitalised and upper-case forms.
_ACCENTED = {
    "Economie": "Économie",
    "Economique": "Économique",
    "Economiques": "Économiques",
    "Etat": "État",
    "Etats": "États",
    "Ecole": "École",
    "Ecoles": "Écoles",
    "Edition": "Édition",
    "Editions": "Éditions",
    "Education": "Éducation",
    "Egalite": "Égalité",
    "Egalité": "Égalité",
    "Election": "Élection",
    "Elections": "Élections",
    "Energie": "Énergie",
    "Epargne": "Épargne",
    "Equipe": "Équipe",
    "Etudiant": "Étudiant",
    "Etudiants": "Étudiants",
    "Evenement": "Événement",
    "Evénement": "Événement",
    "Evènement": "Événement",
    "Evenements": "Événements",
    "Evénements": "Événements",
    "Evènements": "Événements",
    "Ecologie": "Écologie",
    "Ile": "Île",
    "Iles": "Îles",
}
_ACCENTED.update({plain.upper(): accented.upper() for plain, accented in list(_ACCENTED.items())})
_CAPITALS = re.compile(r"\b(" + "|".join(sorted(map(re.escape, _ACCENTED), key=len, reverse=True)) + r")\b")


def french(text: str) -> str:
    """The text with French spacing, accented capitals and apostrophes (plain text, no markup)."""
    if not text:
        return ""
    text = _CAPITALS.sub(lambda m: _ACCENTED[m.group(1)], text)
    text = _APOSTROPHE.sub("\u2019", text)
    text = _OPEN_QUOTE.sub("«" + NNBSP, text)
    text = _CLOSE_QUOTE.sub(NNBSP + "»", text)
    text = _BEFORE_HIGH.sub(lambda m: NNBSP + m.group(1), text)
    return _BEFORE_COLON.sub(NBSP + ":", text)


def french_html(text) -> Markup:
    """`french`, escaped for HTML, with ordinals as superscripts (1<sup>er</sup>)."""
    if isinstance(text, Markup):
        text = text.unescape()
    escaped = str(escape(french(str(text or ""))))
    return Markup(_ORDINAL.sub(r"\1<sup>\2</sup>", escaped))


def upper(text: str) -> str:
    """Capitals that keep their accents (str.upper does; CSS text-transform would too)."""
    return french(text).upper()
