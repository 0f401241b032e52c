"""async-lint: find and fix the async pitfalls of FastAPI and asyncio services."""

__version__ = "0.1.0"
