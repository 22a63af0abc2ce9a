"""The printed programme read back from its PDF (pypdf, and poppler's pdftotext where installed):
the right events in the right order and nothing from another region, page counts and paper sizes
per format, fonts embedded, nothing fetched from outside, grey ink, no widowed day heading, ETag."""

import io
import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta

import pytest
from pypdf import PdfReader

from campaign.models import Event
from extensions import db
from printing.cache import PRINTED

A5, A4, A3 = (419.5, 595.3), (595.3, 841.9), (841.9, 1190.6)
DAY_HEADING = re.compile(r"^(Lundi|Mardi|Mercredi|Jeudi|Vendredi|Samedi|Dimanche) (1er|\d+) \w+ 2008$")
THEMES = ("Insertion", "Recyclage", "Éducation populaire", "Culture et territoires")
TOWNS = ("Marseille", "Nice", "Aix-en-Provence", "Toulon")


@pytest.fixture
def printed_programme(app, demo_campaign, regions):
    """40 approved events in PACA (93) over November 2008, 3 in Bretagne (53), one still proposed."""
    from demo.contacts import load as load_contacts

    load_contacts()
    PRINTED.clear()
    start = datetime(2008, 11, 3, 8, 30, tzinfo=UTC)
    for i in range(40):
        db.session.add(
            Event(
                campaign_id=demo_campaign.id,
                region_id=regions["93"].id,
                title=f"Rencontre PACA {i + 1:02d}",
                type="Forum",
                themes=[THEMES[i % 4]],
                starts_at=start + timedelta(days=i // 3, hours=i % 3 * 2),
                ends_at=start + timedelta(days=i // 3, hours=i % 3 * 2 + 1, minutes=30),
                city=TOWNS[i % 4],
                venue=f"Salle {i + 1}",
                organiser=f"Association {i % 7}",
                status="approved",
            )
        )
    for i in range(3):
        db.session.add(
            Event(
                campaign_id=demo_campaign.id,
                region_id=regions["53"].id,
                title=f"Rencontre Bretagne {i + 1}",
                themes=["Insertion"],
                starts_at=start + timedelta(days=i),
                city="Rennes",
                organiser="CRES Bretagne",
                status="approved",
            )
        )
    db.session.add(
        Event(
            campaign_id=demo_campaign.id,
            region_id=regions["93"].id,
            title="Pas encore validé",
            starts_at=start,
            city="Marseille",
            status="proposed",
        )
    )
    db.session.commit()
    return demo_campaign


def pdf(client, query: str):
    answer = client.get(f"/programme.pdf?{query}")
    assert answer.status_code == 200, answer.get_data(as_text=True)[:500]
    assert answer.mimetype == "application/pdf"
    return answer, PdfReader(io.BytesIO(answer.data))


def page_size(reader: PdfReader, index: int = 0) -> tuple[float, float]:
    box = reader.pages[index].mediabox
    return round(float(box.width), 1), round(float(box.height), 1)


def text_of(reader: PdfReader) -> str:
    return "\n".join(page.extract_text() for page in reader.pages)


def test_regional_booklet_lists_its_events_in_order_and_nothing_else(client, printed_programme):
    answer, reader = pdf(client, "region=93")
    text = text_of(reader)
    positions = [text.find(f"Rencontre PACA {i + 1:02d}") for i in range(40)]
    assert all(p >= 0 for p in positions) and positions == sorted(positions)  # every event, by date
    assert "Bretagne" not in text and "Pas encore validé" not in text
    assert "Lundi 3 novembre 2008" in text and "Salle 1" in text and "Association 0" in text
    assert "Index par thème" in text and "Index par ville" in text
    assert "Partenaires" in text and "MACIF" in text  # the confirmed national partners
    assert "http://relais.test/programme?region=93" in text  # beside the QR code
    assert "Provence-Alpes-Côte d’Azur" in text
    assert {page_size(reader, i) for i in range(len(reader.pages))} == {A5}
    pages = len(reader.pages)
    assert answer.headers["X-Relais-Pages"] == str(pages) and pages > 2
    assert f"2 / {pages}" in reader.pages[1].extract_text()  # page numbers (none on the cover)


def test_day_headings_are_never_left_alone_at_the_foot_of_a_page(client, printed_programme):
    _, reader = pdf(client, "region=93")
    for number, page in enumerate(reader.pages[:-1], start=1):
        lines = [line.strip() for line in page.extract_text().splitlines() if line.strip()]
        body = [line for line in lines if not re.fullmatch(r"\d+ / \d+|Mois de l.ESS 2008 — .*", line)]
        assert body and not DAY_HEADING.match(body[-1]), f"page {number} ends on the heading {body[-1]!r}"


def test_national_booklet_names_each_events_region(client, printed_programme):
    _, reader = pdf(client, "")
    text = text_of(reader)
    assert "Rencontre Bretagne 1" in text and "Rencontre PACA 40" in text and "(Bretagne)" in text


def test_fonts_are_the_vendored_ones_and_embedded(client, printed_programme):
    _, reader = pdf(client, "region=93")
    fonts = {}
    for page in reader.pages:
        for font in page["/Resources"]["/Font"].values():
            font = font.get_object()
            descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            fonts[str(font["/BaseFont"])] = "/FontFile2" in descriptor
    assert fonts and all(fonts.values()), fonts
    assert all("Relais-Sans" in name for name in fonts)


def test_nothing_is_fetched_from_outside(app, printed_programme):
    from weasyprint import HTML

    from printing.render import LocalOnlyFetcher

    fetcher = LocalOnlyFetcher()
    html = (
        '<link rel="stylesheet" href="https://fonts.example.org/x.css">'
        '<img src="http://example.org/logo.png"><img src="file:///etc/hostname"><p>Bonjour</p>'
    )
    HTML(string=html, url_fetcher=fetcher.build()).write_pdf()
    assert sorted(fetcher.refused) == [
        "file:///etc/hostname",
        "http://example.org/logo.png",
        "https://fonts.example.org/x.css",
    ]

    from printing import programme
    from printing.views import print_programme

    with app.test_request_context("/programme.pdf?region=93"):
        from accounts.models import Region

        region = db.session.scalar(db.select(Region).where(Region.code == "93"))
        filters = {"region": region, "theme": None, "type_": None, "date_from": None, "date_to": None}
        for fmt in programme.FORMATS:
            printed = print_programme(printed_programme, filters, programme.Options(fmt))
            assert printed.refused == [], fmt


def test_poster_is_one_page_a3_or_a4_and_flyer_one_a5_sheet(client, printed_programme):
    _, poster = pdf(client, "region=93&format=poster")
    assert len(poster.pages) == 1 and page_size(poster) == A3
    assert "Et en tout 40 événements" in text_of(poster)
    _, small = pdf(client, "region=93&format=poster&size=A4")
    assert len(small.pages) == 1 and page_size(small) == A4
    _, flyer = pdf(client, "region=93&format=flyer")
    assert 1 <= len(flyer.pages) <= 2 and {page_size(flyer, i) for i in range(len(flyer.pages))} == {A5}
    assert "Rencontre PACA 01" in text_of(flyer) and "Bretagne" not in text_of(flyer)


def colours(reader: PdfReader) -> set[tuple[str, str, str]]:
    found = set()
    for page in reader.pages:
        data = page.get_contents().get_data().decode("latin-1")
        found |= set(re.findall(r"([\d.]+) ([\d.]+) ([\d.]+) (?:rg|RG)\b", data))
    return found


def test_grey_variant_prints_with_black_ink_only(client, printed_programme):
    _, coloured = pdf(client, "region=93")
    assert any(len(set(c)) > 1 for c in colours(coloured))  # the charter's green and brown
    _, grey = pdf(client, "region=93&colour=grey")
    assert colours(grey) and all(len(set(map(float, c))) == 1 for c in colours(grey)), colours(grey)


def test_etag_and_304_follow_the_data_version(client, printed_programme):
    first = client.get("/programme.pdf?region=93")
    tag = first.headers["ETag"]
    db.session.expunge_all()  # as in another request: the version holds no object identity
    assert client.get("/programme.pdf?region=93").headers["ETag"] == tag
    assert client.get("/programme.pdf?region=93", headers={"If-None-Match": tag}).status_code == 304
    assert client.get("/programme.pdf?region=93&format=flyer", headers={"If-None-Match": tag}).status_code == 200
    event = db.session.scalar(db.select(Event).where(Event.title == "Rencontre PACA 07"))
    event.title = "Rencontre PACA 07 (nouvelle salle)"
    db.session.commit()
    again = client.get("/programme.pdf?region=93", headers={"If-None-Match": tag})
    assert again.status_code == 200 and again.headers["ETag"] != tag
    assert "nouvelle salle" in text_of(PdfReader(io.BytesIO(again.data)))


def test_pages_and_weight_are_told_before_download(client, printed_programme):
    info = client.get("/programme/print-info?region=93&format=booklet").get_json()
    answer = client.get(info["url"])
    assert info["pages"] == len(PdfReader(io.BytesIO(answer.data)).pages)
    assert info["bytes"] == len(answer.data) and info["paper"] == "A5" and info["events"] == 40


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("format=calendar", 400),
        ("format=poster&size=B5", 400),
        ("colour=pink", 400),
        ("region=ZZ", 404),
        ("region=11", 404),  # Île-de-France has no event: nothing to print
        ("from=2008-13-45", 400),
    ],
)
def test_bad_requests_are_4xx_with_a_reason(client, printed_programme, query, status):
    answer = client.get(f"/programme.pdf?{query}")
    assert answer.status_code == status
    if query == "region=11":
        assert "rien à imprimer" in answer.get_data(as_text=True)


