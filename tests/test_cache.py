"""The result cache is data: a crafted or corrupt cache never runs code, never ends a run, and is rewritten."""

from __future__ import annotations

import json
import pickle
import subprocess
import sys
from dataclasses import asdict, fields
from pathlib import Path

import pytest

from async_lint import __version__
from async_lint import workers as runner  # the workers lint each task (_safe_lint)
from async_lint.cache import _FORMAT, CACHE_DIR, ResultCache
from async_lint.cache_format import CorruptEntry, dumps, loads
from async_lint.runner import lint_paths

from helpers import FIXTURES, settings_for

FORMAT_PREFIX = b'{"format": %d, ' % _FORMAT  # a cache file of this version begins so

BLOCKING = "import time\n\n\nasync def handler():\n    time.sleep(1)\n"


class _Payload:
    """Unpickling this creates the marker file: what a malicious cache would do."""

    def __init__(self, marker: Path):
        self.marker = marker

    def __reduce__(self):
        return (exec, (f"open({str(self.marker)!r}, 'w').close()",))


def _check(project: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "async_lint", "check", "--output-format", "concise", str(project)],
                          capture_output=True, text=True, cwd=project, timeout=120)


@pytest.fixture
def project(tmp_path):
    root = tmp_path / "proj"
    root.mkdir()
    (root / "pyproject.toml").write_text("[project]\nname = 'proj'\n")
    (root / "app.py").write_text(BLOCKING)
    return root


def _plant(project: Path, name: str, data: bytes) -> Path:
    folder = project / CACHE_DIR
    folder.mkdir(exist_ok=True)
    (folder / name).write_bytes(data)
    return folder / name


@pytest.mark.parametrize("name", [f"v1-{__version__}.pickle", f"v{_FORMAT}-{__version__}.json", f"v{_FORMAT}-{__version__}.pickle"])
def test_a_crafted_pickle_in_the_cache_folder_runs_nothing(project, tmp_path, name):
    marker = tmp_path / "pwned"
    _plant(project, name, pickle.dumps(_Payload(marker)))
    done = _check(project)
    assert not marker.exists()
    assert done.returncode == 1, done.stderr
    assert "app.py:5:5: AL10" in done.stdout
    assert "Traceback" not in done.stderr
    assert not marker.exists()


@pytest.mark.parametrize("garbage", [
    b"\x80\x04\x95" + b"\xff" * 64,  # pickle-looking bytes
    b"\x00" * 4096,
    b"{" * 100_000,  # deep nesting
    FORMAT_PREFIX + b'"entries": {"x": [["k", ' + b"9" * 10_000 + b']]}}',  # an int too long to read
    FORMAT_PREFIX + b'"entries": {"x": [["k", 1e999]]}}',
    FORMAT_PREFIX + b'"entries": []}',
    FORMAT_PREFIX + b'"entries": {"a": 1}}',
    b"[" + b"1," * 1000 + b"1]",
    ("{\"format\": %d, \"entries\": {}, \"\u00e9\": 1}" % _FORMAT).encode("latin-1"),  # not UTF-8
])
def test_byte_garbage_is_ignored_with_one_warning_and_rewritten(project, garbage):
    path = _plant(project, f"v{_FORMAT}-{__version__}.json", garbage)
    done = _check(project)
    assert done.returncode == 1, done.stderr
    assert "app.py:5:5: AL10" in done.stdout
    assert "Traceback" not in done.stderr
    assert done.stderr.count("ignoring the result cache") == 1, done.stderr
    assert json.loads(path.read_text())["format"] == _FORMAT  # rewritten
    again = _check(project)
    assert again.returncode == 1 and "ignoring" not in again.stderr
    assert again.stdout.splitlines()[:-1] == done.stdout.splitlines()[:-1]  # the same findings, from the cache


def _entry_for(project: Path) -> tuple[Path, dict]:
    assert _check(project).returncode == 1
    path = project / CACHE_DIR / f"v{_FORMAT}-{__version__}.json"
    return path, json.loads(path.read_text())


