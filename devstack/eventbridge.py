"""S3 events through EventBridge, as S3 and EventBridge deliver them: pure functions, no I/O
(behaviour `s3-eventbridge`; the router's `AwsFront.dispatch_eventbridge` does the calls).

- `enabled(xml)`: a bucket's notification configuration has `<EventBridgeConfiguration>` (S3 then
  sends every event of the bucket to the default event bus).
- `event(...)`: the event S3 sends for a created object (S3 user guide, "EventBridge event message
  structure": `version` 0, `detail-type` `Object Created`, `source` `aws.s3`, the bucket's ARN in
  `resources`, `detail` with `bucket.name`, `object.key` (the key as it is: that page documents
  no encoding, unlike the notification's), `size`, `etag`, `sequencer`, `request-id`,
  `requester`, `source-ip-address` and `reason` (the API: `PutObject`, `CopyObject`,
  `CompleteMultipartUpload`)).
- `matches(pattern, event)`: EventBridge's content filtering (EventBridge user guide, "Event
  patterns", "Content filtering"): every field of the pattern must match; a list matches when
  one of its values does; values are exact strings/numbers or `prefix`, `suffix`, `wildcard`
  (`*` any run of characters, `\\*` and `\\\\` literal), `anything-but`, `exists`.
- `permission_allows(policy, rule_arn)`: does the function's resource policy let
  `events.amazonaws.com` invoke it for this rule (`AWS:SourceArn`); EventBridge's invocation
  fails without it.
"""

from __future__ import annotations

import json
import re
import time
import uuid
import xml.etree.ElementTree as ET

import s3_notifications

REASONS = {"PutObject": "PutObject", "CopyObject": "CopyObject",
           "CompleteMultipartUpload": "CompleteMultipartUpload"}


def enabled(xml: bytes | str) -> bool:
    if not xml or not (xml if isinstance(xml, str) else xml.decode()).strip():
        return False
    root = ET.fromstring(xml)
    return any(e.tag.rsplit("}", 1)[-1] == "EventBridgeConfiguration" for e in root.iter())


_sequence = [int(time.time() * 1000)]


def event(account: str, region: str, operation: str, bucket: str, key: str, size: int,
          etag: str) -> dict:
    _sequence[0] += 1
    return {
        "version": "0",
        "id": str(uuid.uuid4()),
        "detail-type": "Object Created",
        "source": "aws.s3",
        "account": account,
        "time": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "region": region,
        "resources": [f"arn:aws:s3:::{bucket}"],
        "detail": {
            "version": "0",
            "bucket": {"name": bucket},
            "object": {"key": key, "size": size, "etag": etag.strip('"'),
                       "sequencer": f"{_sequence[0]:016X}"},
            "request-id": uuid.uuid4().hex[:16].upper(),
            "requester": account,
            "source-ip-address": "127.0.0.1",
            "reason": REASONS.get(operation, operation),
        },
    }


def _wildcard(pattern: str, value: str) -> bool:
    out, i = "", 0
    while i < len(pattern):
        c = pattern[i]
        if c == "\\" and i + 1 < len(pattern):
            out += re.escape(pattern[i + 1])
            i += 2
            continue
        out += ".*" if c == "*" else re.escape(c)
        i += 1
    return re.fullmatch(out, value, re.DOTALL) is not None


def _value_matches(rule, value, present: bool) -> bool:
    if isinstance(rule, dict):
        if "exists" in rule:
            return present == bool(rule["exists"])
        if not present:
            return False
        if "prefix" in rule:
            return isinstance(value, str) and value.startswith(rule["prefix"])
        if "suffix" in rule:
            return isinstance(value, str) and value.endswith(rule["suffix"])
        if "wildcard" in rule:
            return isinstance(value, str) and _wildcard(rule["wildcard"], value)
        if "anything-but" in rule:
            but = rule["anything-but"]
            return value not in (but if isinstance(but, list) else [but])
        return False
    return present and value == rule


def matches(pattern: dict, event: dict) -> bool:
    for name, rule in pattern.items():
        present = isinstance(event, dict) and name in event
        value = event.get(name) if isinstance(event, dict) else None
        if isinstance(rule, dict):
            if not present or not matches(rule, value):
                return False
        elif isinstance(rule, list):
            values = value if isinstance(value, list) else [value]
            if not any(_value_matches(r, v, present) for r in rule for v in values):
                return False
        else:
            return False
    return True


def permission_allows(policy_text: str, rule_arn: str) -> bool:
    return s3_notifications.invoke_allowed(policy_text, "events.amazonaws.com", rule_arn)
