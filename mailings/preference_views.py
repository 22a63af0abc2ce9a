"""The pages a message's own links open, without an account: its unsubscribe link (one click stops
the stream the message belongs to) and its preference page (every stream, or everything)."""

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _

from campaign.brand import brand_of
from contacts import preferences
from contacts.history import init_app as contact_history
from extensions import csrf, db
from mailings import choices
from mailings.views import public


def page_context(holder: choices.LinkHolder) -> dict:
    """The campaign's brand and name on the page, when the message is still known."""
    campaign = holder.campaign
    return {"brand": brand_of(campaign), "site_name": campaign.name} if campaign is not None else {}


@public.record_once
def show_choices_in_history(state) -> None:
    """The contact page's history lists each stream the person stopped or took back."""
    contact_history(state.app).sources.append(preferences.history_items)


@public.route("/unsubscribe/<token>", methods=["GET", "POST"])
@csrf.exempt  # RFC 8058: a mail provider posts `List-Unsubscribe=One-Click` with no cookie and no token
def unsubscribe(token: str):
    """GET shows a button and changes nothing; POST stops the message's stream (idempotent), 200."""
    holder = choices.link_holder(token)
    if holder is None or (holder.contact is None and not holder.test):
        return render_template("mailings/unsubscribe.html", state="invalid"), 404
    stream = holder.stream
    label = preferences.stream_label(stream) if stream else ""
    context = {"token": token, "label": label, **page_context(holder)}
    if request.method == "GET":
        return render_template("mailings/unsubscribe.html", state="ask", **context)
    stopped = choices.unsubscribe(holder)
    db.session.commit()
    state = "test" if stopped is None else "done" if stopped == preferences.EVERYTHING else "stream"
    return render_template("mailings/unsubscribe.html", state=state, **context)


@public.route("/preferences/<token>", methods=["GET", "POST"])
def preferences_page(token: str):
    """The streams this person receives, each with the date of their last choice; POST saves them
    (CSRF-protected: a person's browser, not a mail provider), or stops everything."""
    holder = choices.link_holder(token)
    if holder is None or (holder.contact is None and not holder.test):
        return render_template("mailings/preferences.html", state="invalid"), 404
    if holder.test:
        return render_template("mailings/test_link.html")
    contact = holder.contact
    if request.method == "POST":
        done = choices.save(holder, request.form)
        db.session.commit()
        if done == "blocked":
            flash(_("Cette adresse ne peut plus recevoir nos envois : rien n'a été changé."), "error")
        elif done == preferences.EVERYTHING:
            flash(_("C'est fait : vous ne recevrez plus rien de notre part à cette adresse."), "success")
        else:
            flash(_("Vos choix sont enregistrés."), "success")
        return redirect(url_for("public_mail.preferences_page", token=token))
    return render_template(
        "mailings/preferences.html",
        state="choose",
        token=token,
        contact=contact,
        lines=preferences.page_streams(contact, holder.region),
        stopped_at=preferences.stopped_everything_at(contact),
        can_resume=preferences.can_resume(contact),
        **page_context(holder),
    )
