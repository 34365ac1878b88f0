"""Exercises of lesson 00 · Welcome and setup: the environment check, the pipeline's order."""

from __future__ import annotations

from typing import Any

from lab import settings
from lab.checks import Exercise, Wrong, require_connection

FLOW = ("S3", "Lambda", "DynamoDB", "CloudWatch", "SNS")
# Other spellings a learner may use for the same five services.
_ALIASES = {
    "amazon s3": "S3", "s3 bucket": "S3", "aws lambda": "Lambda", "lambda function": "Lambda",
    "amazon dynamodb": "DynamoDB", "dynamodb table": "DynamoDB", "amazon cloudwatch": "CloudWatch",
    "cloudwatch alarms": "CloudWatch", "cloudwatch alarm": "CloudWatch", "amazon sns": "SNS",
    "sns topic": "SNS",
}
_STEP = {
    "S3": "the upload lands in the bucket",
    "Lambda": "the bucket's event notification invokes the function",
    "DynamoDB": "the function writes one item per uploaded object",
    "CloudWatch": "the table's write metrics are watched by the alarms",
    "SNS": "an alarm that changes state publishes to the topic, which emails you",
}


def _environment(cloud: Any = None) -> str:
    """Pass when every setting of ``cloud`` (lab.settings) is usable and the backend answers."""
    require_connection(cloud, example="ex.environment.check(cloud)")
    problems = [setting for setting in settings.review(cloud) if not setting.ok]
    if problems:
        more = (f" ({len(problems) - 1} more: settings.show(cloud) lists them)"
                if len(problems) > 1 else "")
        raise Wrong(f"{problems[0].name}: {problems[0].sentence}{more}")
    backend = cloud.endpoint_url if cloud.backend == "endpoint" else cloud.backend
    return (f"{backend} answers in {cloud.region} as account {cloud.account_id}; every setting "
            "is usable.")


def _canonical(name: Any) -> str | None:
    if not isinstance(name, str):
        return None
    key = " ".join(name.strip().lower().split())
    for service in FLOW:
        if key == service.lower():
            return service
    return _ALIASES.get(key)


def _flow(answer: Any) -> str:
    """Pass when ``answer`` lists the five services in the order an upload travels."""
    if isinstance(answer, str) or not isinstance(answer, (list, tuple)):
        raise Wrong('give a list of five service names, e.g. ["S3", "...", "...", "...", "..."].')
    names = [_canonical(name) for name in answer]
    unknown = [repr(given) for given, name in zip(answer, names) if name is None]
    if unknown:
        raise Wrong(f"not one of the five services: {', '.join(unknown)} (they are "
                    f"{', '.join(sorted(FLOW))}).")
    if sorted(names) != sorted(FLOW):
        missing = sorted(set(FLOW) - set(names))
        repeated = sorted({n for n in names if names.count(n) > 1})
        problems = [f"missing {', '.join(missing)}"] if missing else []
        problems += [f"{', '.join(repeated)} more than once"] if repeated else []
        raise Wrong(f"each of the five services appears exactly once ({'; '.join(problems)}).")
    for position, (given, expected) in enumerate(zip(names, FLOW), 1):
        if given != expected and position == 1:
            raise Wrong(f"the first service is where everything starts: {_STEP[expected]}.")
        if given != expected:
            right = "the first one is" if position == 2 else f"the first {position - 1} are"
            raise Wrong(f"{right} right, position {position} is not: after "
                        f"{FLOW[position - 2]}, {_STEP[expected]}.")
    return "S3 → Lambda → DynamoDB → CloudWatch → SNS, the seed's Architecture Flow."


environment = Exercise(
    title="Environment check",
    test=_environment,
    hints=(
        "Run the first code cell of this notebook: it makes the connection `cloud`, which the "
        "check takes: ex.environment.check(cloud).",
        "If the check still fails, read its ✗ sentence, or settings.show(cloud) for every "
        "setting: each names the variable to change (see also the README's Troubleshooting).",
    ),
    solution_text=("Run the lesson's first code cell (it connects), then the settings cell; fix "
                   "each ✗ it names (the README's Troubleshooting table helps), restart the "
                   "kernel and check again."),
)

q1 = Exercise(
    title="The order of the pipeline",
    test=_flow,
    hints=(
        "Follow one uploaded file: where does it land first, and what does that start?",
        "The function writes to the table; the table's metrics are what the alarms watch.",
        "The last service turns an alarm into an email.",
    ),
    solution_text='answer = ["S3", "Lambda", "DynamoDB", "CloudWatch", "SNS"]',
)
