#!/usr/bin/env python3
"""Write docs/rules.md from the rule catalog (rules/*.toml), so the documentation lists every rule there is.

    python scripts/gen_rule_docs.py            # regenerate docs/rules.md
    python scripts/gen_rule_docs.py --check    # exit 1 if docs/rules.md is out of date (what the tests check)

Nothing about a rule is written here: codes, names, texts, examples, defaults and fix safety all come from the
catalog at run time, so a new rules/*.toml file appears in the docs by running this script again.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run from a checkout without installing
    sys.path.insert(0, str(ROOT))

from async_lint.catalog import Catalog, RuleDoc, catalog_dir, load_catalog  # noqa: E402
from async_lint.config import DEFAULT_TEST_SELECT  # noqa: E402
from async_lint.reporters import rule_anchor  # noqa: E402

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

OUTPUT = ROOT / "docs" / "rules.md"
FIX_LABELS = {"safe": "safe, applied by `--fix`", "unsafe": "unsafe, applied by `--fix --unsafe-fixes`"}


def family_titles() -> dict[str, str]:
    """`family = "AL1"` -> `title = "Blocking the event loop"` from the catalog files that have both."""
    titles: dict[str, str] = {}
    for path in sorted(catalog_dir().glob("*.toml")):
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        if data.get("family") and data.get("title"):
            titles.setdefault(data["family"], data["title"])
    return titles


def default_label(rule: RuleDoc) -> str:
    # `always`: input and internal errors are reported whatever is selected; `preview (on)`: needs preview.
    return rule.default_label


def fix_label(rule: RuleDoc) -> str:
    return rule.fix_safety if rule.has_fix else "-"


def anchor(rule: RuleDoc) -> str:
    # GitHub's heading anchors: lower case, spaces to dashes (the JSON output's `url` links the same anchors).
    return rule_anchor(rule.code, rule.name)


def group(rule: RuleDoc) -> str:
    """The heading a rule is listed under: its code's prefix (AL107 under AL1xx), not the catalog file that
    defines it (AL107 lives in AL2-coroutines.toml, with the project index it shares with AL201)."""
    return rule.code[:3]


def cell(text: str) -> str:
    return " ".join(text.split()).replace("|", "\\|")


def paragraphs(text: str) -> str:
    """The catalog wraps prose at a fixed width; join the lines of each paragraph again."""
    return "\n\n".join(" ".join(block.split()) for block in text.strip().split("\n\n") if block.strip())


def render_rule(rule: RuleDoc) -> list[str]:
    out = [f"### {rule.code} {rule.name}", ""]
    if rule.preview:
        out += ["> **`Preview`** this rule runs only with `--preview` (or `preview = true` in `[tool.async-lint]`), "
                "whatever selects it.", ""]
    out += [f"**What it does:** {paragraphs(rule.summary)}", ""]
    if rule.why:
        out += ["**Why is this bad?**", "", paragraphs(rule.why), ""]
    if rule.bad:
        out += ["**Example:**", "", "```python", rule.bad, "```", ""]
    if rule.good:
        out += ["**Use instead:**", "", "```python", rule.good, "```", ""]
    fix = FIX_LABELS.get(rule.fix_safety, "no automatic fix")
    out += [f"**How to fix it** ({fix}): {paragraphs(rule.fix) or '-'}", ""]
    enabled = {"always": "always reported", "on": "yes", "off": "no (enable it with `extend-select`)"}
    base = "always" if rule.always else "on" if rule.default else "off"
    out += [f"**Enabled by default:** {enabled[base]}", ""]
    if rule.family != "AL0" and not rule.code.startswith(DEFAULT_TEST_SELECT):
        out += ["**In test files:** not run by default (opt in with `extend-test-select`).", ""]
    if rule.peer_codes:
        peers = " or ".join(f"`{code}`" for code in rule.peer_codes)
        out += [f"**Peer codes:** a `# noqa` naming {peers} (what ruff / flake8-async call this pitfall) silences "
                "it too.", ""]
    return out


def render(catalog: Catalog | None = None) -> str:
    catalog = catalog or load_catalog()
    rules = sorted(catalog.rules.values(), key=lambda r: r.code)
    titles = family_titles()
    out = [
        "# async-lint rules",
        "",
        "<!-- Generated from rules/*.toml by scripts/gen_rule_docs.py; do not edit by hand. -->",
        "",
        f"async-lint has {len(rules)} rules. `async-lint rules` lists them in the terminal and "
        "`async-lint rule CODE` shows one rule's page. *Default* says whether a rule runs without configuration "
        "(`always`: reported whatever is selected; `preview`: only with `--preview`); *Fix* says whether "
        "`async-lint check --fix` can fix it "
        "(`unsafe` fixes also need `--unsafe-fixes`).",
        "",
        "| Code | Name | Summary | Default | Fix |",
        "| --- | --- | --- | --- | --- |",
    ]
    for rule in rules:
        out.append(f"| [{rule.code}](#{anchor(rule)}) | {rule.name} | {cell(rule.summary)} | {default_label(rule)} "
                   f"| {fix_label(rule)} |")
    out.append("")
    family = None
    for rule in rules:
        if group(rule) != family:
            family = group(rule)
            heading = f"{family}xx" if family else "Other rules"
            title = titles.get(family)
            out += [f"## {heading}: {title}" if title else f"## {heading}", ""]
        out += render_rule(rule)
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="exit 1 if the file is out of date; write nothing")
    parser.add_argument("--output", type=Path, default=OUTPUT, help=f"where to write (default: {OUTPUT})")
    args = parser.parse_args(argv)
    text = render()
    current = args.output.read_text(encoding="utf-8") if args.output.is_file() else None
    if args.check:
        if current != text:
            print(f"{args.output} is out of date: run python scripts/gen_rule_docs.py", file=sys.stderr)
            return 1
        print(f"{args.output} is up to date")
        return 0
    if current != text:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(text, encoding="utf-8")
        print(f"wrote {args.output}")
    else:
        print(f"{args.output} is up to date")
    return 0


if __name__ == "__main__":
    sys.exit(main())
