"""The `async-lint` command line: `check` here; `clean`, `rules`, `rule CODE` and `server` in cli_commands.py.

Exit codes follow ruff: 0 no findings, 1 findings, 2 usage, configuration or internal error.
"""

from __future__ import annotations

import os
import sys
import time
from collections import Counter
from pathlib import Path

import click

from async_lint import __version__
from async_lint import cli_extras
from async_lint.catalog import load_catalog
from async_lint.config import ConfigError, Overrides, build_settings
from async_lint.console import console, escape
from async_lint.discovery import discover
from async_lint.finding import Finding
from async_lint.progress import progress_bar, wants_progress
from async_lint.reporters import FORMATS, display_path, summary_line, write_report
from async_lint.runner import lint_paths


def _codes(values: tuple[str, ...]) -> list[str] | None:
    if not values:
        return None
    return [code.strip() for value in values for code in value.split(",") if code.strip()]


def _fail(message: str) -> None:
    console(stderr=True).print(f"[bold red]error:[/] {escape(message)}")
    sys.exit(2)


def _check_selectors(**options: tuple[str, ...]) -> None:
    """An empty rule selector (`--select ''`, `--ignore AL1,`) is a mistake, not "no rule": exit 2, as ruff."""
    for name, values in options.items():
        if any(not code.strip() for value in values for code in value.split(",")):
            flag = "--" + name.replace("_", "-")
            _fail(f"empty rule selector in `{flag}` (give rule codes or prefixes, e.g. {flag} AL1,AL201)")


def _output_class() -> type:
    """rich's Console for stdout: a reader that goes away (`async-lint check | head`) ends the run with 2, as in
    `_Cli`, not with rich's 1, which means "findings". Built on first use: rich is imported only for a terminal."""
    global _OUTPUT
    if _OUTPUT is None:
        from rich.console import Console

        class _Output(Console):
            def on_broken_pipe(self) -> None:
                try:
                    super().on_broken_pipe()
                except SystemExit:
                    raise SystemExit(2) from None

        _OUTPUT = _Output
    return _OUTPUT


_OUTPUT: type | None = None


def __getattr__(name: str):
    if name == "_Output":  # `from async_lint.cli import _Output` (stdin.py) still gets the class
        return _output_class()
    raise AttributeError(name)


class _Cli(click.Group):
    """Exit codes are 0, 1 (findings) and 2 (everything that went wrong): an unexpected exception anywhere in a
    command, and click's own errors that it would end with 1, end with a message and 2, never with 1, which a CI
    would read as "findings". Ctrl-C ends with 130."""

    def invoke(self, ctx: click.Context):
        try:
            return super().invoke(ctx)
        except (click.exceptions.Exit, click.Abort):
            raise
        except click.ClickException as exc:
            exc.exit_code = 2 if exc.exit_code == 1 else exc.exit_code
            raise
        except ConfigError as exc:  # a folder's configuration file, read while linting, is wrong
            console(stderr=True).print(f"[bold red]error:[/] {escape(str(exc))}")
            sys.exit(2)
        except KeyboardInterrupt:
            click.echo("Interrupted.", err=True)
            sys.exit(130)
        except BrokenPipeError:  # `async-lint check | head`: the output is cut short
            sys.stdout = sys.stderr = open(os.devnull, "w")
            sys.exit(2)
        except Exception as exc:
            err = console(stderr=True)
            if ctx.meta.get("async_lint.show_traceback"):
                import traceback

                err.print("".join(traceback.format_exception(exc)), markup=False, end="")
            err.print(f"[bold red]error:[/] internal error: {escape(type(exc).__name__)}: {escape(str(exc))}"
                      + ("" if ctx.meta.get("async_lint.show_traceback") else
                         " (rerun with --show-traceback and report it)"), markup=True)
            sys.exit(2)


@click.group(cls=_Cli, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="async-lint")
def cli() -> None:
    """Find (and fix) the async pitfalls of FastAPI and asyncio services."""


