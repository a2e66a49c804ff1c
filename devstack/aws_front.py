"""The router's AWS front: every call but Lambda Invoke goes to moto, or is answered as AWS would
answer it now (each a switchable behaviour, devstack/behaviours.py):

- `notification-validation`: PutBucketNotificationConfiguration test-sends to every Lambda
  destination (`s3_notifications.py`) and refuses overlapping rules;
- `lambda-destination-check`: PutFunctionEventInvokeConfig refuses an S3 on-failure destination
  the function's role may not write to (`destination_check.py`);
- the `consistency-*` behaviours: eventual-consistency errors for a window after their cause
  (`consistency.py`);
- `s3-events`: after a created object, the bucket's matching Lambda destinations are invoked
  asynchronously with an S3 event (`async_invoke.AsyncInvoker`);
- `s3-eventbridge`: after a created object in a bucket with `EventBridgeConfiguration`, the
  Lambda targets of the default bus's rules whose pattern matches S3's Object Created event are
  invoked asynchronously with it (`eventbridge.py`), when their permission allows the rule.
An error answered here is sent to moto with `X-Devstack-Injected`: the moto wrapper records the
call and answers the error without acting on it (`fixes/core.py`).
"""

from __future__ import annotations

import base64
import json
from typing import Callable

import aws_errors
import destination_check
import eventbridge
import s3_notifications
from async_invoke import AsyncInvoker
from aws_calls import Call, classify, function_name, role_name
from consistency import Consistency, validation_error
from moto_client import Moto
from proxy import forward, log

INJECTED_HEADER = "X-Devstack-Injected"  # the moto wrapper records the call, answers this
S3_CREATED_EVENTS = {"PutObject": "ObjectCreated:Put", "CopyObject": "ObjectCreated:Copy",
                     "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload"}


def injected_header(error: tuple[int, list, bytes]) -> str:
    """An error as the moto wrapper reads it (`fixes.core.decode_injected`)."""
    status, headers, body = error
    return base64.b64encode(json.dumps(
        [status, headers, base64.b64encode(body).decode()]).encode()).decode()


