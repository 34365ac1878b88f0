"""Learner checks: declared exercises with check(), hint() and solution(), never a traceback.

An exercise is declared once (what it tests, progressive hints, the solution) in
``lab/exercises/<lesson>.py``. Two kinds:

- :class:`Exercise` grades a value: a notebook calls ``ex.q1.check(answer)`` with the learner's
  value passed explicitly.
- :class:`BuildExercise` grades a resource the learner created with a real boto3 call, through the
  API: the notebook cell is ``with ex.build_topic.attempt(cloud):`` around the call, whose key
  parts are blanked with ``____``.

A value (or a boto3 parameter) still holding ``____`` means "not attempted yet", which is a
different message from "wrong"; a skipped build is done by the lab's helper so the lesson goes on.
Checking (``evaluate``) is separate from display (``check``). Instructors can turn
``solution()`` off for a class with ``EVENTLAB_SOLUTIONS=off``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from typing import Any

from lab.errors import LabError

BLANK_TEXT = "____"
SOLUTIONS_VARIABLE = "EVENTLAB_SOLUTIONS"


class Blank(str):
    """The placeholder a learner replaces: ``my_key = ____``.

    A ``str`` so that it survives an f-string or ``json.dumps`` as ``____``, where the blank guard
    of every client (:func:`guard_blanks`) still finds it before anything is sent to AWS.
    """

    def __new__(cls) -> "Blank":
        return super().__new__(cls, BLANK_TEXT)

    def __repr__(self) -> str:
        return BLANK_TEXT


____ = Blank()


class NotAttempted(LabError):
    """A boto3 call still holds a ``____`` blank; raised before the request is sent."""


def holds_blank(value: Any) -> bool:
    """True when ``value`` is, or contains (nested in strings, lists or dicts), a ``____`` blank."""
    return bool(blank_paths(value))


def blank_paths(value: Any, path: str = "") -> list[str]:
    """Where ``____`` stands in ``value``: parameter paths such as ``KeySchema[0].KeyType``."""
    if isinstance(value, str):
        return [path or "the value"] if BLANK_TEXT in value else []
    if isinstance(value, dict):
        return [found for key, item in value.items()
                for found in blank_paths(item, f"{path}.{key}" if path else str(key))]
    if isinstance(value, (list, tuple)):
        return [found for index, item in enumerate(value)
                for found in blank_paths(item, f"{path}[{index}]")]
    return []


# Parameters that carry the learner's data (object keys and bodies, items, messages): "____" may
# be real content there, so only the placeholder object itself counts as a blank.
DATA_PARAMETERS = frozenset({"Key", "Body", "CopySource", "Prefix", "StartAfter", "Delimiter",
                             "Item", "ExpressionAttributeValues", "Payload", "Message",
                             "Subject", "MessageBody", "Entries", "Delete"})


def _refuse_blanks(params: Any, model: Any = None, **_: Any) -> None:
    if isinstance(params, dict):
        paths = [path for name, value in params.items()
                 for path in (([name] if isinstance(value, Blank) else [])
                              if name in DATA_PARAMETERS else blank_paths(value, name))]
    else:
        paths = blank_paths(params)
    if paths:
        operation = getattr(model, "name", "this call")
        raise NotAttempted(f"{operation} still has ____ in {', '.join(paths)}: replace each ____ "
                           "with your answer, then run the cell again.")


def guard_blanks(client: Any) -> Any:
    """Make ``client`` refuse, before sending anything, a call whose parameters hold ``____``."""
    client.meta.events.register("before-parameter-build", _refuse_blanks,
                                unique_id="eventlab-refuse-blanks")
    return client


def solutions_allowed() -> bool:
    """False when the instructor turned solutions off (``EVENTLAB_SOLUTIONS=off``)."""
    return os.environ.get(SOLUTIONS_VARIABLE, "on").strip().lower() not in ("off", "0", "no", "false")


def _missing_arguments(test: Callable[..., Any], values: tuple[Any, ...]) -> list[str]:
    """The names of ``test``'s required parameters that ``values`` leaves out (none: [])."""
    import inspect

    try:
        parameters = list(inspect.signature(test).parameters.values())
    except (TypeError, ValueError):  # pragma: no cover - builtins without a signature
        return []
    if any(p.kind is p.VAR_POSITIONAL for p in parameters):
        return []
    required = [p.name for p in parameters
                if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD) and p.default is p.empty]
    return required[len(values):]


