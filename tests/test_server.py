"""`async-lint server`: a real LSP client (pygls's) drives the server over stdio; plus the LSP conversions."""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import pytest

pytest.importorskip("pygls")

from lsprotocol import types  # noqa: E402
from pygls.lsp.client import LanguageClient  # noqa: E402
from pygls.uris import from_fs_path  # noqa: E402

from async_lint.finding import Edit, Finding, FixInfo  # noqa: E402
from async_lint.server.convert import Lines, noqa_edit, replace_text  # noqa: E402
from async_lint.server.session import read_options  # noqa: E402

BLOCKING = "import time\n\nasync def handler():\n    time.sleep(1)\n"
TIMEOUT = 60  # seconds for a whole session: generous for a loaded CI machine, never reached when it works


def apply(text: str, edits: list[types.TextEdit]) -> str:
    """Apply LSP text edits (UTF-16 columns) the way an editor does: from the last to the first."""
    lines = Lines(text)
    spans = [(lines.offset(e.range.start), lines.offset(e.range.end), e.new_text) for e in edits]
    for start, end, new in sorted(spans, key=lambda s: (s[0], s[1]), reverse=True):
        text = text[:start] + new + text[end:]
    return text


class Session:
    """One server process and the client talking to it; diagnostics arrive in a queue per document."""

    def __init__(self, client: LanguageClient):
        self.client = client
        self.diagnostics: asyncio.Queue[types.PublishDiagnosticsParams] = asyncio.Queue()
        self.messages: list[str] = []

    async def next_diagnostics(self, uri: str) -> list[types.Diagnostic]:
        while True:
            params = await asyncio.wait_for(self.diagnostics.get(), TIMEOUT)
            if params.uri == uri:
                return list(params.diagnostics)

    def open(self, path: Path, text: str, version: int = 1) -> str:
        uri = from_fs_path(str(path))
        self.client.text_document_did_open(types.DidOpenTextDocumentParams(
            text_document=types.TextDocumentItem(uri=uri, language_id="python", version=version, text=text)))
        return uri

    def change(self, uri: str, version: int, text: str) -> None:
        self.client.text_document_did_change(types.DidChangeTextDocumentParams(
            text_document=types.VersionedTextDocumentIdentifier(uri=uri, version=version),
            content_changes=[types.TextDocumentContentChangeWholeDocument(text=text)]))


async def _session(root: Path, body, options: dict | None = None, configuration: dict | None = None) -> None:
    client = LanguageClient("async-lint-test", "0")
    session = Session(client)
    capabilities = types.ClientCapabilities()
    if configuration is not None:
        capabilities = types.ClientCapabilities(workspace=types.WorkspaceClientCapabilities(configuration=True))

        @client.feature(types.WORKSPACE_CONFIGURATION)
        def on_configuration(params: types.ConfigurationParams) -> list:
            return [configuration if item.section == "async-lint" else None for item in params.items]

    @client.feature(types.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def on_diagnostics(params: types.PublishDiagnosticsParams) -> None:
        session.diagnostics.put_nowait(params)

    @client.feature(types.WINDOW_SHOW_MESSAGE)
    def on_message(params: types.ShowMessageParams) -> None:
        session.messages.append(params.message)

    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    await client.start_io(sys.executable, "-m", "async_lint", "server", cwd=str(root), env=env)
    try:
        await asyncio.wait_for(client.initialize_async(types.InitializeParams(
            capabilities=capabilities, root_uri=from_fs_path(str(root)),
            initialization_options=options)), TIMEOUT)
        client.initialized(types.InitializedParams())
        await body(session)
        await asyncio.wait_for(client.shutdown_async(None), TIMEOUT)
        client.exit(None)
    finally:
        if client._server is not None and client._server.returncode is None:
            try:
                await asyncio.wait_for(client._server.wait(), 10)
            except asyncio.TimeoutError:
                client._server.kill()
        await client.stop()


def run_session(root: Path, body, options: dict | None = None, configuration: dict | None = None) -> None:
    asyncio.run(asyncio.wait_for(_session(root, body, options, configuration), TIMEOUT * 2))


def test_diagnostics_code_action_and_change(tmp_path: Path):
    path = tmp_path / "app.py"
    path.write_text("x = 1\n")  # what is on disk does not matter: the buffer is linted

    async def body(s: Session) -> None:
        uri = s.open(path, BLOCKING)
        [diagnostic] = await s.next_diagnostics(uri)
        assert diagnostic.code == "AL101" and diagnostic.source == "async-lint"
        assert diagnostic.range == types.Range(types.Position(3, 4), types.Position(3, 17))

        actions = await asyncio.wait_for(s.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri), range=diagnostic.range,
            context=types.CodeActionContext(diagnostics=[diagnostic]))), TIMEOUT)
        titles = [a.title for a in actions]
        assert any("noqa: AL101" in t for t in titles)
        assert "async-lint: fix all safe fixes" in titles
        fix = next(a for a in actions if a.kind == types.CodeActionKind.QuickFix and a.is_preferred)
        fixed = apply(BLOCKING, fix.edit.changes[uri])
        assert fixed == "import time\nimport asyncio\n\nasync def handler():\n    await asyncio.sleep(1)\n"

        hover = await asyncio.wait_for(s.client.text_document_hover_async(types.HoverParams(
            text_document=types.TextDocumentIdentifier(uri=uri), position=types.Position(3, 6))), TIMEOUT)
        assert "AL101" in hover.contents.value and "Why is this bad?" in hover.contents.value

        s.change(uri, 2, fixed)
        assert await s.next_diagnostics(uri) == []

        noqa = next(a for a in actions if "noqa" in a.title)
        s.change(uri, 3, apply(BLOCKING, noqa.edit.changes[uri]))
        assert await s.next_diagnostics(uri) == []

    run_session(tmp_path, body)


