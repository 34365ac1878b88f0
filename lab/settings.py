"""The lab's settings as connect() chose them, each checked with a sentence for people (lesson 00).

``settings.show(cloud)`` prints one line per setting — Python and packages, backend, region,
account, the email address alerts go to, the name prefix, the bucket name — starting with ✓, or
with ✗ and one sentence saying what is wrong and how to fix it. ``settings.review(cloud)`` returns the same as
data. The checks catch a learner's mistakes before a later lesson trips over them: a region
typo, a placeholder address on real AWS, a bucket name S3 would refuse, a variable changed after
``connect()`` read it.
"""

from __future__ import annotations

import dataclasses
import difflib
import functools
import importlib.util
import ipaddress
import os
import re
import sys
import textwrap
from typing import Any

from lab.errors import LabError

PACKAGES = ("boto3", "moto", "pandas", "matplotlib", "tqdm")
MINIMUM_PYTHON = (3, 11)
WIDTH = 100  # printed lines wrap here, indented, instead of running off a JupyterLab cell
RESTART = "where you start Jupyter, then start it again"
RECONNECT = "run the first cell again, so that connect() reads it"
# Services the pipeline uses in its region (IAM is global).
_REGIONAL_SERVICES = ("sns", "dynamodb", "lambda", "s3", "cloudwatch", "logs", "sts")
_BUCKET_CHARACTERS = re.compile(r"^[a-z0-9.-]+$")
RESERVED_BUCKET_PREFIXES = ("xn--", "sthree-", "amzn-s3-demo-")
_RESERVED_SUFFIXES = ("-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3")


@dataclasses.dataclass(frozen=True)
class Setting:
    """One setting: its name, its value, whether it is usable, and a sentence about it.

    On ✓ the sentence says what the value means; on ✗ what is wrong and how to fix it.
    """

    name: str
    value: str
    ok: bool
    sentence: str

    def __str__(self) -> str:
        text = (f"✓ {self.name:<8} {self.value}: {self.sentence}" if self.ok
                else f"✗ {self.name}: {self.sentence}")
        indent = " " * (11 if self.ok else 2)
        return textwrap.fill(text, WIDTH, subsequent_indent=indent, break_long_words=False,
                             break_on_hyphens=False)


def review(cloud: Any) -> list[Setting]:
    """Check each setting of the connection ``cloud``; never raises for a bad value.

    Returns:
        One :class:`Setting` per line of :func:`show`, in order.
    """
    from lab.checks import require_connection

    cloud = require_connection(cloud, example="settings.review(cloud)")
    return [_python(), _backend(cloud), _region(cloud), _account(cloud), _email(cloud),
            _prefix(cloud), _bucket(cloud)]


def show(cloud: Any = None) -> None:
    """Print one ✓ line, or one ✗ sentence, per setting of the connection ``cloud``."""
    from lab.checks import Wrong, require_connection

    try:
        cloud = require_connection(cloud, example="settings.show(cloud)")
    except Wrong as wrong:
        print(f"✗ {wrong}")
        return
    for setting in review(cloud):
        print(setting)


# -- each setting ---------------------------------------------------------------------------------

