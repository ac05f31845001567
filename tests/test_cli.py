"""The `kpisite` command line on ordinary bad input: a clean message and exit 1 (2 for a
bad option), never "Internal error", and each problem printed once."""

from __future__ import annotations

import errno
import socket

import pytest
from kpisite_sites import copy_project

from site_builder.cli import main


def run(capsys, *args: str) -> tuple[int, str]:
    code = main(list(args))
    captured = capsys.readouterr()
    return code, captured.out + captured.err


def empty_project(folder) -> str:
    (folder / "mkdocs.yml").write_text("site_name: T\nplugins:\n  - kpisite\n", encoding="utf-8")
    return str(folder)


def test_serve_on_a_port_in_use_says_so(tmp_path, capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        address = f"127.0.0.1:{busy.getsockname()[1]}"

        code, output = run(
            capsys, "serve", "--project", empty_project(tmp_path), "--dev-addr", address
        )

    assert code == 1
    assert output.strip() == (
        f"Error: {address}: address already in use (pass --dev-addr with another port)"
    )


def test_serve_says_so_when_the_port_is_taken_after_the_probe(tmp_path, capsys, monkeypatch):
    import mkdocs.commands.serve

    def taken(*args, **kwargs):
        raise OSError(errno.EADDRINUSE, "Address already in use")

    monkeypatch.setattr(mkdocs.commands.serve, "serve", taken)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"

    code, output = run(capsys, "serve", "--project", empty_project(tmp_path), "--dev-addr", address)

    assert code == 1
    assert f"{address}: address already in use" in output
    assert "Internal error" not in output


@pytest.mark.parametrize("end", ["2026-13", "nov", "2026-Q3", "2026-00", "26-11"])
def test_sample_data_wants_a_month_for_end(tmp_path, capsys, end):
    code, output = run(capsys, "sample-data", "--end", end, "--out", str(tmp_path / "out"))

    assert code == 2
    assert f"Invalid value for '--end': '{end}': expected a month YYYY-MM" in output
    assert "Internal error" not in output
    assert not (tmp_path / "out").exists()


def test_sample_data_wants_a_seed_of_zero_or_more(tmp_path, capsys):
    code, output = run(capsys, "sample-data", "--seed", "-1", "--out", str(tmp_path / "out"))

    assert code == 2
    assert "Invalid value for '--seed'" in output and "x>=0" in output
    assert not (tmp_path / "out").exists()


TWO_BAD_DIRECTIVES = "# A\n\nLe CA : [[kpi revenu]].\n\n/// kpi-tile | nps\ncompar: previous\n///\n"
PROBLEMS = [
    "index.md:3: unknown KPI 'revenu' (did you mean 'revenue'?)",
    "index.md:6: kpi-tile: unknown option 'compar' (did you mean 'compare'?)",
]


@pytest.mark.slow
def test_kpisite_build_prints_each_directive_error_once(tmp_path, capsys):
    copy_project({"index.md": TWO_BAD_DIRECTIVES}, tmp_path)

    code, output = run(capsys, "build", "--period", "2026-10", "--project", str(tmp_path))

    assert code == 1
    for problem in PROBLEMS:
        assert output.count(problem) == 1, output
    assert "(listed above)" in output


def test_a_bug_exits_3_not_the_2_of_a_bad_option(capsys, monkeypatch):
    import site_builder.commands.check as check_command

    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr(check_command.check, "callback", broken)
    code, output = run(capsys, "check")

    assert code == 3
    assert output.strip() == (
        "Internal error: this is a bug in kpisite. Rerun with --debug for the traceback and "
        "report it."
    )


@pytest.mark.parametrize("command", ["build", "serve", "publish"])
def test_an_empty_period_is_refused(tmp_path, capsys, command):
    code, output = run(capsys, command, "--period", " ", "--project", empty_project(tmp_path))

    assert code == 2
    assert "Invalid value for '--period': empty; give a period such as 2026-10" in output


@pytest.mark.parametrize("empty", ["", " "])
def test_an_empty_site_dir_is_refused_not_read_as_site(tmp_path, capsys, empty):
    code, output = run(capsys, "build", "--site-dir", empty, "--project", empty_project(tmp_path))

    assert code == 2
    assert output.strip().endswith(
        "Error: Invalid value for '--site-dir': empty; give a folder such as site, or leave "
        "the option out"
    )
    assert not (tmp_path / "site").exists()


def test_counts_are_said_in_the_singular_or_plural():
    from site_builder.plugin import plural

    assert [plural(n, "query", "queries") for n in (0, 1, 2)] == [
        "0 queries",
        "1 query",
        "2 queries",
    ]
    assert plural(1, "directive error") == "1 directive error"


@pytest.mark.parametrize(
    "command", [["check"], ["build", "--period", "2026-10"], ["query", "revenue"]]
)
def test_a_project_whose_plugins_leave_kpisite_out_is_refused(tmp_path, capsys, command):
    # A second `plugins:` key replaces the first: YAML keeps the last one.
    config = tmp_path / "mkdocs.yml"
    config.write_text(
        "site_name: T\nplugins:\n  - search\n  - kpisite\ntheme: material\nplugins:\n  - search\n",
        encoding="utf-8",
    )

    code, output = run(capsys, *command, "--project", str(tmp_path))

    assert code == 1
    assert output.strip() == (
        f"Error: {config}:6: the kpisite plugin is not in plugins (plugins: is written 2 times, "
        "lines 2, 6, and YAML keeps the last), so no directive would be resolved (add "
        "`- kpisite` to plugins, after `- search`)"
    )
    assert not (tmp_path / "site").exists()


def test_a_project_with_no_plugins_at_all_is_refused(tmp_path, capsys):
    config = tmp_path / "mkdocs.yml"
    config.write_text("site_name: T\n", encoding="utf-8")

    code, output = run(capsys, "check", "--project", str(tmp_path))

    assert code == 1
    assert output.strip() == (
        f"Error: {config}: the kpisite plugin is not in plugins, so no directive would be "
        "resolved (add `- kpisite` to plugins, after `- search`)"
    )


@pytest.mark.parametrize(
    ("plugins", "message"),
    [
        (
            "plugins:\n  - search\n  - kpisite:\n    data: data\n    locale: fr_FR\n",
            ":5: plugins: data, locale are in the list entry of kpisite: its options go under "
            "its name, indented further than it (e.g. 4 spaces more than the dash), another "
            "plugin in an entry of its own",
        ),
        ("\nplugins:\n\n  - search\n  - 3\n", ":3: plugins: '3' is not a valid plugin name."),
    ],
    ids=["options-beside-the-name", "not-a-name"],
)
def test_a_plugins_list_mkdocs_cannot_read_is_said_at_its_line(tmp_path, capsys, plugins, message):
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"site_name: T\n{plugins}", encoding="utf-8")

    code, output = run(capsys, "build", "--project", str(tmp_path))

    assert code == 1
    assert output.strip() == f"Error: {config}{message}"
    assert not (tmp_path / "site").exists()


