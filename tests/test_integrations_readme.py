"""The README's CI, pre-commit and flake8 snippets are valid: YAML parses, the commands in them run, the hook ids
exist and the flake8 configuration does what the README says."""

from __future__ import annotations

import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from async_lint.cli import cli
from async_lint.reporters import FORMATS

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def blocks(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", README, re.S)


def commands_in(node) -> list[str]:
    """Every `run:`/`script:` command of a workflow or CI file."""
    found: list[str] = []
    if isinstance(node, dict):
        for key, value in node.items():
            if key == "run" and isinstance(value, str):
                found.append(value)
            elif key == "script" and isinstance(value, list):
                found.extend(v for v in value if isinstance(v, str))
            else:
                found.extend(commands_in(value))
    elif isinstance(node, list):
        for item in node:
            found.extend(commands_in(item))
    return found


def test_yaml_snippets_parse_and_their_async_lint_commands_run(tmp_path, monkeypatch):
    documents = [yaml.safe_load(text) for text in blocks("yaml")]
    assert len(documents) >= 3
    (tmp_path / "app.py").write_text(BLOCKING)
    monkeypatch.chdir(tmp_path)
    ran = 0
    for command in (c for doc in documents for c in commands_in(doc)):
        if not command.startswith("async-lint "):
            continue
        args = shlex.split(command.split(">")[0])[1:]
        result = CliRunner().invoke(cli, args)
        assert result.exit_code in (0, 1), f"{command}: {result.output}"
        ran += 1
    assert ran >= 3


def test_pre_commit_snippet_names_existing_hooks():
    hooks = {h["id"] for h in yaml.safe_load((ROOT / ".pre-commit-hooks.yaml").read_text())}
    configs = [doc for doc in map(yaml.safe_load, blocks("yaml")) if isinstance(doc, dict) and "repos" in doc]
    assert configs
    for config in configs:
        for repo in config["repos"]:
            assert {"repo", "rev", "hooks"} <= set(repo)
            assert {hook["id"] for hook in repo["hooks"]} <= hooks


def test_output_formats_row_lists_every_format():
    row = next(line for line in README.splitlines() if line.startswith("| `--output-format "))
    listed = row.split("`")[1].removeprefix("--output-format ").replace("\\", "").split("|")
    assert listed == list(FORMATS)


def test_flake8_options_in_readme_exist():
    help_text = subprocess.run([sys.executable, "-m", "flake8", "--help"], capture_output=True, text=True).stdout
    named = set(re.findall(r"--async-lint-[a-z-]+", README))
    assert named >= {"--async-lint-select", "--async-lint-ignore", "--async-lint-extend-select",
                     "--async-lint-config"}
    for option in named:
        assert option in help_text


def test_flake8_config_snippet_works(tmp_path):
    (ini,) = blocks("ini")
    (tmp_path / ".flake8").write_text(ini)
    (tmp_path / "scripts").mkdir()
    body = BLOCKING + "\nimport threading\n_lock = threading.Lock()\n\nasync def locked():\n    with _lock:\n        pass\n"
    (tmp_path / "app.py").write_text(body)
    (tmp_path / "scripts" / "seed.py").write_text(body)
    out = subprocess.run([sys.executable, "-m", "flake8", "--select", "AL", "."], cwd=tmp_path, capture_output=True,
                         text=True).stdout
    assert "./app.py:4:5: AL101" in out or out.startswith("app.py:4:5: AL101")  # AL101 reported ...
    assert "scripts/seed.py:4:5: AL101" not in out  # ... except under scripts/ (flake8's per-file-ignores)
    assert "AL106" not in out  # async-lint-ignore = AL106


@pytest.mark.parametrize("snippet", ["pre-commit try-repo", "pre-commit install", "flake8 --select AL"])
def test_readme_mentions_each_use(snippet):
    assert snippet in README
