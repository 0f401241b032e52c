"""The rule catalog: rule documentation and API tables, loaded from the TOML files under `rules/`.

The checks hold no API names of their own; everything they know about libraries comes from here, so users can
extend it from configuration and the documentation is generated from the same source.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable


def catalog_dir() -> Path:
    """The folder holding the catalog: inside the wheel, or `rules/` beside the package in a checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_catalog", here.parent / "rules"):
        if candidate.is_dir() and any(candidate.glob("*.toml")):
            return candidate
    raise RuntimeError(f"async-lint rule catalog not found next to {here}")


@dataclass(frozen=True)
class RuleDoc:
    code: str
    name: str
    summary: str
    why: str
    bad: str
    good: str
    fix: str
    fix_safety: str  # "safe", "unsafe" or "none"
    default: bool
    family: str
    triggers: tuple[str, ...]
    triggers_anywhere: bool = False  # the trigger words count in strings and comments too (serving.Prefilter)
    project: bool = False  # needs the project index (answers from other files, or publishes facts for them)
    preview: bool = False  # runs only with `--preview` / `preview = true`
    peer_codes: tuple[str, ...] = ()  # other linters' codes for the same pitfall (PEER_CODES)

    @property
    def has_fix(self) -> bool:
        return self.fix_safety in ("safe", "unsafe")

    @property
    def always(self) -> bool:
        """Reported whatever is selected: the input and internal errors (AL001, AL002), not AL003 (opt-in)."""
        return self.code in ALWAYS_REPORTED

    @property
    def default_label(self) -> str:
        """`always` (AL001/AL002: reported whatever is selected), `on` or `off` (opt-in); `preview (on)` /
        `preview (off)` for a preview rule, which runs only in preview."""
        if self.always:
            return "always"
        label = "on" if self.default else "off"
        return f"preview ({label})" if self.preview else label


# Problems with the input and crashes, reported whatever is selected (the other AL0 rules are opt-in).
ALWAYS_REPORTED = frozenset({"AL001", "AL002"})

# The codes ruff and flake8-async give the same pitfalls: a line already silenced for them (`# noqa: ASYNC210`) is
# silenced for the async-lint rule too, so a project moving over from those tools keeps its suppressions. Only a
# peer code for the same pitfall counts: `# noqa: ASYNC210` (a blocking HTTP call) does not silence AL101.
PEER_CODES: dict[str, tuple[str, ...]] = {
    "AL101": ("ASYNC251",),  # time.sleep()
    "AL102": ("ASYNC210",),  # blocking HTTP call
    "AL104": ("ASYNC220", "ASYNC221", "ASYNC222"),  # blocking subprocess / os.wait
    "AL106": ("ASYNC250",),  # blocking input()
    # blocking open(); os.path / pathlib file I/O. And AL103: single-file I/O was AL103 before AL110 split off,
    # so a `# noqa: AL103` written then keeps silencing it.
    "AL110": ("ASYNC230", "ASYNC240", "AL103"),
    "AL202": ("RUF006", "ASYNC300"),  # create_task() result not kept
    "AL303": ("S113",),  # requests call without timeout
    "AL501": ("ASYNC102", "ASYNC103", "ASYNC104"),  # cancellation awaited in finally / not re-raised
}


def suppressed_by_peer(code: str, noqa: Iterable[str]) -> bool:
    """Does a `# noqa` listing `noqa` (upper-case codes) name another linter's code for `code`'s pitfall?"""
    peers = PEER_CODES.get(code)
    return bool(peers) and any(c in peers for c in noqa)


@dataclass(frozen=True)
class ApiEntry:
    """One blocking API: what blocks and what to use instead."""

    code: str
    name: str
    why: str
    suggest: str
    starts: bool = False  # starts work and returns (`subprocess.Popen`): no wait, so AL107 does not follow it


@dataclass(frozen=True)
class TypeInfo:
    name: str
    methods: dict[str, str] = field(default_factory=dict)
    attributes: dict[str, str] = field(default_factory=dict)
    call_returns: str | None = None
    subscript: str | None = None
    div: str | None = None
    bitor: str | None = None  # type of instance | other (a LangChain `prompt | llm` makes a Runnable)
    enter: str | None = None


def _compile(pattern: str) -> re.Pattern[str]:
    """`requests.Session.*` matches one more name part: `*` never crosses a dot (`Session.get`, not
    `Session.get.x`)."""
    return re.compile("".join("[^.]*" if ch == "*" else re.escape(ch) for ch in pattern) + r"\Z")


