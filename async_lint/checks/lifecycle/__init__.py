"""AL401-AL406: clients, sessions and pools that are never closed, built per request, or built the old way.

unclosed.py follows each constructed client or session (AL401/AL402), lifetime.py tells how long a stored one
lives, wrap_fix.py is their fix, others.py holds AL403, AL405 and AL406.
"""

from async_lint.checks.lifecycle.others import (
    DEPENDENCIES_KEY, ClientPerRequest, DeprecatedAioredis, SessionmakerForAsyncSession,
)
from async_lint.checks.lifecycle.unclosed import CLOSED_KEY, CLOSED_TEXT_KEY, UnclosedResource, bound_value

__all__ = ["CLOSED_KEY", "CLOSED_TEXT_KEY", "DEPENDENCIES_KEY", "ClientPerRequest", "DeprecatedAioredis",
           "SessionmakerForAsyncSession", "UnclosedResource", "bound_value"]
