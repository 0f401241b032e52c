"""benchmarks/realworld: sampling, label matching, precision and test-file share on a fake corpus; no network."""

from __future__ import annotations

import importlib.util
import io
import json
import sys
import tarfile
import zipfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent.parent / "benchmarks" / "realworld"


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, HERE / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


triage = _load("triage")
corpus = _load("corpus")
Finding, Label = triage.Finding, triage.Label


def finding(path: str, line: int, code: str = "AL101", package: str = "app", version: str = "1.0") -> Finding:
    return Finding(package, version, path, line, 4, code, f"message {code}")


def label(path: str, line: int, code: str, verdict: str, package: str = "app", version: str = "1.0") -> Label:
    return Label(package, version, path, line, code, verdict, "why")


PACKAGES = [{"package": "app", "version": "1.0", "files": 3}, {"package": "lib", "version": "2.0", "files": 1}]


# --- test files ----------------------------------------------------------------------------------------------

@pytest.mark.parametrize("path, expected", [
    ("app/tests/helpers.py", True), ("test/x.py", True), ("app/test_api.py", True), ("app/api_test.py", True),
    ("conftest.py", True), ("app/testing/conftest.py", True),
    ("app/testing/utils.py", False), ("app/contest.py", False), ("app/latest_test_data.py", False),
    ("app/tests.py", False), ("app/attest/x.py", False), ("app/test_data.json", False),
])
def test_is_test_path(path, expected):
    assert triage.is_test_path(path) is expected


def test_summary_counts_codes_apps_and_the_share_in_tests():
    findings = [finding("app/api.py", 1), finding("app/api.py", 9, "AL201"), finding("tests/test_api.py", 3),
                finding("conftest.py", 2, "AL701"), finding("lib/x.py", 5, package="lib", version="2.0")]
    text = "\n".join(triage.summary_lines({"async_lint": "async-lint 9"}, PACKAGES, findings))
    assert "findings: 5, in test files: 2 (40.0%)" in text
    lines = text.splitlines()
    assert any(line.split() == ["AL101", "3", "1", "2"] for line in lines)  # count, in tests, apps
    assert any(line.split() == ["AL7", "1", "1"] for line in lines)  # the family
    app = next(line for line in lines if line.startswith("app "))
    assert app.split()[:5] == ["app", "1.0", "3", "4", "2"]


# --- sampling ------------------------------------------------------------------------------------------------

FINDINGS = [finding(f"app/m{i % 7}.py", i, ("AL101", "AL201", "AL301")[i % 3]) for i in range(1, 200)]


def test_sample_is_deterministic_for_a_seed_and_differs_across_seeds():
    first = triage.sample(FINDINGS, 7, 20)
    assert first == triage.sample(list(reversed(FINDINGS)), 7, 20)  # input order does not matter
    assert len(first) == 20 and first == sorted(first)
    assert first != triage.sample(FINDINGS, 8, 20)
    assert triage.sample(FINDINGS, 7, 1000) == sorted(FINDINGS)
    assert triage.sample(FINDINGS, 7, 0) == []


def test_sample_keeps_its_members_when_other_findings_disappear():
    chosen = triage.sample(FINDINGS, 3, 15)
    fewer = [f for f in FINDINGS if f not in chosen][::2] + chosen
    assert triage.sample(fewer, 3, 15) == chosen


def test_sample_lines_name_package_version_relative_path_and_line():
    assert finding("src/a.py", 12).line_text() == "app/1.0/src/a.py:12 AL101 message AL101"


# --- labels and the report -----------------------------------------------------------------------------------

def test_precision_is_strict_and_grouped_by_code_and_family():
    findings = [finding("a.py", n, code) for n, code in enumerate(["AL101"] * 4 + ["AL102"] * 2 + ["AL201"], 1)]
    labels = [label("a.py", 1, "AL101", "TP"), label("a.py", 2, "AL101", "TP"), label("a.py", 3, "AL101", "FP"),
              label("a.py", 4, "AL101", "debatable"), label("a.py", 5, "AL102", "TP"), label("a.py", 7, "AL201", "FP")]
    report = triage.match_labels(labels, PACKAGES, findings)
    by_code = {row[0]: row for row in triage.precision_rows(report.matched, lambda c: c)}
    assert by_code["AL101"] == ("AL101", 2, 1, 1, 4, 0.5)  # debatable counts against
    assert by_code["AL102"][5] == 1.0 and by_code["AL201"][5] == 0.0
    by_family = {row[0]: row for row in triage.precision_rows(report.matched, lambda c: c[:3])}
    assert by_family["AL1"] == ("AL1", 3, 1, 1, 5, 0.6)
    text = "\n".join(triage.report_lines(report))
    assert "AL1          3     1      1      5     60.0%" in text
    assert "unlabelled findings: 1 (AL102 1)" in text and "app/1.0/a.py:6 AL102" in text


