"""Command-line options said in words, for the pages a person reads in a browser.

A finding's advice names the option that acts on it (``--profile``, ``--login once``): right
in the Markdown report and the terminal, where a person types the next command, but jargon
on a web page, where nobody types it. The HTML report and the admin pass their text through
``without_flags``; code blocks (SQL, evidence) are shown verbatim and never pass through it.
"""

from __future__ import annotations

import re

#: Each option as words, the longest spellings first so a combination reads as one thing.
FLAG_WORDS: tuple[tuple[str, str], ...] = (
    (r"--engine locust --processes N", "the Locust engine with more processes"),
    (r"--engine locust --master", "the Locust engine's master"),
    (r"--engine locust", "the Locust engine"),
    (r"--processes N", "more processes"),
    (r"--master HOST:PORT", "the master's address"),
    (r"--master", "a Locust master"),
    (r"--login once", "one login per identity"),
    (r"--mode both", "both modes (in-process and over HTTP)"),
    (r"--baseline latest", "the latest comparable run as the baseline"),
    (r"--baseline (\d+)", r"baseline run #\1"),
    (r"--baseline", "a baseline run"),
    (r"--profile", "profiling"),
    (r"--explain", "EXPLAIN plans"),
    (r"--capacity", "capacity"),
    (r"--concurrency", "concurrency"),
    (r"--rate", "request rate"),
    (r"--identities", "the number of identities"),
    (r"--fail-on-regression", "failing the build on a regression"),
    (r"--base-url", "its base URL"),
)

#: An option where it stands as a word: not inside a longer word or a SQL comment's dashes.
_START = r"(?<![\w-])"
_PATTERNS = tuple((re.compile(_START + flag + r"(?![\w-])"), words) for flag, words in FLAG_WORDS)
#: Any other option: its name alone (``--ramp-up``: "a longer ramp-up").
_OTHER = re.compile(_START + r"--([a-z][a-z-]*[a-z])(?![\w-])")
#: An option quoted as code (`` `--base-url` ``): the words replacing it are not code.
_QUOTED = re.compile(r"`(--[a-z][^`]*)`")


def without_flags(text: str) -> str:
    """``text`` with every command-line option said in words."""
    text = _QUOTED.sub(r"\1", text)
    for pattern, words in _PATTERNS:
        text = pattern.sub(words, text)
    return _OTHER.sub(r"\1", text)
