"""Issue 13 (recall): synchronous SDK clients in AL102's catalog are a preview behaviour."""

from __future__ import annotations

from helpers import FIXTURES, expectations, settings_for

from async_lint.runner import lint_paths


def _codes(path, preview, *codes):
    [result] = lint_paths([str(path)], settings_for(*codes, preview=preview), jobs=1)
    return [(f.row, f.code) for f in result.findings]


def test_sdk_entries_run_only_in_preview():
    fixture = FIXTURES / "AL102_sdk.py"
    assert len(_codes(fixture, True, "AL102")) > 20
    assert set(_codes(fixture, False, "AL102")) == expectations(fixture)  # only the `requests.get` line


def test_sdk_call_in_a_sync_helper_is_a_blocking_chain_only_in_preview(tmp_path):
    """AL107 follows the same catalog: a preview entry does not start a chain without preview."""
    module = tmp_path / "llm.py"
    module.write_text(
        "from openai import OpenAI\n\nclient = OpenAI()\n\n\n"
        "def ask(prompt):\n    return client.chat.completions.create(model='m', messages=[])\n\n\n"
        "async def endpoint(prompt):\n    return ask(prompt)\n",
        encoding="utf-8",
    )
    [with_preview] = lint_paths([str(module)], settings_for("AL107", root=tmp_path, preview=True), jobs=1)
    assert [(f.row, f.code) for f in with_preview.findings] == [(11, "AL107")]
    [without] = lint_paths([str(module)], settings_for("AL107", root=tmp_path), jobs=1)
    assert without.findings == []


def test_extend_closeable_types(tmp_path):
    """`extend-closeable-types`: a third-party client of the user's is reported like an httpx client."""
    import pytest

    from async_lint.config import ConfigError, Overrides, build_settings

    (tmp_path / "pyproject.toml").write_text(
        '[tool.async-lint]\nextend-closeable-types = ["vendor.sdk.PoolClient"]\n', encoding="utf-8")
    module = tmp_path / "jobs.py"
    module.write_text(
        "from vendor.sdk import PoolClient\n\nSHARED = PoolClient()\n\n\n"
        "async def run(job):\n    client = PoolClient()\n    return await client.submit(job)\n\n\n"
        "async def run_closed(job):\n    client = PoolClient()\n    try:\n        return await client.submit(job)\n"
        "    finally:\n        await client.close()\n",
        encoding="utf-8",
    )
    settings = build_settings([tmp_path], None, Overrides(select=["AL401"]))
    assert settings.extend_closeable == ("vendor.sdk.PoolClient",)
    [result] = lint_paths([str(module)], settings, jobs=1)
    assert [(f.row, f.code) for f in result.findings] == [(7, "AL401")]
    assert result.findings[0].fix is None  # not known to be a context manager: no `with` rewrite
    (tmp_path / "pyproject.toml").write_text('[tool.async-lint]\nextend-closeable-types = "x"\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="extend-closeable-types"):
        build_settings([tmp_path], None, Overrides())
