"""How paths are shown to people: relative to the working folder when inside it, else as given."""

from __future__ import annotations

import os


def display_path(path: str) -> str:
    try:
        rel = os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return path
    return path if rel.startswith("..") else rel
