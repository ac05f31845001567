"""Raw data never reaches a built site: mkdocs copies every file of docs_dir into it, so a
Parquet file, a database (the KPI cache), a file the extract reads or a text export of
contacts found there stops the build, whatever the settings say (they refuse the extract,
raw and cache folders there)."""

from __future__ import annotations

import bz2
import gzip
import io
import json
import lzma
import os
import shutil
import tarfile
import zipfile
from pathlib import Path

import duckdb
import pytest
from conftest import ROOT
from kpisite_sites import copy_project

from kpi.errors import ConfigError
from kpi.project import Project
from site_builder.build import build_site
from site_builder.cli import main
from site_builder.raw_data import holds_raw_data

PAGES = {"index.md": "# Ventes\n\n[[kpi revenue]]\n"}


@pytest.mark.slow
def test_parquet_and_sqlite_files_in_docs_dir_stop_the_build(tmp_path, capsys):
    project = copy_project(PAGES, tmp_path / "project")
    reports = project.root / "reports"
    (reports / "data").mkdir()
    (reports / "data" / "contacts.parquet").write_bytes(
        (ROOT / "data/contacts.parquet").read_bytes()
    )
    (reports / "kpi-cache.sqlite").write_bytes(b"SQLite format 3\0")
    (reports / "kpi-cache.sqlite-wal").write_bytes(b"")

    code = main(["build", "--period", "2026-10", "--project", str(project.root)])

    err = capsys.readouterr().err
    assert code == 1
    assert (
        "reports: 3 files of raw data would be published with the site (mkdocs copies every "
        "file of docs_dir into it): data/contacts.parquet, kpi-cache.sqlite, "
        "kpi-cache.sqlite-wal (move them out of reports, or leave them out with exclude_docs "
        "in mkdocs.yml; one that holds aggregates only goes in the publish_anyway setting)"
    ) in err
    assert not (project.root / "site").exists()
    assert [p.name for p in project.root.iterdir() if p.name.startswith(".site")] == []


@pytest.mark.slow
def test_a_link_to_a_file_the_extract_reads_stops_the_build(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / "clients.bin").symlink_to(ROOT / "data" / "contacts.parquet")

    with pytest.raises(ConfigError) as error:
        build_site(project, period="2026-10")

    assert str(error.value).startswith(
        "reports: 1 file of raw data would be published with the site (mkdocs copies every "
        "file of docs_dir into it): clients.bin (move it out of reports"
    )


@pytest.mark.slow
def test_files_left_out_with_exclude_docs_are_not_published(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / "notes.parquet").write_bytes(b"PAR1")
    config = project.root / "mkdocs.yml"
    config.write_text(
        config.read_text(encoding="utf-8") + "exclude_docs: '*.parquet'\n", encoding="utf-8"
    )

    result = build_site(Project.load(project.root), period="2026-10")

    assert (result.site_dir / "index.html").is_file()
    assert not (result.site_dir / "notes.parquet").exists()


CONTACTS_CSV = (
    "contact_id;email;city\nc1;ana@example.com;Lyon\nc2;bo@example.com;Nice\n"
    "c3;cy@example.com;Paris\n"
)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("name", "text", "refused"),
    [
        # An export of contacts: by their addresses, or by a column of personal details.
        ("contacts.csv", CONTACTS_CSV, True),
        (
            "contacts.json",
            '[{"id": "c1", "first_name": "Ana"}, {"id": "c2", "first_name": "Bo"}]',
            True,
        ),
        ("people.tsv", "id\tphone\nc1\t+33 6 00 00 00 00\n", True),
        # Aggregates: a column named email (the channel) is not an address.
        ("channels.csv", "month;email;sms\n2026-10;1204;88\n", False),
    ],
)
def test_a_text_export_of_contacts_in_docs_dir_stops_the_build(tmp_path, name, text, refused):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / name).write_text(text, encoding="utf-8")

    if not refused:
        build_site(project, period="2026-10")
        assert (project.root / "site" / name).read_text(encoding="utf-8") == text
        return
    with pytest.raises(ConfigError) as error:
        build_site(project, period="2026-10")
    assert str(error.value).startswith(
        "reports: 1 file of raw data would be published with the site (mkdocs copies every "
        f"file of docs_dir into it): {name} (move it out of reports"
    )
    assert not (project.root / "site").exists()


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def duckdb_file(folder: Path) -> bytes:
    path = folder / "made.duckdb"
    with duckdb.connect(str(path)) as connection:
        connection.execute("create table contacts as select 'c1' as contact_id")
    return path.read_bytes()


