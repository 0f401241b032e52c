"""The project index: what every module defines, so checks can follow calls across files.

Each file yields a `ModuleSummary` (plain data: picklable and cacheable by content) while it is linted. Checks
that need another file's answer (is `save_order` an `async def`? does `slow_report` block further down?) do not
wait for it: they emit a `Deferred` finding, already positioned, naming the question. Once every summary is
merged, `ProjectIndex.resolve` answers the questions; a changed file thus changes the answers for its dependents
on the next run without re-linting them.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from async_lint.index_flow import FlowQueries
from async_lint.paths import display_path


# ---------------------------------------------------------------------------------------------------- naming


_INIT_CACHE: dict[str, bool] = {}


def _has_init(folder: str) -> bool:
    known = _INIT_CACHE.get(folder)
    if known is None:
        known = _INIT_CACHE[folder] = (os.path.isfile(os.path.join(folder, "__init__.py"))
                                       or os.path.isfile(os.path.join(folder, "__init__.pyi")))
    return known


def _source_root_of(full: str, roots: tuple[str, ...]) -> str | None:
    """The deepest source root (absolute folder) that holds the file, if any."""
    best = None
    for root in roots:
        if full.startswith(root.rstrip(os.sep) + os.sep) and (best is None or len(root) > len(best)):
            best = root
    return best


def _top_folder(full: str, roots: tuple[str, ...]) -> str | None:
    """The top folder of the package holding the file at `full`, as the import system finds it from the source
    roots: the highest folder below the file's source root that has an `__init__.py`, the folders between it
    and the file being namespace portions (PEP 420) when they have none; below a source root other than the
    project root itself (`src/`) every folder is a package even with no `__init__.py` anywhere. None for a file
    outside any package. A file below no source root (or below one that is itself a package) keeps the plain
    `__init__.py` chain."""
    folder = os.path.dirname(full)
    root = _source_root_of(full, roots[1:])
    if root is None or _has_init(root):  # no source root, or one inside a package (`check mypkg/`)
        top = None
        while _has_init(folder):
            top = folder
            parent = os.path.dirname(folder)
            if parent == folder:
                break
            folder = parent
        return top
    root = root.rstrip(os.sep)
    chain = []  # the folders from the file's up to (not including) the source root
    while folder != root and len(folder) > len(root):
        chain.append(folder)
        folder = os.path.dirname(folder)
    packages = [f for f in chain if _has_init(f)]
    if packages:
        return packages[-1]
    if chain and root != roots[0].rstrip(os.sep):
        return chain[-1]
    return None


def module_name_for(path: Path | str, roots: tuple[str, ...] = ()) -> tuple[str, bool]:
    """Dotted module name of a file, and whether it is a package's `__init__`. `roots` is the absolute project
    root followed by the absolute source roots (`Settings.source_roots`); without them the name follows the
    file's `__init__.py` chain only. A file outside any package is a top-level module named after its stem."""
    full = os.path.abspath(path)
    folder, name = os.path.split(full)
    is_package = name in ("__init__.py", "__init__.pyi")
    top = _top_folder(full, roots)
    if top is None:
        if is_package:  # an `__init__.py` right in a source root
            return os.path.basename(folder), True
        return name.rsplit(".", 1)[0], False
    relative = os.path.relpath(folder, os.path.dirname(top)).split(os.sep)
    parts = relative if is_package else [*relative, name.rsplit(".", 1)[0]]
    return ".".join(parts), is_package


def package_root(path: Path | str, roots: tuple[str, ...] = ()) -> str | None:
    """The top folder of the package a file belongs to (None for a file outside any package)."""
    return _top_folder(os.path.abspath(path), roots)


# ---------------------------------------------------------------------------------------------------- summaries


