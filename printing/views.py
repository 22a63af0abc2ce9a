"""Printed documents over HTTP: the programme as a booklet, poster or flyer, with conditional GET.

`/programme.pdf` takes the filters of `/programme` plus `format=booklet|poster|flyer`, `size=A3|A4`
(the poster) and `colour=grey` (black ink only). The answer's ETag is the data version, so an
unchanged document costs a 304, and a document already printed by this process is served at once.
`/programme/print-info` answers the page count and weight of the same document before download.
"""

from collections.abc import Callable

from flask import Blueprint, Response, abort, current_app, jsonify, request, url_for
from flask_babel import gettext as _

from campaign.brand import brand_of
from campaign.editions import public_edition
from campaign.event_views import filter_args, programme_filters
from campaign.models import Campaign
from printing import programme
from printing.cache import PRINTED
from printing.render import Printed, css_string, logo_url, qr_svg, render_pdf
from printing.typography import french_html

public = Blueprint("printing", __name__)
FLYER_MAX_SIDES = 2


@public.app_template_filter("fr")
def fr(value):
    """French typography in printed templates (printing.typography)."""
    return french_html(value)


def the_campaign() -> Campaign:
    """`?campaign=<id>` or `?edition=<year>` (any edition), else the edition /programme shows."""
    return public_edition(request.args)  # NotFound: a 404 page


def options_from_request() -> programme.Options:
    args = request.args
    fmt = args.get("format") or "booklet"
    if fmt not in programme.FORMATS:
        abort(400, description=_("Format inconnu : booklet, poster ou flyer."))
    size = (args.get("size") or "A3").upper()
    if size not in programme.POSTER_SIZES:
        abort(400, description=_("Taille inconnue : A3 ou A4."))
    colour = args.get("colour") or "colour"
    if colour not in ("colour", "grey"):
        abort(400, description=_("Encre inconnue : colour ou grey."))
    return programme.Options(fmt, size, colour == "grey")


def print_programme(campaign: Campaign, filters: dict, options: programme.Options) -> Printed:
    base = current_app.config["PUBLIC_BASE_URL"].rstrip("/")
    online = programme.online_address(base, filter_args())
    context = programme.programme_context(campaign, filters, options, online)
    region = filters.get("region")
    where = region.name if region else "France"
    labels = {"booklet": "programme", "poster": "affiche", "flyer": "dépliant"}
    context |= {
        "brand": brand_of(campaign),
        "logo": logo_url(campaign, options.grey),
        "grey": options.grey,
        "paper": options.paper,
        "qr": qr_svg(online),
        "period": programme.events_period(campaign, context["events"]),
        "title": f"{campaign.name} — {labels[options.format]} — {where}",
        "footer_line": css_string(f"{campaign.name} — {where}"),
    }
    printed = render_pdf(f"{options.format}.html", **context)
    while options.format == "flyer" and printed.pages > FLYER_MAX_SIDES and context["highlights"]:
        context["highlights"] = context["highlights"][:-2]  # one sheet, two sides at most
        printed = render_pdf("flyer.html", **context)
    return printed


def requested() -> tuple[Campaign, dict, programme.Options, str, int]:
    """The campaign, filters and options asked for, the document's data version and its event count."""
    campaign = the_campaign()
    filters, options = programme_filters(campaign), options_from_request()
    base = current_app.config["PUBLIC_BASE_URL"]
    version, count = programme.data_version(campaign, filters, options, base, sorted(filter_args().items()))
    if count == 0:
        abort(404, description=_("Aucun événement publié ne correspond à cette sélection : rien à imprimer."))
    return campaign, filters, options, version, count


def printed_once(version: str, make: Callable[[], Printed]) -> Printed:
    """The document of this version from the cache, else printed (once, whoever asks meanwhile)."""
    found = PRINTED.get(version)
    if found is None:
        with PRINTED.one_at_a_time(version):
            found = PRINTED.get(version)
            if found is None:
                found = make()
                PRINTED.put(version, found)
    return found


def pdf_answer(version: str, make: Callable[[], Printed], filename: str, private: bool = False) -> Response:
    """A printed document with its version as ETag: a 304 when the client has it, else the PDF."""
    response = Response(mimetype="application/pdf")
    response.set_etag(version)
    response.cache_control.no_cache = True  # always ask: a 304 is one aggregate query
    response.cache_control.private = private or None
    if response.make_conditional(request).status_code == 304:
        return response
    printed = printed_once(version, make)
    response.set_data(printed.pdf)
    response.headers["Content-Disposition"] = f'inline; filename="{filename}"'
    response.headers["X-Relais-Pages"] = str(printed.pages)
    return response


@public.route("/programme.pdf")
def programme_pdf():
    campaign, filters, options, version, _count = requested()
    region = filters.get("region")
    name = f"programme-{region.code if region else 'france'}-{options.format}{'-gris' if options.grey else ''}.pdf"
    return pdf_answer(version, lambda: print_programme(campaign, filters, options), name)


@public.route("/programme/print-info")
def programme_info():
    """Pages, weight and paper of a printed programme, before downloading it (printed if needed)."""
    campaign, filters, options, version, count = requested()
    printed = printed_once(version, lambda: print_programme(campaign, filters, options))
    args = {k: v for k, v in request.args.items() if k in ("format", "size", "colour", "campaign")}
    return jsonify(
        {
            "format": options.format,
            "paper": options.paper,
            "grey": options.grey,
            "events": count,
            "pages": printed.pages,
            "bytes": printed.size,
            "kb": round(printed.size / 1024),
            "url": url_for("printing.programme_pdf", **filter_args(), **args),
            "version": version,
        }
    )
