"""Independent readers: what Relais hands to other software, read as that software reads it.

Each reader is a client people use, or the specification's own check, not the library that wrote
the artefact: mail under Python's strict policy plus the wire rules of RFC 5322/2047; calendars by
icalendar, vobject and ical.js (Thunderbird's parser, through Node); the OpenAPI document by
openapi-spec-validator; feeds by feedparser plus the specifications' required elements; CSV
through LibreOffice into a workbook read with openpyxl.

A missing outside client (node, soffice) skips the test with its reason, and fails it instead when
REQUIRE_BROWSER=1 (CI), where every client is installed.
"""

import email
import email.policy
import io
import json
import os
import re
import shutil
import subprocess
import tempfile
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import pytest

HERE = Path(__file__).parent
ICAL_JS_READER = HERE / "js" / "read_ics.mjs"
ENCODED_WORD = re.compile(rb"=\?[^?\s]+\?[bBqQ]\?[^?\s]*\?=")


def need(program: str) -> str:
    """The path of an outside client, or a skip (a failure under REQUIRE_BROWSER=1)."""
    found = shutil.which(program)
    if found:
        return found
    reason = f"{program} is not installed: this artefact cannot be read by its independent client"
    if os.environ.get("REQUIRE_BROWSER") == "1":
        pytest.fail(reason + " (REQUIRE_BROWSER=1)")
    pytest.skip(reason)


# Mail -------------------------------------------------------------------------------------------


class WireError(AssertionError):
    pass


def check_wire(data: bytes) -> None:
    """RFC 5322/5321 line rules and RFC 2047 word lengths on the raw bytes."""
    bare = re.search(rb"(?<!\r)\n", data)
    if bare:
        raise WireError(f"bare LF at byte {bare.start()}: {data[max(0, bare.start() - 60) : bare.start()]!r}")
    if re.search(rb"\r(?!\n)", data):
        raise WireError("bare CR")
    for number, line in enumerate(data.split(b"\r\n"), 1):
        if len(line) > 998:
            raise WireError(f"line {number} has {len(line)} characters (998 at most)")
    head = data.split(b"\r\n\r\n", 1)[0]
    if not head.isascii():
        raise WireError("8-bit bytes in the header section")
    for word in ENCODED_WORD.findall(head):
        if len(word) > 75:
            raise WireError(f"encoded word of {len(word)} characters (75 at most): {word!r}")


def read_mail(data: bytes) -> email.message.EmailMessage:
    """The message as a strict reader sees it: wire rules, then Python's strict policy (message and
    header defects raise), every header parsed and every part decoded."""
    check_wire(data)
    message = email.message_from_bytes(data, policy=email.policy.strict)
    for part in message.walk():
        for name, value in part.items():
            defects = getattr(value, "defects", ())
            if defects:
                raise WireError(f"{name}: {[type(d).__name__ for d in defects]} in {value!r}")
        if not part.is_multipart():
            part.get_content()
    return message


def display_name(message: email.message.EmailMessage, header: str) -> str:
    """The display name a mail program shows for a one-address header."""
    (address,) = message[header].addresses
    return address.display_name


# Calendars --------------------------------------------------------------------------------------


def utc(value) -> datetime:
    if not isinstance(value, datetime):  # an all-day date: its midnight, floating, read as UTC
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    assert value.tzinfo is not None, f"floating date-time {value}"
    return value.astimezone(UTC)


def by_icalendar(text: str) -> dict[str, tuple[datetime, datetime]]:
    from icalendar import Calendar

    cal = Calendar.from_ical(text)
    found = {}
    for event in cal.walk("VEVENT"):
        start = utc(event.decoded("dtstart"))
        end = utc(event.decoded("dtend")) if "DTEND" in event else start
        found[str(event["uid"])] = (start, end)
    return found


def by_vobject(text: str) -> dict[str, tuple[datetime, datetime]]:
    import vobject
    import vobject.icalendar

    # vobject keeps the first VTIMEZONE it meets for a TZID for the life of the process; a program
    # opening this calendar has met no other: forget the zones of the calendars read before.
    registry = vobject.icalendar.__dict__["__tzidMap"]
    for tzid in [tzid for tzid in registry if tzid != "UTC"]:
        del registry[tzid]
    cal = vobject.readOne(text)
    found = {}
    for event in getattr(cal, "vevent_list", []):
        start = utc(event.dtstart.value)
        end = utc(event.dtend.value) if hasattr(event, "dtend") else start
        found[event.uid.value] = (start, end)
    return found


def by_ical_js(text: str) -> dict[str, tuple[datetime, datetime]]:
    node = need("node")
    done = subprocess.run(
        [node, str(ICAL_JS_READER)], input=text.encode("utf-8"), capture_output=True, timeout=60, check=False
    )
    assert done.returncode == 0, f"ical.js could not read the calendar: {done.stderr.decode()}"
    return {
        uid: (datetime.fromisoformat(start), datetime.fromisoformat(end))
        for uid, (start, end) in json.loads(done.stdout).items()
    }


