"""Behaviour `lambda-destination-check`: PutFunctionEventInvokeConfig checks an S3 destination.

What AWS does: Lambda checks the function's execution role when the asynchronous-invocation
config is written, and refuses an S3 `OnFailure` destination the role may not write to with
`InvalidParameterValueException`, "The function execution role does not have permissions to call
PutObject on arn:aws:s3:::<bucket>". Not documented as such, but reported by two public projects for
a role whose `s3:PutObject` was scoped to a key prefix, fixed by granting the whole bucket
(`bucket/*`); the Lambda guide ("Capturing records of Lambda asynchronous invocations") documents
`s3:PutObject` and `s3:ListBucket`. The strictest reading is what the stack does: PutObject on every
key of the bucket (`arn:aws:s3:::bucket/*` or a wider wildcard) and ListBucket on the bucket, in
an Allow statement of one of the role's policies (conditions are not evaluated).

The pure parts are here and tested by `selftest.py`; the router reads the role and answers.
"""

from __future__ import annotations

import fnmatch
import json

# A key no prefix-scoped grant covers.
_PROBE_KEY = "flowlogs-devstack-probe/any/key"


def s3_bucket(destination: str) -> str | None:
    """The bucket of an S3 destination ARN (`arn:aws:s3:::bucket`), None for other services."""
    parts = destination.split(":", 5)
    if len(parts) == 6 and parts[0] == "arn" and parts[2] == "s3":
        return parts[5].split("/", 1)[0] or None
    return None


def _listed(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _allows(documents: list[str], action: str, resources: list[str]) -> bool:
    """Some Allow statement names `action` (wildcards allowed) on a pattern matching every one of
    `resources`."""
    for text in documents:
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        for st in _listed(doc.get("Statement")):
            if not isinstance(st, dict) or st.get("Effect") != "Allow":
                continue
            if not any(fnmatch.fnmatchcase(action.lower(), str(a).lower())
                       for a in _listed(st.get("Action"))):
                continue
            for pattern in _listed(st.get("Resource")):
                if all(fnmatch.fnmatchcase(r, str(pattern)) for r in resources):
                    return True
    return False


def missing_permission(documents: list[str], destination: str) -> str | None:
    """The action the role lacks for the S3 destination (`PutObject` first), None when both are
    granted or the destination is not a bucket."""
    bucket = s3_bucket(destination)
    if bucket is None:
        return None
    prefix = destination.split(":::", 1)[0] + ":::"
    every_key = [f"{prefix}{bucket}/*", f"{prefix}{bucket}/{_PROBE_KEY}"]
    if not _allows(documents, "s3:PutObject", every_key):
        return "PutObject"
    if not _allows(documents, "s3:ListBucket", [f"{prefix}{bucket}"]):
        return "ListBucket"
    return None


def message(action: str, destination: str) -> str:
    bucket = s3_bucket(destination) or ""
    prefix = destination.split(":::", 1)[0] + ":::"
    return (f"The function execution role does not have permissions to call {action} on "
            f"{prefix}{bucket}")
