"""In Chromium: the national lead sets the charter (colours, logo), then on a phone (390 px) and a
desktop the public programme shows the charter and the printed documents with their pages and
weight before download; the booklet downloaded carries the region's events and the logo."""

import io

from PIL import Image
from pypdf import PdfReader

from tests.conftest import PASSWORD
from tests.test_printing import printed_programme  # noqa: F401 - the 40 PACA events


def logo_png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (160, 48), (31, 58, 147)).save(out, "PNG")
    return out.getvalue()


def test_set_the_brand_and_download_the_programme(
    page,
    live_server,
    browser_login,
    make_user,
    printed_programme,  # noqa: F811
    console_errors,
    artifacts,
    tmp_path,  # noqa: F811
):
    browser_login(make_user("national"), PASSWORD)
    page.goto(f"{live_server}/campaigns/{printed_programme.id}/brand")
    page.get_by_label("Couleur principale").fill("#fdd835")  # too pale under white text
    page.get_by_role("button", name="Enregistrer la charte").click()
    page.locator("#primary_color-error").wait_for()
    assert "Contraste insuffisant" in page.locator("#primary_color-error").inner_text()

    logo = tmp_path / "logo.png"
    logo.write_bytes(logo_png())
    page.get_by_label("Couleur principale").fill("#1f3a93")
    page.get_by_label("Couleur d'accent").fill("#9b2226")
    page.get_by_label("Pied de page").fill("CNCRES · 12 rue de l'exemple, Paris")
    page.get_by_label("Logo commun").set_input_files(str(logo))
    page.get_by_role("button", name="Enregistrer la charte").click()
    page.get_by_text("Charte enregistrée").wait_for()
    console_errors.clear()  # the refused form's 422 above was meant
    page.locator("#brand-logo").wait_for(state="visible")  # laid out once the image has loaded

    for name, width, height in (("phone", 390, 844), ("desktop", 1280, 900)):
        # the programme is public: seen by a visitor, in a context of its own
        visitor = page.context.browser.new_context(viewport={"width": width, "height": height})
        try:
            public = visitor.new_page()
            public.goto(f"{live_server}/programme?region=93")
            public.locator(".brand-banner img.brand-logo").wait_for(state="visible")
            assert public.locator(".brand-region").inner_text() == "Provence-Alpes-Côte d’Azur"
            booklet = public.locator("#print-links li").first
            booklet.locator(".print-info").filter(has_text="pages").wait_for(timeout=30000)
            assert "A5" in booklet.inner_text() and "Ko" in booklet.inner_text()
            wide = public.evaluate(
                """w => Array.from(document.querySelectorAll('body *'))
                  .filter(e => e.getBoundingClientRect().right > w + 1)
                  .map(e => e.tagName + '.' + e.className + ' ' + (e.textContent || '').slice(0, 40))""",
                width,
            )
            assert wide == [], wide  # nothing overflows
            public.screenshot(path=str(artifacts / f"programme-print-{name}.png"), full_page=True)
            shown = booklet.locator(".print-info").inner_text()
            href = public.get_by_role("link", name="Livret programme (A5)").get_attribute("href")
        finally:
            visitor.close()

    answer = page.request.get(f"{live_server}{href}")
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(answer.body()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert "Rencontre PACA 01" in text and "CNCRES" in text
    images = [name for p in reader.pages for name in (p["/Resources"].get("/XObject") or {})]
    assert images, "the logo is printed"
    assert f"{len(reader.pages)} pages" in shown
    assert console_errors == []
