"""async-lint as a flake8 plugin: `flake8 --select AL` reports what `async-lint check FILE` reports.

Registered in the `flake8.extension` entry-point group as `AL`. Each file is linted on its own (the project index
covers just that file). flake8 owns everything around the findings: `# noqa` comments, `--select`/`--ignore`,
per-file-ignores and the output format, so the plugin hands every finding over unfiltered by noqa, except lines
silenced with a peer linter's code for the same pitfall (`# noqa: ASYNC251` for AL101), which flake8 cannot know
(flake8's --disable-noqa shows those too). A file that libcst cannot read or parse yields nothing: flake8 reports
its own E902/E999 for it.

Which rules run follows async-lint's configuration, found like `async-lint check` finds it (the nearest
`pyproject.toml` with `[tool.async-lint]`), adjusted by the `--async-lint-*` options, which flake8 also reads from
its own configuration (`async-lint-extend-select = AL201` under `[flake8]`).
"""

from __future__ import annotations

import argparse
import io
import sys
import tokenize
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterator

from async_lint import __version__
from async_lint.catalog import load_catalog
from async_lint.config import ConfigError, Overrides, Settings, build_settings, expand_selectors
from async_lint.engine import Linter
from async_lint.runner import lint_single

# Input problems that flake8 reports in its own words (E902, E999); the plugin stays quiet about them.
_HOST_REPORTED = frozenset({"AL001"})


