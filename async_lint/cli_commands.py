"""The `async-lint` commands beside `check`: `clean`, `rules`, `rule CODE` and `server` (cli.py adds them)."""

from __future__ import annotations

from pathlib import Path

import click

from async_lint.cache import CACHE_DIR, clean
from async_lint.catalog import load_catalog
from async_lint.config import ConfigError, find_config, find_root


def _fail(message: str) -> None:
    from async_lint.cli import _fail as fail

    fail(message)


@click.command("clean")
@click.argument("path", required=False, type=click.Path(path_type=Path, exists=True, file_okay=False))
def clean_cache(path: Path | None) -> None:
    """Remove the result cache (.async_lint_cache/) of the project at PATH (default: the current folder)."""
    start = path or Path(".")
    config = None
    try:
        config = find_config(start)
    except ConfigError:
        pass
    root = config.parent if config is not None else find_root(start)
    if clean(root):
        click.echo(f"Removed {root / CACHE_DIR}")
    else:
        click.echo(f"No cache at {root / CACHE_DIR}")


@click.command("rules")
@click.option("--output-format", type=click.Choice(["table", "json"]), default="table")
def list_rules(output_format: str) -> None:
    """List every rule: code, name, summary, default (on, off = opt-in, preview = needs --preview), fix."""
    from rich.console import Console
    from rich.table import Table
    catalog = load_catalog()
    if output_format == "json":
        import json

        click.echo(json.dumps([
            {"code": r.code, "name": r.name, "summary": r.summary, "default": r.default, "preview": r.preview,
             "fix": r.fix_safety}
            for r in sorted(catalog.rules.values(), key=lambda r: r.code)
        ], indent=2))
        return
    table = Table(title="async-lint rules")
    for column in ("Code", "Name", "Summary", "Default", "Fix"):
        table.add_column(column, overflow="fold")
    for rule in sorted(catalog.rules.values(), key=lambda r: r.code):
        fix = rule.fix_safety if rule.has_fix else "-"
        table.add_row(rule.code, rule.name, rule.summary, rule.default_label, fix)
    Console().print(table)
    click.echo("Default: on = runs without configuration; off = opt-in (extend-select); preview = runs only with "
               "--preview; in test files only test-select (AL2, AL7) runs by default.")


@click.command("rule")
@click.argument("code")
def show_rule(code: str) -> None:
    """Show the documentation of one rule (by code or name)."""
    from rich.console import Console
    from rich.markdown import Markdown
    from rich.panel import Panel
    from rich.syntax import Syntax
    catalog = load_catalog()
    wanted = code.strip().upper()
    rule = catalog.rules.get(wanted) or next((r for r in catalog.rules.values() if r.name == code.strip()), None)
    if rule is None:
        _fail(f"unknown rule `{code}` (see `async-lint rules`)")
        return
    console = Console()
    console.print(Panel(f"[bold]{rule.code} {rule.name}[/]\n{rule.summary}", expand=False))
    console.print(Markdown(f"## Why is this bad?\n{rule.why}"))
    if rule.bad:
        console.print(Markdown("## Example"))
        console.print(Syntax(rule.bad, "python", theme="ansi_dark"))
    if rule.good:
        console.print(Markdown("## Use instead"))
        console.print(Syntax(rule.good, "python", theme="ansi_dark"))
    safety = {"safe": "safe fix", "unsafe": "unsafe fix (needs --unsafe-fixes)"}.get(rule.fix_safety, "no automatic fix")
    enabled = "always reported" if rule.always else "yes" if rule.default else "no"
    if rule.preview:
        enabled += " (a preview rule: it runs only with `--preview` or `preview = true`)"
    console.print(Markdown(f"## Fix ({safety})\n{rule.fix}\n\nEnabled by default: {enabled}"))


@click.command("server")
def language_server() -> None:
    """Run the language server (LSP over stdio) for editors: diagnostics, fixes, noqa, rule docs on hover."""
    try:
        from async_lint.server.lsp import run
    except ImportError as exc:
        if exc.name in ("pygls", "lsprotocol") or str(exc.name).startswith(("pygls.", "lsprotocol.")):
            _fail("the language server needs pygls: pip install 'async-lint[server]'")
        raise
    run()
