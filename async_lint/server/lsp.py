"""`async-lint server`: the language server (pygls, LSP over stdio).

Diagnostics when a Python buffer is opened, changed (after a short pause in typing) and saved; code actions
for each fix, "fix all" (`source.fixAll.async-lint`) and "add `# noqa`"; hover on a finding shows its rule.
Linting runs in one worker thread, off the event loop, one buffer at a time; a result for a version of the
buffer that is no longer current is dropped.
"""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from typing import Any, Callable, TypeVar
from urllib.parse import unquote

from lsprotocol import types
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from async_lint import __version__
from async_lint.catalog import load_catalog
from async_lint.config import ConfigError
from async_lint.finding import Finding
from async_lint.server import convert
from async_lint.server.convert import FIX_ALL_KIND, Lines
from async_lint.server.session import SECTION, Session, untitled_path

log = logging.getLogger("async_lint.server")
T = TypeVar("T")
DEBOUNCE = 0.15  # seconds without typing before a changed buffer is linted again


@dataclass
class Linted:
    version: int | None
    text: str
    findings: list[Finding]


class AsyncLintServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("async-lint", __version__, text_document_sync_kind=types.TextDocumentSyncKind.Incremental)
        self.session = Session()
        self.linted: dict[str, Linted] = {}
        self.fixed_all: dict[str, tuple[str, str]] = {}  # uri -> (text, the text with every safe fix applied)
        self.pending: dict[str, asyncio.Task] = {}
        self.said: set[str] = set()  # configuration problems already shown (not again on every keystroke)
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="async-lint")
        # Set once the client's settings are known: nothing is linted with the wrong ones first.
        self.configured = asyncio.Event()

    # ------------------------------------------------------------------------------------------ documents
    def document(self, uri: str):
        """The open buffer at `uri`, or None once it is closed."""
        return self.workspace.text_documents.get(unquote(uri))

    def path_of(self, uri: str) -> str:
        return to_fs_path(uri) if uri.startswith("file:") else untitled_path(uri, self.session.root)

    def buffers(self) -> dict[str, str]:
        """path -> text of every open Python buffer: the project index reads them instead of the files."""
        return {self.path_of(doc.uri): doc.source for doc in list(self.workspace.text_documents.values())
                if doc.uri.startswith("file:") and _is_python(doc)}

    async def in_worker(self, fn: Callable[..., T], *args: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(self.worker, partial(fn, *args))

    def tell(self, message: str, kind: types.MessageType = types.MessageType.Error) -> None:
        if message not in self.said:
            self.said.add(message)
            self.window_show_message(types.ShowMessageParams(type=kind, message=f"async-lint: {message}"))

    # -------------------------------------------------------------------------------------------- linting
    def schedule(self, uri: str, delay: float = 0.0) -> None:
        doc = self.document(uri)
        if doc is None or not _is_python(doc):
            return  # a client may send every buffer it opens: TOML, Markdown, ...
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()
        self.pending[uri] = asyncio.get_running_loop().create_task(self._lint_after(uri, delay))

    async def _lint_after(self, uri: str, delay: float) -> None:
        if delay:
            await asyncio.sleep(delay)
        try:
            await self.lint(uri)
        except Exception:  # a crash must not take the server down; the next change tries again
            log.exception("linting %s failed", uri)

    async def lint(self, uri: str) -> Linted | None:
        """Lint the buffer as it is now; publish and remember the result if the buffer is still that version."""
        if not self.configured.is_set():
            try:
                await asyncio.wait_for(self.configured.wait(), 10)
            except asyncio.TimeoutError:
                self.configured.set()  # the client never answered: go on with what we have
        doc = self.document(uri)
        if doc is None:
            return None
        version, text = doc.version, doc.source
        try:
            result = await self.in_worker(self.session.lint, self.path_of(uri), text, self.buffers())
        except ConfigError as exc:
            self.tell(str(exc))
            self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))
            return None
        doc = self.document(uri)
        if doc is None or doc.version != version or doc.source != text:
            return None  # edited (or closed) meanwhile: a newer lint is on its way
        for warning in result.warnings:
            self.tell(f"{self.path_of(uri)}: {warning}", types.MessageType.Warning)
        linted = Linted(version, text, result.findings)
        self.linted[uri] = linted
        lines = self.lines(text)
        self.text_document_publish_diagnostics(types.PublishDiagnosticsParams(
            uri=uri, version=version, diagnostics=[convert.diagnostic(f, lines) for f in linted.findings]))
        return linted

    async def current(self, uri: str) -> Linted | None:
        """The findings for the buffer as it is now (linting it again if it changed since)."""
        doc = self.document(uri)
        known = self.linted.get(uri)
        if doc is None:
            return None
        if known is not None and known.version == doc.version and known.text == doc.source:
            return known
        return await self.lint(uri)

    async def fix_all(self, uri: str, linted: Linted) -> str:
        known = self.fixed_all.get(uri)
        if known is not None and known[0] == linted.text:
            return known[1]
        try:
            fixed = await self.in_worker(self.session.fix_all, self.path_of(uri), linted.text, self.buffers())
        except ConfigError as exc:
            self.tell(str(exc))
            return linted.text
        self.fixed_all[uri] = (linted.text, fixed)
        return fixed

    def lines(self, text: str) -> Lines:
        return Lines(text, self.workspace.position_codec.client_num_units)

    async def relint_all(self) -> None:
        self.said.clear()
        self.fixed_all.clear()  # other settings: other fixes
        for doc in list(self.workspace.text_documents.values()):
            self.schedule(doc.uri)

    async def fetch_configuration(self) -> None:
        """Ask the client for the `async-lint` section of its settings (when it can answer)."""
        workspace = self.client_capabilities.workspace
        if workspace is None or not workspace.configuration:
            return
        try:
            answer = await asyncio.wait_for(self.workspace_configuration_async(
                types.ConfigurationParams(items=[types.ConfigurationItem(section=SECTION)])), 10)
        except Exception as exc:  # a client that fails the request keeps the initialization options
            log.warning("workspace/configuration failed: %s", exc)
            return
        if answer and isinstance(answer[0], dict) and answer[0]:
            for problem in self.session.configure(answer[0]):
                self.tell(problem, types.MessageType.Warning)


