"""The campaign's charter: two colours checked for contrast, one logo for every region, a footer.

The primary colour is a background under white text (mail header, buttons, printed headings'
rules); the accent colour is text on white (links, day headings). Both must reach WCAG 2 AA for
normal text (4.5:1) in that use, so a charter can never make a mailing or a programme unreadable.
"""

import hashlib
import io
import re
from dataclasses import dataclass

from flask import current_app, url_for
from flask_babel import gettext as _

from accounts.models import User
from campaign.models import Campaign
from errors import PermissionDenied, ValidationFailed

HEX = re.compile(r"^#[0-9a-fA-F]{6}$")
AA_NORMAL = 4.5
WHITE = "#ffffff"
LOGO_TYPES = {"PNG": "image/png", "JPEG": "image/jpeg"}
LOGO_MAX_BYTES = 2 * 1024 * 1024
LOGO_MAX_SIDE = 4000
DEFAULT_PRIMARY, DEFAULT_ACCENT = "#0b6e4f", "#8a4b08"


def luminance(color: str) -> float:
    """WCAG 2 relative luminance of `#rrggbb`."""
    channels = []
    for i in (1, 3, 5):
        c = int(color[i : i + 2], 16) / 255
        channels.append(c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4)
    r, g, b = channels
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast(one: str, other: str) -> float:
    """WCAG 2 contrast ratio, from 1 to 21."""
    a, b = sorted((luminance(one), luminance(other)), reverse=True)
    return (a + 0.05) / (b + 0.05)


def color_problem(value) -> str | None:
    """Why `value` cannot be a charter colour (format and AA contrast against white), or None."""
    if not isinstance(value, str) or not HEX.match(value):
        return _("Couleur attendue au format #rrggbb.")
    ratio = contrast(value, WHITE)
    if ratio < AA_NORMAL:
        shown = f"{ratio:.2f}".replace(".", ",")
        return _("Contraste insuffisant avec le blanc : %(ratio)s:1, il faut au moins 4,5:1 (WCAG AA).", ratio=shown)
    return None


def check_colors(data: dict, prefix: str = "") -> None:
    """Refuse, naming each field, colours that are not `#rrggbb` or too pale for white."""
    errors = {}
    for name in ("primary_color", "accent_color"):
        if name in data and data[name] is not None:
            problem = color_problem(data[name])
            if problem:
                errors[prefix + name] = problem
    if errors:
        raise ValidationFailed(_("Charte refusée : %(fields)s", fields=", ".join(sorted(errors))), errors)


def read_logo(data: bytes, field: str = "logo") -> tuple[str, bytes]:
    """(content type, bytes) of an uploaded logo, after checking it really is a PNG or JPEG image."""
    from PIL import Image, UnidentifiedImageError

    if not data:
        raise ValidationFailed(_("Logo vide."), {field: _("fichier vide")})
    if len(data) > LOGO_MAX_BYTES:
        raise ValidationFailed(_("Logo trop lourd (2 Mo au plus)."), {field: _("2 Mo au plus")})
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, size = image.format, image.size
            image.verify()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombError):
        kind, size = None, (0, 0)
    if kind not in LOGO_TYPES:
        raise ValidationFailed(_("Le logo doit être une image PNG ou JPEG."), {field: _("image PNG ou JPEG attendue")})
    if max(size) > LOGO_MAX_SIDE:
        raise ValidationFailed(_("Logo trop grand (4 000 pixels de côté au plus)."), {field: _("trop grand")})
    return LOGO_TYPES[kind], data


def save_brand(actor: User, campaign: Campaign, data: dict, logo: bytes | None = None, drop_logo: bool = False):
    """Change the charter (national team): colours, footer, and the logo uploaded once."""
    if actor.role not in ("admin", "national"):
        raise PermissionDenied(_("Seule l'équipe nationale modifie la charte."))
    apply_brand(campaign, data)
    if logo is not None:
        content_type, logo = read_logo(logo)
        campaign.logo_data, campaign.logo_type = logo, content_type
        campaign.logo_hash = hashlib.sha256(logo).hexdigest()[:16]
    elif drop_logo:
        campaign.logo_data, campaign.logo_type, campaign.logo_hash = None, "", ""


def apply_brand(campaign: Campaign, data: dict, prefix: str = "") -> None:
    """Check then set colours and footer from `data` (absent keys stay); nothing is set on a refusal."""
    check_colors(data, prefix)
    footer = data.get("footer")
    if footer is not None and len(footer) > 500:
        raise ValidationFailed(_("Pied de page trop long."), {prefix + "footer": _("500 caractères au plus")})
    for name in ("primary_color", "accent_color"):
        if data.get(name):
            setattr(campaign, name, data[name].lower())
    if footer is not None:
        campaign.brand_footer = footer.strip()


@dataclass(frozen=True)
class Brand:
    """The plain values of a charter, for templates, mail layouts and printed documents."""

    campaign_id: int
    name: str
    primary_color: str
    accent_color: str
    footer: str
    logo_type: str
    logo_hash: str

    @property
    def logo_path(self) -> str | None:
        if not self.logo_hash:
            return None
        return url_for("brand.logo", campaign_id=self.campaign_id, v=self.logo_hash)

    @property
    def logo_url(self) -> str | None:
        """Absolute, for mail clients and API users."""
        path = self.logo_path
        return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path if path else None

    @property
    def version(self) -> str:
        """Changes whenever anything a printed document shows of the charter changes."""
        parts = (self.name, self.primary_color, self.accent_color, self.footer, self.logo_hash)
        return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]

    def out(self) -> dict:
        return {
            "primary_color": self.primary_color,
            "accent_color": self.accent_color,
            "logo_url": self.logo_url,
            "footer": self.footer,
        }


def brand_of(campaign: Campaign) -> Brand:
    return Brand(
        campaign.id,
        campaign.name,
        (campaign.primary_color or DEFAULT_PRIMARY).lower(),
        (campaign.accent_color or DEFAULT_ACCENT).lower(),
        campaign.brand_footer or "",
        campaign.logo_type or "",
        campaign.logo_hash or "",
    )
