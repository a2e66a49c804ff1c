"""The AWS behaviours the local stack can switch on, and how a stack is told which ones.

moto is permissive where AWS is not. Each behaviour below makes the stack's AWS front (the router,
`devstack/router.py` and its modules, and the moto wrapper, `devstack/moto_server.py` with its
fixes in `devstack/fixes/`) do what AWS does in one respect; each can be switched on or off on
its own, so that a test can prove the product copes with it and the product can be fixed one
behaviour at a time. The facts and their sources are in
`AWS-FACTS.md` (shared notes) and `devstack/README.md`.

Selection: `stack.py up --aws-behaviours SPEC` or the environment variable
`FLOWLOGS_DEVSTACK_BEHAVIOURS=SPEC`, where SPEC is `default`, `all`, `none` or a comma-separated
list of names (`all,-name` and `default,name` add to or take from a set). The chosen set is
recorded in state.json (`aws_behaviours`) and handed to the router and the moto wrapper as
`FLOWLOGS_DEVSTACK_BEHAVIOURS` (a plain list of names).

Timing: `FLOWLOGS_DEVSTACK_CONSISTENCY_WINDOW` (seconds, default 2.5) is how long an
eventual-consistency error is injected after the call that causes it;
`FLOWLOGS_DEVSTACK_RETRY_DELAYS` (seconds, comma-separated, default `60,120` as Lambda) are the
delays before the two retries of a failed asynchronous invocation.
`FLOWLOGS_DEVSTACK_SECRET_DELETION_WINDOW` (seconds, default 10) is how long a force-deleted secret
lingers (behaviour `secrets-deletion-window`).
`FLOWLOGS_DEVSTACK_SESSION_SECONDS` (seconds, default: the DurationSeconds asked for, 3600 by
default) is how long an assumed role's credentials last (behaviour `sts-session-expiry`).
"""

from __future__ import annotations

import os

ENV = "FLOWLOGS_DEVSTACK_BEHAVIOURS"
WINDOW_ENV = "FLOWLOGS_DEVSTACK_CONSISTENCY_WINDOW"
RETRY_DELAYS_ENV = "FLOWLOGS_DEVSTACK_RETRY_DELAYS"

