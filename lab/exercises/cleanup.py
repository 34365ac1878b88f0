"""Exercises of lesson 09 · Cleanup: a safe order of deletion, and nothing of the lab is left."""

from __future__ import annotations

from typing import Any

from lab.checks import Exercise, Wrong, require_connection

SAFE_ORDER = ("bucket", "function", "role")
# What each of the three uses (lesson 05 and lesson 04), and what goes wrong when it outlives it.
_USES = {
    ("bucket", "function"): "uploads in between would invoke a function that is gone",
    ("function", "role"): "the function would still exist and fail on every invocation, unable "
                          "to assume a role that is gone",
}


def _links(cloud: Any) -> dict[tuple[str, str], str | None]:
    """Each use link as the account shows it now (a sentence), or None when it is not there."""
    from lab import awslambda, iam, s3

    names = cloud.names
    bucket, function = s3.get_bucket(cloud), awslambda.get_function(cloud)
    notifies = bucket is not None and s3.get_trigger(cloud) is not None
    runs_with = function is not None and function["Role"].rsplit("/", 1)[-1] == names.role
    role_exists = iam.get_role(cloud) is not None
    return {
        ("bucket", "function"): (
            f"the bucket {names.bucket} notifies the function {names.function} on every upload "
            "(its notification configuration says so)" if notifies and function else None),
        ("function", "role"): (
            f"the function {names.function} runs with the role {names.role} (its "
            "configuration says so)" if runs_with and role_exists else None),
    }


def _present(cloud: Any) -> list[str]:
    from lab import awslambda, iam, s3

    found = {"bucket": s3.get_bucket(cloud), "function": awslambda.get_function(cloud),
             "role": iam.get_role(cloud)}
    return [word for word in SAFE_ORDER if found[word] is not None]


def _safe_order(answer: Any, cloud: Any) -> str:
    """Pass for bucket, function, role; every sentence says what the account holds now."""
    cloud = require_connection(cloud, example="ex.q1.check(answer, cloud)")
    if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
        raise Wrong('give a list of the three words, e.g. ["role", "bucket", "function"].')
    given = [str(word).strip().lower() for word in answer]
    if sorted(given) != sorted(SAFE_ORDER):
        raise Wrong("use each of 'bucket', 'function' and 'role' exactly once.")
    links = _links(cloud)
    for user, used in _USES:
        if given.index(used) < given.index(user):
            found = links[(user, used)]
            why = (f"in this account {found}" if found else
                   f"the {user} uses the {used} (lesson {'05' if user == 'bucket' else '04'} "
                   "linked them; in this account the link is gone already)")
            raise Wrong(f"here the {used} goes before the {user}, but {why}: "
                        f"{_USES[(user, used)]}.")
    present = _present(cloud)
    found = [sentence for sentence in links.values() if sentence]
    if found:
        now = "In this account " + "; ".join(found) + "."
    elif present:
        now = (f"In this account only the {' and the '.join(present)} "
               f"{'still exists' if len(present) == 1 else 'still exist'}, unlinked.")
    else:
        now = "In this account all three are gone already."
    return ("bucket → function → role: delete what uses a resource before the resource itself, "
            f"the reverse of the order they were built in. {now}")


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


q1 = Exercise(
    title="A safe order of deletion",
    test=_safe_order,
    hints=("Ask of each resource: what would break if it were deleted while the others remain?",
           "Lesson 05 pointed the bucket at the function; lesson 04 gave the function the role."),
    solution_text='answer = ["bucket", "function", "role"]',
)

nothing_left = Exercise(
    title="Nothing is left",
    test=_nothing_left,
    hints=("cloud.teardown() deletes everything the lab created; run it, then check again.",
           "charts.inventory(cloud) shows which listing still finds something."),
    solution_text="pipeline.teardown(cloud)   # what cloud.teardown() runs; safe to run again",
)
