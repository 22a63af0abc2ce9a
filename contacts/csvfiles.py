"""Reading CSV files as people have them: encoding, separator, known exports' columns, values.

French Excel writes `;`-separated cp1252 (or UTF-8 with a BOM); Google Contacts and Outlook write
their own column names. Everything here is pure: no database.
"""

import codecs
import csv
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import IO

from contacts.labels import (
    CIVILITY_LABELS,
    KIND_LABELS,
    LEGAL_BASIS_LABELS,
    MEDIA_TYPE_LABELS,
    PARTNERSHIP_LABELS,
    SCOPE_LABELS,
    code_of,
)
from contacts.models import (
    CIVILITIES,
    CONTACT_KINDS,
    LEGAL_BASES,
    MEDIA_SCOPES,
    MEDIA_TYPES,
    PARTNERSHIP_STATUSES,
    fold,
)

SAMPLE_BYTES = 64 * 1024
csv.field_size_limit(1024 * 1024)

# The contact fields a column can fill, with their French labels for the mapping page.
FIELDS = {
    "email": "Adresse e-mail",
    "civility": "Civilité",
    "first_name": "Prénom",
    "last_name": "Nom",
    "full_name": "Nom complet",
    "organisation": "Organisme",
    "job_title": "Fonction",
    "city": "Ville",
    "kind": "Type de contact",
    "region": "Région",
    "phone": "Téléphone",
    "mobile": "Téléphone mobile",
    "media_type": "Type de média",
    "media_scope": "Portée du média",
    "outlet": "Titre / média",
    "beats": "Rubriques",
    "tags": "Étiquettes",
    "partnership_status": "Statut du partenariat",
    "partnership_level": "Niveau du partenariat",
    "source": "Source",
    "legal_basis": "Base légale",
    "notes": "Notes",
}


def header_key(name: str) -> str:
    """'E-mail 1 - Value' -> 'email1value', 'Prénom' -> 'prenom'."""
    return re.sub(r"[^a-z0-9]", "", fold(name))


HEADER_FIELDS = {
    header_key(alias): name
    for name, aliases in {
        "email": [
            "email",
            "mail",
            "courriel",
            "adresse e-mail",
            "adresse mail",
            "adresse de messagerie",
            "adresse électronique",
            "mél",
            "e-mail address",
            "e-mail 1 - value",
            "e-mail 1 - valeur",
        ],
        "civility": ["civilité", "civ", "name prefix", "préfixe", "titre de civilité", "madame / monsieur"],
        "first_name": ["prénom", "first name", "given name"],
        "last_name": ["nom", "nom de famille", "last name", "family name", "surname"],
        "full_name": ["name", "nom complet", "display name", "nom et prénom", "prénom et nom"],
        "organisation": [
            "organisme",
            "structure",
            "organisation",
            "organization",
            "société",
            "company",
            "entreprise",
            "organization 1 - name",
            "organization name",
            "établissement",
            "association",
        ],
        "job_title": ["fonction", "poste", "job title", "organization 1 - title", "organization title"],
        "city": [
            "ville",
            "city",
            "commune",
            "localité",
            "business city",
            "ville (bureau)",
            "address 1 - city",
            "adresse 1 - ville",
        ],
        "kind": ["type", "type de contact", "kind", "catégorie de contact"],
        "region": ["région", "code région", "region code"],
        "phone": [
            "téléphone",
            "tél",
            "tel",
            "phone",
            "business phone",
            "téléphone bureau",
            "téléphone (bureau)",
            "phone 1 - value",
            "primary phone",
            "téléphone principal",
        ],
        "mobile": ["mobile", "portable", "mobile phone", "téléphone mobile", "tél. mobile"],
        "media_type": ["type de média", "media type", "type média"],
        "media_scope": ["portée", "scope", "diffusion", "portée du média"],
        "outlet": ["média", "titre de presse", "support", "outlet", "rédaction", "journal"],
        "beats": ["rubrique", "rubriques", "thématiques", "beats", "sujets"],
        "tags": ["tags", "étiquettes", "labels", "group membership", "categories", "catégories", "mots-clés"],
        "partnership_status": ["statut du partenariat", "statut partenariat", "partnership status"],
        "partnership_level": ["niveau du partenariat", "niveau partenariat", "partnership level"],
        "source": ["source", "origine"],
        "legal_basis": ["base légale", "base juridique", "legal basis"],
        "notes": ["notes", "note", "commentaire", "commentaires", "remarques"],
    }.items()
    for alias in aliases
}

