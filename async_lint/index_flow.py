"""Preview questions the project index answers (issue 13): how a function uses what it is handed, a method's
async twin, the library types stored on objects, the overrides of abstract methods. A mixin of ProjectIndex."""

from __future__ import annotations

from typing import TYPE_CHECKING

from async_lint.paths import display_path

if TYPE_CHECKING:
    from async_lint.index import FunctionSummary


def twin_names(method: str) -> tuple[str, ...]:
    """The names an async twin of `method` may have (AL108; looked up in this order)."""
    return (f"a{method}", f"{method}_async", f"async_{method}", f"a_{method}", f"aio_{method}")


class FlowQueries:
    # ------------------------------------------------------------------ preview: coroutine flow, twins
    def param_use(self, callee: str, key: str, depth: int = 3) -> str | None:
        """How the project function `callee` uses the argument `key` ("0", "k:name"; "C…" when called through
        a class or module name) as a value, following hand-offs to other project functions; None when it may
        await it, or nothing is known."""
        fn = self.function(callee)
        if fn is None or depth < 0:
            return None
        if key.startswith("C"):
            if fn.instance_method and self.resolve_class(callee) is None:
                return None  # `Handler.handle(self, data)`: the first argument fills `self`
            key = key[1:]
        if key.startswith("k:"):
            name = key[2:]
        elif key.isdigit() and int(key) < len(fn.params):
            name = fn.params[int(key)]
        else:
            return None
        use = fn.param_uses.get(name)
        if use is None:
            return None
        if use.startswith("value:"):
            return f"`{name}` {use[6:].replace('it is ', 'is ', 1)} in `{self.local_name(fn.qualname)}`"
        below, _, below_key = use[5:].partition("\0")
        return self.param_use(below, below_key, depth - 1)

    def async_twin(self, class_qualname: str, method: str) -> str | None:
        """The name of an `async def` twin of a sync method of a project class (`afoo`, `foo_async`,
        `async_foo`, `aio_foo`), None when there is none or `method` itself is async."""
        cls = self.resolve_class(class_qualname)
        if cls is None:
            return None
        sync = self.method(cls, method)
        if sync is None or sync.is_async or self.may_return_awaitable(sync):
            return None
        if sync.abstract and (not self.preview or self.blocking_chain(f"{cls}.{method}") is None):
            # an abstract pair: only an override that blocks tells the sync one waits (else a transform); the
            # overrides are followed in preview only, so outside it an abstract pair is not reported
            return None
        for twin in twin_names(method):
            found = self.method(cls, twin)
            # defined next to the sync method: a base's `get_ttl()` (a getter) and a subclass's
            # `async_get_ttl()` (a Redis query) are not twins
            if (found is not None and found.is_async
                    and found.qualname.rpartition(".")[0] == sync.qualname.rpartition(".")[0]):
                # a twin that runs the sync method itself (a default `async def afoo(): return self.foo()`)
                # gains nothing over it; nor one that only awaits such defaults of other objects
                # (`await self.splitter.asplit(doc)` where every `asplit` returns `self.split(doc)`)
                if method in found.self_calls or found.awaits and all(map(self._wraps_sync, found.awaits)):
                    return None
                return twin
        return None

    def _wraps_sync(self, name: str) -> bool:
        """Is every project `async def` named `name` a default that runs its sync twin (`async def asplit(self,
        doc): return self.split(doc)`)? False when there is none, or one does async work of its own."""
        by_name = self.__dict__.get("_async_by_name")
        if by_name is None:
            by_name = self.__dict__["_async_by_name"] = {}
            for fn in self.functions.values():
                if fn.is_async:
                    by_name.setdefault(fn.qualname.rsplit(".", 1)[-1], []).append(fn)
        found = by_name.get(name, ())
        return bool(found) and all(not fn.awaits and any(name in twin_names(s) for s in fn.self_calls)
                                   for fn in found)

    # ------------------------------------------------------------------ preview: objects and overrides
    def _owner(self, fn: FunctionSummary) -> str | None:
        owner = fn.qualname.rpartition(".")[0]
        return owner if owner in self.classes else None

    def _ancestry(self, class_qualname: str) -> list[str]:
        """The class and its project base classes, nearest first."""
        out, todo = [], [class_qualname]
        while todo and len(out) < 20:
            current = todo.pop(0)
            if current in out:
                continue
            out.append(current)
            cls = self.classes.get(current)
            todo.extend(r for b in (cls.bases if cls else ()) if (r := self.resolve_class(b)) is not None)
        return out

    def subclasses(self, class_qualname: str) -> list[str]:
        """The project classes below `class_qualname` (any depth), in index order."""
        if self._subclasses is None:
            direct: dict[str, list[str]] = {}
            for qualname, cls in self.classes.items():
                for base in cls.bases:
                    resolved = self.resolve_class(base)
                    if resolved is not None and resolved != qualname:
                        direct.setdefault(resolved, []).append(qualname)
            self._subclasses = direct
        out, todo = [], list(self._subclasses.get(class_qualname, ()))
        while todo and len(out) < 50:
            current = todo.pop(0)
            if current not in out:
                out.append(current)
                todo.extend(self._subclasses.get(current, ()))
        return out

    def attr_types(self, class_qualname: str, attr: str) -> set[str]:
        """The library types that the constructor's callers pass for the parameter `__init__` stores in
        `self.<attr>` (`Provider(session)` with `self.session = session`)."""
        for owner in self._ancestry(class_qualname):
            cls = self.classes[owner]
            param = cls.init_attrs.get(attr)
            if param is None:
                continue
            init = self.functions.get(f"{owner}.__init__")
            types = set()
            for built in [owner, *self.subclasses(owner)]:
                if built != owner and self.functions.get(f"{built}.__init__") is not None:
                    continue  # a subclass with its own `__init__` fills the parameters its own way
                for key, typed in self._arg_types.get(built, ()):
                    if key.startswith("k:"):
                        name = key[2:]
                    elif key.isdigit() and init is not None and int(key) < len(init.params):
                        name = init.params[int(key)]
                    else:
                        continue
                    if name == param:
                        types.add(typed)
            return types
        return set()

    def stored_blocking(self, class_qualname: str, attr: str, method: str) -> str | None:
        """`self.session.query(...)` called directly in an async method: why it blocks, when the constructor's
        callers pass a blocking library type for `self.<attr>`; None when none does."""
        if self.blocking_of is None:
            return None
        for typed in sorted(self.attr_types(class_qualname, attr)):
            name = self.blocking_of(f"{typed}.{method}")
            if name is not None:
                owner = self.local_name(class_qualname)
                return f"`self.{attr}` is the `{typed}` that `{owner}(...)` is given by its callers ({name})"
        return None

    def _attr_chain(self, fn: FunctionSummary) -> list[str] | None:
        """`self.session.query(...)` in a sync method, `session` a blocking library type by the constructor's
        callers: [method, "Session.query (path:line)"]."""
        owner = self._owner(fn)
        if owner is None or self.blocking_of is None:
            return None
        for attr, method, line in fn.attr_calls:
            for typed in sorted(self.attr_types(owner, attr)):
                name = self.blocking_of(f"{typed}.{method}")
                if name is not None:
                    where = f"{display_path(self.paths.get(fn.qualname, '?'))}:{line}"
                    return [fn.qualname, f"self.{attr}.{method} ({name}, {where})"]
        return None

    def _override_chain(self, qualname: str, fn: FunctionSummary, depth: int, seen: frozenset[str]
                        ) -> list[str] | None:
        """An abstract method: the first override, in the asked class or below it, that blocks."""
        asked = qualname.rpartition(".")[0]
        start = self.resolve_class(asked) or self._owner(fn)
        if start is None:
            return None
        name = fn.qualname.rpartition(".")[2]
        for cls in [start, *self.subclasses(start)]:
            override = self.functions.get(f"{cls}.{name}")
            if override is None or override is fn or override.abstract or override.is_async:
                continue
            below = self.blocking_chain(override.qualname, depth - 1, seen | {fn.qualname})
            if below is not None:
                return [fn.qualname, *below]
        return None
