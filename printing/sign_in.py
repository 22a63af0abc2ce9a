"""A press conference's sign-in sheet as a PDF (A4, the vendored fonts, nothing fetched): the same
list as the page `press.sign_in_sheet`, for the signed-in team that takes lists away."""

from flask import Response, abort
from flask_login import current_user

from press import conferences, followup
from press.views import EXPORTERS
from printing.press_views import team
from printing.render import render_pdf


@team.route("/press/conferences/<int:milestone_id>/sign-in-sheet.pdf")
def sign_in_sheet_pdf(milestone_id: int):
    milestone = conferences.get_conference(current_user, milestone_id)
    if current_user.role not in EXPORTERS:
        abort(403)
    printed = render_pdf(
        "sign_in_sheet.html", milestone=milestone, people=followup.sign_in_list(milestone), blank_rows=8
    )
    headers = {"Content-Disposition": f'inline; filename="emargement-{milestone.id}.pdf"'}
    return Response(printed.pdf, mimetype="application/pdf", headers=headers)