@pytest.mark.parametrize("tamper", [
    lambda v: v.replace('"@":"Finding"', '"@":"os.system"'),
    lambda v: v.replace('"@":"FileResult","v":["', '"@":"FileResult","v":[7,"'),  # a path that is not a str
    lambda v: v.replace('"@":"Finding","v":["AL', '"@":"Finding","v":[["AL"],"AL'),  # one value too many
    lambda v: v.replace('"@":"FileResult"', '"@":"t"'),  # valid data, not a result
    lambda v: '{"__class__": "subprocess.Popen"}',
])
def test_a_tampered_entry_is_rejected_and_the_file_linted_again(project, tamper):
    path, data = _entry_for(project)
    (slot, keys), = data["entries"].items()
    before = keys[0][1]
    keys[0][1] = tamper(before)
    assert keys[0][1] != before
    path.write_text(json.dumps(data))
    done = _check(project)
    assert done.returncode == 1 and "app.py:5:5: AL10" in done.stdout
    assert done.stderr.count("ignoring the result cache") == 1, done.stderr


def test_a_clean_project_with_a_bad_cache_exits_zero(project):
    (project / "app.py").write_text("async def handler():\n    return 1\n")
    _plant(project, f"v{_FORMAT}-{__version__}.json", b"\x00garbage")
    done = _check(project)
    assert done.returncode == 0, done.stderr
    assert done.stderr.count("warning:") == 1


def test_an_oversized_cache_is_not_read(project, monkeypatch):
    import async_lint.cache as cache_module

    monkeypatch.setattr(cache_module, "MAX_BYTES", 10)
    _plant(project, f"v{_FORMAT}-{__version__}.json", FORMAT_PREFIX + b'"entries": {}}')
    heard = []
    cache = ResultCache(project, "salt", heard.append)
    assert cache.entries == {} and len(heard) == 1 and "larger than" in heard[0]


def test_an_old_pickle_cache_is_removed_unread(project, tmp_path):
    marker = tmp_path / "pwned"
    old = _plant(project, "v1-0.0.1.pickle", pickle.dumps(_Payload(marker)))
    assert _check(project).returncode == 1
    assert not old.exists() and not marker.exists()


def _all_fixture_results():
    paths = sorted(str(p) for p in FIXTURES.rglob("*.py") if "fixes" not in p.parts)
    return lint_paths(paths, settings_for("AL"), jobs=1)


def test_every_fixture_result_round_trips_through_the_format():
    results = _all_fixture_results()
    assert sum(len(r.findings) for r in results) > 100
    assert any(r.summary is not None and r.summary.functions for r in results)
    for result in results:
        text = dumps(result)
        back = loads(text)
        assert asdict(back) == asdict(result), result.path
        assert type(back.words) is type(result.words)
    with pytest.raises(CorruptEntry):
        loads(text.replace('"@":"FileResult"', '"@":"Report"'))


