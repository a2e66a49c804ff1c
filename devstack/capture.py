"""rotel logs processor: appends every received log record to a JSON-lines file.

Loaded by `rotel-agent start --otlp-with-logs-processor devstack/capture.py`; rotel calls
`process_logs(resource_logs)` once per ResourceLogs of every batch, inside its embedded
Python 3.11 (stdlib only). The capture file comes from FLOWLOGS_CAPTURE_FILE.

What rotel passes (rotel 0.0.1a15, checked by hand):
  ResourceLogs: .resource (Resource | None, .attributes: [KeyValue]), .scope_logs, .schema_url
  ScopeLogs:    .scope (InstrumentationScope | None: .name .version .attributes), .log_records
  LogRecord:    .time_unix_nano .observed_time_unix_nano .severity_number .severity_text
                .body (AnyValue | None) .attributes [KeyValue] .flags .trace_id/.span_id (bytes)
                .event_name .dropped_attributes_count
  KeyValue:     .key, .value (AnyValue); AnyValue.value is a Python str/int/float/bool,
                a list of ints (bytes), an ArrayValue (iterable of AnyValue) or a
                KeyValueList (iterable of KeyValue).

An exception escaping process_logs makes rotel panic and exit, so nothing here may raise:
failures are written to FLOWLOGS_CAPTURE_FILE + ".errors" instead.

One line per log record:
  {"resource": {...}, "scope": "name", "scope_version": "", "attributes": {...}, "body": ...,
   "time_unix_nano": 0, "observed_time_unix_nano": 0, "severity_text": "", "severity_number": 0,
   "trace_id": "", "span_id": "", "flags": 0, "event_name": ""}
"""

import base64
import json
import os
import threading
import traceback

_LOCK = threading.Lock()
_PATH = os.environ.get("FLOWLOGS_CAPTURE_FILE", "otlp-logs.jsonl")


def _value(any_value):
    """An OTLP AnyValue as a JSON value (ints stay ints, strings stay strings)."""
    if any_value is None:
        return None
    v = any_value.value
    if v is None or isinstance(v, (str, bool, int, float)):
        return v
    if isinstance(v, (bytes, bytearray)):
        return base64.b64encode(bytes(v)).decode("ascii")
    if isinstance(v, list):  # bytes_value arrives as a list of ints
        if all(isinstance(b, int) for b in v):
            return base64.b64encode(bytes(v)).decode("ascii")
        return [_value(x) for x in v]
    # ArrayValue (iterable of AnyValue) or KeyValueList (iterable of KeyValue)
    items = list(v)
    if items and all(hasattr(x, "key") for x in items):
        return _attributes(items)
    if not items and "KeyValueList" in type(v).__name__:
        return {}
    return [_value(x) for x in items]


def _attributes(key_values):
    out = {}
    if key_values is None:
        return out
    for kv in key_values:
        out[kv.key] = _value(kv.value)
    return out


def _hex(raw):
    if raw is None:
        return ""
    try:
        return bytes(raw).hex()
    except Exception:  # noqa: BLE001 - never raise into rotel
        return str(raw)


def _lines(resource_logs):
    resource = resource_logs.resource
    res_attrs = _attributes(resource.attributes) if resource is not None else {}
    for scope_logs in resource_logs.scope_logs:
        scope = scope_logs.scope
        scope_name = (scope.name or "") if scope is not None else ""
        scope_version = (scope.version or "") if scope is not None else ""
        for record in scope_logs.log_records:
            body = _value(record.body)
            yield json.dumps(
                {
                    "resource": res_attrs,
                    "scope": scope_name,
                    "scope_version": scope_version,
                    "attributes": _attributes(record.attributes),
                    "body": "" if body is None else body,
                    "time_unix_nano": record.time_unix_nano,
                    "observed_time_unix_nano": record.observed_time_unix_nano,
                    "severity_text": record.severity_text or "",
                    "severity_number": record.severity_number,
                    "trace_id": _hex(record.trace_id),
                    "span_id": _hex(record.span_id),
                    "flags": record.flags,
                    "event_name": record.event_name or "",
                },
                sort_keys=True,
            )


def process_logs(resource_logs):
    try:
        text = "".join(line + "\n" for line in _lines(resource_logs))
        if text:
            with _LOCK, open(_PATH, "a", encoding="utf-8") as f:
                f.write(text)
    except BaseException:  # noqa: BLE001 - an exception here kills rotel
        try:
            with _LOCK, open(_PATH + ".errors", "a", encoding="utf-8") as f:
                f.write(traceback.format_exc() + "\n")
        except BaseException:  # noqa: BLE001
            pass
