"""Messages and options of AL104, AL201, AL3xx and AL501 that fixtures (codes and lines only) cannot show."""

from __future__ import annotations

from helpers import FIXTURES, lint


def _messages(name: str, *selectors: str, preview: bool = False) -> dict[int, str]:
    return {f.row: f.message for f in lint(FIXTURES / name, *selectors, preview=preview).findings}


def test_al104_says_whether_a_call_starts_or_waits_for_the_process():
    messages = _messages("AL104.py", "AL104")
    assert "waits for the child process to exit" in messages[8]  # subprocess.run
    assert "waits for the child process to exit" in messages[12]  # os.system
    popen = messages[11]
    assert "starts the child process" in popen and "does not wait" in popen
    assert "waits for the child process to exit" in messages[20]  # proc.communicate()


def test_al304_messages_name_the_missing_bound():
    messages = _messages("AL304.py", "AL304")
    assert "has no `timeout`" in messages[16] and "socket default" in messages[16]
    assert "`urlopen(timeout=None)` waits forever" in messages[25]
    assert "has no `socket_timeout`" in messages[44]
    assert "without a timeout around it" in messages[50]


def test_al501_says_whether_the_task_goes_on_or_ends_as_if_it_succeeded():
    messages = _messages("AL501.py", "AL501", preview=True)  # a handler that returns: reported in preview
    assert "the cancelled task keeps going" in messages[13]  # `except:` in a `while True` loop
    assert "returns instead of re-raising" in messages[20]  # `except BaseException: ...; return None`
