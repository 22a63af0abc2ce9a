"""Rules on any input, whatever its door (a page, the API, the CLI): no database text column can
store a NUL character, so text holding one is refused, naming the field."""

from errors import ValidationFailed
from i18n import _


def nul_field(value, path: str = "") -> str | None:
    """The first field whose text holds a NUL character (no database text column can store one)."""
    if isinstance(value, str):
        return path or "_schema" if "\x00" in value else None
    if isinstance(value, dict):
        items = value.items()
    elif isinstance(value, list | tuple):
        items = enumerate(value)
    else:
        return None
    for key, item in items:
        found = nul_field(item, f"{path}.{key}" if path else str(key))
        if found:
            return found
    return None


def has_nul(value) -> bool:
    """PostgreSQL text cannot hold NUL characters: such input is refused, never sent."""
    return nul_field(value) is not None


def refuse_nul(data: dict) -> None:
    """ValidationFailed naming every field of `data` whose text holds a NUL character."""
    bad = [key for key, value in data.items() if has_nul(value)]
    if bad:
        raise ValidationFailed(_("Caractère NUL refusé."), {key: _("sans caractère NUL") for key in bad})