def test_a_partial_run_keeps_the_full_runs_entries(tmp_path, monkeypatch):
    """Full run, run on 5 files (other packages, so another salt), full run: the third parses nothing."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    files = []
    for package in ("alpha", "beta", "gamma"):
        folder = tmp_path / package
        folder.mkdir()
        (folder / "__init__.py").write_text("")
        for i in range(4):
            path = folder / f"m{i}.py"
            path.write_text(BLOCKING + f"\n\nasync def use{i}():\n    from {package}.m0 import handler\n"
                                       "    handler()\n")
            files.append(str(path))
    files.sort()
    settings = settings_for("AL", root=tmp_path)
    parses = []
    real = runner._safe_lint
    monkeypatch.setattr(runner, "_safe_lint", lambda linter, task: parses.append(task) or real(linter, task))
    full = lint_paths(files, settings, jobs=1, use_cache=True)
    assert parses
    parses.clear()
    lint_paths(files[:5], settings, jobs=1, use_cache=True)
    parses.clear()
    third = lint_paths(files, settings, jobs=1, use_cache=True)
    assert parses == []
    assert [asdict(r) for r in third] == [asdict(r) for r in full]


def test_a_run_on_a_few_files_after_the_full_run_relints_only_them(tmp_path, monkeypatch):
    """The project pass asks the other files of the package for their summaries and AL107 call sites (forced
    lints): the full run's cached plain lints answer them, so only the changed file is parsed, and the answer is
    the one a run without cache gives."""
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    folder = tmp_path / "app"
    folder.mkdir()
    (folder / "__init__.py").write_text("")
    (folder / "sink.py").write_text("import time\n\n\ndef pause():\n    time.sleep(1)\n")
    files = [str(folder / "sink.py")]
    for i in range(3):  # more would make one finding at the sink (shared_sinks.SHARED_SINK_CALLERS)
        path = folder / f"caller{i}.py"
        path.write_text(f"from app.sink import pause\n\n\nasync def handler{i}():\n    pause()\n")
        files.append(str(path))
    settings = settings_for("AL", root=tmp_path)
    parses = []
    real = runner._safe_lint
    monkeypatch.setattr(runner, "_safe_lint", lambda linter, task: parses.append(task) or real(linter, task))
    lint_paths(files, settings, jobs=1, use_cache=True)
    with open(files[1], "a") as handle:
        handle.write("# changed\n")
    parses.clear()
    partial = lint_paths(files[1:2], settings, jobs=1, use_cache=True)
    # the changed file, and the sink's module, which no plain lint parsed (no `async`): none of the other callers
    assert [task for task in parses if task[0] != files[0]] == [(files[1], False, False)]
    uncached = lint_paths(files[1:2], settings, jobs=1)
    assert [asdict(r) for r in partial] == [asdict(r) for r in uncached]
    assert [f.code for f in partial[0].findings] == ["AL107"]


@pytest.mark.parametrize("text", [
    '{"@":"f","v":[{"@":"b","v":1}]}',  # bytes that are not text
    '{"@":"f","v":[{"@":"b","v":"x","w":1}]}',  # a tagged value with a third key
    '{"@":"f","v":[[1]]}',  # a list in a set
    '{"@":"d","v":[[[1],2]]}',  # a list as a dict key
    '{"@":"d","v":[[1,2,3]]}',  # not a pair
    '{"@":"t","v":[{"v":1}]}',  # an untagged object in a tuple
])
def test_the_fast_decoder_rejects_what_the_format_does_not_write(text):
    with pytest.raises(CorruptEntry):
        loads(text)


def test_the_fast_decoder_reads_sets_of_bytes_and_plain_items():
    assert loads('{"@":"f","v":[{"@":"b","v":"x"},{"@":"b","v":""}]}') == frozenset({b"x", b""})
    assert loads('{"@":"t","v":[1,"a",null,{"@":"t","v":[true]}]}') == (1, "a", None, (True,))
    assert loads('{"@":"d","v":[["k",{"@":"s","v":["a"]}],[{"@":"t","v":[1]},2]]}') == {"k": {"a"}, (1,): 2}


def test_word_sets_are_one_string_and_read_back_as_the_same_set():
    words = frozenset({b"save_order", b"get", b"_private"})
    text = dumps(words)
    assert text == '{"@":"w","v":"_private\\nget\\nsave_order"}'
    assert loads(text) == words and type(loads(text)) is frozenset
    assert loads(dumps({b"a", b"b"})) == {b"a", b"b"} and type(loads(dumps({b"a", b"b"}))) is set
    # members the one-string form cannot hold keep the general form, and still round-trip
    for odd in (frozenset({b"", b"x"}), frozenset({b"a\nb"}), frozenset({b"x", "text"}), frozenset()):
        assert '"@":"w"' not in dumps(odd) and loads(dumps(odd)) == odd


@pytest.mark.parametrize("text", ['{"@":"w","v":""}', '{"@":"w","v":"a\\n\\nb"}', '{"@":"w","v":["a"]}'])
def test_a_crafted_word_set_is_rejected(text):
    with pytest.raises(CorruptEntry):
        loads(text)


def test_a_partial_decode_reads_only_the_fields_asked_for():
    results = [r for r in _all_fixture_results() if r.summary is not None and (r.findings or r.deferred)]
    assert results
    for result in results:
        back = loads(dumps(result), frozenset({"parsed", "internal_errors", "summary"}))
        assert asdict(back.summary) == asdict(result.summary)
        assert (back.path, back.parsed, back.internal_errors) == (result.path, result.parsed, result.internal_errors)
        assert back.findings == [] and back.deferred == []
    text = dumps(results[0])
    with pytest.raises(CorruptEntry):  # the fields it reads are still checked
        loads(text.replace('"@":"ModuleSummary"', '"@":"Finding"', 1), frozenset({"summary"}))
    with pytest.raises(CorruptEntry):
        loads('{"@":"Report","v":[]}', frozenset({"summary"}))


@pytest.mark.parametrize("field, bad", [("row", "1"), ("row", True), ("suggestion", 1), ("fix", "x"),
                                        ("show_frame", 1), ("code", None)])
def test_the_generated_decoder_checks_every_field_against_its_annotation(field, bad):
    from async_lint.finding import Finding

    finding = Finding("AL101", "m", "app.py", 1, 2, 3, 4, suggestion="s")
    assert loads(dumps(finding)) == finding
    data = json.loads(dumps(finding))
    names = [f.name for f in fields(Finding)]
    data["v"][names.index(field)] = bad
    with pytest.raises(CorruptEntry, match=f"Finding.{field}: unexpected"):
        loads(json.dumps(data))
