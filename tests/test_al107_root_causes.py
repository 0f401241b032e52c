"""AL107 reports one finding per root cause, and not for cached or dispatch helpers (issue 11 item 3)."""

from __future__ import annotations

from helpers import FIXTURES, settings_for

from async_lint.index import ProjectIndex
from async_lint.shared_sinks import collapse_shared_sinks
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


def test_a_caller_file_linted_alone_leaves_the_finding_to_the_sink_file():
    """The sink's file is in the package: linting the folder reports the sink there, so linting one caller file
    reports nothing about it in that file either (issue 11 item 11)."""
    found = _findings(APP / "throttle_users.py")
    assert not [f for f in found if "time.sleep()" in f.message or "load_settings" in f.message]
    assert sorted(f.row for f in found if "`audit()`" in f.message) == [26, 31, 32]


def test_the_sink_file_linted_alone_counts_the_call_sites_of_the_whole_package():
    found = _findings(APP / "throttle.py")
    assert [(f.row, f.message.split(" ", 1)[0]) for f in found] == [
        (7, "`time.sleep()`"), (39, "`shutil.copyfile()`"), (54, "`shutil.copyfile()`")]
    assert "4 async functions (5 call sites)" in found[0].message
    # two call sites in throttle_users.py, two in throttle_jobs.py through throttle_helpers.job_settings
    assert "3 async functions (4 call sites)" in found[1].message
    assert "e.g. `async def run_job` (" in found[1].message
    assert "job_settings → load_settings → shutil.copyfile (" in found[1].message
    # `ledger.write` and `JobLedger().write`: a module-level instance and a subclass in another file
    assert "2 async functions (4 call sites)" in found[2].message


def test_a_method_is_searched_for_with_the_names_that_can_type_its_receiver():
    from async_lint.engine import Linter
    from async_lint.shared_sinks import call_words

    settings = settings_for("AL107", root=FIXTURES / "project")
    linter = Linter(settings, frozenset({"app"}))
    files = ("throttle.py", "throttle_helpers.py")
    index = ProjectIndex([linter.lint_path(str(APP / name), force=True).summary for name in files])
    words = call_words(index, {"app.throttle.Ledger.write", "app.throttle.RateLimiter.__init__"})
    assert words.pairs == {"RateLimiter": {"throttle"}, "write": {"Ledger", "JobLedger", "ledger"}}
    assert words.classes == {"RateLimiter", "Ledger", "JobLedger"}
    assert words.homes == {str(APP / "throttle.py")}


def test_a_function_is_searched_for_with_its_name_and_its_module_or_a_re_exporting_one():
    from async_lint.engine import Linter
    from async_lint.shared_sinks import call_words

    settings = settings_for("AL107", root=FIXTURES / "project")
    linter = Linter(settings, frozenset({"app"}))
    index = ProjectIndex([linter.lint_path(str(APP / name), force=True).summary
                          for name in ("throttle_io.py", "throttle_jobs.py")])
    words = call_words(index, {"app.throttle_io.backoff"})
    # throttle_jobs.py imports `backoff`: a module importing a name re-exports it
    assert words.pairs == {"backoff": {"throttle_io", "throttle_jobs"}}


def test_a_sink_file_without_async_code_linted_alone_reports_its_sink():
    """The byte pre-filter skips a file without the word `async`: it is parsed for its sinks all the same."""
    found = _findings(APP / "throttle_io.py")
    assert [(f.row, f.message.split(" ", 1)[0]) for f in found] == [(6, "`time.sleep()`")]
    assert "2 async functions (4 call sites)" in found[0].message
    assert not [f for f in _findings(APP / "throttle_jobs.py") if "backoff" in f.message or "sleep" in f.message]


def test_three_call_sites_in_two_files_are_still_reported_one_by_one():
    found = _findings(APP / "throttle_jobs.py")
    assert [(f.row, f.message.split(" ", 1)[0]) for f in found] == [(9, "`checksum()`")]
    found = _findings(APP / "throttle_users.py", APP / "throttle_jobs.py")
    assert sorted((f.path.rsplit("/", 1)[-1], f.row) for f in found if "`checksum()`" in f.message) == [
        ("throttle_jobs.py", 9), ("throttle_users.py", 42), ("throttle_users.py", 46)]


def test_the_call_sites_are_searched_only_when_a_linted_file_reaches_or_holds_a_sink(monkeypatch):
    import async_lint.workers as runner

    tasks = []
    real = runner._safe_lint
    monkeypatch.setattr(runner, "_safe_lint", lambda linter, task: tasks.append(task) or real(linter, task))
    _findings(APP / "db.py")
    assert [task for task in tasks if task[1] and not task[2]] == []  # no file linted for counting
    tasks.clear()
    _findings(APP / "throttle.py")
    counted = sorted(task[0].rsplit("/", 1)[-1] for task in tasks if task[1] and not task[2])
    assert "throttle_jobs.py" in counted and "db.py" not in counted


def test_a_sink_outside_the_files_the_project_lints_is_reported_at_the_first_call_site():
    from async_lint.engine import Linter
    from async_lint.project_pass import confirmed_of

    settings = settings_for("AL107", root=FIXTURES / "project")
    linter = Linter(settings, frozenset({"app"}))
    sink_file, users = str(APP / "throttle.py"), str(APP / "throttle_users.py")
    results = {path: linter.lint_path(path) for path in (sink_file, users)}
    index = ProjectIndex([r.summary for r in results.values()], settings.helper_depth)
    confirmed = {users: confirmed_of(results[users], index)}
    collapse_shared_sinks(index, confirmed, {users}, {users}, [], settings.is_test_file)
    messages = [(item.locator, message) for item, message in confirmed[users] if "time.sleep()" in message]
    assert len(messages) == 1 and "4 async functions (5 call sites)" in messages[0][1]
    assert messages[0][0] == min(item.locator for item, message in confirmed[users])


def test_three_call_sites_are_still_reported_one_by_one():
    found = _findings(APP / "throttle.py", APP / "throttle_users.py")
    assert sorted(f.row for f in found if "`audit()`" in f.message) == [26, 31, 32]


def test_a_dispatch_function_is_not_reported():
    found = _findings(APP / "throttle.py", APP / "throttle_users.py")
    assert not [f for f in found if "send" in f.message]