def _python() -> Setting:
    wanted = ".".join(map(str, MINIMUM_PYTHON))
    value = f"{wanted} or newer"
    if sys.version_info[:2] < MINIMUM_PYTHON:
        here = ".".join(map(str, sys.version_info[:2]))
        return Setting("python", here, False,
                       f"this kernel runs Python {here}, and the lab needs {wanted} or newer: "
                       "pick a newer kernel (Kernel → Change kernel) or reinstall with `make lab`.")
    missing = [name for name in PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        return Setting("python", value, False,
                       f"{', '.join(missing)} cannot be imported in this kernel: run `make lab` "
                       "(or pip install -e .) again, then restart the kernel.")
    return Setting("python", value, True, f"with {', '.join(PACKAGES[:-1])} and {PACKAGES[-1]}")


def _backend(cloud: Any) -> Setting:
    from lab.connection import OPT_IN_VARIABLE, _choose_backend

    chosen = os.environ.get("EVENTLAB_BACKEND", "").strip()
    if chosen:
        try:
            kind, endpoint = _choose_backend(chosen)
        except LabError as error:
            return Setting("backend", cloud.backend, False, f"EVENTLAB_BACKEND={chosen!r}: {error}")
        if (kind, endpoint) != (cloud.backend, cloud.endpoint_url):
            return Setting("backend", cloud.backend, False,
                           f"EVENTLAB_BACKEND is {chosen!r}, but this kernel is connected to the "
                           f"{cloud.backend} backend, and a kernel keeps its backend: set the "
                           f"variable {RESTART}.")
    if cloud.backend == "moto" and os.environ.get(OPT_IN_VARIABLE) == "1":
        return Setting("backend", cloud.backend, False,
                       f"{OPT_IN_VARIABLE}=1 is set, but the backend is moto, so nothing reaches "
                       "your AWS account. To use it, also set EVENTLAB_BACKEND=aws "
                       f"{RESTART}; to stay offline, unset {OPT_IN_VARIABLE}.")
    if cloud.backend == "moto":
        return Setting("backend", "moto", True,
                       "in-process moto plus the local cloud; offline, nothing costs money")
    if cloud.backend == "aws":
        return Setting("backend", "aws", True,
                       f"a real AWS account ({OPT_IN_VARIABLE}=1); it can cost money, so run "
                       "09_cleanup when you are done")
    return Setting("backend", "endpoint", True, f"an AWS-compatible server at {cloud.endpoint_url}")


@functools.lru_cache(maxsize=1)
def _known_regions() -> frozenset[str]:
    """Regions (botocore's offline endpoint data) that offer every service of the pipeline."""
    import boto3

    session = boto3.session.Session()
    found: set[str] = set()
    for partition in ("aws", "aws-cn", "aws-us-gov"):
        regions = set(session.get_available_regions(_REGIONAL_SERVICES[0], partition))
        for service in _REGIONAL_SERVICES[1:]:
            regions &= set(session.get_available_regions(service, partition))
        found |= regions
    return frozenset(found)


def _closest(word: str, choices: frozenset[str]) -> str | None:
    """The choice most like ``word`` (ties: the first in alphabetical order), or None."""
    def likeness(choice: str) -> float:
        return difflib.SequenceMatcher(None, word, choice).ratio()

    best = max(sorted(choices), key=likeness, default=None)  # max keeps the first of a tie
    return best if best is not None and likeness(best) >= 0.6 else None


def region_problem(region: str) -> str | None:
    """Why ``region`` cannot hold the pipeline, with a guess at the one meant (None: it can)."""
    known = _known_regions()
    if region in known:
        return None
    near = _closest(str(region).strip().lower(), known)
    guess = f" (did you mean {near}?)" if near else ""
    return f"{region!r} is not an AWS region with every service of the pipeline{guess}"


def _region(cloud: Any) -> Setting:
    region = cloud.region
    problem = region_problem(region)
    if problem:
        return Setting("region", region, False,
                       f"{problem}: set EVENTLAB_REGION to one such as us-east-1 (or unset it) "
                       f"{RESTART}.")
    chosen = os.environ.get("EVENTLAB_REGION", "").strip()
    if chosen and chosen != region:
        return Setting("region", region, False,
                       f"EVENTLAB_REGION is {chosen!r}, but this kernel is connected to {region}, "
                       f"and a kernel keeps its region: set the variable {RESTART}.")
    return Setting("region", region, True, "every regional resource of the lab is created here")


def _account(cloud: Any) -> Setting:
    from lab.aws import friendly

    try:
        with friendly("ask the backend who you are (GetCallerIdentity)"):
            account = cloud.client("sts").get_caller_identity()["Account"]
    except LabError as error:
        return Setting("account", cloud.account_id, False, f"{error} Check the backend above.")
    if account != cloud.account_id:
        return Setting("account", cloud.account_id, False,
                       f"the backend now answers as account {account}, but this connection was "
                       f"made for {cloud.account_id} (did the credentials change?): restart the "
                       "kernel and run the first cell again.")
    whose = "moto's fixed test account" if cloud.backend == "moto" else "your credentials' account"
    return Setting("account", account, True, f"GetCallerIdentity answers; {whose}")


def _email(cloud: Any) -> Setting:
    from lab.errors import InvalidEmail
    from lab.names import DEFAULT_EMAIL
    from lab.sns import validate_email

    email = cloud.names.email
    try:
        validate_email(email)
    except InvalidEmail:
        return Setting("email", email, False,
                       f"{email!r} is not an address SNS can deliver to: set "
                       f"EVENTLAB_EMAIL=name@example.com {RESTART}.")
    chosen = os.environ.get("EVENTLAB_EMAIL", "").strip()
    if chosen and chosen != email:
        return Setting("email", email, False,
                       f"EVENTLAB_EMAIL is {chosen!r}, but alerts of this connection go to "
                       f"{email}: {RECONNECT}.")
    if cloud.backend == "aws" and email == DEFAULT_EMAIL:
        return Setting("email", email, False,
                       f"{email} is the lab's placeholder, and on real AWS nobody reads it: set "
                       f"EVENTLAB_EMAIL to an address you can read {RESTART}.")
    if cloud.is_local:
        return Setting("email", email, True, "alerts go to the local cloud's inbox, cloud.inbox()")
    return Setting("email", email, True, "alerts go to this mailbox; lesson 01 asks you to confirm")


def _prefix(cloud: Any) -> Setting:
    from lab.names import PREFIX_VARIABLE, prefix_problem

    prefix = cloud.names.prefix
    chosen = os.environ.get(PREFIX_VARIABLE, "").strip()
    for value in (chosen, prefix):
        problem = prefix_problem(value)
        if problem:
            return Setting("prefix", prefix or "(none)", False, problem + ".")
    if chosen and chosen != prefix:
        return Setting("prefix", prefix or "(none)", False,
                       f"{PREFIX_VARIABLE} is {chosen!r}, but this connection names its resources "
                       f"{'with ' + repr(prefix) if prefix else 'without a prefix'}: {RECONNECT}.")
    if prefix:
        return Setting("prefix", prefix, True,
                       f"every resource name begins with it ({cloud.names.table}, …); teardown "
                       "and the inventory touch only these")
    return Setting("prefix", "(none)", True,
                   f"the lab's own names (classes sharing an account set {PREFIX_VARIABLE})")


def bucket_name_problem(name: str) -> str | None:
    """What breaks S3's bucket naming rules in ``name`` (None when it follows them)."""
    if not 3 <= len(name) <= 63:
        return f"it has {len(name)} characters, and a bucket name has 3 to 63"
    if not _BUCKET_CHARACTERS.match(name):
        return "it may hold only lower-case letters, digits, hyphens and dots"
    if not (name[0].isalnum() and name[-1].isalnum()):
        return "it must begin and end with a letter or a digit"
    if ".." in name:
        return "it may not hold two dots in a row"
    try:
        ipaddress.IPv4Address(name)
    except ValueError:
        pass
    else:
        return "it may not look like an IP address"
    for prefix in RESERVED_BUCKET_PREFIXES:
        if name.startswith(prefix):
            return f"S3 reserves names that begin with {prefix}"
    for suffix in _RESERVED_SUFFIXES:
        if name.endswith(suffix):
            return f"S3 reserves names that end with {suffix}"
    return None


def _bucket(cloud: Any) -> Setting:
    from lab.names import bucket_name_for

    name = cloud.names.bucket
    problem = bucket_name_problem(name)
    if problem:
        return Setting("bucket", name, False,
                       f"S3 would refuse {name!r}: {problem}. Set EVENTLAB_BUCKET to a valid "
                       f"name (or unset it for the lab's own) {RESTART}.")
    chosen = os.environ.get("EVENTLAB_BUCKET", "").strip()
    if chosen and chosen != name:
        return Setting("bucket", name, False,
                       f"EVENTLAB_BUCKET is {chosen!r}, but this connection uses {name}: "
                       f"{RECONNECT}.")
    if name == cloud.names.prefix + bucket_name_for(cloud.account_id, cloud.region):
        return Setting("bucket", name, True, "yours alone, and stable across restarts")
    return Setting("bucket", name, True,
                   "your choice (EVENTLAB_BUCKET); names are global, lesson 05 says if it is taken")
