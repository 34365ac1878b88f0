"""Sentences wrap at spaces, never inside a word, so JupyterLab does not break "t he bucket"."""

from __future__ import annotations

from lab.text import WIDTH, wrap


def test_short_lines_are_left_alone():
    assert wrap("✓ Created topic event-driven-alerts") == "✓ Created topic event-driven-alerts"
    assert wrap("a\n\nb") == "a\n\nb"


def test_a_long_sentence_wraps_at_spaces_with_an_indented_continuation():
    sentence = ("✗ The email subscription: learner@example.com is subscribed but still pending "
                "confirmation, so SNS delivers nothing yet: click the link in the confirmation email.")
    lines = wrap(sentence).split("\n")
    assert len(lines) == 2 and all(len(line) <= WIDTH for line in lines)
    assert lines[1].startswith("  ") and not lines[1].startswith("   ")
    assert " ".join(line.strip() for line in lines) == sentence


def test_words_and_tokens_are_never_broken():
    arn = "arn:aws:sns:us-east-1:123456789012:" + "x" * 120
    text = wrap(f"the ARN {arn} is too long for one line")
    assert arn in text.split("\n")[1]
    assert all(word in text.split() for word in ("the", "ARN", "is", "too", "long"))


def test_indented_lines_keep_their_indent_when_wrapped():
    lines = wrap("    " + "word " * 40).split("\n")
    assert lines[0].startswith("    word") and all(l.startswith("      word") for l in lines[1:])


def test_a_long_tab_separated_line_breaks_at_every_tab_whatever_its_digits():
    for duration in ("9.50", "1004.05"):
        report = (f"REPORT RequestId: 6184cf38-4e24-4c22-8829-2761d820727f\tDuration: {duration} ms"
                  f"\tBilled Duration: 1010 ms\tMemory Size: 128 MB\tMax Memory Used: 43 MB")
        assert wrap(report).split("\n") == [
            "REPORT RequestId: 6184cf38-4e24-4c22-8829-2761d820727f", f"  Duration: {duration} ms",
            "  Billed Duration: 1010 ms", "  Memory Size: 128 MB", "  Max Memory Used: 43 MB"]
    assert wrap("short\tline") == "short\tline"