def test_fix_all_action_only(tmp_path: Path):
    source = BLOCKING + "\nasync def other():\n    time.sleep(2)\n"

    async def body(s: Session) -> None:
        uri = s.open(tmp_path / "app.py", source)
        assert len(await s.next_diagnostics(uri)) == 2
        actions = await asyncio.wait_for(s.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(0, 0), types.Position(0, 0)),
            context=types.CodeActionContext(diagnostics=[], only=[types.CodeActionKind.SourceFixAll]))), TIMEOUT)
        [action] = actions
        assert action.kind == "source.fixAll.async-lint"
        # A cursor away from any finding, no kind asked for: nothing, and nothing computed.
        elsewhere = await asyncio.wait_for(s.client.text_document_code_action_async(types.CodeActionParams(
            text_document=types.TextDocumentIdentifier(uri=uri),
            range=types.Range(types.Position(1, 0), types.Position(1, 0)),
            context=types.CodeActionContext(diagnostics=[]))), TIMEOUT)
        assert not elsewhere
        fixed = apply(source, action.edit.changes[uri])
        assert fixed.count("await asyncio.sleep") == 2 and "import asyncio\n" in fixed
        compile(fixed, "app.py", "exec")

    run_session(tmp_path, body)


def test_settings_and_project_context(tmp_path: Path):
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("def helper():\n    return 1\n")
    main = "from .helpers import helper\n\nasync def f():\n    helper()\n"

    async def body(s: Session) -> None:
        # The unsaved buffer of helpers.py, not the file on disk, is what the project index reads.
        s.open(pkg / "helpers.py", "import time\n\ndef helper():\n    time.sleep(1)\n")
        uri = s.open(pkg / "main.py", main)
        codes = {d.code for d in await s.next_diagnostics(uri)}
        assert codes == {"AL107"}
        # `ignore` from initializationOptions is applied on top of the configuration.
        blocking = s.open(tmp_path / "app.py", BLOCKING)
        assert await s.next_diagnostics(blocking) == []

    run_session(tmp_path, body, {"select": ["AL107", "AL101"], "ignore": ["AL101"], "preview": False})


def test_workspace_configuration_and_other_languages(tmp_path: Path):
    async def body(s: Session) -> None:
        # Not Python: no diagnostics are published for it (the first ones to arrive are the Python file's).
        s.client.text_document_did_open(types.DidOpenTextDocumentParams(text_document=types.TextDocumentItem(
            uri=from_fs_path(str(tmp_path / "notes.md")), language_id="markdown", version=1, text=BLOCKING)))
        uri = s.open(tmp_path / "app.py", BLOCKING)
        assert await s.next_diagnostics(uri) == []  # the client's configuration ignores AL101
        other = s.open(tmp_path / "other.py", "import asyncio\n\nasync def f():\n    asyncio.sleep(1)\n")
        assert [d.code for d in await s.next_diagnostics(other)] == ["AL201"]
        assert s.diagnostics.empty() or all(p.uri != from_fs_path(str(tmp_path / "notes.md"))
                                            for p in list(s.diagnostics._queue))

    run_session(tmp_path, body, configuration={"ignore": ["AL101"]})


