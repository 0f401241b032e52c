"""AL101-AL107 skip a command's coroutine: `asyncio.run(main(...))` in a file that parses a command line."""

from __future__ import annotations

import pytest

from helpers import settings_for
from async_lint.runner import lint_paths

BODY = '''
import asyncio
import time


def settle():
    time.sleep(0.5)


async def migrate(dry_run):
    time.sleep(1)
    settle()
    return dry_run


async def serve_forever():
    time.sleep(1)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--dry-run", action="store_true")
    asyncio.run(migrate(parser.parse_args().dry_run))
'''


def _codes(tmp_path, source):
    path = tmp_path / "tool.py"
    path.write_text(source)
    [result] = lint_paths([str(path)], settings_for("AL101", "AL107", root=tmp_path), jobs=1)
    return sorted((f.row, f.code) for f in result.findings)


def test_a_command_coroutine_is_not_reported(tmp_path):
    # `migrate` is the command's whole program; `serve_forever` is not run by `asyncio.run` and stays reported.
    assert _codes(tmp_path, "import argparse\n" + BODY) == [(18, "AL101")]


@pytest.mark.parametrize("header", ["", "import json\n"])
def test_without_a_command_line_parser_it_is_reported(tmp_path, header):
    shift = header.count("\n")  # a file that parses no command line may run `migrate` on a serving loop
    assert _codes(tmp_path, header + BODY) == [(11 + shift, "AL101"), (12 + shift, "AL107"), (17 + shift, "AL101")]
