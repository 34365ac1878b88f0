"""The ``eventlab`` command: run the workbook headless, regenerate stored outputs, reliability figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def _select(names: list[str]) -> list[Path]:
    from lab.workbook import lessons

    every = lessons()
    if not names:
        return every
    chosen = [p for p in every if any(p.name.startswith(n) or p.stem == n for n in names)]
    if not chosen:
        raise SystemExit(f"No notebook matches {' '.join(names)}; they are: "
                         + ", ".join(p.stem for p in every))
    return chosen


def _run(args: argparse.Namespace, *, in_place: bool) -> int:
    from lab.workbook import run_all

    output = None if in_place else Path(args.output)
    runs = run_all(_select(args.notebooks), output=output, in_place=in_place)
    failed = [r for r in runs if r.error]
    total = sum(r.seconds for r in runs)
    if failed:
        print(f"✗ {failed[0].error}", file=sys.stderr)
        return 1
    where = "in place" if in_place else f"into {output}/ (notebooks + HTML)"
    print(f"✓ {len(runs)} notebooks executed {where} in {total:.1f} s")
    return 0


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``eventlab`` console script."""
    parser = argparse.ArgumentParser(prog="eventlab", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="execute the workbook headless into build/")
    run.add_argument("notebooks", nargs="*", help="only these (e.g. 04 or 04_lambda_function)")
    run.add_argument("--output", default="build", help="folder for executed notebooks and HTML")
    regenerate = commands.add_parser("regenerate", help="re-execute notebooks in place (stored outputs)")
    regenerate.add_argument("notebooks", nargs="*", help="only these (e.g. 04)")
    commands.add_parser("reliability", help="print the reliability figures")
    args = parser.parse_args(argv)
    if args.command == "run":
        return _run(args, in_place=False)
    if args.command == "regenerate":
        return _run(args, in_place=True)
    from lab import reliability

    return reliability.main()


if __name__ == "__main__":
    raise SystemExit(main())