def tar_gz(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


PARQUET = (ROOT / "data" / "contacts.parquet").read_bytes()
# One line of JSON longer than the bytes sniffed: no line ends in them.
MINIFIED = json.dumps(
    [
        {"first_name": f"Jean{n}", "email": f"j{n}@ex.fr", "phone": "06 12 34 56 78"}
        for n in range(1500)
    ]
).encode()
AUTHORS = b"".join(
    f'<person displayName="{n}" userId="{n}@acme.fr"/>'.encode() for n in ("alice", "bob", "chloe")
)
PREAMBLE = (
    '"Rapport: Contacts Q4"\n"Genere par: Marie"\n""\n'
    '"Prénom","Nom","Ville"\n"Jean","Dupont","Lyon"\n'
).encode()
PHONE_CELLS = (
    "<sst><si><t>Nom</t></si><si><t>Téléphone</t></si><si><t>06 12 34 56 78</t></si></sst>".encode()
)
PEOPLE = "Prénom;Nom\nJean;Dupont\n".encode()
TAR_GZ = tar_gz({"export/contacts.csv": PEOPLE})
SHARED_STRINGS = "<sst><si><t>Prénom</t></si><si><t>jean@ex.fr</t></si></sst>".encode()
AGGREGATES = "month;email;sms\n2026-10;1204;88\n"
PNG = b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4


SNIFFED = [
    # Extracts and databases under any name: known by their magic bytes.
    ("contacts.bak", PARQUET, True),
    ("extract", PARQUET, True),
    ("crm.backup", b"SQLite format 3\0" + bytes(100), True),
    ("warehouse.db", "duckdb", True),
    # Archives: by what they pack.
    ("contacts.csv.gz", gzip.compress(CONTACTS_CSV.encode(), mtime=0), True),
    ("export.zip", zipped({"export/contacts.csv": CONTACTS_CSV.encode()}), True),
    ("backup.zip", zipped({"orders.parquet": b"not even Parquet"}), True),
    ("monthly.csv.gz", gzip.compress(AGGREGATES.encode(), mtime=0), False),
    ("figures.zip", zipped({"channels.csv": AGGREGATES.encode(), "logo.png": PNG}), False),
    # Exports of contacts in other encodings and other words.
    ("clients.csv", "Prénom;Nom;Ville\nAna;Lopez;Lyon\n".encode("utf-16"), True),
    ("clients.txt", "Prénom;Nom;Courriel;Téléphone\n".encode(), True),
    ("people.csv", b'"First Name","Last Name"\n"Ana","Lopez"\n', True),
    ("leads.csv", b"id,firstname,lastname\n", True),
    ("sms.csv", b"id|Mobile\n1|0600000000\n", True),
    ("people.json", b'[{"id": 1, "Given-Name": "Ana"}, {"id": 2, "Given-Name": "Bo"}]', True),
    ("excel.csv", "Prénom;Nom;Téléphone\nJean;Dupont;0601020304\n".encode("cp1252"), True),
    ("no-bom.csv", "Prénom;Nom\nJean;Dupont\n".encode("utf-16-le"), True),
    ("excel-sep.csv", "sep=;\nPrénom;Nom\nJean;Dupont\n".encode(), True),
    ("fr.csv", "Civilité;Adresse e-mail;Portable\nM.;j@ex.fr;06 01 02 03 04\n".encode(), True),
    ("contacts.yml", b"- first_name: Jean\n  phone: '0601020304'\n", True),
    ("mobiles.yaml", b"- id: c1\n  mobile: +33 6 01 02 03 04\n", True),
    ("contacts.tar.gz", TAR_GZ, True),
    ("contacts.xlsx", zipped({"xl/sharedStrings.xml": SHARED_STRINGS}), True),
    ("nested.zip", zipped({"contacts.csv.gz": gzip.compress(PEOPLE, mtime=0)}), True),
    # What a site serves on purpose, and aggregates.
    (
        "by-channel.csv",
        b"mois;marketplace;phone;store;web\n2026-10;3964.95;1306.24;52.3;11.8\n",
        False,
    ),
    ("devices.csv", b"month,mobile,desktop\n2026-10-01,12345,67890\n", False),
    ("humans.txt", b"Team: a@example.com\nb@example.com\nc@example.com\n", False),
    ("figures.xlsx", zipped({"xl/sharedStrings.xml": b"<sst><si><t>Canal</t></si></sst>"}), False),
    ("notes.txt", "Une note.\n".encode("utf-16"), False),
    ("channels.csv", AGGREGATES.encode(), False),
    ("authors.md", b"a@example.com, b@example.com, c@example.com\n", False),
    ("team.html", b"<p>a@example.com b@example.com c@example.com</p>", False),
    ("chart.png", PNG, False),
    ("empty.csv", b"", False),
    # Archives that cannot be looked through whole: what they hold cannot be known.
    ("broken.gz", b"\x1f\x8bnot gzip at all", True),
    ("crowded.zip", zipped({f"img/{n}.png": PNG for n in range(1001)}), True),
    # Further contacts and extracts, in more shapes.
    ("big.tar.gz", tar_gz({"video.mp4": os.urandom(1_000_000), "c.parquet": PARQUET}), True),
    ("late.zip", zipped({**{f"img/{n}.png": PNG for n in range(60)}, "zz.parquet": b"x"}), True),
    ("contacts.csv.xz", lzma.compress(PEOPLE), True),
    ("contacts.csv.bz2", bz2.compress(PEOPLE), True),
    ("contacts.feather", b"ARROW1\0\0" + bytes(64), True),
    ("minified.json", MINIFIED, True),
    (
        "appels.csv",
        "Nom complet;Téléphone mobile;Ville\nJean D;06 12 34 56 78;Lyon\n".encode(),
        True,
    ),
    ("calls.csv", b"Full Name,Mobile Number,DOB\nAna L,+44 7700 900123,1980-01-01\n", True),
    ("titled.csv", b"Export CRM du 01/10/2026\nid,first_name,last_name\n1,Jean,Dupont\n", True),
    ("sheet.xlsx", zipped({"xl/sharedStrings.xml": PHONE_CELLS}), True),
    # Aggregates that look alike: amounts, counts, shares, and labels of columns.
    ("visits.csv", b"month,desktop,mobile\n2026-10,18234567,21345678\n", False),
    ("basket.csv", b"month,web,phone\n2026-11,74.52013204212162,88.7970165286453\n", False),
    ("share.csv", b"month,phone\n2026-11,0.12345678\n", False),
    ("civilite.csv", b"civilite,contacts\nM.,1200\nMme,1300\n", False),
    ("labels.yml", "first_name: Prénom\nlast_name: Nom\n".encode(), False),
    # Reports on the base's quality: rates by field, the field names as rows or columns.
    ("quality.csv", b"field,completeness\nfirst_name,0.92\nphone,0.71\nbirth_date,0.40\n", False),
    (
        "pivot.csv",
        b"month,first_name,last_name,phone,birth_date\n2026-10,0.93,0.91,0.71,0.4\n",
        False,
    ),
    (
        "pivot-fr.csv",
        "Mois;Prénom;Téléphone;Date de naissance\n2026-10;93 %;71 %;40 %\n".encode(),
        False,
    ),
    (
        "quality.xlsx",
        zipped({"xl/sharedStrings.xml": b"<sst><si><t>first_name</t></si></sst>"}),
        False,
    ),
    (
        "deck.pptx",
        zipped({"ppt/slides/slide1.xml": b"<p:sld><a:t>Adresse</a:t></p:sld>"}),
        False,
    ),
    ("authors.xlsx", zipped({"xl/persons/person.xml": AUTHORS}), False),
    ("grouped.csv", b"month,web,phone\n2026-09,112 345 678,12.345.678\n", False),
    ("dated.csv", b"day,mobile\n2026-01-15,15.01.2026\n", False),
    ("orchestration.md", b"ORCHESTRATION des campagnes\n===\n", False),
    # Contacts in the shapes a CRM or a phone writes them.
    ("team.vcf", b"BEGIN:VCARD\nVERSION:3.0\nFN:Jean Dupont\nTEL:+33612345678\nEND:VCARD\n", True),
    ("report.csv", PREAMBLE, True),
    (
        "export.xml",
        b"<contacts><contact><first_name>Jean</first_name><phone>+33612345678</phone></contact></contacts>",
        True,
    ),
    ("contacts.csv.zst", b"\x28\xb5\x2f\xfd" + bytes(32), True),
]


@pytest.mark.parametrize(("name", "data", "raw"), SNIFFED, ids=[case[0] for case in SNIFFED])
def test_raw_data_is_known_by_what_it_holds(tmp_path, name, data, raw):
    path = tmp_path / name
    path.write_bytes(duckdb_file(tmp_path) if data == "duckdb" else data)

    assert holds_raw_data(path, name) is raw


@pytest.mark.slow
def test_a_renamed_extract_and_a_utf16_export_of_contacts_stop_the_build(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / "contacts.bak").write_bytes(PARQUET)
    (project.root / "reports" / "clients.csv").write_bytes("Prénom;Ville\n".encode("utf-16"))

    with pytest.raises(ConfigError) as error:
        build_site(project, period="2026-10")

    assert str(error.value) == (
        "reports: 2 files of raw data would be published with the site (mkdocs copies every "
        "file of docs_dir into it): clients.csv, contacts.bak (move them out of reports, or "
        "leave them out with exclude_docs in mkdocs.yml; one that holds aggregates only goes "
        "in the publish_anyway setting)"
    )
    assert not (project.root / "site").exists()


def refusal(root) -> str:
    """What the build of the project at `root` is refused with."""
    with pytest.raises(ConfigError) as error:
        build_site(Project.load(root), period="2026-10")
    return str(error.value)


@pytest.mark.slow
def test_files_listed_in_publish_anyway_are_published_but_never_the_extract(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    reports = project.root / "reports"
    (reports / "downloads").mkdir()
    # An aggregate the check takes for contacts: a column named like a name.
    aggregate = "full_name_length;contacts\n5;120\n6;80\n"
    (reports / "downloads" / "lengths.csv").write_text(aggregate, encoding="utf-8")
    config = project.root / "mkdocs.yml"
    text = config.read_text(encoding="utf-8") + "      publish_anyway: ['downloads/*.csv']\n"
    config.write_text(text, encoding="utf-8")

    result = build_site(Project.load(project.root), period="2026-10")

    assert (result.site_dir / "downloads" / "lengths.csv").read_text("utf-8") == aggregate
    # A file the extract reads is never published: through a symbolic or a hard link.
    data = tmp_path / "data"
    shutil.copytree(ROOT / "data", data)
    text = text.replace(f"data: {ROOT / 'data'}", f"data: {data}")
    config.write_text(text, encoding="utf-8")
    (reports / "downloads" / "orders.csv").symlink_to(data / "orders.parquet")
    os.link(data / "contacts.parquet", reports / "downloads" / "people.csv")
    assert refusal(project.root).endswith(
        "downloads/orders.csv, downloads/people.csv (move them out of reports, or leave them "
        "out with exclude_docs in mkdocs.yml; the extract reads them, and no setting "
        "publishes a file of the extract)"
    )


@pytest.mark.slow
def test_a_publish_anyway_pattern_that_matches_nothing_is_said(tmp_path):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / "downloads").mkdir()
    (project.root / "reports" / "downloads" / "people.csv").write_text(CONTACTS_CSV, "utf-8")
    config = project.root / "mkdocs.yml"
    with config.open("a", encoding="utf-8") as stream:
        stream.write("      publish_anyway: ['reports/downloads/*.csv']\n")

    assert refusal(project.root).endswith(
        "downloads/people.csv (move it out of reports, or leave it out with exclude_docs in "
        "mkdocs.yml; publish_anyway: 'reports/downloads/*.csv' matches no file: its patterns "
        "are relative to reports)"
    )
    # A folder, as exclude_docs takes it, names the files under it.
    config.write_text(
        config.read_text("utf-8").replace("'reports/downloads/*.csv'", "downloads/"), "utf-8"
    )
    result = build_site(Project.load(project.root), period="2026-10")
    assert (result.site_dir / "downloads" / "people.csv").read_text("utf-8") == CONTACTS_CSV


@pytest.mark.slow
def test_a_link_to_no_file_in_docs_dir_is_said_not_an_internal_error(tmp_path, capsys):
    project = copy_project(PAGES, tmp_path / "project")
    (project.root / "reports" / "latest.csv").symlink_to(tmp_path / "moved-away.csv")

    code = main(["build", "--period", "2026-10", "--project", str(project.root)])

    assert code == 1
    assert (
        "1 link in docs_dir to no file (remove it, or point it at an existing file):\n"
        f"  latest.csv -> {tmp_path / 'moved-away.csv'}"
    ) in capsys.readouterr().err


def test_an_archive_packing_one_too_large_to_look_into_counts_as_raw_data(tmp_path, monkeypatch):
    import site_builder.raw_data as raw_data

    monkeypatch.setattr(raw_data, "MEMBER_BYTES", 1000)
    inner = zipped({"a.png": PNG, "b.png": os.urandom(5000)})
    path = tmp_path / "media.zip"
    path.write_bytes(zipped({"inner.zip": inner}))

    assert holds_raw_data(path, "media.zip") is True
    monkeypatch.setattr(raw_data, "MEMBER_BYTES", 1_000_000)
    assert holds_raw_data(path, "media.zip") is False
