"""Raw data that must never reach a built site: mkdocs copies every file of docs_dir into
it, so an extract, a database or an export of contacts left there would be published.

A file is known by what it holds, not by its name alone: Parquet, SQLite and DuckDB files
by their magic bytes (a `contacts.bak` is still Parquet), zip, gzip and tar archives by
what they pack (a spreadsheet is a zip of XML), text by the columns or addresses of
contacts it lists, in UTF-8, UTF-16 or Windows-1252.
"""

from __future__ import annotations

import bz2
import codecs
import csv
import gzip
import io
import lzma
import os
import re
import tarfile
import unicodedata
import zipfile
import zlib
from collections import Counter
from fnmatch import fnmatch
from pathlib import Path

from kpi.errors import ConfigError, KpisiteError
from kpi.project import Project

# Files no report site serves, by name: Parquet extracts, and databases such as kpisite's
# own cache (SQLite, with its journal files, which have no magic bytes) or a DuckDB file.
RAW_DATA_FILES = (
    "*.parquet",
    "*.sqlite",
    "*.sqlite3",
    "*.sqlite-*",
    "*.sqlite3-*",
    "*.duckdb",
    "*.duckdb.wal",
)
# The same files by their first bytes, whatever their name: Parquet, SQLite, Arrow (and
# Feather), Avro and vCard contacts at the start, DuckDB at byte 8.
MAGIC = {
    0: (b"PAR1", b"SQLite format 3\0", b"ARROW1", b"FEA1", b"Obj\x01", b"BEGIN:VCARD"),
    8: (b"DUCK",),
}
# Archives no standard library opens (zstd, 7z, rar): what they hold cannot be known.
SEALED = (b"\x28\xb5\x2f\xfd", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07")
ZIP_MAGIC = b"PK\x03\x04"
# Single-file compressors, each with its stdlib reader.
COMPRESSED = {b"\x1f\x8b": gzip.open, b"BZh": bz2.open, b"\xfd7zXZ\x00": lzma.open}
TAR_MAGIC = (257, b"ustar")
# What a site serves on purpose, read as it is: its pages, styles, scripts, images, fonts,
# and the well-known files that name its authors. Listing addresses there (a page naming
# its team) is no export of contacts.
SITE_FILES = (
    "*.md",
    "*.markdown",
    "*.html",
    "*.htm",
    "*.css",
    "*.js",
    "*.mjs",
    "*.map",
    "*.svg",
    "*.png",
    "*.jpg",
    "*.jpeg",
    "*.gif",
    "*.webp",
    "*.avif",
    "*.ico",
    "*.woff",
    "*.woff2",
    "*.ttf",
    "*.otf",
    "*.pdf",
    "humans.txt",
    "security.txt",
    "robots.txt",
)
# Column names of personal details, in English and French, as `normalized` writes them
# with their words run together (first_name, "First Name", givenName: firstname), and the
# words that make one (a name column has "first" and "name"). A bare "name" or "nom" is
# also a campaign's or a product's: left out.
NAME_COLUMNS = frozenset(
    {
        "firstname", "lastname", "givenname", "familyname", "fullname", "surname", "prenom",
        "nomcomplet", "nomprenom", "prenomnom", "nomdefamille", "contactname", "customername",
        "dob", "birthday", "birthdate", "dateofbirth", "datedenaissance", "naissance",
        "emailaddress", "adresseemail", "adressemail", "address", "adresse",
        "streetaddress", "postaladdress", "adressepostale",
    }
)  # fmt: skip
NAME_WORDS = (
    {"first", "name"}, {"last", "name"}, {"given", "name"}, {"family", "name"},
    {"full", "name"}, {"date", "birth"}, {"email", "address"}, {"nom", "complet"},
    {"nom", "famille"}, {"date", "naissance"},
)  # fmt: skip
# Words of a phone column in an export; a channel or a device in aggregates (revenue by
# channel: web, store, phone), so such a column is personal only when it holds phone
# numbers. "email" is the same, and known by its addresses instead.
PHONE_WORDS = frozenset(
    {"phone", "phonenumber", "telephone", "tel", "mobile", "gsm", "portable", "cell"}
)
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# 8 to 15 digits, with the separators people write; not a date, not an amount.
PHONE = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
DATE = re.compile(r"\d{4}-\d{2}-\d{2}|\d{1,2}[./]\d{1,2}[./]\d{2,4}$")
NUMBER = re.compile(r"\d+(?:[.,]\d+)?")
# An amount with its thousands grouped (112 345 678, 12.345.678,50), and any number or
# share as a report writes it (0.93, 93 %, -1 204,5).
GROUPED = re.compile(r"\d{1,3}(?:[ .,\u00a0\u202f]\d{3})+(?:[.,]\d+)?")
AMOUNT = re.compile(r"[-+]?[\d \u00a0\u202f.,]*\d[ \u00a0\u202f]?%?")
# A key and its value, in JSON ("phone": "06...") or YAML (phone: 06...).
JSON_PAIR = re.compile(r'"([^"\\]{1,60})"\s*:\s*("[^"\\]*"|[^,}\]\s]*)')
YAML_PAIR = re.compile(r"^[\s-]*([^\s:#\-][^:#\n]{0,40}):[ \t]*(.*)$", re.MULTILINE)
# The text of XML elements: a spreadsheet's cells (xl/sharedStrings.xml).
XML_TEXT = re.compile(r">([^<>]{1,60})<")
XML_ELEMENT = re.compile(r"<([A-Za-z_][\w.-]{0,40})[\s/>]")
SEPARATORS = ",;\t|"
# Enough of a file to see its header and first rows.
SNIFFED_BYTES = 65_536
# Archives: how deep they are opened, how many members are looked into, and how much of a
# member packing another archive is read (in memory). An archive that cannot be looked
# through whole within these, or read at all (damaged, encrypted), counts as raw data:
# what it holds cannot be known.
ARCHIVE_DEPTH = 3
ARCHIVE_MEMBERS = 1000
MEMBER_BYTES = 16 * 1024 * 1024
ARCHIVE_ERRORS = (
    OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, zlib.error, lzma.LZMAError,
    RuntimeError, NotImplementedError,
)  # fmt: skip


class Unreadable(Exception):
    """An archive, or a member of one, that cannot be looked through whole."""


def raw_data_in_site(project: Project, files, extract_files=()) -> KpisiteError | None:
    """The error to stop a build with when mkdocs is about to copy raw data into the site:
    a file of docs_dir holding an extract, a database or contacts, or one the extract
    reads (through a symbolic or a hard link, say). `files` are mkdocs' Files; those
    excluded with `exclude_docs` are not published, so they pass. A safety net under the
    settings check (kpi.project.folder_errors), for what it cannot see."""
    read = {identity(path) for path in extract_files} - {None}
    vouched = [
        pattern.strip().removeprefix("./").lstrip("/")
        for pattern in project.settings.publish_anyway
    ]
    included = [file for file in files if file.inclusion.is_included()]
    found = [file.src_uri for file in included if is_raw_data(file, read, vouched)]
    if not found:
        return None

    docs = project.docs_dir
    shown = docs.relative_to(project.root) if docs.is_relative_to(project.root) else docs
    listed = ", ".join(sorted(found)[:5]) + (", ..." if len(found) > 5 else "")
    count = "1 file of raw data" if len(found) == 1 else f"{len(found)} files of raw data"
    unused = [p for p in vouched if not any(is_vouched(file.src_uri, [p]) for file in included)]
    setting = (
        f"publish_anyway: {', '.join(map(repr, unused))} matches no file: its patterns are "
        f"relative to {shown}"
        if unused
        else "one that holds aggregates only goes in the publish_anyway setting"
    )
    extract = [f for f in included if f.abs_src_path and identity(f.abs_src_path) in read]
    if len(extract) == len(found):
        setting = "the extract reads them, and no setting publishes a file of the extract"
    return ConfigError(
        f"{shown}: {count} would be published with the site (mkdocs copies every file of "
        f"docs_dir into it): {listed} (move {'it' if len(found) == 1 else 'them'} out of "
        f"{shown}, or leave {'it' if len(found) == 1 else 'them'} out with exclude_docs in "
        f"mkdocs.yml; {setting})"
    )


def identity(path) -> tuple[int, int] | None:
    """A file as the file system knows it, whatever the path or link leading to it."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    return status.st_dev, status.st_ino


def is_vouched(uri: str, patterns) -> bool:
    """Whether a publish_anyway pattern names the file: a glob, or a folder holding it."""
    return any(fnmatch(uri, p) or uri.startswith(p.rstrip("/") + "/") for p in patterns)


def is_raw_data(file, read: set, vouched=()) -> bool:
    """Whether this file, which mkdocs would publish, holds raw data (`read`: the
    identities of the extract's files, never published; `vouched`: the patterns of the
    publish_anyway setting, files published whatever they look like)."""
    if file.abs_src_path and identity(file.abs_src_path) in read:
        return True
    if is_vouched(file.src_uri, vouched):
        return False
    name = file.src_uri.rpartition("/")[2].lower()
    if any(fnmatch(name, pattern) for pattern in RAW_DATA_FILES):
        return True
    if not file.abs_src_path:
        return False  # generated by a plugin, not copied from docs_dir
    return holds_raw_data(Path(file.abs_src_path), name)


def holds_raw_data(path: Path, name: str) -> bool:
    """Whether the file at `path` (named `name`) is a database, an extract, or an export
    of contacts, or packs one (or packs what cannot be looked through)."""
    try:
        stream = path.open("rb")
    except OSError:
        return False  # unreadable: mkdocs cannot publish it either
    with stream:
        head = stream.read(SNIFFED_BYTES)
        if head.startswith(SEALED):
            return True
        if not is_archive(head):
            return is_raw_head(head, name.lower())
        try:
            return archive_holds_raw_data(stream, head, name.lower(), 0)
        except (Unreadable, *ARCHIVE_ERRORS):
            return True


def is_archive(head: bytes) -> bool:
    offset, magic = TAR_MAGIC
    return head.startswith((ZIP_MAGIC, *COMPRESSED)) or head[offset:].startswith(magic)


def archive_holds_raw_data(source, head: bytes, name: str, depth: int) -> bool:
    """An archive (`source`: a seekable binary stream, `head` its first bytes): what it
    packs, member by member. A tar file, compressed or not, is read as a stream."""
    if depth >= ARCHIVE_DEPTH:
        raise Unreadable(name)
    if head.startswith(ZIP_MAGIC):
        with zipfile.ZipFile(source) as archive:
            return zip_holds_raw_data(archive, depth)
    opener = next((open_ for magic, open_ in COMPRESSED.items() if head.startswith(magic)), None)
    if opener is None:
        with tarfile.open(fileobj=rewound(source), mode="r|") as archive:
            return tar_holds_raw_data(archive, depth)
    with opener(rewound(source)) as unpacked:
        inner = unpacked.read(SNIFFED_BYTES)
    if inner[TAR_MAGIC[0] :].startswith(TAR_MAGIC[1]):
        with tarfile.open(fileobj=rewound(source), mode="r|*") as archive:
            return tar_holds_raw_data(archive, depth)
    with opener(rewound(source)) as unpacked:
        return member_holds_raw_data(unpacked, re.sub(r"\.(gz|bz2|xz)$", "", name), depth)


def rewound(stream):
    stream.seek(0)
    return stream


def zip_holds_raw_data(archive: zipfile.ZipFile, depth: int) -> bool:
    members = [member for member in archive.infolist() if not member.is_dir()]
    if len(members) > ARCHIVE_MEMBERS:
        raise Unreadable(f"{len(members)} members")
    for member in members:
        if member.flag_bits & 0x1:
            raise Unreadable(member.filename)  # encrypted: no reading without the password
        with archive.open(member) as stream:
            if member_holds_raw_data(stream, member.filename, depth):
                return True
    return False


def tar_holds_raw_data(archive: tarfile.TarFile, depth: int) -> bool:
    for index, member in enumerate(archive):
        if index >= ARCHIVE_MEMBERS:
            raise Unreadable(f"over {ARCHIVE_MEMBERS} members")
        stream = archive.extractfile(member) if member.isfile() else None
        if stream is not None and member_holds_raw_data(stream, member.name, depth):
            return True
    return False


def member_holds_raw_data(stream, path: str, depth: int) -> bool:
    """A member of an archive, from a stream that may not seek: its first bytes, or the
    whole of it when it packs an archive in turn, up to MEMBER_BYTES (in memory)."""
    name = path.rpartition("/")[2].lower()
    if any(fnmatch(name, pattern) for pattern in RAW_DATA_FILES):
        return True
    head = stream.read(SNIFFED_BYTES)
    if not is_archive(head):
        return is_raw_head(head, name)
    whole = head + stream.read(max(0, MEMBER_BYTES - len(head)) + 1)
    if len(whole) > MEMBER_BYTES:
        raise Unreadable(name)  # an archive too large to look into in memory
    return archive_holds_raw_data(io.BytesIO(whole), head, name, depth + 1)


def is_raw_head(head: bytes, name: str) -> bool:
    """Whether the first bytes of a file show a database or an extract, or, for a file a
    site does not serve as its own, contacts."""
    if any(head[offset:].startswith(magic) for offset, magics in MAGIC.items() for magic in magics):
        return True
    if any(fnmatch(name, pattern) for pattern in SITE_FILES):
        return False
    text = decoded(head)
    return text is not None and lists_contacts(text, name)


def decoded(head: bytes) -> str | None:
    """The text of a file's first bytes: UTF-16 when a byte order mark or every other
    byte being NUL says so, else UTF-8 (a character cut at the end of `head` left out),
    else Windows-1252 (a spreadsheet's "CSV" on a French Windows); None for binary."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "replace")
    elif len(head) >= 8 and head[1::2].count(0) > 0.9 * len(head[1::2]) > head[0::2].count(0):
        text = head.decode("utf-16-le", "replace")
    elif len(head) >= 8 and head[0::2].count(0) > 0.9 * len(head[0::2]) > head[1::2].count(0):
        text = head.decode("utf-16-be", "replace")
    else:
        try:
            text = codecs.getincrementaldecoder("utf-8-sig")().decode(head, final=False)
        except UnicodeDecodeError:
            text = head.decode("cp1252", "replace")
    return None if "\0" in text else text


def lists_contacts(text: str, name: str) -> bool:
    """Whether a text names a column of personal details in its header (CSV), in keys
    of several records (JSON, YAML: one key alone is a label's, `first_name: Prénom`)
    or among its cells (a spreadsheet's XML), with phone numbers under a phone column,
    or lists three email addresses or more: an export of contacts, not an aggregate."""
    pairs = JSON_PAIR.findall(text)
    if fnmatch(name, "*.y*ml"):
        pairs += YAML_PAIR.findall(text)
    counts = Counter(normalized(key) for key, _ in pairs)
    if any(kind(key) == "name" and counts[normalized(key)] > 1 for key, _ in pairs):
        return True
    if any(kind(key) == "phone" and looks_like_phone(value) for key, value in pairs):
        return True
    if text.lstrip().startswith("<"):
        return xml_lists_contacts(text)
    if table_lists_contacts(text):
        return True
    return len({match.group(0).lower() for match in EMAIL.finditer(text)}) >= 3


def xml_lists_contacts(text: str) -> bool:
    """XML (an export, a spreadsheet's or a document's parts): a name or phone among its
    element names or its text, with an email address or a phone number in its text. A
    cell saying "Prénom" alone is a label (a data dictionary, a slide); the authors
    named in its attributes are the document's own."""
    cells = XML_TEXT.findall(text)
    kinds = {kind(name) for name in [*cells, *XML_ELEMENT.findall(text)]}
    contact = any(EMAIL.search(cell) or looks_like_phone(cell) for cell in cells)
    if kinds & {"name", "phone"} and contact:
        return True
    return len({match.group(0).lower() for cell in cells for match in EMAIL.finditer(cell)}) >= 3


def table_lists_contacts(text: str) -> bool:
    """A CSV, TSV or pipe-separated table whose header (its first line of columns, after
    Excel's `sep=;` line or title lines) names a column of personal details: of names
    holding text, not rates (a completeness report by field), or of phone numbers."""
    lines = [line for line in text.splitlines()[:60] if not line.lower().startswith("sep=")]
    start = next((n for n, line in enumerate(lines[:10]) if any(map(line.count, SEPARATORS))), None)
    if start is None:
        return False  # not a table of columns (a title, YAML's `key: value`)
    separator = max(SEPARATORS, key=lines[start].count)
    rows = list(csv.reader(lines[start:], delimiter=separator))
    for index, cell in enumerate(rows[0]):
        values = [row[index].strip() for row in rows[1:] if len(row) > index]
        values = [value for value in values if value]
        found = kind(cell)
        # Rates under a name column are a completeness report by field.
        if found == "name" and not (values and all(map(AMOUNT.fullmatch, values))):
            return True
        if found == "phone" and any(map(looks_like_phone, values)):
            return True
    return False


def kind(column: str) -> str | None:
    """ "name" for a column of names, birth dates or addresses, "phone" for one that may
    hold phone numbers, else None."""
    words = normalized(column).split("_")
    joined = "".join(words)
    if joined in NAME_COLUMNS or any(pair <= set(words) for pair in NAME_WORDS):
        return "name"
    if joined in PHONE_WORDS or PHONE_WORDS & set(words) or joined.endswith("phonenumber"):
        return "phone"
    return None


def looks_like_phone(value: str) -> bool:
    """8 to 15 digits written as a phone number: with separators, a leading + or 0, or
    ten digits and more; not an amount (18234567, 74.520132), not a date."""
    value = value.strip().strip("\"'").strip()
    digits = sum(char.isdigit() for char in value)
    if not 8 <= digits <= 15 or DATE.match(value) or GROUPED.fullmatch(value):
        return False
    if NUMBER.fullmatch(value):
        return "." not in value and "," not in value and (value[0] == "0" or digits >= 10)
    return bool(PHONE.fullmatch(value))


def normalized(cell: str) -> str:
    """A column name in lower-case words joined by "_", accents and punctuation left out:
    "Prénom", " First Name", "first-name", "givenName" and "N° de tél." read prenom,
    first_name, first_name, given_name and n_de_tel."""
    cell = re.sub(r"([a-z])([A-Z])", r"\1_\2", cell.strip().strip("\"'"))
    plain = unicodedata.normalize("NFKD", cell.lower())
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return "_".join(re.findall(r"[a-z0-9]+", plain))
