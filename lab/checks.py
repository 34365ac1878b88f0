"""Learner checks: declared exercises with check(), hint() and solution(), never a traceback.

An exercise is declared once (what it tests, progressive hints, the solution) in
``lab/exercises/<lesson>.py``; a notebook calls ``ex.q1.check(...)`` with the learner's values
passed explicitly. A value still equal to ``____`` means "not attempted yet", which is a different
message from "wrong". Checking (``Exercise.evaluate``) is separate from display (``check``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

from lab.errors import LabError


class Blank:
    """The placeholder a learner replaces: ``my_key = ____``."""

    def __repr__(self) -> str:
        return "____"


____ = Blank()


class Wrong(Exception):
    """Raised by an exercise's test with a sentence saying what was found and what to try."""


def require_connection(cloud: Any, *, example: str = "check(cloud)") -> Any:
    """``cloud`` when it is the connection made by ``connect()``; else Wrong saying how to pass it."""
    from lab.connection import Lab

    if not isinstance(cloud, Lab):
        raise Wrong(f"pass the connection made by connect(), e.g. {example}.")
    return cloud


@dataclasses.dataclass(frozen=True)
class Outcome:
    """The result of one check: ``status`` is "correct", "wrong" or "not attempted"."""

    status: str
    message: str
    printed: bool = dataclasses.field(default=False, compare=False, repr=False)

    @property
    def passed(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        mark = {"correct": "✓", "wrong": "✗", "not attempted": "…"}[self.status]
        return f"{mark} {self.message}"

    def _ipython_display_(self) -> None:
        """In a notebook, show the sentence once: not again after ``check()`` printed it."""
        if not self.printed:
            print(self)


@dataclasses.dataclass
class Exercise:
    """One learner check.

    Args:
        title: what the learner is asked to do, in a few words.
        test: called with the values passed to ``check``; returns a success sentence or raises
            :class:`Wrong` (a LabError also counts as wrong: its sentence is shown).
        hints: progressive hints, shown one per ``hint()`` call.
        solution: the code or steps that solve it.
    """

    title: str
    test: Callable[..., str]
    hints: tuple[str, ...] = ()
    solution_text: str = ""
    _hints_shown: int = dataclasses.field(default=0, repr=False)

    def evaluate(self, *values: Any) -> Outcome:
        """Run the test without printing; never raises."""
        if any(isinstance(v, Blank) for v in values):
            return Outcome("not attempted",
                           f"{self.title}: not attempted yet — replace ____ with your answer, then run "
                           "the check again.")
        try:
            message = self.test(*values)
        except Wrong as wrong:
            return Outcome("wrong", f"{self.title}: {wrong}")
        except LabError as error:
            return Outcome("wrong", f"{self.title}: {error}")
        except Exception as error:  # noqa: BLE001 - a learner never sees the checker's traceback
            return Outcome("wrong", f"{self.title}: that did not work ({type(error).__name__}: "
                                    f"{error}). Try hint() for a nudge.")
        return Outcome("correct", f"{self.title}: {message}")

    def check(self, *values: Any) -> Outcome:
        """Print ✓ / ✗ / … with a sentence for people, and return the outcome."""
        outcome = self.evaluate(*values)
        print(outcome)
        return dataclasses.replace(outcome, printed=True)

    def hint(self) -> None:
        """Print the next hint (they get more specific each time)."""
        if not self.hints:
            print(f"No hint for {self.title}: try solution().")
            return
        index = min(self._hints_shown, len(self.hints) - 1)
        self._hints_shown += 1
        print(f"Hint {index + 1}/{len(self.hints)}: {self.hints[index]}")

    def solution(self) -> None:
        """Print the solution."""
        print(f"Solution — {self.title}:\n{self.solution_text}")