def test_stale_unchecked_and_duplicate_labels():
    findings = [finding("a.py", 1), finding("a.py", 1), finding("b.py", 2, "AL201")]  # two findings, one key
    labels = [label("a.py", 1, "AL101", "TP"),
              label("a.py", 1, "AL102", "FP"),  # same line, other code: stale
              label("a.py", 3, "AL101", "TP"),  # moved line: stale
              label("x.py", 1, "AL101", "FP", package="lib", version="2.0"),  # lib linted, nothing there: stale
              label("x.py", 1, "AL101", "FP", package="lib", version="1.0"),  # old version: not checked
              label("a.py", 1, "AL101", "FP")]  # duplicate of the first: ignored
    report = triage.match_labels(labels, PACKAGES, findings)
    assert [lab.line for lab in report.matched] == [1]
    assert len(report.stale) == 3 and len(report.unchecked) == 1 and len(report.duplicates) == 1
    assert [f.key for f in report.unlabelled] == [("app", "1.0", "b.py", 2, "AL201")]
    text = "\n".join(triage.report_lines(report, show_stale=True))
    assert "stale (package linted, no such finding now): 3; not checked (package not in the last lint): 1" in text
    assert "  stale app/1.0/a.py:3 AL101 TP: why" in text


def test_labels_csv_round_trip_comments_and_errors(tmp_path):
    path = tmp_path / "labels.csv"
    triage.append_label(path, Label("app", "1.0", "a, b.py", 3, "AL101", "TP", 'a "quoted", reason'))
    path.write_text(path.read_text() + "# a comment line\n", encoding="utf-8")
    triage.append_label(path, Label("app", "1.0", "c.py", 4, "AL301", "debatable", "no timeout, but a local call"))
    labels = triage.load_labels(path)
    assert [(lab.path, lab.verdict, lab.reason) for lab in labels] == [
        ("a, b.py", "TP", 'a "quoted", reason'), ("c.py", "debatable", "no timeout, but a local call")]
    assert path.read_text().splitlines()[0] == ",".join(triage.LABEL_FIELDS)
    with pytest.raises(ValueError, match="verdict"):
        triage.parse_labels("package,version,path,line,code,verdict,reason\napp,1,a.py,3,AL101,maybe,x\n")
    with pytest.raises(ValueError, match="line"):
        triage.parse_labels("package,version,path,line,code,verdict,reason\napp,1,a.py,x,AL101,TP,x\n")
    with pytest.raises(ValueError, match="header"):
        triage.parse_labels("package,path\napp,a.py\n")


def test_the_repository_labels_file_parses():
    labels = triage.load_labels(corpus.LABELS)
    assert len({lab.key for lab in labels}) == len(labels)


def test_parse_location():
    assert triage.parse_location("app/1.0/src/a/b.py:12 AL101 msg") == ("app", "1.0", "src/a/b.py", 12)
    for bad in ("app/1.0/a.py", "app/a.py:3", "app/1.0/a.py:x", ""):
        with pytest.raises(ValueError):
            triage.parse_location(bad)


def test_the_pinned_list_has_ten_packages_with_exact_versions():
    pins = corpus.load_pins()
    assert len(pins) >= 10 and len({p["name"] for p in pins}) == len(pins)
    assert all(p["version"][0].isdigit() and p["kind"] in ("wheel", "sdist") for p in pins)


# --- fetch and lint on a fake corpus, without network ---------------------------------------------------------

ASYNC_SOURCE = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


def test_unpack_keeps_python_files_strips_the_sdist_folder_and_skips_escapes(tmp_path):
    tarball = tmp_path / "app-1.0.tar.gz"
    with tarfile.open(tarball, "w:gz") as t:
        for name, data in (("app-1.0/src/app/api.py", ASYNC_SOURCE), ("app-1.0/README.md", "x"),
                           ("app-1.0/../evil.py", "x"), ("app-1.0/pyproject.toml", "[project]\n")):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data.encode()))
    out = tmp_path / "out"
    assert corpus.unpack(tarball, out) == 2
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == [
        "pyproject.toml", "src/app/api.py"]
    assert not (tmp_path / "evil.py").exists()


def make_fake_corpus(tmp_path, monkeypatch) -> Path:
    """A pinned package whose wheel already sits in _downloads, so `fetch` never calls pip."""
    root = tmp_path / "corpus"
    downloads = root / "_downloads" / "app-1.0-wheel"
    downloads.mkdir(parents=True)
    with zipfile.ZipFile(downloads / "app-1.0-py3-none-any.whl", "w") as z:
        z.writestr("app/api.py", ASYNC_SOURCE)
        z.writestr("app/tests/test_api.py", ASYNC_SOURCE)
        z.writestr("app/static/logo.svg", "<svg/>")
    pins = tmp_path / "packages.toml"
    pins.write_text('[[package]]\nname = "app"\nversion = "1.0"\n', encoding="utf-8")
    monkeypatch.setattr(corpus, "PINS", pins)
    monkeypatch.setenv("ASYNC_LINT_CORPUS", str(root))
    assert [p["name"] for p in corpus.load_pins()] == ["app"]  # nothing else gets fetched
    return root