def test_configuration_errors_are_shown(tmp_path: Path):
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\nselect = ["NOPE"]\n')

    async def body(s: Session) -> None:
        uri = s.open(tmp_path / "app.py", BLOCKING)
        assert await s.next_diagnostics(uri) == []
        assert any("NOPE" in m for m in s.messages)

    run_session(tmp_path, body)


# ------------------------------------------------------------------------------------------------ conversions

def test_positions_count_utf16_units():
    lines = Lines("s = '\U0001f600'; time.sleep(1)\r\nx = 1\n")
    assert lines.position(1, 9) == types.Position(0, 9)  # the emoji is one code point, two UTF-16 units
    assert lines.position(2, 1) == types.Position(1, 0)
    assert lines.position(9, 1) == types.Position(2, 0)  # past the end: the end
    assert lines.offset(types.Position(0, 9)) == 8
    utf32 = Lines("s = '\U0001f600'; x\n", len)
    assert utf32.position(1, 9) == types.Position(0, 8)


def _finding(row: int) -> Finding:
    return Finding("AL101", "m", "a.py", row, 5, row, 18, noqa_row=row,
                   fix=FixInfo("safe", "fix", [Edit("x", row, 5, row, 18)]))


@pytest.mark.parametrize("line, expected", [
    ("    time.sleep(1)", "    time.sleep(1)  # noqa: AL101"),
    ("    time.sleep(1)   ", "    time.sleep(1)  # noqa: AL101"),
    ("    time.sleep(1)  # noqa: E501", "    time.sleep(1)  # noqa: E501, AL101"),
    ("    time.sleep(1)  # wait", "    time.sleep(1)  # wait  # noqa: AL101"),
])
def test_noqa_edit(line: str, expected: str):
    text = f"async def f():\n{line}\nx = 1\n"
    edit = noqa_edit(_finding(2), Lines(text))
    assert apply(text, [edit]) == f"async def f():\n{expected}\nx = 1\n"


def test_noqa_edit_not_offered_for_file_problems():
    problem = Finding("AL001", "cannot parse", "a.py", 1, 1, 1, 1, noqa_row=None)
    assert noqa_edit(problem, Lines("def f(:\n")) is None


def test_noqa_edit_not_offered_when_silenced():
    assert noqa_edit(_finding(1), Lines("    time.sleep(1)  # noqa\n")) is None
    assert noqa_edit(_finding(1), Lines("    time.sleep(1)  # noqa: AL101\n")) is None


@pytest.mark.parametrize("old, new", [
    ("a\r\nb\r\n", "a\r\nimport x\r\nb\r\n"), ("abc", "abc"), ("abc", ""), ("", "x\n"), ("x = 1\n", "y = 1\n"),
    ("\U0001f600 a\nb\n", "\U0001f600 a\nc\nb\n"),
])
def test_replace_text_is_one_minimal_edit(old: str, new: str):
    edits = replace_text(old, new, Lines(old))
    assert apply(old, edits) == new
    assert len(edits) == (old != new)


def test_read_options():
    options, problems = read_options({"async-lint": {"configPath": "x.toml", "extend-select": ["AL3"],
                                                     "preview": True, "bogus": 1}})
    assert options == {"config": "x.toml", "extend_select": ["AL3"], "preview": True}
    assert problems and "bogus" in problems[0]
    assert read_options(None) == ({}, [])
    assert read_options({"select": 3})[1]


def test_session_keeps_the_result_cache_in_memory_and_never_writes_it(tmp_path: Path):
    from async_lint.server.session import Session

    (tmp_path / "pyproject.toml").write_text("[tool.async-lint]\n")
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "helpers.py").write_text("import time\n\ndef helper():\n    time.sleep(1)\n")
    main = "from .helpers import helper\n\nasync def f():\n    helper()\n"
    session = Session()
    first = session.lint(str(pkg / "main.py"), main, {})
    [cache] = session.caches.values()
    hits = cache.hits
    again = session.lint(str(pkg / "main.py"), main + "\n", {})  # an edit: helpers.py comes from the cache
    assert [f.code for f in first.findings] == [f.code for f in again.findings] == ["AL107"]
    assert cache.hits > hits
    assert not (tmp_path / ".async_lint_cache").exists()
