"""STS fixes: AssumeRole decided by the role's trust policy, and sessions that expire, as AWS does.

moto hands out credentials for any role ARN, existing or not, whoever asks (its docstring: "the
role does not need to exist"). AWS assumes a role only when the role exists and a statement of its
trust policy allows the caller (`sts:AssumeRole`, the caller as principal: its account, its account
root, its ARN or `*`) with every condition met (`sts:ExternalId` as the caller passed it); otherwise
403 `AccessDenied`, "User: <caller ARN> is not authorized to perform: sts:AssumeRole on resource:
<role ARN>", the same answer whether the role is missing or does not trust the caller.

moto's credentials never expire; AWS's stop at the session's Expiration (behaviour
`sts-session-expiry`, below).
"""

from __future__ import annotations

import json
import os
import re
import uuid
from xml.sax.saxutils import escape

from fixes.registry import fix, on

MOTO = "5.2.5"


def _list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _account_of(arn: str) -> str:
    parts = arn.split(":")
    return parts[4] if len(parts) > 4 else ""


def _principal_matches(principal, caller_arn: str, caller_account: str) -> bool:
    """`Principal` of a trust statement against the caller (an account id, `arn:...:root`, the
    caller's ARN, or `*`)."""
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    for value in _list(principal.get("AWS")):
        if value in ("*", caller_account, f"arn:aws:iam::{caller_account}:root", caller_arn):
            return True
        # A role session's caller ARN is arn:aws:sts::A:assumed-role/R/S; a statement names the
        # role (arn:aws:iam::A:role/R).
        m = re.fullmatch(r"arn:aws:sts::(\d{12}):assumed-role/([^/]+)/.+", caller_arn)
        if m and value == f"arn:aws:iam::{m.group(1)}:role/{m.group(2)}":
            return True
    return False


def _action_matches(actions, action: str) -> bool:
    for pattern in _list(actions):
        regex = re.escape(pattern.lower()).replace(r"\*", ".*").replace(r"\?", ".")
        if re.fullmatch(regex, action.lower()):
            return True
    return False


def _conditions_met(conditions, context: dict) -> bool:
    """Only the operators a trust policy of this project uses; any other one is not met."""
    for operator, tests in (conditions or {}).items():
        base = operator[:-len("IfExists")] if operator.endswith("IfExists") else operator
        for key, expected in (tests or {}).items():
            have = context.get(key)
            if have is None:
                if operator.endswith("IfExists"):
                    continue
                return False
            if base == "StringEquals":
                if have not in _list(expected):
                    return False
            elif base == "StringLike":
                if not _action_matches(expected, have):
                    return False
            else:
                return False
    return True


