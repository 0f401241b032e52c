"""AL107 reports one finding per root cause, and not for cached or dispatch helpers (issue 11 item 3)."""

from __future__ import annotations

from helpers import FIXTURES, settings_for

from async_lint.runner import lint_paths

APP = FIXTURES / "project" / "app"


def _findings(*paths):
    settings = settings_for("AL107", root=FIXTURES / "project")
    return [f for r in lint_paths([str(p) for p in paths], settings, jobs=1) for f in r.findings]


def test_a_sink_reached_from_many_call_sites_is_reported_once_at_the_sink():
    found = _findings(APP / "throttle.py", APP / "throttle_users.py")
    sleeps = [f for f in found if "time.sleep()" in f.message]
    assert [(f.path.rsplit("/", 1)[-1], f.row) for f in sleeps] == [("throttle.py", 7)]
    message = sleeps[0].message
    assert "4 async functions (5 call sites)" in message
    assert "e.g. `async def list_orders`" in message and "RateLimiter.__init__ → time.sleep (" in message
    assert sleeps[0].fix is None


def test_the_sink_outside_the_linted_files_is_reported_once_at_the_first_call_site():
    found = _findings(APP / "throttle_users.py")
    sleeps = [f for f in found if "time.sleep()" in f.message]
    assert [(f.path.rsplit("/", 1)[-1], f.row) for f in sleeps] == [("throttle_users.py", 5)]
    assert "4 async functions (5 call sites)" in sleeps[0].message
    assert sleeps[0].fix is None


def test_three_call_sites_are_still_reported_one_by_one():
    found = _findings(APP / "throttle.py", APP / "throttle_users.py")
    assert sorted(f.row for f in found if "`audit()`" in f.message) == [26, 31, 32]


def test_a_dispatch_function_is_not_reported():
    found = _findings(APP / "throttle.py", APP / "throttle_users.py")
    assert not [f for f in found if "send" in f.message]
