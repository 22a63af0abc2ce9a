"""Why an e-mail address is refused, said in the reader's language (email-validator says it in English)."""

import re

from email_validator import EmailNotValidError

from i18n import _


def address_problem(error: EmailNotValidError) -> str:
    """A short French reason for email-validator's refusal: 'deux @', 'rien avant le @'..."""
    english = str(error)
    characters = re.search(r"invalid characters(?: before the @-sign| after the @-sign)?: (.+?)\.?$", english)
    if "must have an @-sign" in english or "exactly one @-sign" in english:
        return _("il manque le @")
    if "something before the @-sign" in english:
        return _("rien avant le @")
    if "something after the @-sign" in english:
        return _("rien après le @")
    if characters:
        shown = characters.group(1).replace("SPACE", _("espace"))
        return _("caractère non permis : %(chars)s", chars=shown)
    if "should have a period" in english:
        return _("le nom de domaine après le @ doit contenir un point (exemple.fr)")
    if "period" in english:
        return _("point mal placé (au début, à la fin, doublé ou contre le @)")
    if "too long" in english:
        return _("adresse trop longue")
    return _("adresse mal formée")
