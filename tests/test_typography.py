"""French typography for printed documents (printing.typography)."""

from markupsafe import Markup

from printing.typography import NBSP, NNBSP, french, french_html, upper


def test_spaces_before_high_punctuation_and_inside_quotes():
    assert (
        french("Attention: ouvert ; gratuit ! Venez ?")
        == f"Attention{NBSP}: ouvert{NNBSP}; gratuit{NNBSP}! Venez{NNBSP}?"
    )
    assert french("«Bonjour»") == f"«{NNBSP}Bonjour{NNBSP}»"
    assert french("« déjà espacé »") == f"«{NNBSP}déjà espacé{NNBSP}»"
    assert french(french("Quoi ?")) == f"Quoi{NNBSP}?"  # idempotent


def test_times_addresses_and_queries_are_left_alone():
    text = "Ouverture 10:30, https://relais.test/programme?region=93 et mailto:presse@example.org"
    assert french(text) == text


def test_accented_capitals_and_apostrophes():
    assert french("Mois de l'Economie Sociale et Solidaire") == "Mois de l\u2019Économie Sociale et Solidaire"
    assert french("ETAT et Etats généraux, Ecole") == "ÉTAT et États généraux, École"
    assert upper("économie sociale") == "ÉCONOMIE SOCIALE"
    assert french("Economiste") == "Economiste"  # whole words only


def test_ordinals_are_superscript_in_html_and_escaped():
    assert french_html("Le 1er novembre, la 2e édition du XXIe siècle") == Markup(
        "Le 1<sup>er</sup> novembre, la 2<sup>e</sup> édition du XXI<sup>e</sup> siècle"
    )
    assert french_html("Les <b>Ve</b> rencontres") == Markup("Les &lt;b&gt;V<sup>e</sup>&lt;/b&gt; rencontres")
    assert "<sup>" not in french_html("Le Ce Les Ces")


def test_indexes_sort_in_french_order():
    from printing.programme import collation_key

    themes = ["Élections prud'homales", "Insertion", "économie", "Écologie", "Zones rurales", "Culture"]
    assert sorted(themes, key=collation_key) == [
        "Culture",
        "Écologie",
        "économie",
        "Élections prud'homales",
        "Insertion",
        "Zones rurales",
    ]