class PatternTable:
    """Qualified name -> value, with exact names, `prefix*` patterns and exceptions."""

    def __init__(self) -> None:
        self.exact: dict[str, Any] = {}
        self.patterns: list[tuple[re.Pattern[str], Any]] = []
        self.excluded: set[str] = set()

    def add(self, pattern: str, value: Any, excluded: Iterable[str] = ()) -> None:
        if "*" in pattern:
            self.patterns.append((_compile(pattern), value))
        else:
            self.exact[pattern] = value
        self.excluded.update(excluded)

    def roots(self) -> set[str]:
        """Top-level package names the table speaks of."""
        names = set(self.exact) | {p.pattern.replace("\\", "") for p, _ in self.patterns}
        return {name.split(".", 1)[0] for name in names}

    def get(self, name: str) -> Any:
        value = self.exact.get(name)
        if value is not None:
            return value
        if name in self.excluded:
            return None
        for pattern, value in self.patterns:
            if pattern.match(name):
                return value
        return None

    def __contains__(self, name: str) -> bool:
        return self.get(name) is not None


@dataclass
class Catalog:
    rules: dict[str, RuleDoc]
    types: dict[str, TypeInfo]
    type_aliases: dict[str, str]  # any qualified class name -> canonical type name
    factories: dict[str, str]  # call qualified name -> type it returns
    factory_unless_keywords: dict[str, tuple[str, ...]]
    awaited_factories: dict[str, str]  # `await f(...)` gives an instance: asyncpg.connect
    blocking: PatternTable
    blocking_context: dict[str, ApiEntry]  # type -> entry, for `with lock:`
    nonblocking_forms: dict[str, tuple[str, int]]  # call -> (keyword, position) that makes it non-blocking
    tables: dict[str, list[dict[str, Any]]]  # other families' raw tables, by table name
    digest: str

    def pattern_table(self, table: str) -> PatternTable:
        """A `[[table]]` of entries with `calls` (and optional `except`) as a PatternTable of the entries."""
        cache = self.__dict__.setdefault("_pattern_tables", {})
        if table not in cache:
            patterns = PatternTable()
            for entry in self.tables.get(table, []):
                for call in entry.get("calls", []):
                    patterns.add(call, entry, entry.get("except", ()))
            cache[table] = patterns
        return cache[table]

    @property
    def library_roots(self) -> frozenset[str]:
        """Top-level names of every library the catalog knows (requests, redis, sqlalchemy, ...): never
        project code, even when a project file happens to be called `redis.py`."""
        cache = self.__dict__.setdefault("_pattern_tables", {})
        if "_roots" not in cache:
            roots = set(self.blocking.roots()) | {n.split(".", 1)[0] for n in self.type_aliases}
            roots |= {n.split(".", 1)[0] for n in self.factories}
            for table in self.tables:
                roots |= self.pattern_table(table).roots()
            cache["_roots"] = frozenset(r for r in roots if r.isidentifier())
        return cache["_roots"]

    def needs_index(self, enabled: Iterable[str]) -> bool:
        """Does any of these rules need the project index (its entry says `project = true`)?"""
        return any(self.rules[code].project for code in enabled if code in self.rules)

    def rule(self, code: str) -> RuleDoc:
        return self.rules[code]

    def canonical_type(self, qualified: str | None) -> str | None:
        if qualified is None:
            return None
        return self.type_aliases.get(qualified)

    def factory_type(self, qualified: str) -> str | None:
        return self.factories.get(qualified)


def _dedent(text: str) -> str:
    return text.strip("\n")


