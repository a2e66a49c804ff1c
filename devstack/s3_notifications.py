"""S3 bucket notifications as S3 applies them: pure functions, no I/O.

- `parse(xml)`: a NotificationConfiguration document (the request body of
  PutBucketNotificationConfiguration, or moto's answer to the Get) -> its destinations. Filter
  rule names are read in any case: S3 accepts `prefix` and `Prefix` on write.
- `encode_key(key)`: the form of a key that S3 matches filter rules against and puts in the event
  (S3 user guide, "Configuring event notifications using object key name filtering": a space is
  `+`, any other special character percent-encoded, `/` kept; `=` is `%3D`).
- `matches(dest, event, key)`: event name (`s3:ObjectCreated:*` covers `ObjectCreated:Put`) and
  prefix/suffix against the encoded key.
- `overlaps(config)`: S3 refuses two destinations sharing an event type whose prefix and suffix
  rules both overlap ("Configurations overlap. ...", DataDog/datadog-serverless-functions#262).
- `permission_allows(policy, bucket)`: does a function's resource policy let S3 invoke it for
  this bucket (principal `s3.amazonaws.com`, `lambda:InvokeFunction`, `AWS:SourceArn` matching).
- `event(...)`: the S3 event record Lambda receives (the AWS example event, eventVersion 2.1).
"""

from __future__ import annotations

import fnmatch
import json
import time
import urllib.parse
import uuid
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

# element -> (ARN element, kind); S3's wire names first, then the API model's names.
KINDS = {"CloudFunctionConfiguration": ("CloudFunction", "lambda"),
         "LambdaFunctionConfiguration": ("LambdaFunctionArn", "lambda"),
         "QueueConfiguration": ("Queue", "queue"),
         "TopicConfiguration": ("Topic", "topic")}


@dataclass
class Destination:
    kind: str  # lambda | queue | topic
    arn: str
    id: str = ""
    events: list[str] = field(default_factory=list)
    prefix: str = ""
    suffix: str = ""


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _child(el, name):
    return next((c for c in el if _local(c.tag) == name), None)


def _children(el, name):
    return [c for c in el if _local(c.tag) == name]


def parse(xml: bytes | str) -> list[Destination]:
    if not xml or not str(xml if isinstance(xml, str) else xml.decode()).strip():
        return []
    root = ET.fromstring(xml)
    if _local(root.tag) != "NotificationConfiguration":
        root = next((e for e in root.iter() if _local(e.tag) == "NotificationConfiguration"),
                    root)
    out = []
    for element, (arn_tag, kind) in KINDS.items():
        for conf in _children(root, element):
            arn_el = _child(conf, arn_tag)
            dest = Destination(kind=kind, arn=(arn_el.text or "") if arn_el is not None else "")
            id_el = _child(conf, "Id")
            dest.id = (id_el.text or "") if id_el is not None else ""
            dest.events = [e.text or "" for e in _children(conf, "Event")]
            flt = _child(conf, "Filter")
            s3key = None if flt is None else (_child(flt, "S3Key") or _child(flt, "Key"))
            for rule in _children(s3key, "FilterRule") if s3key is not None else []:
                name_el, value_el = _child(rule, "Name"), _child(rule, "Value")
                name = (name_el.text or "").lower() if name_el is not None else ""
                value = (value_el.text or "") if value_el is not None else ""
                if name == "prefix":
                    dest.prefix = value
                elif name == "suffix":
                    dest.suffix = value
            out.append(dest)
    return out


def encode_key(key: str) -> str:
    return urllib.parse.quote_plus(key, safe="/")


def event_matches(configured: str, event_name: str) -> bool:
    """configured: `s3:ObjectCreated:*` or `s3:ObjectCreated:Put`; event_name: `ObjectCreated:Put`."""
    configured = configured.removeprefix("s3:")
    if configured.endswith(":*"):
        return event_name.startswith(configured[:-1])
    return configured == event_name


def matches(dest: Destination, event_name: str, key: str) -> bool:
    encoded = encode_key(key)
    return (any(event_matches(e, event_name) for e in dest.events)
            and encoded.startswith(dest.prefix) and encoded.endswith(dest.suffix))


def _events_share(a: str, b: str) -> bool:
    a, b = a.removeprefix("s3:"), b.removeprefix("s3:")
    if a == b:
        return True
    for wide, narrow in ((a, b), (b, a)):
        if wide.endswith(":*") and narrow.startswith(wide[:-1]):
            return True
    return False


def overlaps(config: list[Destination]) -> bool:
    for i, a in enumerate(config):
        for b in config[i + 1:]:
            if not any(_events_share(x, y) for x in a.events for y in b.events):
                continue
            prefixes = a.prefix.startswith(b.prefix) or b.prefix.startswith(a.prefix)
            suffixes = a.suffix.endswith(b.suffix) or b.suffix.endswith(a.suffix)
            if prefixes and suffixes:
                return True
    return False


def _as_list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def invoke_allowed(policy_text: str, service: str, source_arn: str) -> bool:
    """Whether the function's resource policy lets `service` (`s3.amazonaws.com`,
    `events.amazonaws.com`) invoke it for `source_arn` (aws:SourceArn, when the statement has one)."""
    try:
        policy = json.loads(policy_text)
    except ValueError:
        return False
    for st in _as_list(policy.get("Statement")):
        if st.get("Effect") != "Allow":
            continue
        principal = st.get("Principal")
        services = _as_list(principal.get("Service")) if isinstance(principal, dict) \
            else _as_list(principal)
        if service not in services and "*" not in services:
            continue
        actions = [a.lower() for a in _as_list(st.get("Action"))]
        if not any(fnmatch.fnmatchcase("lambda:invokefunction", a) for a in actions):
            continue
        source_arns = []
        for op, cond in (st.get("Condition") or {}).items():
            for k, v in cond.items():
                if k.lower() == "aws:sourcearn":
                    source_arns += [(op, arn) for arn in _as_list(v)]
        if not source_arns or any(
                fnmatch.fnmatchcase(source_arn, arn) if op.startswith("ArnLike")
                or op.startswith("StringLike") else source_arn == arn
                for op, arn in source_arns):
            return True
    return False


def permission_allows(policy_text: str, bucket: str) -> bool:
    return invoke_allowed(policy_text, "s3.amazonaws.com", f"arn:aws:s3:::{bucket}")


_sequence = [int(time.time() * 1000)]


def event(region: str, event_name: str, bucket: str, key: str, size: int, etag: str,
          configuration_id: str, principal: str = "AWS:AIDADEVSTACKEXAMPLE") -> dict:
    _sequence[0] += 1
    now = time.time()
    request_id = uuid.uuid4().hex[:16].upper()
    return {"Records": [{
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        + f".{int(now * 1000) % 1000:03d}Z",
        "eventName": event_name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": "127.0.0.1"},
        "responseElements": {"x-amz-request-id": request_id,
                             "x-amz-id-2": uuid.uuid4().hex + uuid.uuid4().hex},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {"name": bucket, "ownerIdentity": {"principalId": "A3DEVSTACKOWNER"},
                       "arn": f"arn:aws:s3:::{bucket}"},
            "object": {"key": encode_key(key), "size": size, "eTag": etag.strip('"'),
                       "sequencer": f"{_sequence[0]:016X}"},
        },
    }]}