def read_calendar(text: str | bytes) -> dict[str, tuple[datetime, datetime]]:
    """Every event's UTC start and end by uid, as icalendar, vobject and ical.js all read them; fails
    when any two of them disagree on one event."""
    if isinstance(text, bytes):
        text = text.decode("utf-8")
    readings = {"icalendar": by_icalendar(text), "vobject": by_vobject(text), "ical.js": by_ical_js(text)}
    reference = readings["icalendar"]
    for reader, events in readings.items():
        assert events.keys() == reference.keys(), f"{reader} reads other events"
        wrong = {uid: (when, reference[uid]) for uid, when in events.items() if when != reference[uid]}
        assert not wrong, f"{reader} disagrees with icalendar on {len(wrong)} events, e.g. {next(iter(wrong.items()))}"
    return reference


# OpenAPI ----------------------------------------------------------------------------------------


def validate_openapi(document: dict) -> None:
    """Raises with every error when the document is not valid OpenAPI (its declared version)."""
    from openapi_spec_validator import validate
    from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

    try:
        validate(document)
    except OpenAPIValidationError as error:
        raise AssertionError(f"invalid OpenAPI document: {error.message} at {list(error.absolute_path)}") from error


# Feeds ------------------------------------------------------------------------------------------

ATOM = "{http://www.w3.org/2005/Atom}"


def read_atom(data: bytes):
    """The feed as feedparser reads it, after the elements RFC 4287 requires: feed id, title,
    updated; an author on the feed or on every entry; each entry's id, title, updated, and a link
    or content."""
    import feedparser

    root = ET.fromstring(data)
    assert root.tag == f"{ATOM}feed", root.tag
    for name in ("id", "title", "updated"):
        assert (root.findtext(f"{ATOM}{name}") or "").strip(), f"feed without {name}"
    feed_author = root.find(f"{ATOM}author/{ATOM}name")
    for entry in root.findall(f"{ATOM}entry"):
        for name in ("id", "title", "updated"):
            assert (entry.findtext(f"{ATOM}{name}") or "").strip(), f"entry without {name}"
        assert entry.find(f"{ATOM}link") is not None or entry.find(f"{ATOM}content") is not None
        author = entry.find(f"{ATOM}author/{ATOM}name")
        assert (author is not None and (author.text or "").strip()) or (
            feed_author is not None and (feed_author.text or "").strip()
        ), "an entry without an author in a feed without one (RFC 4287, 4.1.1)"
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10", parsed.version
    return parsed


def read_rss(data: bytes, url: str):
    """The feed as feedparser reads it, after RSS 2.0's required channel elements (title, link,
    description), each item's title or description, and the `atom:link rel="self"` naming `url`."""
    import feedparser

    root = ET.fromstring(data)
    assert root.tag == "rss" and root.get("version") == "2.0"
    channel = root.find("channel")
    for name in ("title", "link", "description"):
        assert (channel.findtext(name) or "").strip(), f"channel without {name}"
    selves = [link for link in channel.findall(f"{ATOM}link") if link.get("rel") == "self"]
    assert [link.get("href") for link in selves] == [url], "no atom:link rel=self naming the feed"
    assert selves[0].get("type") == "application/rss+xml"
    for item in channel.findall("item"):
        assert (item.findtext("title") or item.findtext("description") or "").strip()
    parsed = feedparser.parse(data)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "rss20", parsed.version
    return parsed


# Spreadsheets -----------------------------------------------------------------------------------


def by_libreoffice(csv_bytes: bytes, target: str, separator: str = ";") -> bytes:
    """The CSV (UTF-8) opened by LibreOffice Calc as a person opens it (`separator`, text in double
    quotes, the usual detection of numbers and dates), saved as `target` (xlsx, ods, xls)."""
    soffice = need("soffice")
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "contacts.csv").write_bytes(csv_bytes)
        done = subprocess.run(
            [
                soffice,
                f"-env:UserInstallation=file://{folder}/profile",
                "--headless",
                f"--infilter=CSV:{ord(separator)},34,76,1",  # separator, text delimiter ", UTF-8 (76), from line 1
                "--convert-to",
                target,
                "--outdir",
                str(folder),
                str(folder / "contacts.csv"),
            ],
            capture_output=True,
            timeout=240,
            check=False,
        )
        converted = folder / f"contacts.{target}"
        assert converted.exists(), f"LibreOffice did not convert the CSV: {done.stdout!r} {done.stderr!r}"
        return converted.read_bytes()


def read_spreadsheet(csv_bytes: bytes, separator: str = ";") -> list[list]:
    """The CSV as LibreOffice Calc holds it (`by_libreoffice`), read back with openpyxl: each row's
    cell values (a date a datetime, a number a number, text as shown)."""
    from openpyxl import load_workbook

    workbook = load_workbook(io.BytesIO(by_libreoffice(csv_bytes, "xlsx", separator)), read_only=True)
    try:
        return [list(row) for row in workbook.active.iter_rows(values_only=True)]
    finally:
        workbook.close()