def _print_solution(title: str, text: str) -> None:
    if solutions_allowed():
        print(f"Solution — {title}:\n{text}")
    else:
        print(f"Solutions are turned off for this class ({SOLUTIONS_VARIABLE}=off): "
              "try hint(), or ask your instructor.")  # 93 characters: fits as it is


def _print_hint(exercise: Any) -> None:
    if not exercise.hints:
        print(f"No hint for {exercise.title}: try solution().")
        return
    from lab.text import say

    index = min(exercise._hints_shown, len(exercise.hints) - 1)
    exercise._hints_shown += 1
    say(f"Hint {index + 1}/{len(exercise.hints)}: {exercise.hints[index]}")


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
        from lab.text import wrap

        mark = {"correct": "✓", "wrong": "✗", "not attempted": "…"}[self.status]
        return wrap(f"{mark} {self.message}")

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
        if any(holds_blank(v) for v in values):
            return Outcome("not attempted",
                           f"{self.title}: not attempted yet — replace ____ with your answer, then run "
                           "the check again.")
        missing = _missing_arguments(self.test, values)
        if missing:
            example = ", ".join("cloud" if name == "cloud" else name for name in missing)
            given = ", ".join(["answer"] * len(values) + [example]) if values else example
            return Outcome("wrong", f"{self.title}: this check needs {example}: call it as "
                                    f"check({given}), with the connection made by connect().")
        try:
            message = self.test(*values)
        except Wrong as wrong:
            return Outcome("wrong", f"{self.title}: {wrong}")
        except LabError as error:
            return Outcome("wrong", f"{self.title}: {error}")
        except Exception as error:  # noqa: BLE001 - a learner never sees the checker's traceback
            if type(error).__module__.startswith("botocore"):
                from lab.connection import friendly_sentence

                detail = friendly_sentence(error)  # AWS's code and message, in one sentence
            else:
                detail = f"{type(error).__name__}: {error}"
            return Outcome("wrong", f"{self.title}: that did not work ({detail}). Try hint() for "
                                    "a nudge.")
        return Outcome("correct", f"{self.title}: {message}")

    def check(self, *values: Any) -> Outcome:
        """Print ✓ / ✗ / … with a sentence for people, and return the outcome."""
        outcome = self.evaluate(*values)
        print(outcome)
        return dataclasses.replace(outcome, printed=True)

    def hint(self) -> None:
        """Print the next hint (they get more specific each time)."""
        _print_hint(self)

    def solution(self) -> None:
        """Print the solution (unless the instructor turned solutions off)."""
        _print_solution(self.title, self.solution_text)