def test_a_mkdocs_yml_saved_as_latin_1_is_said_at_its_line(tmp_path, capsys):
    config = tmp_path / "mkdocs.yml"
    config.write_bytes("site_name: Ventes\nsite_description: Été\n".encode("cp1252"))

    code, output = run(capsys, "check", "--project", str(tmp_path))

    assert code == 1
    assert output.strip() == (
        f"Error: {config}:2: not UTF-8 (byte 0xc9 at column 19; saved as Latin-1 or "
        "Windows-1252, perhaps: save the file as UTF-8)"
    )


@pytest.mark.slow
def test_pages_saved_as_latin_1_are_each_said_at_their_line(tmp_path, capsys):
    pages = {"index.md": "# Ventes\n\n[[kpi revenue]]\n", "b.md": "# B\n", "c.md": "# C\n"}
    project = copy_project(pages, tmp_path / "project")
    reports = project.root / "reports"
    (reports / "b.md").write_bytes("# Bilan\n\nUn été chaud.\n".encode("cp1252"))
    (reports / "c.md").write_bytes("# Côtes\n".encode("latin-1"))
    # ASCII in UTF-16 without its byte order mark decodes as UTF-8, NUL bytes and all.
    (reports / "d.md").write_bytes("# D\n\n[[kpi revenue]]\n".encode("utf-16-le"))

    code, output = run(capsys, "build", "--period", "2026-10", "--project", str(project.root))

    assert code == 1
    assert (
        "3 pages not in UTF-8:\n"
        "  b.md:3: not UTF-8 (byte 0xe9 at column 4; saved as Latin-1 or Windows-1252, "
        "perhaps: save the file as UTF-8)\n"
        "  c.md:1: not UTF-8 (byte 0xf4 at column 4; saved as Latin-1 or Windows-1252, "
        "perhaps: save the file as UTF-8)\n"
        "  d.md:1: not UTF-8 but UTF-16, perhaps (NUL bytes; save the file as UTF-8)"
    ) in output
    assert "Internal error" not in output
    assert not (project.root / "site").exists()


@pytest.mark.parametrize(
    ("plugins", "line"),
    [
        ("plugins:\n  search: {}\n  kpisite:\n    data: data\n  locale: en_US\n", 6),
        ("plugins:\n  - search\n  - kpisite\n  - locale: en_US\n", 5),
    ],
    ids=["mapping", "list"],
)
def test_a_kpisite_option_standing_as_a_plugin_is_said_at_its_line(tmp_path, capsys, plugins, line):
    config = tmp_path / "mkdocs.yml"
    config.write_text(f"site_name: T\n{plugins}", encoding="utf-8")

    for command in (["check"], ["query", "revenue"]):
        code, output = run(capsys, *command, "--project", str(tmp_path))

        assert code == 1
        assert output.strip() == (
            f"Error: {config}:{line}: plugins: locale is an option of kpisite, not a plugin "
            "(indent it under kpisite:, further than kpisite's name)"
        )