@cli.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path))
@click.option("--select", multiple=True, help="Rule codes or prefixes to enable (replaces the default set), e.g. AL1,AL201.")
@click.option("--ignore", multiple=True, help="Rule codes or prefixes to disable.")
@click.option("--extend-select", multiple=True, help="Rule codes or prefixes to enable on top of the selection.")
@click.option("--exclude", multiple=True, help="Glob patterns of files or folders to skip (replaces configured ones).")
@click.option("--output-format", type=click.Choice(FORMATS), default=None,
              help="How to show findings (default: full); sarif and junit are for CI.")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Show the number of findings per rule instead of the findings.")
@click.option("--config", "config_file", multiple=True, metavar="PATH|KEY=VALUE",
              help="A configuration file to use for every file (async-lint.toml, or a pyproject.toml), or a TOML "
                   "`KEY = VALUE` override of one setting, e.g. --config 'default-timeout = 30' (repeatable; "
                   "overrides win over every configuration file).")
# --- issue 16 (configuration): --isolated, --show-settings -------------------------------------------------
@click.option("--isolated", is_flag=True, help="Ignore all configuration files.")
@click.option("--show-settings", is_flag=True,
              help="Print the settings used for the first path (a file or folder), then exit.")
# -------------------------------------------------------------------------------------------------------------
@click.option("-q", "--quiet", is_flag=True, help="Print findings only, no summary.")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None, help="Worker processes (default: CPUs).")
@click.option("--show-traceback", is_flag=True, help="Print the traceback of internal errors (AL002).")
@click.option("--fix", is_flag=True, help="Apply safe fixes, writing the files.")
@click.option("--unsafe-fixes", is_flag=True, help="With --fix or --diff: apply unsafe fixes too.")
@click.option("--diff", is_flag=True, help="Print the diff the fixes would make and write nothing (exit 1 if any).")
@click.option("--no-cache", is_flag=True, help="Neither read nor write the result cache (.async_lint_cache/).")
@click.option("--preview/--no-preview", default=None,
              help="Run preview rules and behaviours (overrides `preview` in [tool.async-lint]).")
@click.option("--test-select", multiple=True,
              help="Rule codes or prefixes that run in test files (replaces `test-select`; ALL = every rule).")
@click.option("--extend-test-select", multiple=True,
              help="Rule codes or prefixes to run in test files on top of `test-select` (default: AL2, AL7).")
