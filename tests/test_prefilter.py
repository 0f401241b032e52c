"""The byte pre-filter (serving.Prefilter): trigger words count in code, not in comments and strings (issue 14).
A file it rejects is never parsed, so each case here is checked both ways: the decision, and what a run reports."""

from __future__ import annotations

from pathlib import Path

import pytest

from async_lint.engine import Linter
from async_lint.runner import lint_paths
from async_lint.serving import Prefilter, prefilter
from helpers import settings_for

AL12 = Prefilter(False, (b"async", b"await"))

REJECTED = {
    "docstring": b'def load(path):\n    """Read it (see the async variant)."""\n    return open(path).read()\n',
    "comment": b"import time\n\n# TODO: make this async\ndef wait():\n    time.sleep(1)\n",
    "strings": b"NAMES = ['async', \"await\", b'async', r'\\' async', '''\nsee async def in_a_triple_quoted_string()\n''']\n",
    "continued": b"TEXT = 'first line \\\n  async'\n",
}
ACCEPTED = {
    "async def": b"async def handler():\n    pass\n",
    "await in a lambda's module": b"import asyncio\n\nrun = lambda: asyncio.run(main())\n",
    "identifier": b"from lib import is_async_callable\n\nok = is_async_callable(f)\n",
    "f-string field": b"def show(client):\n    return f\"{client.async_mode}\"\n",
    "name before a quote": b"def f(x):\n    if x: return 1\n    elif\"async\" in x: return 2\n",
    "after a string": b"X = 'a # b'; import asyncio\n",
    # a backslash continues the string over \r\n: the code after its real end is still code
    "crlf continuation": b'print("fetching \\\r\nnow."); import asyncio; x = "y"\r\n',
}


@pytest.mark.parametrize("name", sorted(REJECTED))
def test_trigger_words_only_in_comments_and_strings_do_not_parse(name: str) -> None:
    assert not AL12(REJECTED[name])


@pytest.mark.parametrize("name", sorted(ACCEPTED))
def test_trigger_words_in_code_parse(name: str) -> None:
    assert AL12(ACCEPTED[name])


def test_an_f_string_holding_its_own_quote_parses() -> None:
    # Python 3.12: the inner quotes end no string; the braces of what looks like one do not balance
    check = Prefilter(False, (b"create_task",))
    assert check(b'def show(loop, coros):\n    return f"{", ".join(str(loop.create_task(c)) for c in coros)}"\n')
    # balanced f-strings (`{{` is a literal brace) are read as before: the word only in a plain string
    assert not check(b'NOTE = f"{name}: {{done}}"  # create_task\nX = "create_task"\n')


def test_a_line_that_starts_async_code_parses_without_looking_at_strings() -> None:
    # in a docstring such a line is taken for code: the file is parsed, as it was before the pre-filter knew
    # strings (the safe direction)
    assert AL12(b'def f():\n    """Example:\n\n    async def g(): ...\n    """\n')


def test_rules_that_read_strings_keep_their_words_anywhere(tmp_path: Path) -> None:
    # AL707 looks at the URL string `sqlite://`: its trigger counts inside strings
    settings = settings_for("AL707", root=tmp_path, preview=True)
    check = prefilter(settings)
    assert check(b'engine = create_engine("sqlite://")\n')
    assert not prefilter(settings_for("AL1", root=tmp_path))(b'DB = "sqlite://"\n')


def test_a_rejected_file_is_not_parsed_and_reports_nothing(tmp_path: Path) -> None:
    path = tmp_path / "notes.py"
    path.write_bytes(REJECTED["comment"])
    result = Linter(settings_for("AL1", root=tmp_path)).lint_path(str(path))
    assert not result.parsed and result.findings == []
    # the same file with `async def` is parsed and its blocking call reported
    path.write_bytes(REJECTED["comment"].replace(b"def wait", b"async def wait"))
    result = Linter(settings_for("AL1", root=tmp_path)).lint_path(str(path))
    assert result.parsed and [f.code for f in result.findings] == ["AL101"]


def test_a_rejected_file_with_a_syntax_error_is_still_reported(tmp_path: Path) -> None:
    path = tmp_path / "broken.py"
    path.write_bytes(b"# async someday\ndef broken(:\n")
    results = lint_paths([str(path)], settings_for("AL1", root=tmp_path), jobs=1)
    assert [f.code for f in results[0].findings] == ["AL001"]
