"""Eventual consistency: the errors AWS answers for a short time after the call that causes them.

The router tells `Consistency` about every call moto accepted (`accepted`) and asks it, before
sending a call on, whether AWS could still be answering it with an error (`injected`). Each rule is
a behaviour of its own, on for `window` seconds after its cause, for every matching call (the
product must retry until the window has passed). Sources: AWS-FACTS.md, "Eventual consistency",
and terraform-provider-aws's retries.

- `consistency-role-lambda`: CreateFunction / UpdateFunctionConfiguration naming a role created
  (CreateRole) less than the window ago -> 400 `InvalidParameterValueException`, "The role defined
  for the function cannot be assumed by Lambda." (terraform-provider-aws `lambda/function.go`
  retries exactly this message).
- `consistency-function-update`: AddPermission less than the window after CreateFunction ->
  409 `ResourceConflictException`, "The operation cannot be performed at this time. An update is
  in progress for resource: <arn>" (a new function is Pending; hashicorp/terraform#4826 and
  terraform-provider-aws#7327 retry AddPermission on ResourceConflictException).
- `consistency-bucket`: any call on a bucket other than CreateBucket less than the window after
  CreateBucket -> 404 `NoSuchBucket` (terraform-provider-aws `retryWhenBucketNotFound`).
- `consistency-notification`: PutBucketNotificationConfiguration less than the window after an
  AddPermission on one of its Lambda destinations -> 400 `InvalidArgument`, "Unable to validate
  the following destination configurations" (hashicorp/terraform-provider-aws#19088).
- `consistency-role-firehose`: CreateDeliveryStream naming a role created less than the window
  ago -> 400 `InvalidArgumentException`, "Firehose is unable to assume role <arn>. Please check
  the role provided." (terraform-provider-aws firehose `delivery_stream.go`).
- `consistency-policy`: the forwarder's GetObject less than the window after PutRolePolicy or
  AttachRolePolicy on its role -> 403 `AccessDenied` (IAM user guide, "Changes that I make are
  not always immediately visible").
"""

from __future__ import annotations

import threading
import time

import aws_errors
from aws_calls import Call, function_name, role_arns, role_name
from s3_notifications import parse as parse_notifications


def validation_error(arns: list[str], method: str = "PUT"):
    extra = []
    for i, arn in enumerate(arns, 1):
        extra += [(f"ArgumentName{i}", arn),
                  (f"ArgumentValue{i}", f"Not authorized to invoke function [{arn}]")]
    return aws_errors.s3(400, "InvalidArgument",
                         "Unable to validate the following destination configurations", extra,
                         method)


class Consistency:
    def __init__(self, behaviours: set[str], window: float, region: str, account: str):
        self.on = behaviours
        self.window = window
        self.region, self.account = region, account
        self.lock = threading.Lock()
        self.roles_created: dict[str, float] = {}
        self.role_policy_changed: dict[str, float] = {}
        self.buckets_created: dict[str, float] = {}
        self.functions_created: dict[str, float] = {}
        self.permissions_added: dict[str, float] = {}

    def _recent(self, table: dict[str, float], name: str) -> bool:
        with self.lock:
            at = table.get(name)
        return at is not None and time.monotonic() - at < self.window

    def accepted(self, call: Call) -> None:
        now = time.monotonic()
        with self.lock:
            if call.op == "CreateRole":
                self.roles_created[call.params.get("RoleName", "")] = now
            elif call.op in ("PutRolePolicy", "AttachRolePolicy"):
                self.role_policy_changed[call.params.get("RoleName", "")] = now
            elif call.op == "CreateBucket":
                self.buckets_created[call.bucket] = now
            elif call.op == "CreateFunction":
                self.functions_created[call.function] = now
            elif call.op == "AddPermission":
                self.permissions_added[call.function] = now

    def injected(self, call: Call, method: str, body: bytes, current_role: str = ""):
        """The error response AWS could answer now, or None."""
        on = self.on
        if call.op in ("CreateFunction", "UpdateFunctionConfiguration") \
                and "consistency-role-lambda" in on:
            role = role_name(call.params.get("Role") or "")
            if role and self._recent(self.roles_created, role):
                return aws_errors.lambda_(
                    400, "InvalidParameterValueException",
                    "The role defined for the function cannot be assumed by Lambda.")
        if call.op == "AddPermission" and "consistency-function-update" in on \
                and self._recent(self.functions_created, call.function):
            arn = f"arn:aws:lambda:{self.region}:{self.account}:function:{call.function}"
            return aws_errors.lambda_(
                409, "ResourceConflictException",
                "The operation cannot be performed at this time. An update is in progress for "
                f"resource: {arn}")
        if call.service == "s3" and call.bucket and call.op != "CreateBucket" \
                and "consistency-bucket" in on and self._recent(self.buckets_created,
                                                                 call.bucket):
            return aws_errors.s3(404, "NoSuchBucket", "The specified bucket does not exist",
                                 [("BucketName", call.bucket)], method)
        if call.op == "PutBucketNotificationConfiguration" \
                and "consistency-notification" in on:
            try:
                destinations = parse_notifications(body)
            except Exception:  # noqa: BLE001 - moto answers a malformed document itself
                destinations = []
            recent = [d.arn for d in destinations if d.kind == "lambda"
                      and self._recent(self.permissions_added, function_name(d.arn))]
            if recent:
                return validation_error(recent, method)
        if call.op == "CreateDeliveryStream" and "consistency-role-firehose" in on:
            for arn in role_arns(call.params):
                if self._recent(self.roles_created, role_name(arn)):
                    return aws_errors.json11(
                        400, "InvalidArgumentException",
                        f"Firehose is unable to assume role {arn}. Please check the role "
                        "provided.")
        if call.op == "GetObject" and call.from_forwarder and "consistency-policy" in on \
                and current_role and self._recent(self.role_policy_changed, current_role):
            return aws_errors.s3(
                403, "AccessDenied",
                f"User: arn:aws:sts::{self.account}:assumed-role/{current_role}/devstack is not "
                "authorized to perform: s3:GetObject because no identity-based policy allows "
                "the s3:GetObject action", method=method)
        return None