@click.option("--stdin-filename", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Lint standard input (the path `-`, or no path) as this file: its name, configuration, package.")
@cli_extras.options
def check(paths: tuple[Path, ...], select: tuple[str, ...], ignore: tuple[str, ...], extend_select: tuple[str, ...],
          exclude: tuple[str, ...], output_format: str | None, exit_zero: bool, statistics: bool,
          config_file: tuple[str, ...], quiet: bool, jobs: int | None, show_traceback: bool, fix: bool,
          unsafe_fixes: bool, diff: bool, no_cache: bool, preview: bool | None, test_select: tuple[str, ...],
          extend_test_select: tuple[str, ...], stdin_filename: Path | None, isolated: bool = False,
          show_settings: bool = False, **extra) -> None:
    """Lint PATHS (files or folders; default: the current folder; `-`: standard input)."""
    started = time.perf_counter()
    # --- cli_extras options (--add-noqa, --show-fixes, --fix-only, --exit-non-zero-on-fix, -o, --force-exclude)
    add_noqa, show_fixes, fix_only = extra["add_noqa"], extra["show_fixes"], extra["fix_only"]
    non_zero_on_fix, output_file, force_exclude = extra["exit_non_zero_on_fix"], extra["output_file"], \
        extra["force_exclude"]
    if add_noqa and (fix or fix_only or diff):
        _fail("--add-noqa cannot be used with --fix, --fix-only or --diff")
    fix = fix or (fix_only and not diff)
    # --- end of cli_extras options
    click.get_current_context().meta["async_lint.show_traceback"] = show_traceback
    _check_selectors(select=select, ignore=ignore, extend_select=extend_select)
    targets = list(paths) or [Path(".")]
    stdin = _stdin_target(paths, stdin_filename)
    for target in [] if stdin else targets:
        if not target.exists() and not target.is_symlink():
            _fail(f"path does not exist: {target}")
    config_path, config_values = _config_args(config_file, isolated)
    overrides = Overrides(
        select=_codes(select), ignore=_codes(ignore), extend_select=_codes(extend_select),
        exclude=list(exclude) or None, preview=preview, test_select=_codes(test_select),
        extend_test_select=_codes(extend_test_select),
    )
    overrides.config_values, overrides.isolated = config_values, isolated
    try:
        settings = build_settings([stdin] if stdin else targets, config_path, overrides)
        if show_settings:
            from async_lint.hierarchy import describe

            shown = stdin or targets[0]
            click.echo(describe(settings.tree.for_path(shown) if settings.tree else settings, shown), nl=False)
            sys.exit(0)
    except ConfigError as exc:
        _fail(str(exc))
        return
    if stdin and force_exclude and cli_extras.is_excluded(stdin, Path(settings.root), settings.exclude):
        if fix:  # the source goes through unchanged, as ruff does for an excluded --stdin-filename
            sys.stdout.buffer.write(sys.stdin.buffer.read())
        sys.exit(0)
    if stdin and (add_noqa or output_file):
        _fail("--add-noqa and --output-file need files, not standard input")
    if stdin:
        from async_lint.stdin import check_stdin

        sys.exit(check_stdin(stdin, settings, output_format or "full", fix=fix, diff=diff, unsafe=unsafe_fixes,
                             exit_zero=exit_zero, quiet=quiet, statistics=statistics, show_traceback=show_traceback))
    catalog = load_catalog()
    found = discover(targets, Path(settings.root), settings.exclude, tree=settings.tree)
    if force_exclude:  # exclude patterns apply to the paths named on the command line too
        found.files = cli_extras.force_exclude(found.files, Path(settings.root), settings.exclude)
    err = console(stderr=True)
    for note in settings.notes:
        err.print(f"[yellow]warning:[/] {escape(note)}", markup=True)
    for path, problem in found.problems:
        err.print(f"[yellow]warning:[/] {path}: {problem}", markup=True)

    report_file = cli_extras.open_output(output_file) if output_file is not None else None
    if report_file is not None:
        click.get_current_context().call_on_close(report_file.close)
    if report_file is not None:
        from async_lint.console import PlainConsole

        out = PlainConsole(rich_class=_output_class, file=report_file)
    else:
        out = console(rich_class=_output_class)
    files = [str(p) for p in found.files]
    walked = [str(t) for t in targets if t.is_dir()]
    fmt = output_format or "full"
    show_progress = wants_progress(len(files), "statistics" if statistics else fmt, quiet or add_noqa)
    outcome = None
    run_warnings: list[str] = []  # about the run itself (an ignored cache), said once it is over
    if fix or diff:
        from async_lint.fixer import run_fixes, unified_diff, write_fixes  # libcst: only when fixing

        # --diff writes nothing at all, not even the cache.
        with progress_bar(len(files), show_progress) as advance:
            outcome = run_fixes(files, settings, unsafe_fixes, jobs, use_cache=not (no_cache or diff),
                                progress=advance, walked=walked, on_warning=run_warnings.append,
                                count_codes=show_fixes)
        results = outcome.results
        if diff:
            for path in sorted(outcome.fixed):
                sys.stdout.write(unified_diff(display_path(path), outcome.original[path], outcome.fixed[path]))
        else:
            write_fixes(outcome)  # what is not written is reported, and neither counted nor shown as fixed
        for path, problem in outcome.problems:
            err.print(f"[yellow]warning:[/] {escape(display_path(path))}: {escape(problem)}", markup=True)
    else:
        with progress_bar(len(files), show_progress) as advance:
            results = lint_paths(files, settings, jobs, progress=advance, use_cache=not no_cache, walked=walked,
                                 on_warning=run_warnings.append)
    for warning in run_warnings:
        err.print(f"[yellow]warning:[/] {escape(warning)}", markup=True)

    findings: list[Finding] = []
    suppressed: Counter = Counter()
    internal_errors = 0
    for result in results:
        for warning in result.warnings:
            err.print(f"[yellow]warning:[/] {escape(display_path(result.path))}: {escape(warning)}", markup=True)
        findings.extend(result.findings)
        suppressed.update(result.suppressed)
        internal_errors += result.internal_errors
    findings.sort(key=Finding.sort_key)

    if diff:
        if not quiet:
            changed = len(outcome.fixed)
            err.print(f"{changed} file{'s' * (changed != 1)} would be changed ({outcome.applied} fixes)"
                      if changed else "No fixes to apply.")
        sys.exit(2 if internal_errors else 1 if outcome.fixed else 0)
    if add_noqa:
        sys.exit(_add_noqa(findings, internal_errors, err))
    fixed_count = outcome.applied if outcome is not None else 0
    if fix_only:
        _fix_only_report(out, outcome, findings, catalog, show_fixes, unsafe_fixes, quiet)
        sys.exit(2 if internal_errors else 1 if non_zero_on_fix and fixed_count else 0)
    write_report(fmt, findings, catalog, stream=report_file or sys.stdout, console=out, statistics=statistics,
                 suppressed=suppressed)
    if show_fixes and fmt in ("full", "concise") and not statistics:
        per_file = outcome.codes if outcome is not None else cli_extras.available_fixes(findings, unsafe_fixes)
        cli_extras.write_fix_listing(out, per_file, catalog, applied=outcome is not None)

    if show_traceback:
        for finding in findings:
            if finding.code == "AL002" and finding.suggestion:
                err.print(f"{finding.path}:\n{finding.suggestion}", markup=False)
    if not quiet and fmt in ("full", "concise") or statistics and not quiet and fmt != "json":
        fixed = outcome.applied if outcome is not None else 0
        out.print(summary_line(findings, len(files), time.perf_counter() - started, fixed, unsafe_fixes))
        if sum(suppressed.values()):
            out.print(f"{sum(suppressed.values())} suppressed by noqa.")
    if internal_errors:
        err.print(f"[bold red]error:[/] {internal_errors} internal error(s); rerun with --show-traceback and "
                  "report them", markup=True)
        sys.exit(2)
    if non_zero_on_fix and fixed_count:
        sys.exit(1)
    sys.exit(1 if findings and not exit_zero else 0)


def _config_args(values: tuple[str, ...], isolated: bool) -> tuple[Path | None, list[dict]]:
    """`--config` values: one configuration file at most, and `KEY = VALUE` overrides (as ruff's `--config`)."""
    from async_lint.config_files import split_config_args

    try:
        path, inline = split_config_args(list(values))
    except ConfigError as exc:
        _fail(str(exc))
        raise
    if path is not None and isolated:
        _fail(f"`--config {path}` cannot be used with `--isolated`, which ignores every configuration file")
    return path, inline


# --- cli_extras helpers
def _add_noqa(findings: list[Finding], internal_errors: int, err) -> int:
    """--add-noqa: write the directives, say how many on stderr (as ruff), exit 0 (2 after internal errors)."""
    added, problems = cli_extras.add_noqa(findings)
    for path, problem in problems:
        err.print(f"[yellow]warning:[/] {escape(display_path(path))}: {escape(problem)}", markup=True)
    if added:
        err.print(f"Added {added} noqa directive{'s' * (added != 1)}.", markup=False)
    return 2 if internal_errors else 0


def _fix_only_report(out, outcome, findings, catalog, show_fixes: bool, unsafe: bool, quiet: bool) -> None:
    """--fix-only: the fixes applied (and, with --show-fixes, which), not the findings that remain."""
    if show_fixes:
        cli_extras.write_fix_listing(out, outcome.codes, catalog, applied=True)
    if not quiet:
        out.print(cli_extras.fix_only_line(outcome.applied, findings, unsafe), markup=False)
# --- end of cli_extras helpers


def _stdin_target(paths: tuple[Path, ...], stdin_filename: Path | None) -> Path | None:
    if stdin_filename is None and all(str(p) != "-" for p in paths):
        return None  # not reading stdin: no need to import stdin.py (and rich)
    from async_lint.stdin import stdin_target

    try:
        return stdin_target(paths, stdin_filename)
    except ValueError as exc:
        _fail(str(exc))
        return None


from async_lint.cli_commands import clean_cache, language_server, list_rules, show_rule  # noqa: E402

for _command in (clean_cache, list_rules, show_rule, language_server):
    cli.add_command(_command)


def main() -> None:
    cli(prog_name="async-lint")
