"""Raw data that must never reach a built site: mkdocs copies every file of docs_dir into
it, so an extract, a database or an export of contacts left there would be published.

A file is known by what it holds, not by its name alone: Parquet, SQLite and DuckDB files
by their magic bytes (a `contacts.bak` is still Parquet), zip, gzip and tar archives by
what they pack (a spreadsheet is a zip of XML), text by the columns or addresses of
contacts it lists, in UTF-8, UTF-16 or Windows-1252.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
import re
import tarfile
import unicodedata
import zipfile
import zlib
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
# The same files by their first bytes, whatever their name; DuckDB's magic sits at byte 8.
MAGIC = {0: (b"PAR1", b"SQLite format 3\0"), 8: (b"DUCK",)}
ZIP_MAGIC = b"PK\x03\x04"
GZIP_MAGIC = b"\x1f\x8b"
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
# Columns of personal details (kpi/schema.py, table contacts, and the usual names of
# other exports, in English and French), as `normalized` writes them.
NAME_COLUMNS = frozenset(
    {
        "first_name", "firstname", "given_name", "prenom",
        "last_name", "lastname", "surname", "family_name", "nom_de_famille",
        "email_address", "e_mail_address", "adresse_e_mail", "adresse_email", "adresse_mail",
        "birth_date", "birthdate", "date_of_birth", "date_de_naissance",
        "street_address", "postal_address", "adresse_postale", "civilite",
    }
)  # fmt: skip
# Columns that name a phone number in an export, but a channel or a device in aggregates
# (revenue by channel: web, store, phone): personal only when they hold phone numbers.
# "email" is the same, and known by its addresses instead.
PHONE_COLUMNS = frozenset(
    {
        "phone", "phone_number", "telephone", "tel", "mobile", "mobile_phone", "cell_phone",
        "portable", "numero_de_telephone", "telephone_portable",
    }
)  # fmt: skip
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(\.[\w-]+)+")
# 8 to 15 digits, with the separators people write; not a date, not an amount.
PHONE = re.compile(r"\+?\(?\d[\d\s().-]{6,}\d")
NOT_PHONE = re.compile(r"\d{4}-\d{2}-\d{2}.*|\d+[.,]\d{1,2}")
# A key and its value, in JSON ("phone": "06...") or YAML (phone: 06...).
JSON_PAIR = re.compile(r'"([^"\\]{1,60})"\s*:\s*("[^"\\]*"|[^,}\]\s]*)')
YAML_PAIR = re.compile(r"^[\s-]*([^\s:#\-][^:#\n]{0,40}):[ \t]*(.*)$", re.MULTILINE)
# The text of XML elements: a spreadsheet's cells (xl/sharedStrings.xml).
XML_TEXT = re.compile(r">([^<>]{1,60})<")
SEPARATORS = ",;\t|"
# Enough of a file to see its header and first rows.
SNIFFED_BYTES = 65_536
# Archives: how deep they are opened, how many members are looked into, and how much of a
# member packing another archive is read (in memory).
ARCHIVE_DEPTH = 3
ARCHIVE_MEMBERS = 50
MEMBER_BYTES = 16 * 1024 * 1024


def raw_data_in_site(project: Project, files, extract_files=()) -> KpisiteError | None:
    """The error to stop a build with when mkdocs is about to copy raw data into the site:
    a file of docs_dir holding an extract, a database or contacts, or one the extract
    reads (through a symbolic link, say). `files` are mkdocs' Files; those excluded with
    `exclude_docs` are not published, so they pass. A safety net under the settings
    check (kpi.project.folder_errors), for what it cannot see."""
    read = {os.path.realpath(path) for path in extract_files}
    found = [file.src_uri for file in files if is_raw_data(file, read)]
    if not found:
        return None

    docs = project.docs_dir
    shown = docs.relative_to(project.root) if docs.is_relative_to(project.root) else docs
    listed = ", ".join(sorted(found)[:5]) + (", ..." if len(found) > 5 else "")
    count = "1 file of raw data" if len(found) == 1 else f"{len(found)} files of raw data"
    return ConfigError(
        f"{shown}: {count} would be published with the site (mkdocs copies every file of "
        f"docs_dir into it): {listed} (move {'it' if len(found) == 1 else 'them'} out of "
        f"{shown}, or leave {'it' if len(found) == 1 else 'them'} out with exclude_docs in "
        "mkdocs.yml)"
    )


def is_raw_data(file, read: set[str]) -> bool:
    """Whether mkdocs would publish this file and it holds raw data (`read`: the real
    paths of the extract's files)."""
    if not file.inclusion.is_included():
        return False
    name = file.src_uri.rpartition("/")[2].lower()
    if any(fnmatch(name, pattern) for pattern in RAW_DATA_FILES):
        return True
    if not file.abs_src_path:
        return False  # generated by a plugin, not copied from docs_dir
    if os.path.realpath(file.abs_src_path) in read:
        return True
    return holds_raw_data(Path(file.abs_src_path), name)


def holds_raw_data(path: Path, name: str) -> bool:
    """Whether the file at `path` (named `name`) is a database, an extract, or an export
    of contacts, or packs one."""
    try:
        with path.open("rb") as stream:
            return stream_holds_raw_data(stream, name.lower(), 0)
    except (OSError, EOFError, zipfile.BadZipFile, tarfile.TarError, zlib.error):
        return False  # unreadable: nothing mkdocs could publish as data either


def stream_holds_raw_data(stream, name: str, depth: int) -> bool:
    """The same for a seekable binary stream: a file, or a member read from an archive."""
    head = stream.read(SNIFFED_BYTES)
    if depth < ARCHIVE_DEPTH:
        offset, magic = TAR_MAGIC
        if head.startswith(ZIP_MAGIC):
            stream.seek(0)
            with zipfile.ZipFile(stream) as archive:
                return zip_holds_raw_data(archive, depth)
        if head.startswith(GZIP_MAGIC):
            stream.seek(0)
            with gzip.GzipFile(fileobj=stream) as packed:
                inner = name.removesuffix(".gz").replace(".tgz", ".tar")
                return member_holds_raw_data(packed, inner, depth)
        if head[offset:].startswith(magic):
            stream.seek(0)
            with tarfile.open(fileobj=stream, mode="r:") as archive:
                return tar_holds_raw_data(archive, depth)
    return is_raw_head(head, name)


def zip_holds_raw_data(archive: zipfile.ZipFile, depth: int) -> bool:
    for member in archive.infolist()[:ARCHIVE_MEMBERS]:
        if member.is_dir() or member.flag_bits & 0x1:
            continue  # encrypted: its bytes cannot be read without the password
        with archive.open(member) as stream:
            if member_holds_raw_data(stream, member.filename, depth):
                return True
    return False


def tar_holds_raw_data(archive: tarfile.TarFile, depth: int) -> bool:
    for index, member in enumerate(archive):
        if index >= ARCHIVE_MEMBERS:
            break
        stream = archive.extractfile(member) if member.isfile() else None
        if stream is not None and member_holds_raw_data(stream, member.name, depth):
            return True
    return False


def member_holds_raw_data(stream, path: str, depth: int) -> bool:
    """A member of an archive, from a stream that may not seek: its first bytes, or up to
    MEMBER_BYTES of it when it packs an archive in turn, are read into memory."""
    name = path.rpartition("/")[2].lower()
    if any(fnmatch(name, pattern) for pattern in RAW_DATA_FILES):
        return True
    head = stream.read(SNIFFED_BYTES)
    if head.startswith((ZIP_MAGIC, GZIP_MAGIC)) or head[TAR_MAGIC[0] :].startswith(TAR_MAGIC[1]):
        head += stream.read(MEMBER_BYTES)
    return stream_holds_raw_data(io.BytesIO(head), name, depth + 1)


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
    byte being NUL says so, else UTF-8, else Windows-1252 (a spreadsheet's "CSV" on a
    French Windows); None for binary data."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        text = head.decode("utf-16", "replace")
    elif len(head) >= 8 and head[1::2].count(0) > 0.9 * len(head[1::2]) > head[0::2].count(0):
        text = head.decode("utf-16-le", "replace")
    elif len(head) >= 8 and head[0::2].count(0) > 0.9 * len(head[0::2]) > head[1::2].count(0):
        text = head.decode("utf-16-be", "replace")
    else:
        whole = head if len(head) < SNIFFED_BYTES else head[: head.rfind(b"\n") + 1]
        try:
            text = whole.decode("utf-8-sig")
        except UnicodeDecodeError:
            text = whole.decode("cp1252", "replace")
    return None if "\0" in text else text


def lists_contacts(text: str, name: str) -> bool:
    """Whether a text names a column of personal details in its header (CSV), its keys
    (JSON, YAML) or its cells (a spreadsheet's XML), with phone numbers under a phone
    column, or lists three email addresses or more: an export of contacts, not an
    aggregate."""
    pairs = JSON_PAIR.findall(text)
    if fnmatch(name, "*.y*ml"):
        pairs += YAML_PAIR.findall(text)
    if any(personal(key, [value]) for key, value in pairs):
        return True
    if text.lstrip().startswith("<"):
        if {normalized(cell) for cell in XML_TEXT.findall(text)} & NAME_COLUMNS:
            return True
    elif table_lists_contacts(text):
        return True
    return len({match.group(0).lower() for match in EMAIL.finditer(text)}) >= 3


def table_lists_contacts(text: str) -> bool:
    """A CSV, TSV or pipe-separated table (after Excel's `sep=;` line) whose header names
    a column of personal details."""
    lines = text.splitlines()[:50]
    if lines and lines[0].lower().startswith("sep="):
        lines = lines[1:]
    if not lines:
        return False
    separator = max(SEPARATORS, key=lines[0].count)
    rows = list(csv.reader(lines, delimiter=separator))
    for index, cell in enumerate(rows[0]):
        if personal(cell, [row[index] for row in rows[1:] if len(row) > index]):
            return True
    return False


def personal(column: str, values: list[str]) -> bool:
    """Whether a column of that name, holding those values, is one of personal details."""
    name = normalized(column)
    if name in NAME_COLUMNS:
        return True
    return name in PHONE_COLUMNS and any(looks_like_phone(value) for value in values)


def looks_like_phone(value: str) -> bool:
    value = value.strip().strip("\"'").strip()
    digits = sum(char.isdigit() for char in value)
    return 8 <= digits <= 15 and bool(PHONE.fullmatch(value)) and not NOT_PHONE.fullmatch(value)


def normalized(cell: str) -> str:
    """A column name as NAME_COLUMNS writes it: "Prénom", " First Name" and "first-name"
    read prenom and first_name."""
    plain = unicodedata.normalize("NFKD", cell.strip().strip("\"'").strip().lower())
    plain = "".join(char for char in plain if not unicodedata.combining(char))
    return re.sub(r"[\s-]+", "_", plain)