def test_fetch_lint_report_show_and_label_on_a_fake_corpus(tmp_path, monkeypatch, capsys):
    root = make_fake_corpus(tmp_path, monkeypatch)
    assert corpus.main(["fetch"]) == 0
    assert sorted(p.name for p in (root / "app-1.0").rglob("*.py")) == ["api.py", "test_api.py"]
    assert corpus.main(["lint", "--select", "AL101", "--extend-test-select", "AL101", "--sample", "5", "--seed", "1"]) == 0
    out = capsys.readouterr().out
    assert "findings: 2, in test files: 1 (50.0%)" in out
    assert "app/1.0/app/api.py:5 AL101 " in out and "app/1.0/app/tests/test_api.py:5 AL101 " in out
    meta, packages, findings = triage.load_results(root / "findings.json")
    assert meta["args"] == ["--no-cache", "--select", "AL101", "--extend-test-select", "AL101"] and packages[0]["files"] == 2

    labels = tmp_path / "labels.csv"
    assert corpus.main(["label", "--labels", str(labels), "app/1.0/app/api.py:5", "AL101", "TP", "sleeps",
                        "in", "a", "handler"]) == 0
    assert corpus.main(["label", "--labels", str(labels), "app/1.0/app/api.py:9", "AL101", "FP", "gone"]) == 0
    capsys.readouterr()
    assert corpus.main(["report", "--labels", str(labels)]) == 0
    out = capsys.readouterr().out
    assert "AL101        1     0      0      1    100.0%" in out
    assert "stale (package linted, no such finding now): 1" in out
    assert "unlabelled findings: 1 (AL101 1)" in out and "app/1.0/app/tests/test_api.py:5 AL101" in out
    # Precision over a seeded sample: a sample of 1 holds either the labelled finding or the unlabelled one.
    picked = triage.sample(triage.load_results(root / "findings.json")[2], 3, 1)[0]
    assert corpus.main(["report", "--labels", str(labels), "--sample", "1", "--seed", "3"]) == 0
    out = capsys.readouterr().out
    assert "over a seeded sample of 1 current findings (seed 3)" in out
    if picked.path == "app/api.py":
        assert "AL101        1     0      0      1    100.0%" in out and "unlabelled findings: 0" in out
    else:
        assert "AL101        1" not in out and "unlabelled findings: 1 (AL101 1)" in out

    assert corpus.main(["show", "--labels", str(labels), "-C", "1", "app/1.0/app/api.py:5 AL101 pasted"]) == 0
    out = capsys.readouterr().out
    assert ">    5     time.sleep(1)" in out and "label: AL101 TP: sleeps in a handler" in out
    assert "finding: AL101 col 5" in out
    assert json.loads((root / "app-1.0" / corpus.MARKER).read_text())["files"] == 2


def test_lint_only_one_package_keeps_the_others_results(tmp_path, monkeypatch, capsys):
    root = make_fake_corpus(tmp_path, monkeypatch)
    lib = root / "_downloads" / "lib-2.0-wheel"
    lib.mkdir(parents=True)
    with zipfile.ZipFile(lib / "lib-2.0-py3-none-any.whl", "w") as z:
        z.writestr("lib/core.py", ASYNC_SOURCE)
    corpus.PINS.write_text(corpus.PINS.read_text() + '[[package]]\nname = "lib"\nversion = "2.0"\n')
    assert corpus.main(["fetch"]) == 0
    assert corpus.main(["lint", "--select", "AL101", "--extend-test-select", "AL101"]) == 0  # tests too
    (root / "lib-2.0" / "lib" / "core.py").write_text(ASYNC_SOURCE + ASYNC_SOURCE.replace("handler", "other"))
    assert corpus.main(["lint", "--select", "AL101", "--extend-test-select", "AL101", "--only", "lib"]) == 0
    meta, packages, findings = triage.load_results(root / "findings.json")
    assert [p["package"] for p in packages] == ["app", "lib"] and "merged_from" in meta
    assert [(f.package, f.line) for f in findings] == [("app", 5), ("app", 5), ("lib", 5), ("lib", 10)]
    assert corpus.main(["lint", "--select", "AL1", "--only", "lib"]) == 0  # other arguments: not merged
    assert [p["package"] for p in triage.load_results(root / "findings.json")[1]] == ["lib"]


def test_the_results_file_can_be_named_so_two_triagers_share_one_corpus(tmp_path, monkeypatch, capsys):
    root = make_fake_corpus(tmp_path, monkeypatch)
    assert corpus.main(["fetch"]) == 0
    mine = tmp_path / "mine.json"
    monkeypatch.setenv("ASYNC_LINT_CORPUS_RESULTS", str(mine))
    assert corpus.main(["lint", "--select", "AL101"]) == 0
    assert mine.exists() and not (root / "findings.json").exists()
    assert [f.code for f in triage.load_results(mine)[2]] == ["AL101"]
    assert corpus.main(["summary"]) == 0 and "findings: 1" in capsys.readouterr().out