def build_catalog(
    files: list[tuple[str, dict[str, Any]]], extra_blocking: dict[str, dict[str, str]] | None = None,
    preview: bool = True,
) -> Catalog:
    """The catalog of `files`; without `preview`, `[[blocking]]` entries marked `preview = true` are left out."""
    rules: dict[str, RuleDoc] = {}
    types: dict[str, TypeInfo] = {}
    aliases: dict[str, str] = {}
    factories: dict[str, str] = {}
    unless: dict[str, tuple[str, ...]] = {}
    awaited: dict[str, str] = {}
    blocking = PatternTable()
    blocking_context: dict[str, ApiEntry] = {}
    nonblocking: dict[str, tuple[str, int]] = {}
    tables: dict[str, list[dict[str, Any]]] = {}
    digest = hashlib.sha256()

    for filename, data in files:
        digest.update(filename.encode())
        digest.update(repr(sorted(data.items(), key=lambda kv: kv[0])).encode())
        family = data.get("family", "")
        triggers = tuple(data.get("triggers", ()))
        for rule in data.get("rules", []):
            doc = RuleDoc(
                code=rule["code"],
                name=rule["name"],
                summary=rule["summary"],
                why=_dedent(rule.get("why", "")),
                bad=_dedent(rule.get("bad", "")),
                good=_dedent(rule.get("good", "")),
                fix=rule.get("fix", ""),
                fix_safety=rule.get("fix-safety", "none"),
                default=rule.get("default", True),
                family=family,
                triggers=tuple(rule.get("triggers", triggers)),
                triggers_anywhere=rule.get("triggers-anywhere", False),
                project=rule.get("project", False),
                preview=rule.get("preview", False),
                peer_codes=PEER_CODES.get(rule["code"], ()),
            )
            if doc.code in rules:
                raise ValueError(f"{filename}: rule {doc.code} is defined twice")
            rules[doc.code] = doc
        for name, spec in data.get("types", {}).items():
            # Several families may describe the same type; their descriptions merge.
            known = types.get(name)
            types[name] = TypeInfo(
                name=name,
                methods={**(known.methods if known else {}), **spec.get("methods", {})},
                attributes={**(known.attributes if known else {}), **spec.get("attributes", {})},
                call_returns=spec.get("call-returns", known.call_returns if known else None),
                subscript=spec.get("subscript", known.subscript if known else None),
                div=spec.get("div", known.div if known else None),
                bitor=spec.get("bitor", known.bitor if known else None),
                enter=spec.get("enter", known.enter if known else None),
            )
            aliases[name] = name
            for alias in spec.get("aliases", []):
                aliases[alias] = name
            for factory in spec.get("factories", []):
                factories[factory] = name
            for factory in spec.get("awaited-factories", []):
                awaited[factory] = name
            if spec.get("unless-keywords"):
                unless[name] = tuple(spec["unless-keywords"])
        for entry in data.get("blocking", []):
            if entry.get("preview", False) and not preview:
                continue
            for call in entry["calls"]:
                blocking.add(
                    call,
                    ApiEntry(entry["code"], call.rstrip("*").rstrip("."), entry["why"], entry["suggest"],
                             entry.get("starts", False)),
                    entry.get("except", ()),
                )
        for entry in data.get("blocking-context", []):
            for type_name in entry["types"]:
                blocking_context[type_name] = ApiEntry(entry["code"], type_name, entry["why"], entry["suggest"])
        for entry in data.get("nonblocking-forms", []):
            for call in entry["calls"]:
                nonblocking[call] = (entry["arg"], entry["position"])
        for key, value in data.items():
            if key not in ("family", "title", "triggers", "rules", "types", "blocking", "blocking-context",
                           "nonblocking-forms") and isinstance(value, list):
                tables.setdefault(key, []).extend(value)

    for name, spec in (extra_blocking or {}).items():
        why, suggest = user_blocking_texts(spec)
        blocking.add(name, ApiEntry(spec["code"], name, why, suggest))
        digest.update(f"{name}={spec!r}".encode())

    # A class's own qualified name is a factory of its instances.
    for alias, canonical in aliases.items():
        factories.setdefault(alias, canonical)

    return Catalog(
        rules=rules,
        types=types,
        type_aliases=aliases,
        factories=factories,
        factory_unless_keywords=unless,
        awaited_factories=awaited,
        blocking=blocking,
        blocking_context=blocking_context,
        nonblocking_forms=nonblocking,
        tables=tables,
        digest=digest.hexdigest(),
    )


# The reason an `extend-blocking-calls` entry without `why` gives. The message already says "blocks the event
# loop in `f`: ", so the reason must not repeat it (it used to read "blocks the event loop: blocks the event loop").
USER_BLOCKING_WHY = "`extend-blocking-calls` lists it as a blocking call"
_USE = re.compile(r"^\s*use\s+", re.IGNORECASE)
_BLOCKS = re.compile(r"^\s*(?:it\s+)?blocks\s+the\s+event\s+loop\s*[:.,;-]?\s*", re.IGNORECASE)


def user_blocking_texts(spec: dict[str, str]) -> tuple[str, str]:
    """(why, suggest) of a user's `extend-blocking-calls` entry, as the message composes them: "`f()` blocks the
    event loop in `g`: {why}" and the help "use {suggest}". A `suggest` written as "use x" (the README's example)
    loses its "use", and a `why` that only repeats "blocks the event loop" gives the default reason."""
    suggest = _USE.sub("", spec["suggest"]).strip() or spec["suggest"].strip()
    why = _BLOCKS.sub("", spec.get("why") or "").strip() or USER_BLOCKING_WHY
    return why, suggest


@lru_cache(maxsize=1)
def _builtin_files() -> tuple[tuple[str, dict[str, Any]], ...]:
    from async_lint.catalog_files import read_catalog_files  # parsed TOML, through a snapshot (see there)

    return tuple(read_catalog_files(catalog_dir()))


@lru_cache(maxsize=8)
def _load(extra_key: tuple[tuple[str, tuple[tuple[str, str], ...]], ...], preview: bool = True) -> Catalog:
    extra = {name: dict(items) for name, items in extra_key}
    return build_catalog(list(_builtin_files()), extra, preview)


def load_catalog(extra_blocking: dict[str, dict[str, str]] | None = None, preview: bool = True) -> Catalog:
    """The built-in catalog plus the user's `extend-blocking-calls` (cached per distinct extension); with
    `preview` off, without the preview `[[blocking]]` entries (a run's catalog: `Settings.catalog()`)."""
    key = tuple(sorted((name, tuple(sorted(spec.items()))) for name, spec in (extra_blocking or {}).items()))
    return _load(key, preview)
