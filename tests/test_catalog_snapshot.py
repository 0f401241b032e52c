"""The parsed built-in catalog is kept as a JSON snapshot in the user's cache folder (async_lint/catalog_files.py):
read back only when it is the same files' data, never required."""

from __future__ import annotations

import json
import os

import pytest

from async_lint import catalog_files
from async_lint.catalog import catalog_dir
from async_lint.catalog_files import read_catalog_files

TOML = 'family = "AL9"\ntriggers = ["x"]\n\n[[rules]]\ncode = "AL901"\nname = "n"\nsummary = "s"\n'


@pytest.fixture
def home(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.delenv("ASYNC_LINT_CATALOG_SNAPSHOTS", raising=False)
    rules = tmp_path / "rules"
    rules.mkdir()
    (rules / "AL9.toml").write_text(TOML)
    (rules / "types.toml").write_text('[[type]]\nname = "a.B"\n')
    return rules


def _snapshots(home):
    return sorted((home.parent / "cache" / "async-lint").glob("catalog-*.json"))


def test_the_snapshot_is_written_once_and_read_back_as_the_toml(home, monkeypatch):
    first = read_catalog_files(home)
    assert [name for name, _ in first] == ["AL9.toml", "types.toml"]
    assert first[0][1]["rules"][0]["code"] == "AL901"
    [snapshot] = _snapshots(home)
    monkeypatch.setattr(catalog_files, "_parse_toml", lambda data: pytest.fail("parsed the TOML again"))
    assert read_catalog_files(home) == first


def test_an_edited_file_is_parsed_again_under_a_new_name(home):
    read_catalog_files(home)
    (home / "AL9.toml").write_text(TOML.replace('"n"', '"other"'))
    assert read_catalog_files(home)[0][1]["rules"][0]["name"] == "other"
    assert len(_snapshots(home)) == 2


@pytest.mark.parametrize("garbage", ['{"not": "a list"}', '[["AL9.toml", {}]]', '[["x.toml", {}], ["types.toml", {}]]',
                                     "\x00garbage", '[["AL9.toml", []], ["types.toml", {}]]'])
def test_a_snapshot_that_is_not_the_files_data_is_ignored(home, garbage):
    expected = read_catalog_files(home)
    [snapshot] = _snapshots(home)
    snapshot.write_text(garbage)
    assert read_catalog_files(home) == expected


def test_switched_off_or_unwritable_the_toml_is_parsed(home, monkeypatch):
    monkeypatch.setenv("ASYNC_LINT_CATALOG_SNAPSHOTS", "0")
    assert read_catalog_files(home)[0][0] == "AL9.toml" and not _snapshots(home)
    monkeypatch.delenv("ASYNC_LINT_CATALOG_SNAPSHOTS")
    (home.parent / "cache").write_text("a file where the folder would go")
    assert read_catalog_files(home)[0][0] == "AL9.toml"


def test_the_built_in_catalog_reads_back_identical(home):
    parsed = [(name, catalog_files._parse_toml((catalog_dir() / name).read_bytes()))
              for name in sorted(os.listdir(catalog_dir())) if name.endswith(".toml")]
    assert read_catalog_files(catalog_dir()) == parsed  # written
    assert read_catalog_files(catalog_dir()) == parsed  # read back
    assert json.loads(_snapshots(home)[0].read_text())[0][0] == parsed[0][0]