class AwsFront:
    def __init__(self, moto_url: str, moto: Moto, consistency: Consistency, behaviours: set[str],
                 region: str, async_invoker: AsyncInvoker, current_role: Callable[[], str]):
        self.moto_url = moto_url
        self.moto = moto
        self.consistency = consistency
        self.behaviours = behaviours
        self.region = region
        self.async_invoker = async_invoker
        self.current_role = current_role  # the role of the function being invoked, if any

    def moto_request(self, method, path, headers, body):
        return forward(self.moto_url, method, path, headers, body)

    def aws(self, method, raw_path, headers, body):
        """Sends a call to moto, or answers it as AWS would now (each a behaviour)."""
        lower = {k.lower(): v for k, v in headers}
        call = classify(method, raw_path, lower, body)
        error = None
        if call.op == "PutBucketNotificationConfiguration" \
                and "notification-validation" in self.behaviours:
            error = self.validate_notification(call, body)
        if call.op in ("PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig") \
                and "lambda-destination-check" in self.behaviours:
            error = self.check_destination(call)
        if error is None:
            error = self.consistency.injected(call, method, body, self.current_role())
        if error is not None:
            # moto records the call and answers the error without acting on it
            log(f"injected {error[0]} for {call.op or method} {raw_path}")
            return self.moto_request(method, raw_path,
                                     headers + [(INJECTED_HEADER, injected_header(error))], body)
        status, resp_headers, data = self.moto_request(method, raw_path, headers, body)
        if 200 <= status < 300:
            self.consistency.accepted(call)
            if call.op in S3_CREATED_EVENTS and "s3-events" in self.behaviours \
                    and b"<Error>" not in data[:512]:
                self.dispatch_s3_event(call)
            if call.op in S3_CREATED_EVENTS and "s3-eventbridge" in self.behaviours \
                    and b"<Error>" not in data[:512]:
                self.dispatch_eventbridge(call)
        return status, resp_headers, data

    def validate_notification(self, call: Call, body: bytes):
        """S3 test-sends to every destination on each write; Lambda ones need the function and
        a permission for this bucket. Overlapping rules are refused."""
        try:
            destinations = s3_notifications.parse(body)
        except Exception:  # noqa: BLE001 - moto answers a malformed document itself
            return None
        if s3_notifications.overlaps(destinations):
            return aws_errors.s3(400, "InvalidArgument",
                                 "Configurations overlap. Configurations on the same bucket "
                                 "cannot share a common event type.",
                                 [("ArgumentName", "Event"), ("ArgumentValue", "")], "PUT")
        failing = []
        for dest in destinations:
            if dest.kind != "lambda":
                continue
            name = function_name(dest.arn)
            if self.moto.function(name) is None or not s3_notifications.permission_allows(
                    self.moto.function_policy(name), call.bucket):
                failing.append(dest.arn)
        return validation_error(failing) if failing else None

    def check_destination(self, call: Call):
        """Lambda refuses an S3 on-failure destination the function's role may not write to
        (`destination_check.py`)."""
        destination = ((call.params.get("DestinationConfig") or {}).get("OnFailure") or {}) \
            .get("Destination") or ""
        if destination_check.s3_bucket(destination) is None:
            return None
        cfg = self.moto.function(call.function)
        if cfg is None:
            return None  # moto answers ResourceNotFoundException itself
        documents = self.moto.role_policy_documents(role_name(cfg.get("Role") or ""))
        missing = destination_check.missing_permission(documents, destination)
        if missing is None:
            return None
        return aws_errors.lambda_(400, "InvalidParameterValueException",
                                  destination_check.message(missing, destination))

    def dispatch_s3_event(self, call: Call) -> None:
        """The function invoked asynchronously, as S3 does, for each matching destination."""
        event_name = S3_CREATED_EVENTS[call.op]
        try:
            destinations = s3_notifications.parse(self.moto.notification_xml(call.bucket))
        except Exception as e:  # noqa: BLE001
            log(f"s3-events: unreadable notification configuration of {call.bucket}: {e!r}")
            return
        targets = [d for d in destinations
                   if d.kind == "lambda" and s3_notifications.matches(d, event_name, call.key)]
        if not targets:
            return
        head = self.moto.head_object(call.bucket, call.key) or {}
        for dest in targets:
            payload = s3_notifications.event(
                self.region, event_name, call.bucket, call.key,
                int(head.get("content-length") or 0), head.get("etag") or "", dest.id)
            log(f"s3-events: {event_name} s3://{call.bucket}/{call.key} -> {dest.arn}")
            self.async_invoker.invoke(function_name(dest.arn), json.dumps(payload).encode())

    def dispatch_eventbridge(self, call: Call) -> None:
        """S3's Object Created event on the default bus: each Lambda target of each enabled rule
        whose pattern matches is invoked asynchronously, as EventBridge does, when the function's
        policy lets events.amazonaws.com invoke it for that rule."""
        try:
            if not eventbridge.enabled(self.moto.notification_xml(call.bucket)):
                return
        except Exception as e:  # noqa: BLE001
            log(f"s3-eventbridge: unreadable notification configuration of {call.bucket}: {e!r}")
            return
        head = self.moto.head_object(call.bucket, call.key) or {}
        for rule in self.moto.eventbridge_rules():
            if rule.get("State", "ENABLED") != "ENABLED" or not rule.get("EventPattern"):
                continue
            arn = rule.get("Arn") or ""
            account = arn.split(":")[4] if arn.count(":") >= 5 else "123456789012"
            payload = eventbridge.event(account, self.region, call.op, call.bucket, call.key,
                                        int(head.get("content-length") or 0),
                                        head.get("etag") or "")
            try:
                pattern = json.loads(rule["EventPattern"])
            except ValueError:
                continue
            if not eventbridge.matches(pattern, payload):
                continue
            for target in self.moto.rule_targets(rule.get("Name") or ""):
                target_arn = target.get("Arn") or ""
                if ":lambda:" not in target_arn:
                    continue
                name = function_name(target_arn)
                if not eventbridge.permission_allows(self.moto.function_policy(name), arn):
                    log(f"s3-eventbridge: rule {rule.get('Name')} may not invoke {name} "
                        "(no permission for events.amazonaws.com from the rule): not invoked")
                    continue
                log(f"s3-eventbridge: Object Created s3://{call.bucket}/{call.key} "
                    f"-> rule {rule.get('Name')} -> {target_arn}")
                self.async_invoker.invoke(name, json.dumps(payload).encode())
