"""HTML and CSS Paged Media to PDF with WeasyPrint, fetching nothing but the app's own files.

Fonts come from static/fonts by `@font-face` (file: URLs under the app's static folder); the logo
and the QR code are inlined as data: URLs. Anything else (http, https, ftp, a file elsewhere on the
disk) is refused by the URL fetcher and recorded, so a test can prove no document reaches out.
"""

import base64
import io
import threading
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from flask import current_app, render_template
from markupsafe import Markup

STATIC = Path(__file__).resolve().parent.parent / "static"
FONTS = STATIC / "fonts"
_lock = threading.Lock()  # WeasyPrint's font configuration is not meant to be shared by threads


@dataclass
class LocalOnlyFetcher:
    """Builds a WeasyPrint URL fetcher that serves data: URLs and files under static/ only."""

    refused: list[str] = field(default_factory=list)

    def build(self):
        from weasyprint.urls import URLFetcher

        refused, root = self.refused, STATIC

        class Fetcher(URLFetcher):
            def fetch(self, url, headers=None):
                scheme = url.split(":", 1)[0].lower()
                if scheme == "data":
                    return super().fetch(url, headers)
                if scheme == "file":
                    from urllib.request import url2pathname

                    path = Path(url2pathname(url.split("?")[0].removeprefix("file:"))).resolve()
                    if path.is_relative_to(root) and path.is_file():
                        return super().fetch(path.as_uri(), headers)
                refused.append(url)
                raise ValueError(f"printed documents fetch nothing outside the app: {url}")

        return Fetcher(allowed_protocols=("data", "file"), timeout=1)


@dataclass
class Printed:
    """A rendered document: its bytes, page count, and what its rendering tried to fetch and was refused."""

    pdf: bytes
    pages: int
    refused: list[str]

    @property
    def size(self) -> int:
        return len(self.pdf)


def font_faces() -> str:
    """The @font-face rules of the vendored fonts, by local file URL."""
    faces = (
        ("DejaVuSans.ttf", "normal", "normal"),
        ("DejaVuSans-Bold.ttf", "bold", "normal"),
        ("DejaVuSans-Oblique.ttf", "normal", "italic"),
    )
    return Markup("\n").join(
        Markup(
            f'@font-face {{ font-family: "Relais Sans"; src: url("{(FONTS / name).as_uri()}"); '
            f"font-weight: {weight}; font-style: {style}; }}"
        )
        for name, weight, style in faces
    )


def css_string(text: str) -> Markup:
    """`text` as a CSS string literal, safe inside a <style> element."""
    escaped = "".join(c if c.isalnum() or c in " -–—,.'·" else f"\\{ord(c):x} " for c in text)
    return Markup(f'"{escaped}"')


def render_pdf(template: str, **context) -> Printed:
    """Render templates/printing/<template> to PDF; the base URL is the static folder (local only)."""
    from weasyprint import HTML

    html = render_template(f"printing/{template}", font_faces=font_faces(), **context)
    fetcher = LocalOnlyFetcher()
    with _lock:
        document = HTML(string=html, base_url=STATIC.as_uri() + "/", url_fetcher=fetcher.build()).render()
        pdf = document.write_pdf()
    return Printed(pdf, len(document.pages), fetcher.refused)


def data_url(content_type: str, data: bytes) -> str:
    return f"data:{content_type};base64,{base64.b64encode(data).decode()}"


PRINT_LOGO_PIXELS = 1200  # 60 mm wide at 500 dpi: sharper than any press needs, light in every PDF


@lru_cache(maxsize=16)
def print_logo(data: bytes, grey: bool) -> tuple[str, bytes]:
    """The logo as printed: at most 1,200 pixels wide, in shades of grey for the black-ink variant."""
    from PIL import Image

    with Image.open(io.BytesIO(data)) as image:
        if not grey and image.width <= PRINT_LOGO_PIXELS:
            return Image.MIME[image.format], data
        kind = image.format  # PNG or JPEG (campaign.brand checks it): a photo stays a JPEG
        image.thumbnail((PRINT_LOGO_PIXELS, PRINT_LOGO_PIXELS))
        if grey:
            image = image.convert("LA" if "A" in image.getbands() and kind == "PNG" else "L")
        out = io.BytesIO()
        image.save(out, kind, optimize=True)
    return Image.MIME[kind], out.getvalue()


def logo_url(campaign, grey: bool) -> str | None:
    """The campaign's logo inlined, in colour or grey."""
    if not campaign.logo_hash or not campaign.logo_data:
        return None
    return data_url(*print_logo(campaign.logo_data, grey))


def qr_svg(url: str) -> str:
    """A QR code to `url` as an inline SVG data URL (segno, error correction M, no quiet-zone waste)."""
    import segno

    return segno.make(url, error="m", micro=False).svg_data_uri(scale=4, border=2, dark="#000", light=None)


def public_url(path: str) -> str:
    return current_app.config["PUBLIC_BASE_URL"].rstrip("/") + path