def _is_python(doc) -> bool:
    if doc.language_id:
        return doc.language_id.lower() == "python"
    return doc.uri.endswith((".py", ".pyi"))


server = AsyncLintServer()


@server.feature(types.INITIALIZE)
def initialize(ls: AsyncLintServer, params: types.InitializeParams) -> None:
    folders = params.workspace_folders or []
    root = params.root_uri or (folders[0].uri if folders else None)
    ls.session.root = to_fs_path(root) if root else params.root_path
    for problem in ls.session.configure(params.initialization_options):
        ls.tell(problem, types.MessageType.Warning)


@server.feature(types.INITIALIZED)
async def initialized(ls: AsyncLintServer, params: types.InitializedParams) -> None:
    try:
        await ls.fetch_configuration()
    finally:
        ls.configured.set()


@server.feature(types.WORKSPACE_DID_CHANGE_CONFIGURATION)
async def did_change_configuration(ls: AsyncLintServer, params: types.DidChangeConfigurationParams) -> None:
    settings = params.settings
    if isinstance(settings, dict) and isinstance(settings.get(SECTION), dict):
        for problem in ls.session.configure(settings[SECTION]):
            ls.tell(problem, types.MessageType.Warning)
    else:
        await ls.fetch_configuration()
    await ls.relint_all()


@server.feature(types.TEXT_DOCUMENT_DID_OPEN)
def did_open(ls: AsyncLintServer, params: types.DidOpenTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CHANGE)
def did_change(ls: AsyncLintServer, params: types.DidChangeTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri, DEBOUNCE)


@server.feature(types.TEXT_DOCUMENT_DID_SAVE)
def did_save(ls: AsyncLintServer, params: types.DidSaveTextDocumentParams) -> None:
    ls.schedule(params.text_document.uri)


@server.feature(types.TEXT_DOCUMENT_DID_CLOSE)
def did_close(ls: AsyncLintServer, params: types.DidCloseTextDocumentParams) -> None:
    uri = params.text_document.uri
    task = ls.pending.pop(uri, None)
    if task is not None:
        task.cancel()
    ls.linted.pop(uri, None)
    ls.fixed_all.pop(uri, None)
    ls.text_document_publish_diagnostics(types.PublishDiagnosticsParams(uri=uri, diagnostics=[]))


