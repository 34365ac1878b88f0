"""Exercises of lesson 09 · Cleanup: nothing of the lab is left, and a safe order of deletion."""

from __future__ import annotations

from typing import Any

from lab.checks import Exercise, Wrong, require_connection

SAFE_ORDER = ("bucket", "function", "role")
# What each of the three uses, and what goes wrong when it outlives the thing it uses.
_USES = {
    ("bucket", "function"): "the bucket's notification invokes the function, so every upload in "
                            "between would try to invoke a function that is gone",
    ("function", "role"): "the function runs with the role, so it would still exist and fail on "
                          "every invocation because it cannot assume the role",
}


def _nothing_left(cloud: Any) -> str:
    """Pass when every listing of ``charts.inventory(cloud)`` finds none of the lab's resources."""
    from lab import charts

    require_connection(cloud, example="ex.nothing_left.check(cloud)")
    inventory = charts.inventory(cloud)
    left = inventory[inventory["count"] > 0]
    if not left.empty:
        found = ", ".join(f"{row['service']} {row['resource']} ({row['count']})"
                          for _, row in left.iterrows())
        raise Wrong(f"still there: {found}. Run cloud.teardown() (it is safe to run again).")
    return (f"all {len(inventory)} listings are empty: nothing of the lab is left in "
            f"{cloud.region} (account {cloud.account_id}).")


def _safe_order(answer: Any) -> str:
    """Pass for bucket, function, role: delete what uses a resource before the resource."""
    if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
        raise Wrong('give a list of the three words, e.g. ["role", "bucket", "function"].')
    given = [str(word).strip().lower() for word in answer]
    if sorted(given) != sorted(SAFE_ORDER):
        raise Wrong("use each of 'bucket', 'function' and 'role' exactly once.")
    for user, used in _USES:
        if given.index(used) < given.index(user):
            raise Wrong(f"here the {used} goes before the {user}, but {_USES[(user, used)]}.")
    return ("bucket → function → role: delete what uses a resource before the resource itself, "
            "the reverse of the order they were built in.")


nothing_left = Exercise(
    title="Nothing is left",
    test=_nothing_left,
    hints=("cloud.teardown() deletes everything the lab created; run it, then check again.",
           "charts.inventory(cloud) shows which listing still finds something."),
    solution_text="cloud.teardown()\nex.nothing_left.check(cloud)",
)

q1 = Exercise(
    title="A safe order of deletion",
    test=_safe_order,
    hints=("Ask of each resource: what would break if it were deleted while the others remain?",
           "Lesson 05 pointed the bucket at the function; lesson 04 gave the function the role."),
    solution_text='answer = ["bucket", "function", "role"]',
)