def test_pdftotext_reads_the_same_programme(client, printed_programme, tmp_path):
    if shutil.which("pdftotext") is None:
        pytest.skip("poppler-utils' pdftotext is not installed")
    answer, _ = pdf(client, "region=93")
    path = tmp_path / "programme.pdf"
    path.write_bytes(answer.data)
    text = subprocess.run(["pdftotext", "-layout", str(path), "-"], capture_output=True, check=True, text=True).stdout
    assert "Rencontre PACA 01" in text and "Rencontre PACA 40" in text and "Rennes" not in text
    info = subprocess.run(["pdfinfo", str(path)], capture_output=True, check=True, text=True).stdout
    assert re.search(r"Page size:\s+419\.5\d* x 595\.2\d* pts", info), info


def test_logo_is_printed_light_and_grey_in_the_grey_variant(client, printed_programme):
    from PIL import Image

    from campaign.brand import save_brand

    class Lead:
        role = "national"

    big = io.BytesIO()
    Image.new("RGB", (2400, 600), (31, 58, 147)).save(big, "PNG")
    save_brand(Lead(), printed_programme, {}, big.getvalue())
    db.session.commit()

    def logos(query: str) -> list:
        _, reader = pdf(client, query)
        found = {}  # by object: pages share their resources
        for page in reader.pages:
            for ref in (page["/Resources"].get("/XObject") or {}).values():
                xobject = ref.get_object()
                if xobject.get("/Subtype") == "/Image":
                    found[ref.idnum] = (int(xobject["/Width"]), str(xobject["/ColorSpace"]))
        return list(found.values())

    assert logos("region=93") == [(1200, "/DeviceRGB")]  # one image, at most 1,200 pixels wide
    assert logos("region=93&colour=grey") == [(1200, "/DeviceGray")]