@dataclass
class FunctionSummary:
    qualname: str
    is_async: bool
    returns_coroutine: bool  # an `async def` that is not a generator and not wrapped into something else
    may_return_callable: bool  # defines a nested def/lambda or uses functools.partial: maybe a factory
    blocking: tuple[str, str, int] | None = None  # first direct blocking call: (callee, code, line)
    calls: tuple[str, ...] = ()  # project callees called directly (not awaited)
    blocking_call: int = -1  # the blocking call's index in the walker's `facts.calls` of its file
    runs_once: bool = False  # cached (`functools.cache` / `lru_cache`): its body runs once per argument set
    returned: tuple[str, ...] = ()  # project callees whose call it returns (`return self._arun(...)`)
    returns_awaitable: bool = False  # returns an asyncio awaitable on some path (`return asyncio.ensure_future(...)`)
    # Preview (issue 13), see async_lint.flow:
    params: tuple[str, ...] = ()  # what positional arguments fill (a bound method's receiver left out)
    instance_method: bool = False  # its first parameter is `self`: a call through the class fills it
    param_uses: dict[str, str] = field(default_factory=dict)  # "value:<how>" / "pass:<callee>\0<key>"
    abstract: bool = False  # only raises NotImplementedError / @abstractmethod: the overrides do the work
    attr_calls: tuple[tuple[str, str, int], ...] = ()  # `self.<attr>.<method>()` of untyped attributes, line
    self_calls: tuple[str, ...] = ()  # an `async def`'s unawaited `self.<method>()` calls (an async twin's body)
    awaits: tuple[str, ...] = ()  # an `async def`'s awaited calls, by method name (`await self.splitter.asplit()`)


@dataclass
class ClassSummary:
    qualname: str
    bases: tuple[str, ...] = ()
    methods: tuple[str, ...] = ()
    init_attrs: dict[str, str] = field(default_factory=dict)  # `self.<attr> = <param>` in `__init__` (preview)


@dataclass
class ModuleSummary:
    module: str
    path: str
    is_package: bool = False
    imports: dict[str, str] = field(default_factory=dict)  # module-level name -> qualified (re-exports)
    variables: dict[str, str] = field(default_factory=dict)  # module-level instance -> its class (`payments`)
    functions: dict[str, FunctionSummary] = field(default_factory=dict)
    classes: dict[str, ClassSummary] = field(default_factory=dict)
    shared: dict[str, set[str]] = field(default_factory=dict)
    awaited: set[str] = field(default_factory=set)  # short names of functions awaited here (`await x.save()`)
    # Preview: "<project callee>\0<argument key>\0<library type>" for each typed argument (`Provider(session)`)
    arg_types: set[str] = field(default_factory=set)
    # (function qualname, call node) whose line is still to be computed; emptied before the summary leaves
    # the worker (nodes are not data).
    pending_lines: list = field(default_factory=list, repr=False, compare=False)

    @property
    def coroutine_names(self) -> set[str]:
        """Module-level coroutine functions (methods need a typed receiver, found only in parsed files)."""
        prefix = self.module + "."
        return {q[len(prefix):] for q, f in self.functions.items()
                if f.returns_coroutine and "." not in q[len(prefix):]}


@dataclass
class Deferred:
    """A finding that stands only if the project index says so. It carries no position: computing positions
    costs a codegen pass, so the file is re-read only for the few that the index confirms."""

    kind: str  # "coroutine" | "callable" | "blocking-helper" | "unless-shared" | "if-shared"
    # the qualified name asked about (for unless-shared: "key\0value" lines, see `resolve`; for if-shared:
    # "key\0value\0unless-key")
    target: str
    code: str
    message: str
    suggestion: str | None
    locator: int  # the reported call's index in the walker's `facts.calls` of this file
    fix: str | None = None  # name of the fix builder in checks.DEFERRED_FIXES, rebuilt when placed
    unless_cli_only: str | None = None  # see Finding.unless_cli_only


# ---------------------------------------------------------------------------------------------------- the index