KIND_WORDS = {
    "media": "media",
    "presse": "media",
    "journaliste": "media",
    "partenaire": "partner",
    "partner": "partner",
    "reseau": "network",
    "relais": "network",
    "relais reseau": "network",
    "network": "network",
    "institution": "institution",
    "institutionnel": "institution",
    "interne": "internal",
    "internal": "internal",
    "autre": "other",
    "other": "other",
}
MEDIA_TYPE_WORDS = {
    "agence": "agency",
    "agence de presse": "agency",
    "pqn": "national_daily",
    "quotidien national": "national_daily",
    "pqr": "regional_daily",
    "quotidien regional": "regional_daily",
    "phr": "regional_weekly",
    "hebdomadaire regional": "regional_weekly",
    "hebdo regional": "regional_weekly",
    "magazine": "magazine",
    "presse specialisee": "specialised",
    "specialise": "specialised",
    "specialisee": "specialised",
    "television": "tv",
    "tele": "tv",
    "internet": "web",
    "site web": "web",
}
SCOPE_WORDS = {"regionale": "regional", "departementale": "departement", "departemental": "departement"}
PARTNERSHIP_WORDS = {
    "prospect": "prospect",
    "en negociation": "negotiating",
    "negociation": "negotiating",
    "confirme": "confirmed",
    "engage": "confirmed",
    "refuse": "declined",
    "decline": "declined",
}
LEGAL_WORDS = {
    "interet legitime": "legitimate_interest",
    "consentement": "consent",
    "contrat": "contract",
    "mission d'interet public": "public_interest",
    "interet public": "public_interest",
}
CIVILITY_WORDS = {
    "mme": "madame",
    "madame": "madame",
    "mlle": "madame",  # "Mademoiselle" left official French use in 2012: "Madame"
    "melle": "madame",
    "mademoiselle": "madame",
    "mrs": "madame",
    "ms": "madame",
    "miss": "madame",
    "m": "monsieur",
    "mr": "monsieur",
    "monsieur": "monsieur",
}
GOOGLE_SYSTEM_GROUPS = {"mycontacts", "starred", "friends", "family", "coworkers"}

PLAIN_EMAIL = re.compile(
    r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$"
)
SPECIAL_USE_TLDS = {"arpa", "invalid", "local", "localhost", "onion", "test", "internal", "home", "lan"}


def fast_email(raw: str) -> str | None:
    """The lower-cased address when it is a plain ASCII one that email-validator would accept as is."""
    address = raw.strip().lower()
    if len(address) <= 254 and PLAIN_EMAIL.match(address):
        local, _, domain = address.rpartition("@")
        if len(local) <= 64 and domain.rsplit(".", 1)[-1] not in SPECIAL_USE_TLDS:
            return address
    return None


def choice_value(raw: str, allowed: tuple, words: dict, labels: dict) -> str | None:
    """A code from its code, the label Relais shows for it (as the CSV export writes it) or a
    usual French word; None when unknown."""
    value = raw.strip()
    if value in allowed:
        return value
    key = fold(value).replace("_", " ").strip()
    if key.replace(" ", "_") in allowed:
        return key.replace(" ", "_")
    return words.get(key) or code_of(value, labels)


FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")  # what a spreadsheet runs as a formula (OWASP)


def unguarded(value: str) -> str:
    """A cell without the apostrophe that an export puts before a formula ('=SUM(A1) → =SUM(A1)):
    stored as text, it is never run."""
    return value[1:] if value.startswith("'") and value[1:2].startswith(FORMULA_STARTS) else value


def civility_value(raw: str) -> str | None:
    """'Mme', 'Madame', 'M.', 'Mr', 'Monsieur'... -> madame / monsieur; None when unknown."""
    key = fold(raw).replace(".", "").strip()
    return CIVILITY_WORDS.get(key) or choice_value(raw, CIVILITIES, {}, CIVILITY_LABELS)


def kind_value(raw: str) -> str | None:
    return choice_value(raw, CONTACT_KINDS, KIND_WORDS, KIND_LABELS)


def media_type_value(raw: str) -> str | None:
    return choice_value(raw, MEDIA_TYPES, MEDIA_TYPE_WORDS, MEDIA_TYPE_LABELS)


def scope_value(raw: str) -> str | None:
    return choice_value(raw, MEDIA_SCOPES, SCOPE_WORDS, SCOPE_LABELS)


def partnership_value(raw: str) -> str | None:
    return choice_value(raw, PARTNERSHIP_STATUSES, PARTNERSHIP_WORDS, PARTNERSHIP_LABELS)


def legal_basis_value(raw: str) -> str | None:
    return choice_value(raw, LEGAL_BASES, LEGAL_WORDS, LEGAL_BASIS_LABELS)


