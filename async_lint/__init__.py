"""async-lint: find and fix the async pitfalls of FastAPI and asyncio services.

The Python API (`check`, `check_source`, `fix_source`, `Finding`, ...) lives in `async_lint.api` and is loaded
on first use, so `import async_lint` (and `async-lint --version`) stays free of libcst.
"""

__version__ = "0.1.0"

__all__ = ["check", "check_source", "fix_source", "settings_for", "ConfigError", "Finding", "FixInfo", "Edit",
           "__version__"]


def __getattr__(name: str):
    if name in __all__ or name == "api":
        import importlib

        api = importlib.import_module("async_lint.api")
        return api if name == "api" else getattr(api, name)
    raise AttributeError(f"module 'async_lint' has no attribute {name!r}")


def __dir__() -> list:
    return sorted({*globals(), *__all__})