class ProjectIndex(FlowQueries):
    def __init__(self, summaries: list[ModuleSummary], helper_depth: int = 4,
                 blocking_of: Callable[[str], str | None] | None = None, preview: bool = False):
        self.helper_depth = helper_depth
        self.preview = preview  # AL107 follows an abstract method's overrides (issue 13) only in preview
        # A library call's name as the chain shows it when it blocks (catalog `[[blocking]]` of the followed
        # codes), else None: what types the preview attribute calls (`self.session.query` of a passed Session).
        self.blocking_of = blocking_of
        self._arg_types: dict[str, list[tuple[str, str]]] = {}  # project callee -> (argument key, type)
        self._subclasses: dict[str, list[str]] | None = None
        self.modules: dict[str, ModuleSummary] = {}
        self.functions: dict[str, FunctionSummary] = {}
        self.classes: dict[str, ClassSummary] = {}
        self.paths: dict[str, str] = {}  # function qualname -> file path
        self._shared: dict[str, set[str]] = {}
        self.awaited: set[str] = set()
        self._chains: dict[str, list[str] | None] = {}
        for summary in summaries:
            self.add(summary)

    def add(self, summary: ModuleSummary) -> None:
        self.modules[summary.module] = summary
        self.functions.update(summary.functions)
        for qualname in summary.functions:
            self.paths[qualname] = summary.path
        self.classes.update(summary.classes)
        self.awaited |= summary.awaited
        self._chains: dict[str, list[str] | None] = {}  # a new module can complete any chain
        self.__dict__.pop("_async_by_name", None)  # AL108's index of async defs by name (index_flow.py)
        for key, values in summary.shared.items():
            self._shared.setdefault(key, set()).update(values)
        for line in summary.arg_types:
            callee, key, typed = line.split("\0")
            self._arg_types.setdefault(callee, []).append((key, typed))
        self._subclasses = None

    def shared(self, key: str) -> set[str]:
        return self._shared.get(key, set())

    # ------------------------------------------------------------------ lookups
    def _follow_reexport(self, qualname: str) -> str | None:
        """`app.geocode` where app/__init__.py has `from .helpers import geocode` -> `app.helpers.geocode`;
        `app.services.payments.charge` where `payments = PaymentsClient()` -> `...PaymentsClient.charge`."""
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            module = self.modules.get(".".join(parts[:cut]))
            if module is None:
                continue
            target = module.imports.get(parts[cut]) or module.variables.get(parts[cut])
            if target is None:
                return None
            return ".".join([target, *parts[cut + 1:]])
        return None

    def function(self, qualname: str) -> FunctionSummary | None:
        """The function a qualified name denotes: direct, a method found through project base classes, a
        class's `__init__` for a constructor call, or through re-exports."""
        for _ in range(6):
            found = self.functions.get(qualname)
            if found is not None:
                return found
            owner, _, attr = qualname.rpartition(".")
            if owner in self.classes:
                method = self.method(owner, attr)
                if method is not None:
                    return method
            if qualname in self.classes:
                return self.method(qualname, "__init__")
            followed = self._follow_reexport(qualname)
            if followed is None or followed == qualname:
                return None
            qualname = followed
        return None

    def resolve_class(self, qualname: str) -> str | None:
        for _ in range(6):
            if qualname in self.classes:
                return qualname
            followed = self._follow_reexport(qualname)
            if followed is None:
                return None
            qualname = followed
        return None

    def method(self, class_qualname: str, name: str, seen: set[str] | None = None) -> FunctionSummary | None:
        seen = seen if seen is not None else set()
        if class_qualname in seen:
            return None
        seen.add(class_qualname)
        found = self.functions.get(f"{class_qualname}.{name}")
        if found is not None:
            return found
        cls = self.classes.get(class_qualname)
        for base in cls.bases if cls else ():
            resolved = self.resolve_class(base)
            if resolved is not None:
                found = self.method(resolved, name, seen)
                if found is not None:
                    return found
        return None

    def may_return_awaitable(self, fn: FunctionSummary, depth: int = 3) -> bool:
        """A sync "dispatch" function: on some path it returns a coroutine (`return self._arun(...)` of a project
        `async def`, or of another dispatch function) or an asyncio awaitable. Called from async code it does
        not block: it hands the work back to the loop."""
        if fn.returns_awaitable:
            return True
        for callee in fn.returned:
            target = self.function(callee)
            if target is None or target is fn or callee in self.classes:
                continue
            if target.returns_coroutine or (not target.is_async and depth > 0
                                            and self.may_return_awaitable(target, depth - 1)):
                return True
        return False

    def blocking_chain(self, qualname: str, depth: int | None = None, seen: frozenset[str] = frozenset()
                       ) -> list[str] | None:
        """[helper qualnames..., "callee (path:line)"] when a sync project function blocks within `depth` calls.
        A cached function (runs once per argument set) and a dispatch function (may return a coroutine) end
        every chain."""
        depth = self.helper_depth if depth is None else depth
        fn = self.function(qualname)
        if fn is None or fn.is_async or depth <= 0 or fn.qualname in seen:
            return None
        if fn.runs_once or self.may_return_awaitable(fn):
            return None
        key = f"{qualname if fn.abstract else fn.qualname}@{depth}"  # an abstract one: per class asked
        if key in self._chains:
            return self._chains[key]
        self._chains[key] = None  # cycle guard while computing
        result = None
        if fn.blocking is not None:
            callee, _code, line = fn.blocking
            result = [fn.qualname, f"{callee} ({display_path(self.paths.get(fn.qualname, '?'))}:{line})"]
        else:
            for callee in fn.calls:
                below = self.blocking_chain(callee, depth - 1, seen | {fn.qualname})
                if below is not None:
                    result = [fn.qualname, *below]
                    break
        if result is None and fn.attr_calls:
            result = self._attr_chain(fn)
        if result is None and fn.abstract and self.preview:
            result = self._override_chain(qualname, fn, depth, seen)
        self._chains[key] = result
        return result

    def local_name(self, qualname: str) -> str:
        """A function's name inside its module: `Exporter.__init__` for `app.export.Exporter.__init__`."""
        parts = qualname.split(".")
        for cut in range(len(parts) - 1, 0, -1):
            if ".".join(parts[:cut]) in self.modules:
                return ".".join(parts[cut:])
        return parts[-1]

    # ------------------------------------------------------------------ answering deferred findings
    def resolve(self, item: Deferred) -> str | None:
        """The finding's message if the index confirms it, else None."""
        if item.kind == "coroutine":
            fn = self.function(item.target)
            return item.message if fn is not None and fn.returns_coroutine else None
        if item.kind == "callable":
            fn = self.function(item.target)
            if fn is None or item.target in self.classes:
                return None
            if fn.returns_coroutine or not (fn.may_return_callable or fn.is_async):
                return item.message
            return None
        if item.kind == "blocking-helper":
            chain = self.blocking_chain(item.target)
            if chain is None:
                return None
            names = [self.local_name(q) for q in chain[:-1]] + [chain[-1].removeprefix("builtins.")]
            return item.message.replace("{chain}", " → ".join(names))
        if item.kind == "coroutine-arg":
            # "<coroutine callee or empty>\0<project callee>\0<argument key>": the callee uses the value.
            made, callee, key = item.target.split("\0")
            if made and not ((fn := self.function(made)) is not None and fn.returns_coroutine):
                return None
            use = self.param_use(callee, key)
            return item.message.replace("{use}", use) if use is not None else None
        if item.kind == "sync-twin":
            # "<class>\0<method>": the class has an `async def` twin of the sync method.
            cls, method = item.target.split("\0")
            twin = self.async_twin(cls, method)
            if twin is None:
                return None
            if item.suggestion:
                item.suggestion = item.suggestion.replace("{twin}", twin)
            # the fix awaits the twin: only one that returns a coroutine (not an async generator)
            owner = self.resolve_class(cls)
            found = self.method(owner, twin) if owner is not None else None
            item.fix = f"twin:{twin}" if item.fix and found is not None and found.returns_coroutine else None
            return item.message.replace("{twin}", twin)
        if item.kind == "attr-blocking":
            # "<class>\0<attr>\0<method>": `self.<attr>` holds a blocking library type its constructor was given.
            cls, attr, method = item.target.split("\0")
            chain = self.stored_blocking(cls, attr, method)
            return item.message.replace("{chain}", chain) if chain is not None else None
        if item.kind == "blocking-sink":
            return item.message
        if item.kind == "unless-shared":
            # One "key\0value" per line: dropped when the value is published under the key; a line that starts
            # with "+" is the opposite (dropped unless it is published).
            for condition in item.target.split("\n"):
                required = condition.startswith("+")
                key, _, value = condition.removeprefix("+").partition("\0")
                if (value in self.shared(key)) != required:
                    return None
            return item.message
        if item.kind == "if-shared":
            key, value, unless = item.target.split("\0")
            return item.message if value in self.shared(key) and value not in self.shared(unless) else None
        raise ValueError(f"unknown deferred kind {item.kind!r}")
