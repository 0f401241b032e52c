"""AL401's project part: a client stored on an object is closed when a close of the same attribute name exists
anywhere in the project (published by Rule.summarize under "closed-attributes")."""

from __future__ import annotations

import textwrap

import libcst as cst

from async_lint.checks import all_rules

all_rules()  # import every check module first: importing one alone would leave the registry incomplete

from async_lint.checks.lifecycle import CLOSED_KEY, CLOSED_TEXT_KEY, UnclosedResource  # noqa: E402
from async_lint.context import FileContext
from async_lint.resolve import Resolver
from async_lint.walker import collect
from helpers import settings_for

LIFESPAN = textwrap.dedent(
    """
    from contextlib import asynccontextmanager, AsyncExitStack

    @asynccontextmanager
    async def lifespan(app):
        yield
        await app.state.http_client.aclose()
        async with AsyncExitStack() as stack:
            stack.push_async_callback(self._session.close)
            await stack.enter_async_context(registry.pool)
    """
)

STORES = textwrap.dedent(
    """
    import httpx

    def connect(registry):
        registry.http_client = httpx.AsyncClient(timeout=10)
        registry.other = httpx.AsyncClient(timeout=10)
    """
)


class FakeProject:
    def __init__(self, shared):
        self._shared = shared

    def shared(self, key):
        return self._shared.get(key, set())


def context(source: str, project=None) -> FileContext:
    settings = settings_for("AL401")
    module = cst.parse_module(source)
    facts = collect(module)
    catalog = settings.catalog()
    ctx = FileContext("app/module.py", module, facts, Resolver(facts, catalog, "app.module"), catalog,
                      settings=settings, project=project)
    return ctx


def test_summary_publishes_closed_receivers():
    rule = UnclosedResource(frozenset({"AL401"}))
    summary = rule.summarize(context(LIFESPAN))
    assert {"app.state.http_client", "self._session", "registry.pool"} <= summary[CLOSED_TEXT_KEY]
    assert {"http_client", "_session", "pool"} <= summary[CLOSED_KEY]


def test_client_closed_in_another_module_is_not_reported():
    rule = UnclosedResource(frozenset({"AL401"}))
    published = rule.summarize(context(LIFESPAN))
    ctx = context(STORES, project=FakeProject(published))
    ctx.local_summary = rule.summarize(ctx)
    reports = list(rule.check(ctx))
    assert [r.message for r in reports] == [
        "the HTTP client stored in `registry.other` is never closed: no `aclose()`/`close()` of `other` was found "
        "in the project"
    ]


def test_without_the_project_the_stored_client_is_reported():
    rule = UnclosedResource(frozenset({"AL401"}))
    ctx = context(STORES)
    ctx.local_summary = rule.summarize(ctx)
    assert len(list(rule.check(ctx))) == 2
