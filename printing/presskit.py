"""The press kit (dossier de presse) as a PDF, in the order French practice uses: press contacts,
the release (with its embargo line while the embargo holds), the event in key figures, the
programme (the region's, or the national one by region), the partners and who organises it.
"""

import hashlib
from collections import Counter
from datetime import datetime

from babel.dates import format_date
from flask import current_app

from accounts.models import Region
from campaign.brand import brand_of
from campaign.models import Campaign
from campaign.services import zone
from press import newsroom
from press.models import PressRelease
from press.release_body import body_html
from printing import programme
from printing.render import Printed, css_string, logo_url, qr_svg, render_pdf
from printing.typography import french

PROGRAMME_LINES = 60  # the kit gives a taste of the programme; the booklet and the site hold it all


def embargo_holds(release: PressRelease | None, now: datetime) -> bool:
    embargo = newsroom.effective_embargo(release) if release else None
    return embargo is not None and embargo > now


def kit_version(campaign: Campaign, region: Region | None, release: PressRelease | None, now: datetime) -> str:
    """Changes with the release, its embargo's state, the public releases, the programme and the charter."""
    releases = newsroom.public_releases(campaign, region, now)
    state = (
        (release.id, release.updated_at, newsroom.effective_embargo(release), embargo_holds(release, now))
        if release
        else None
    )
    filters = {"region": region}
    base = current_app.config["PUBLIC_BASE_URL"]
    data, _count = programme.data_version(campaign, filters, programme.Options("booklet"), base, "press-kit")
    parts = (state, [(r.id, r.updated_at) for r in releases], data)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:32]


def key_figures(campaign: Campaign, events: list) -> dict:
    themes = Counter(theme for e in events for theme in (e.themes or []))
    by_region = Counter(e.region.name for e in events)
    return {
        "events": len(events),
        "organisers": len({e.organiser for e in events if e.organiser}),
        "towns": len({e.city for e in events if e.city}),
        "regions": len(by_region),
        "themes": themes.most_common(6),
        "by_region": sorted(by_region.items()),
    }


def press_contacts(release: PressRelease | None, releases: list[PressRelease]) -> list[str]:
    seen, out = set(), []
    for item in ([release] if release else []) + releases:
        text = (item.press_contact or "").strip()
        if text and text not in seen:
            seen.add(text)
            out.append(text)
    return out


def print_press_kit(campaign: Campaign, region: Region | None, release: PressRelease | None, now: datetime) -> Printed:
    tz = zone(campaign.timezone)
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    online = programme.online_address(base, {"region": region.code} if region else {})
    events = programme.selection_events(campaign, {"region": region})
    releases = [r for r in newsroom.public_releases(campaign, region, now) if not release or r.id != release.id]
    holds = embargo_holds(release, now)
    where = region.name if region else "France"
    return render_pdf(
        "presskit.html",
        campaign=campaign,
        region=region,
        release=release,
        releases=releases,
        embargo_line=newsroom.embargo_line(newsroom.effective_embargo(release) if holds else None, tz)
        if release
        else "",
        embargo_holds=holds,
        contacts=press_contacts(release, releases),
        figures=key_figures(campaign, events),
        events=events[:PROGRAMME_LINES],
        more=max(0, len(events) - PROGRAMME_LINES),
        partners=programme.partners(region),
        brand=brand_of(campaign),
        logo=logo_url(campaign, grey=False),
        grey=False,
        paper="A4",
        margins="18mm 18mm 20mm 18mm",
        base_size="10pt",
        qr=qr_svg(online),
        online_url=online,
        period=programme.events_period(campaign, events),
        today=format_date(now.astimezone(tz).date(), "d MMMM y", locale="fr"),
        published=format_date(newsroom.published_on(release).astimezone(tz), "d MMMM y", locale="fr")
        if release
        else "",
        body=body_html(release.body, french) if release else "",  # paragraphs, lists and links, French spacing
        time_span=lambda e: programme.time_span(e, tz),
        day_of=lambda e: programme.french_day(e.starts_at.astimezone(tz).date()),
        title=f"Dossier de presse — {campaign.name} — {where}",
        footer_line=css_string(f"Dossier de presse — {campaign.name} — {where}"),
    )
