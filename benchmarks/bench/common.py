"""Pins, constants and the small helpers every part of the benchmark uses."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent.parent  # benchmarks/

# Verified to install together cleanly from PyPI with CPython 3.11 (prefect 3.9.1 constrains fastapi to 0.150.x).
CORPUS_PINS = {
    "fastapi": "0.150.0",
    "starlette": "1.10.0",
    "httpx": "0.28.1",
    "sqlalchemy": "2.1.9",
    "pydantic": "2.14.4",
    "prefect": "3.9.1",  # the large FastAPI application (open-webui pulls in torch: far too slow to install)
}
TOOL_PINS = {"ruff": "0.17.6", "flake8": "7.5.0", "flake8-async": "26.8.1"}
# distribution -> the folder in site-packages that is its source
PACKAGE_DIRS = {"fastapi": "fastapi", "starlette": "starlette", "httpx": "httpx", "sqlalchemy": "sqlalchemy",
                "pydantic": "pydantic", "prefect": "prefect"}
QUICK_PACKAGES = ("httpx", "starlette")
QUICK_FLAKE8_FILES = 10

# Folders skipped by default by async-lint, ruff or flake8: left out of the copy so all see the same files.
SKIP_DIRS = {
    "__pycache__", "build", "dist", "venv", ".venv", "node_modules", "site-packages", "_build", "buck-out",
    "__pypackages__", "CVS",
}
TOOLS = ("async-lint", "ruff", "flake8-async")
CACHE_DIR = ".async_lint_cache"
TOUCH_FRACTION = 0.01
SAMPLE_INTERVAL = 0.05


class SetupError(Exception):
    """The benchmark cannot run (exit 2)."""


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)