def _overlaps(a: types.Range, b: types.Range) -> bool:
    def key(p: types.Position) -> tuple[int, int]:
        return p.line, p.character

    return key(a.start) <= key(b.end) and key(b.start) <= key(a.end)


def _wanted(kind: str, only: list[str] | None) -> bool:
    return not only or any(kind == o or kind.startswith(f"{o}.") for o in only)


@server.feature(types.TEXT_DOCUMENT_CODE_ACTION, types.CodeActionOptions(
    code_action_kinds=[types.CodeActionKind.QuickFix, types.CodeActionKind.SourceFixAll, FIX_ALL_KIND]))
async def code_action(ls: AsyncLintServer, params: types.CodeActionParams) -> list[types.CodeAction] | None:
    uri = params.text_document.uri
    linted = await ls.current(uri)
    if linted is None:
        return None
    lines = ls.lines(linted.text)
    only = [str(kind.value if hasattr(kind, "value") else kind) for kind in params.context.only or []]
    actions: list[types.CodeAction] = []

    def action(title: str, kind: str, edits: list[types.TextEdit], finding: Finding | None = None,
               preferred: bool = False) -> types.CodeAction:
        return types.CodeAction(
            title=title, kind=kind, is_preferred=preferred or None,
            diagnostics=[convert.diagnostic(finding, lines)] if finding is not None else None,
            edit=types.WorkspaceEdit(changes={uri: edits}))

    if _wanted(types.CodeActionKind.QuickFix.value, only):
        here = [f for f in linted.findings if _overlaps(convert.finding_range(f, lines), params.range)]
        for finding in here:
            if finding.fix is not None and finding.fix.edits:
                unsafe = " (unsafe)" if finding.fix.applicability != "safe" else ""
                actions.append(action(f"{finding.code}: {finding.fix.message}{unsafe}", types.CodeActionKind.QuickFix,
                                      convert.fix_edits(finding.fix, lines), finding,
                                      preferred=finding.fix.applicability == "safe"))
        for finding in here:
            edit = convert.noqa_edit(finding, lines)
            if edit is not None:
                actions.append(action(f"{finding.code}: add `# noqa: {finding.code}` to this line",
                                      types.CodeActionKind.QuickFix, [edit], finding))
    safe = [f for f in linted.findings if f.fix is not None and f.fix.applicability == "safe"]
    # Editors ask for code actions at every move of the cursor: "fix all" (a few lints of the buffer) is
    # offered when asked for by kind (on save), or beside a quick fix; computed once per version of the buffer.
    asked = bool(only) or any(a.kind == types.CodeActionKind.QuickFix and a.is_preferred for a in actions)
    if safe and asked and _wanted(FIX_ALL_KIND, only):
        fixed = await ls.fix_all(uri, linted)
        if fixed != linted.text:
            actions.append(action("async-lint: fix all safe fixes", FIX_ALL_KIND,
                                  convert.replace_text(linted.text, fixed, lines)))
    return actions


@server.feature(types.TEXT_DOCUMENT_HOVER)
async def hover(ls: AsyncLintServer, params: types.HoverParams) -> types.Hover | None:
    known = ls.linted.get(params.text_document.uri)
    doc = ls.document(params.text_document.uri)
    if known is None or doc is None or known.text != doc.source:
        return None  # a hover must answer at once: only for findings of the buffer as it is
    lines = ls.lines(known.text)
    at = types.Range(params.position, params.position)
    here = [f for f in known.findings if _overlaps(convert.finding_range(f, lines), at)]
    if not here:
        return None
    catalog = load_catalog()
    text = "\n---\n\n".join(convert.hover_text(f, catalog.rules.get(f.code)) for f in here)
    return types.Hover(contents=types.MarkupContent(kind=types.MarkupKind.Markdown, value=text),
                       range=convert.finding_range(here[0], lines))


def run() -> None:
    logging.basicConfig(level=logging.WARNING, format="async-lint server: %(levelname)s %(message)s")
    server.start_io()
