"""Sentences for the learner's screen: wrapped at spaces so that no line breaks inside a word.

JupyterLab breaks a plain-text output line that is wider than the output area anywhere, also
inside a word ("t he bucket"); a 1280-pixel window holds about 108 characters. Every sentence the
lab prints goes through :func:`wrap` so that it breaks at spaces instead, the same in JupyterLab,
on GitHub, in nbviewer and in a terminal.
"""

from __future__ import annotations

import textwrap

WIDTH = 100  # characters per line: fits JupyterLab's output area at 1280 px with room to spare


def wrap(text: str, *, width: int = WIDTH, indent: str = "  ") -> str:
    """Wrap each line of ``text`` longer than ``width`` at spaces; continuation lines indented.

    Words are never broken, so a single token longer than ``width`` (a URL, an ARN) stays whole
    on a line of its own.
    """
    lines = []
    for line in text.split("\n"):
        if len(line) <= width:
            lines.append(line)
            continue
        lead = line[: len(line) - len(line.lstrip(" "))]
        if "\t" in line:
            # Tab-separated fields (a Lambda REPORT line): one field a line, so that where the
            # line breaks never depends on how many digits a duration has.
            first, *fields = line.split("\t")
            lines.extend([first, *(lead + indent + field for field in fields)])
            continue
        lines.extend(textwrap.wrap(line, width=width, initial_indent="",
                                   subsequent_indent=lead + indent, break_long_words=False,
                                   break_on_hyphens=False, drop_whitespace=True) or [line])
    return "\n".join(lines)


def say(text: str) -> None:
    """Print ``text`` wrapped for the learner's screen."""
    print(wrap(text))