@dataclasses.dataclass
class BuildExercise:
    """A resource the learner creates with a real boto3 call; graded through the API.

    The notebook cell wraps the learner's call::

        with ex.build_topic.attempt(cloud):
            cloud.client("sns").create_topic(Name=____)

    Args:
        title: what the learner builds, in a few words.
        test: ``test(cloud)`` reads the resource through the API and returns a success sentence,
            or raises :class:`Wrong` saying what is off and how to fix it.
        build: ``build(cloud)`` — the lab's helper that builds the resource when the learner
            skipped the exercise (it prints its own ✓ line), so later cells never break.
        exists: AWS error codes meaning "it is already there" (a second run of the cell): the
            existing resource is graded instead.
        explain: ``explain(code, message, cloud)`` → a sentence for an AWS error the learner's
            values caused, or None for the generic one.
        hints, solution_text: as for :class:`Exercise`.
    """

    title: str
    test: Callable[[Any], str]
    build: Callable[[Any], Any]
    exists: tuple[str, ...] = ()
    explain: Callable[[str, str, Any], str | None] | None = None
    hints: tuple[str, ...] = ()
    solution_text: str = ""
    _hints_shown: int = dataclasses.field(default=0, repr=False)

    def evaluate(self, cloud: Any = None) -> Outcome:
        """Grade the resource as it is now, without printing; never raises."""
        try:
            cloud = require_connection(cloud, example="check(cloud)")
            message = self.test(cloud)
        except Wrong as wrong:
            return Outcome("wrong", f"{self.title}: {wrong}")
        except LabError as error:
            return Outcome("wrong", f"{self.title}: {error}")
        except Exception as error:  # noqa: BLE001 - a learner never sees the checker's traceback
            return Outcome("wrong", f"{self.title}: the check could not read the resource "
                                    f"({type(error).__name__}: {error}).")
        return Outcome("correct", f"{self.title}: {message}")

    def check(self, cloud: Any = None) -> Outcome:
        """Print ✓ / ✗ for the resource as it is now, and return the outcome."""
        outcome = self.evaluate(cloud)
        print(outcome)
        return dataclasses.replace(outcome, printed=True)

    def outcome_of(self, cloud: Any, error: BaseException | None) -> Outcome:
        """What the learner's cell achieved, given the exception it ended with (None: none)."""
        from lab.aws import error_code, error_message

        if error is not None and (isinstance(error, NotAttempted) or BLANK_TEXT in str(error)):
            return Outcome("not attempted", f"{self.title}: not attempted yet — replace each ____ "
                                            "and run the cell again. Meanwhile the lab builds it:")
        if error is not None and type(error).__name__ == "ParamValidationError" and self.explain:
            # boto3 refused the values before sending (a wrong type, a missing parameter)
            sentence = self.explain("ParamValidationError", str(error), cloud)
            if sentence:
                return Outcome("wrong", f"{self.title}: {sentence}")
        code = error_code(error) if error is not None else ""
        if error is not None and code not in self.exists:
            if code:
                sentence = self.explain(code, error_message(error), cloud) if self.explain else None
                return Outcome("wrong", f"{self.title}: " + (sentence or (
                    f"AWS refused the call with {code}: {error_message(error)} Fix the value it "
                    "names and run the cell again.")))
            if isinstance(error, LabError):
                return Outcome("wrong", f"{self.title}: {error}")
            if type(error).__name__ == "ParamValidationError":
                detail = " ".join(str(error).splitlines()[1:]).strip()
                return Outcome("wrong", f"{self.title}: boto3 refused a value before sending it: "
                                        f"{detail} Fix it and run the cell again.")
            return Outcome("wrong", f"{self.title}: your code stopped with {type(error).__name__}: "
                                    f"{_first_line(error)}. Fix it and run the cell again; "
                                    "hint() helps.")
        return self.evaluate(cloud)

    def attempt(self, cloud: Any = None) -> "_Attempt":
        """The context manager around the learner's call: grades what it built, never raises."""
        return _Attempt(self, cloud)

    def hint(self) -> None:
        """Print the next hint (they get more specific each time)."""
        _print_hint(self)

    def solution(self) -> None:
        """Print the solution (unless the instructor turned solutions off)."""
        _print_solution(self.title, self.solution_text)


def _first_line(error: BaseException) -> str:
    text = str(error).strip().splitlines()
    return text[0] if text else "(no message)"


class _Attempt:
    """``with exercise.attempt(cloud):`` — runs the learner's block, then grades or builds."""

    def __init__(self, exercise: BuildExercise, cloud: Any) -> None:
        self.exercise = exercise
        self.cloud = cloud
        self.outcome: Outcome | None = None

    def __enter__(self) -> "_Attempt":
        return self

    def __exit__(self, etype: Any, error: BaseException | None, tb: Any) -> bool:
        if error is not None and not isinstance(error, Exception):
            return False  # KeyboardInterrupt and friends stop the cell as usual
        try:
            cloud = require_connection(self.cloud, example="with ex.build_….attempt(cloud):")
        except Wrong as wrong:
            self.outcome = Outcome("wrong", f"{self.exercise.title}: {wrong}")
            print(self.outcome)
            return True
        self.outcome = self.exercise.outcome_of(cloud, error)
        print(self.outcome)
        if self.outcome.status == "not attempted":
            self.exercise.build(cloud)
        return True