def trust_allows(document: str, caller_arn: str, caller_account: str,
                 external_id: str | None) -> bool:
    """Whether a trust policy lets the caller assume its role: an Allow statement for
    sts:AssumeRole naming the caller, its conditions met, and no Deny statement that applies."""
    try:
        policy = json.loads(document) if isinstance(document, str) else document
    except ValueError:
        return False
    context = {"sts:ExternalId": external_id} if external_id else {}
    allowed = False
    for statement in _list(policy.get("Statement")):
        if not _action_matches(statement.get("Action"), "sts:AssumeRole"):
            continue
        if not _principal_matches(statement.get("Principal"), caller_arn, caller_account):
            continue
        if not _conditions_met(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def refusal(caller_arn: str, role_arn: str) -> str:
    return (f"User: {caller_arn} is not authorized to perform: sts:AssumeRole on resource: "
            f"{role_arn}")


def error_document(message: str) -> str:
    """STS's query-protocol error, as AWS sends it (the SDK reads Code and Message)."""
    return ('<ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error>'
            f"<Type>Sender</Type><Code>AccessDenied</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")


@fix("sts-trust-policy", "sts", MOTO,
     "AssumeRole succeeds only for a role that exists and whose trust policy allows the caller "
     "(sts:ExternalId conditions included); otherwise 403 AccessDenied 'User: <caller> is not "
     "authorized to perform: sts:AssumeRole on resource: <role>' (IAM user guide, 'Troubleshoot "
     "IAM roles' and 'How to use trust policies with IAM roles'); moto assumes any ARN",
     behaviour="sts-trust-policy")
def trust_policy() -> None:
    from moto.iam.models import iam_backends
    from moto.sts import responses

    original = responses.TokenResponse.assume_role

    def assume_role(self):
        if not on("sts-trust-policy"):
            return original(self)
        role_arn = self._get_param("RoleArn") or ""
        external_id = self._get_param("ExternalId")
        _, caller_arn, caller_account = self.backend.get_caller_identity(
            self.get_access_key(), self.region)
        account = _account_of(role_arn)
        role = None
        if account in iam_backends:
            try:
                role = iam_backends[account]["aws"].get_role_by_arn(role_arn)
            except Exception:  # noqa: BLE001 - moto's NotFound: the role does not exist
                role = None
        if role is None or not trust_allows(role.assume_role_policy_document, caller_arn,
                                            caller_account, external_id):
            # moto takes the status from the headers of a returned tuple
            return 403, {"Content-Type": "text/xml", "status": 403}, \
                error_document(refusal(caller_arn, role_arn))
        return original(self)

    responses.TokenResponse.assume_role = assume_role


# -- session expiry -----------------------------------------------------------------------------

SESSION_ENV = "FLOWLOGS_DEVSTACK_SESSION_SECONDS"
EC2_EXPIRED = ("RequestExpired", "Request has expired.")
TOKEN_EXPIRED = ("ExpiredToken", "The security token included in the request is expired")


def session_seconds(asked: int) -> int:
    """How long an assumed role's credentials last: as asked (DurationSeconds, 3600 by default),
    or `FLOWLOGS_DEVSTACK_SESSION_SECONDS` when set (a test's short session)."""
    override = os.environ.get(SESSION_ENV)
    return int(float(override)) if override else asked


def expired_answer(service: str) -> tuple[int, str, str]:
    """EC2 answers 400 RequestExpired; the other query services 403 ExpiredToken."""
    if service == "ec2":
        return 400, *EC2_EXPIRED
    return 403, *TOKEN_EXPIRED


def expired_document(service: str) -> tuple[int, str]:
    status, code, message = expired_answer(service)
    if service == "ec2":
        return status, ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
                        f"<Code>{code}</Code><Message>{message}</Message></Error></Errors>"
                        f"<RequestID>{uuid.uuid4()}</RequestID></Response>")
    return status, ("<ErrorResponse><Error><Type>Sender</Type>"
                    f"<Code>{code}</Code><Message>{message}</Message></Error>"
                    f"<RequestId>{uuid.uuid4()}</RequestId></ErrorResponse>")


@fix("sts-session-expiry", "sts", MOTO,
     "An assumed role's credentials stop working at their Expiration (DurationSeconds, 1 hour by "
     "default): EC2 answers 400 RequestExpired 'Request has expired.', IAM and STS 403 "
     "ExpiredToken 'The security token included in the request is expired' (STS API reference, "
     "AssumeRole; aws/aws-sdk-go#253, prowler-cloud/prowler#1165); moto's never expire",
     behaviour="sts-session-expiry")
def session_expiry() -> None:
    import datetime

    from moto.core.responses import BaseResponse
    from moto.core.utils import utcnow
    from moto.sts import responses
    from moto.sts.models import sts_backends

    original_assume = responses.TokenResponse.assume_role
    original_call = BaseResponse.call_action

    def assume_role(self):
        result = original_assume(self)
        if on("sts-session-expiry") and os.environ.get(SESSION_ENV):
            role = getattr(result, "result", {}).get("Credentials") \
                if hasattr(result, "result") else None
            if role is not None and hasattr(role, "expiration"):
                role.expiration = utcnow() + datetime.timedelta(
                    seconds=session_seconds(self._get_int_param("DurationSeconds", 3600)))
        return result

    def expired(self) -> bool:
        key = self.get_access_key()
        if not key or not key.startswith("ASIA"):  # moto's temporary keys
            return False
        for backends in list(sts_backends.values()):
            for backend in list(backends.values()):
                for role in list(backend.assumed_roles):
                    if role.access_key_id == key:
                        return utcnow() >= role.expiration
        return False

    def call_action(self):
        service = getattr(self, "service_name", "") or ""
        if on("sts-session-expiry") and service in ("ec2", "iam", "sts") and expired(self):
            status, body = expired_document(service)
            return status, {"Content-Type": "text/xml", "status": status}, body
        return original_call(self)

    responses.TokenResponse.assume_role = assume_role
    BaseResponse.call_action = call_action