# name -> (where, what AWS does). Kept short: the README has the long form.
CATALOGUE: dict[str, str] = {
    "s3-events": "S3 ObjectCreated events invoke the function asynchronously (router)",
    "lambda-logs": "the function's output goes to /aws/lambda/<function> when the group exists "
                   "or the role may create it (router)",
    "lambda-async-failures": "asynchronous invocations follow the function's event invoke config "
                             "(MaximumRetryAttempts, MaximumEventAgeInSeconds) and write the "
                             "invocation record of an event that still fails to its S3 "
                             "on-failure destination (router)",
    "filter-rule-case": "GetBucketNotificationConfiguration names filter rules Prefix/Suffix "
                        "(moto wrapper)",
    "notification-validation": "PutBucketNotificationConfiguration checks every Lambda "
                               "destination's function and permission, and refuses overlaps "
                               "(router)",
    "consistency-role-lambda": "CreateFunction/UpdateFunctionConfiguration: a role created less "
                               "than the window ago cannot be assumed by Lambda (router)",
    "consistency-function-update": "AddPermission less than the window after CreateFunction: "
                                   "ResourceConflictException, update in progress (router)",
    "consistency-bucket": "calls on a bucket less than the window after CreateBucket: "
                          "NoSuchBucket (router)",
    "consistency-notification": "PutBucketNotificationConfiguration less than the window after "
                                "AddPermission: destinations cannot be validated (router)",
    "consistency-role-firehose": "CreateDeliveryStream with a role created less than the window "
                                 "ago: Firehose is unable to assume role (router)",
    "consistency-policy": "the forwarder's GetObject less than the window after its role's "
                          "policy changed: AccessDenied (router)",
    "flow-log-folder": "CreateFlowLogs accepts an S3 destination with a folder "
                       "(arn:aws:s3:::bucket/folder/) and DescribeFlowLogs echoes it (moto wrapper)",
    "flow-log-kms-key-id": "CreateFlowLogs to an S3 bucket whose SSE-KMS default encryption names "
                           "its key by id, not ARN: Unsuccessful, LogDestination: <bucket> is "
                           "undeliverable (moto wrapper)",
    "firehose-http-delivery": "Firehose posts to an HTTP endpoint as AWS documents (headers, "
                              "gzip, body), counts a batch delivered only on a 200 echoing "
                              "requestId with a timestamp, retries, then backs the records up "
                              "to S3 (moto wrapper)",
    "secrets-deletion-window": "after ForceDeleteWithoutRecovery the secret lingers for a window "
                               "with DeletedDate; CreateSecret and RestoreSecret of it are "
                               "refused with AWS's messages (moto wrapper)",
    "secrets-labelled-versions": "DescribeSecret lists labelled versions only; "
                                 "ListSecretVersionIds lists unlabelled ones only with "
                                 "IncludeDeprecated (moto wrapper)",
    "lambda-destination-check": "PutFunctionEventInvokeConfig refuses an S3 on-failure "
                                "destination unless the function's role may PutObject on every "
                                "key of the bucket and ListBucket on it (router)",
    "flow-log-transit-gateway": "CreateFlowLogs on a TransitGateway/TransitGatewayAttachment "
                                "refuses a TrafficType, an interval other than 60, more than 25 "
                                "ids and an unknown id (InvalidParameter), and logs every TGW "
                                "field by default (moto wrapper)",
    "s3-eventbridge": "a bucket with EventBridgeConfiguration sends Object Created events to the "
                      "default bus, whose matching rules invoke their Lambda targets "
                      "asynchronously when the function's permission allows the rule (router)",
    "sts-trust-policy": "AssumeRole only for a role that exists and whose trust policy allows the "
                        "caller (and its sts:ExternalId): else AccessDenied, not authorized to "
                        "perform sts:AssumeRole (moto wrapper)",
    "flow-log-cross-account-delivery": "CreateFlowLogs to a bucket of another account: "
                                       "Unsuccessful, Access Denied for LogDestination, unless "
                                       "the bucket policy lets the delivery service write for "
                                       "that account (aws:SourceAccount/SourceArn or "
                                       "aws:SourceOrgID) (moto wrapper)",
    "ec2-opt-in-region-disabled": "EC2 calls in an opt-in region (launched after March 2019: "
                                  "af-south-1, me-south-1, ...) answer 401 AuthFailure, as in an "
                                  "account that has not enabled it (moto wrapper)",
    "sts-session-expiry": "an assumed role's credentials stop at their Expiration (EC2: "
                          "RequestExpired; IAM, STS: ExpiredToken); "
                          "FLOWLOGS_DEVSTACK_SESSION_SECONDS shortens sessions (moto wrapper)",
}
ALL = tuple(CATALOGUE)

# Every behaviour is on by default: the product handles each of them (issue 12). A test that needs
# moto as it is asks for none (`Behaviours::none()` in the Rust harness).
DEFAULT: tuple[str, ...] = ALL

# Behaviours that need the router in front of moto (all but the moto wrapper's own).
MOTO_WRAPPER_ONLY = {"filter-rule-case", "flow-log-folder", "flow-log-kms-key-id",
                     "firehose-http-delivery", "secrets-deletion-window",
                     "secrets-labelled-versions", "flow-log-transit-gateway",
                     "sts-trust-policy", "flow-log-cross-account-delivery",
                     "ec2-opt-in-region-disabled", "sts-session-expiry"}


class BehaviourError(ValueError):
    pass


def parse(spec: str | None) -> list[str]:
    """`default`, `all`, `none`, or names (each may be `-name` to remove it) -> sorted names."""
    spec = (spec or "default").strip()
    chosen: set[str] = set()
    for word in [w.strip() for w in spec.split(",") if w.strip()]:
        if word == "all":
            chosen |= set(ALL)
        elif word == "none":
            chosen.clear()
        elif word == "default":
            chosen |= set(DEFAULT)
        elif word.startswith("-") and word[1:] in CATALOGUE:
            chosen.discard(word[1:])
        elif word in CATALOGUE:
            chosen.add(word)
        else:
            raise BehaviourError(
                f"unknown AWS behaviour {word!r} in {spec!r}; known: all, none, default, "
                + ", ".join(ALL))
    return [name for name in ALL if name in chosen]


def from_env() -> set[str]:
    """The set handed to a service by stack.py (a plain list of names)."""
    return set(parse(os.environ.get(ENV, "none")))


def window() -> float:
    return float(os.environ.get(WINDOW_ENV) or 2.5)


def retry_delays() -> list[float]:
    text = os.environ.get(RETRY_DELAYS_ENV) or "60,120"
    return [float(d) for d in text.split(",") if d.strip()]
