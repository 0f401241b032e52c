"""CI outputs: SARIF 2.1.0 (validated against the OASIS schema), JUnit XML and GitHub annotations."""

from __future__ import annotations

import io
import json
import xml.etree.ElementTree as ET
from pathlib import Path

import jsonschema
import pytest
from click.testing import CliRunner

from async_lint.catalog import load_catalog
from async_lint.cli import cli
from async_lint.finding import Edit, Finding, FixInfo
from async_lint.reporters import sarif_log, write_junit

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
SCHEMA = json.loads((Path(__file__).parent / "schemas" / "sarif-schema-2.1.0.json").read_text(encoding="utf-8"))
BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"


def check(*args: str):
    return CliRunner().invoke(cli, ["check", *args])


def validate_sarif(log: dict) -> None:
    jsonschema.validators.validator_for(SCHEMA)(SCHEMA, format_checker=jsonschema.FormatChecker()).validate(log)


@pytest.fixture
def project(tmp_path: Path, monkeypatch) -> Path:
    (tmp_path / "app.py").write_text(BLOCKING)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def test_schema_is_the_sarif_2_1_0_schema():
    assert SCHEMA["id"].endswith("/sarif-schema-2.1.0.json")
    assert SCHEMA["$schema"] == "http://json-schema.org/draft-04/schema#"
    with pytest.raises(jsonschema.ValidationError):  # it does reject what is not SARIF
        validate_sarif({"version": "2.1.0", "runs": [{"tool": {}}]})


@pytest.mark.parametrize("target", ["examples", "tests/fixtures"])
def test_sarif_of_the_examples_validates(monkeypatch, target):
    monkeypatch.chdir(ROOT)
    result = check("--output-format", "sarif", target)
    assert result.exit_code == 1
    log = json.loads(result.output)
    validate_sarif(log)
    run = log["runs"][0]
    catalog = load_catalog()
    rules = run["tool"]["driver"]["rules"]
    assert [r["id"] for r in rules] == sorted(catalog.rules)
    assert len(run["results"]) >= 6
    for res in run["results"]:
        assert rules[res["ruleIndex"]]["id"] == res["ruleId"]
        location = res["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uriBaseId"] == "%SRCROOT%"
        assert (ROOT / location["artifactLocation"]["uri"]).is_file()


def test_sarif_result_fields(project):
    result = check("--output-format", "sarif", "app.py")
    log = json.loads(result.output)
    validate_sarif(log)
    run = log["runs"][0]
    assert log["version"] == "2.1.0"
    assert run["tool"]["driver"]["name"] == "async-lint"
    assert run["originalUriBaseIds"]["%SRCROOT%"]["uri"] == project.resolve().as_uri() + "/"
    (res,) = run["results"]
    assert res["ruleId"] == "AL101" and res["level"] == "error"
    assert res["message"]["text"].startswith("`time.sleep()` blocks the event loop")
    assert res["locations"][0]["physicalLocation"] == {
        "artifactLocation": {"uri": "app.py", "uriBaseId": "%SRCROOT%"},
        "region": {"startLine": 4, "startColumn": 5, "endLine": 4, "endColumn": 18},
    }
    rule = run["tool"]["driver"]["rules"][res["ruleIndex"]]
    assert rule["name"] == "blocking-sleep"
    assert "## Why is this bad?" in rule["help"]["markdown"]
    assert rule["defaultConfiguration"]["enabled"] is True


def test_sarif_with_no_findings_and_odd_paths(project, tmp_path_factory):
    assert json.loads(check("--output-format", "sarif", "--select", "AL102", "app.py").output)["runs"][0][
        "results"] == []
    elsewhere = tmp_path_factory.mktemp("other dir") / "m ü.py"
    elsewhere.write_text(BLOCKING)
    log = json.loads(check("--output-format", "sarif", str(elsewhere)).output)
    validate_sarif(log)
    uri = log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri == elsewhere.resolve().as_uri()
    (project / "sub dir").mkdir()
    (project / "sub dir" / "x.py").write_text(BLOCKING)
    log = json.loads(check("--output-format", "sarif", "sub dir").output)
    validate_sarif(log)
    assert log["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == \
        "sub%20dir/x.py"


def test_sarif_carries_fixes(tmp_path):
    fix = FixInfo("safe", "Replace with `await asyncio.sleep(1)`", [Edit("await asyncio.sleep(1)", 4, 5, 4, 18)])
    finding = Finding("AL101", "`time.sleep()` blocks", str(tmp_path / "app.py"), 4, 5, 4, 18, fix=fix)
    log = sarif_log([finding], load_catalog())
    validate_sarif(log)
    (change,) = log["runs"][0]["results"][0]["fixes"][0]["artifactChanges"]
    assert change["replacements"][0]["insertedContent"]["text"] == "await asyncio.sleep(1)"
    assert change["replacements"][0]["deletedRegion"] == {"startLine": 4, "startColumn": 5, "endLine": 4,
                                                          "endColumn": 18}


def test_junit_one_testcase_per_finding(monkeypatch):
    monkeypatch.chdir(ROOT)
    result = check("--output-format", "junit", "examples", "tests/fixtures")
    assert result.exit_code == 1
    assert result.output.startswith('<?xml version="1.0" encoding="UTF-8"?>')
    root = ET.fromstring(result.output.encode("utf-8"))
    findings = json.loads(check("--output-format", "json", "examples", "tests/fixtures").output)
    cases = root.findall("./testsuite/testcase")
    assert root.tag == "testsuites" and int(root.get("tests")) == len(findings) == len(cases)
    assert int(root.get("failures")) == len(findings)
    for suite in root.findall("testsuite"):
        assert int(suite.get("tests")) == len(suite.findall("testcase"))
    first = cases[0]
    failure = first.find("failure")
    assert failure is not None and failure.get("type", "").startswith("AL")
    assert first.get("file") == first.get("classname") and int(first.get("line")) >= 1


def test_junit_clean_run_and_awkward_text(project):
    result = check("--output-format", "junit", "--select", "AL102", "app.py")
    assert result.exit_code == 0
    root = ET.fromstring(result.output)
    assert root.get("tests") == "1" and root.get("failures") == "0"
    assert root.find("./testsuite/testcase").get("name") == "No findings"
    out = io.StringIO()
    odd = Finding("AL101", 'a <b> & "c" \x1b[31m \x00', "x&y.py", 1, 1, 1, 2)
    crash = Finding("AL002", "internal error", "x&y.py", 1, 1, 1, 1, suggestion="Traceback ...")
    write_junit(out, [odd, crash])
    root = ET.fromstring(out.getvalue())
    assert root.get("failures") == "1" and root.get("errors") == "1"
    assert root.find("./testsuite/testcase/failure").get("message").startswith('a <b> & "c"')
    assert root.find("./testsuite/testcase/error").get("type") == "AL002"


def test_github_annotations(project):
    result = check("--output-format", "github", "app.py")
    assert result.exit_code == 1
    assert result.output == (
        "::error file=app.py,line=4,col=5,endLine=4,endColumn=18,title=AL101::app.py:4:5: AL101 "
        "`time.sleep()` blocks the event loop in `async def handler`: it suspends the thread that runs every "
        "coroutine\n"
    )


@pytest.mark.parametrize("fmt", ["json", "github", "sarif", "junit"])
def test_machine_outputs_have_no_summary(project, fmt):
    result = check("--output-format", fmt, "app.py")
    assert result.exit_code == 1
    assert "Found" not in result.stdout and "All checks passed" not in result.stdout