class AsyncLintPlugin:
    name = "async-lint"
    version = __version__

    # Set from flake8's options by parse_options; class attributes because flake8 creates one instance per file.
    _config_file: str | None = None
    _select: tuple[str, ...] | None = None
    _extend_select: tuple[str, ...] = ()
    _ignore: tuple[str, ...] = ()
    _preview: bool | None = None
    _extend_test_select: tuple[str, ...] = ()
    _peer_noqa = True  # flake8's --disable-noqa turns off the peer-code noqa the plugin applies too

    def __init__(self, tree: Any, filename: str, lines: list[str] | None = None):
        # `tree` is flake8's ast module; async-lint parses with libcst itself. flake8 needs the parameter to know
        # this is a per-file ("tree") plugin.
        self.filename = filename
        self.lines = lines
        # Here rather than in run(): flake8 turns an exception raised while creating a plugin (a mistake in
        # [tool.async-lint]) into its "critical error" message instead of a traceback.
        self.linter = _linter(self._settings_key())

    # -- options ---------------------------------------------------------------------------------------------------
    @classmethod
    def add_options(cls, manager: Any) -> None:
        manager.add_option(
            "--async-lint-config", default=None, parse_from_config=True, normalize_paths=True,
            help="async-lint: read [tool.async-lint] from this pyproject.toml (or TOML file) instead of the nearest "
                 "pyproject.toml with that table.",
        )
        manager.add_option(
            "--async-lint-select", default=None, parse_from_config=True, comma_separated_list=True,
            help="async-lint: rule codes or prefixes to run, replacing the configured selection (e.g. AL1,AL201).",
        )
        manager.add_option(
            "--async-lint-extend-select", default=None, parse_from_config=True, comma_separated_list=True,
            help="async-lint: rule codes or prefixes to run on top of the selection (rules off by default).",
        )
        manager.add_option(
            "--async-lint-ignore", default=None, parse_from_config=True, comma_separated_list=True,
            help="async-lint: rule codes or prefixes not to run (flake8's own --extend-ignore works too).",
        )
        manager.add_option(
            "--async-lint-preview", default=None, action="store_true", parse_from_config=True,
            help="async-lint: run preview rules and behaviours (like `preview = true` in [tool.async-lint]).",
        )
        manager.add_option(
            "--async-lint-extend-test-select", default=None, parse_from_config=True, comma_separated_list=True,
            help="async-lint: rule codes or prefixes to run in test files on top of test-select (default AL2, AL7).",
        )

    @classmethod
    def parse_options(cls, options: argparse.Namespace) -> None:
        cls._config_file = getattr(options, "async_lint_config", None) or None
        select = getattr(options, "async_lint_select", None)
        cls._select = tuple(select) if select else None
        cls._extend_select = tuple(getattr(options, "async_lint_extend_select", None) or ())
        cls._ignore = tuple(getattr(options, "async_lint_ignore", None) or ())
        cls._preview = True if getattr(options, "async_lint_preview", None) else None
        cls._extend_test_select = tuple(getattr(options, "async_lint_extend_test_select", None) or ())
        cls._peer_noqa = not getattr(options, "disable_noqa", False)
        # Mistakes on the command line or in flake8's configuration stop flake8 at once, like its own bad options.
        try:
            if cls._config_file is not None and not Path(cls._config_file).is_file():
                raise ConfigError(f"file does not exist: {cls._config_file}")
            catalog = load_catalog()
            for option, values in (("select", cls._select or ()), ("extend-select", cls._extend_select),
                                   ("ignore", cls._ignore), ("extend-test-select", cls._extend_test_select)):
                expand_selectors(values, catalog, f"--async-lint-{option}")
            if cls._config_file is not None:
                _settings(cls._settings_key_for(Path(".")))
        except ConfigError as exc:
            print(f"flake8: error: async-lint: {exc}", file=sys.stderr)
            raise SystemExit(2) from None

    # -- checking --------------------------------------------------------------------------------------------------
    def run(self) -> Iterator[tuple[int, int, str, type]]:
        try:
            result = lint_single(self.linter, self.filename, self._source())
        except Exception as exc:  # a crash outside the checks: report it as `check` does (AL002), keep flake8 going
            yield 1, 0, f"AL002 internal error: {type(exc).__name__}: {exc}", type(self)
            return
        for finding in result.findings:
            if finding.code in _HOST_REPORTED:
                continue
            yield finding.row, max(finding.column - 1, 0), f"{finding.code} {finding.message}", type(self)

    def _settings_key(self) -> tuple:
        return self._settings_key_for(Path(self.filename).parent if self.filename not in ("-", "stdin") else Path("."))

    @classmethod
    def _settings_key_for(cls, folder: Path) -> tuple:
        """What the settings of a file depend on: the folder its configuration is searched from, and the options."""
        anchor = None if cls._config_file else str(folder.resolve())
        return (anchor, cls._config_file, cls._select, cls._extend_select, cls._ignore, cls._preview,
                cls._extend_test_select, cls._peer_noqa)

    def _source(self) -> bytes:
        """The bytes flake8 checks: its decoded lines, encoded back as the file declares (PEP 263)."""
        if self.lines is None:
            return Path(self.filename).read_bytes()
        text = "".join(self.lines)
        try:
            encoding, _ = tokenize.detect_encoding(io.BytesIO(text.encode("utf-8", "surrogatepass")).readline)
            return text.encode("utf-8" if encoding == "utf-8-sig" else encoding)
        except (SyntaxError, LookupError, UnicodeEncodeError):
            return text.encode("utf-8", "surrogatepass")


@lru_cache(maxsize=64)
def _settings(key: tuple) -> Settings:
    anchor, config_file, select, extend_select, ignore, preview, extend_test_select, _ = key
    overrides = Overrides(
        select=list(select) if select is not None else None,
        extend_select=list(extend_select) or None,
        ignore=list(ignore) or None,
        preview=preview,
        extend_test_select=list(extend_test_select) or None,
    )
    start = Path(anchor) if anchor is not None else Path(".")
    return build_settings([start], Path(config_file) if config_file else None, overrides)


_linters: dict[tuple[Settings, bool], Linter] = {}


def _linter(key: tuple) -> Linter:
    """One Linter per distinct configuration (usually one per run), reused for every file flake8 hands over."""
    settings = _settings(key)
    peer_noqa = key[-1]
    linter = _linters.get((settings, peer_noqa))
    if linter is None:
        linter = _linters[(settings, peer_noqa)] = Linter(settings)
        linter.respect_noqa = False  # flake8 does the noqa handling, except for other linters' codes (ASYNC210)
        linter.respect_peer_noqa = peer_noqa
    return linter