def split_labels(raw: str) -> list[str]:
    """Tags or beats from 'a, b', 'a;b', 'a | b' or Google's '* myContacts ::: Presse'."""
    labels = []
    for part in re.split(r":::|[,;|]", raw or ""):
        label = part.strip().lstrip("*").strip().lower()[:60]
        if label and header_key(label) not in GOOGLE_SYSTEM_GROUPS and label not in labels:
            labels.append(label)
    return labels


# ---- the file ------------------------------------------------------------------------------


class CountingReader(io.RawIOBase):
    """A byte stream that replays a sample already read, then the rest, counting bytes."""

    def __init__(self, sample: bytes, rest: IO[bytes]):
        self.sample, self.rest, self.bytes_read = sample, rest, 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        if self.sample:
            n = min(len(buffer), len(self.sample))
            buffer[:n], self.sample = self.sample[:n], self.sample[n:]
        else:
            data = self.rest.read(len(buffer))
            n = len(data)
            buffer[:n] = data
        self.bytes_read += n
        return n


def guess_encoding(sample: bytes, complete: bool) -> str:
    if sample.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        sample.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as error:
        if not complete and error.start >= len(sample) - 3:
            return "utf-8"  # a character cut by the sample's end
    try:
        sample.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def guess_delimiter(first_line: str) -> str:
    counts = {d: first_line.count(d) for d in (";", ",", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


@dataclass
class CsvSource:
    """An opened CSV file: its encoding, separator, header and a row iterator."""

    encoding: str
    delimiter: str
    headers: list[str]
    rows: Iterator[list[str]]
    counter: CountingReader
    total_bytes: int | None = None
    format: str = "generic"
    mapping: dict[str, str] = field(default_factory=dict)
    file_type: str = "csv"  # or xlsx, xls, ods (contacts/import_sheets.py)
    sheet: str = ""
    first_row: int = 1  # the header's row number, as the spreadsheet shows it

    @property
    def bytes_read(self) -> int:
        return self.counter.bytes_read


class UnreadableFile(ValueError):
    """The file is not a CSV we can read."""


def without_nul(lines: Iterator[str]) -> Iterator[str]:
    """The lines without their NUL characters: no database text column can hold one, and nobody can
    see one in a spreadsheet to take it out (a broken export leaves them, a UTF-16 file without its
    mark is half made of them)."""
    for line in lines:
        yield line.replace("\x00", "")


def open_csv(stream: IO[bytes], total_bytes: int | None = None) -> CsvSource:
    """Open an uploaded or local CSV without reading it whole."""
    sample = stream.read(SAMPLE_BYTES)
    if not sample.strip():
        raise UnreadableFile("empty file")
    encoding = guess_encoding(sample, complete=len(sample) < SAMPLE_BYTES)
    counter = CountingReader(sample, stream)
    text = io.TextIOWrapper(io.BufferedReader(counter), encoding=encoding, newline="")
    first_line = sample.decode(encoding, errors="ignore").lstrip("\ufeff").splitlines()[0]
    delimiter = guess_delimiter(first_line)
    reader = csv.reader(without_nul(text), delimiter=delimiter)
    try:
        headers = [h.strip().lstrip("\ufeff") for h in next(reader)]
    except (StopIteration, csv.Error, UnicodeDecodeError) as error:
        raise UnreadableFile(str(error)) from error
    source = CsvSource(encoding, delimiter, headers, reader, counter, total_bytes)
    source.mapping = detect_mapping(headers)
    source.format = detect_format(headers)
    return source


def detect_mapping(headers: list[str]) -> dict[str, str]:
    """Column -> field for the columns we recognise; the first column for a field wins."""
    mapping: dict[str, str] = {}
    taken: set[str] = set()
    for header in headers:
        name = HEADER_FIELDS.get(header_key(header))
        if name and (name not in taken or name == "tags"):
            mapping[header] = name
            taken.add(name)
    if "civility" not in taken and detect_format(headers) == "outlook":  # Outlook's "Title" is Mme / M.
        for header in headers:
            if header_key(header) == "title" and header not in mapping:
                mapping[header] = "civility"
                break
    return mapping


def detect_format(headers: list[str]) -> str:
    keys = {header_key(h) for h in headers}
    if {"email1value"} & keys and keys & {"givenname", "firstname", "groupmembership", "labels"}:
        return "google"
    if keys & {"emailaddress", "adressedemessagerie"} and keys & {"company", "societe", "firstname", "prenom"}:
        return "outlook"
    if keys & {"prenom", "nom", "courriel", "organisme", "structure", "region"}:
        return "french"
    return "generic"


FORMAT_LABELS = {
    "google": "export Google Contacts",
    "outlook": "export Outlook",
    "french": "fichier à en-têtes français",
    "generic": "fichier CSV",
}
