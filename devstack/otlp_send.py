"""Send OTLP/HTTP log records to a collector (stdlib only): a probe for the local stack.

    python devstack/otlp_send.py --endpoint http://127.0.0.1:4318 [--protocol json|protobuf]
        [--gzip] [--records N] [--body TEXT] [--attr key=value ...] [--resource key=value ...]

Values that look like integers are sent as intValue, everything else as stringValue.
Prints the HTTP status and response body; exits 1 unless the status is 2xx.
"""

from __future__ import annotations

import argparse
import gzip
import json
import struct
import sys
import time
import urllib.error
import urllib.request

# ---- OTLP JSON ---------------------------------------------------------------------------


def _json_any(v):
    if isinstance(v, bool):
        return {"boolValue": v}
    if isinstance(v, int):
        return {"intValue": str(v)}
    if isinstance(v, float):
        return {"doubleValue": v}
    if isinstance(v, (list, tuple)):
        return {"arrayValue": {"values": [_json_any(x) for x in v]}}
    if isinstance(v, dict):
        return {"kvlistValue": {"values": _json_attrs(v)}}
    if isinstance(v, bytes):
        import base64

        return {"bytesValue": base64.b64encode(v).decode()}
    return {"stringValue": str(v)}


def _json_attrs(d):
    return [{"key": k, "value": _json_any(v)} for k, v in d.items()]


def to_json(resource: dict, scope: str, records: list[dict]) -> bytes:
    logs = []
    for r in records:
        logs.append(
            {
                "timeUnixNano": str(r.get("time_unix_nano", 0)),
                "observedTimeUnixNano": str(r.get("observed_time_unix_nano", 0)),
                "severityText": r.get("severity_text", ""),
                "body": _json_any(r.get("body", "")),
                "attributes": _json_attrs(r.get("attributes", {})),
            }
        )
    doc = {
        "resourceLogs": [
            {
                "resource": {"attributes": _json_attrs(resource)},
                "scopeLogs": [{"scope": {"name": scope}, "logRecords": logs}],
            }
        ]
    }
    return json.dumps(doc).encode()


# ---- OTLP protobuf (hand-rolled encoder for the few messages needed) ---------------------


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def _tag(field: int, wire: int) -> bytes:
    return _varint((field << 3) | wire)


def _ld(field: int, payload: bytes) -> bytes:
    return _tag(field, 2) + _varint(len(payload)) + payload


def _pb_any(v) -> bytes:
    if isinstance(v, bool):
        return _tag(2, 0) + _varint(int(v))
    if isinstance(v, int):
        return _tag(3, 0) + _varint(v)
    if isinstance(v, float):
        return _tag(4, 1) + struct.pack("<d", v)
    if isinstance(v, (list, tuple)):
        return _ld(5, b"".join(_ld(1, _pb_any(x)) for x in v))
    if isinstance(v, dict):
        return _ld(6, b"".join(_ld(1, _pb_kv(k, x)) for k, x in v.items()))
    if isinstance(v, bytes):
        return _ld(7, v)
    return _ld(1, str(v).encode())


def _pb_kv(k: str, v) -> bytes:
    return _ld(1, k.encode()) + _ld(2, _pb_any(v))


def to_protobuf(resource: dict, scope: str, records: list[dict]) -> bytes:
    recs = b""
    for r in records:
        rec = _tag(1, 1) + struct.pack("<Q", r.get("time_unix_nano", 0))
        if r.get("severity_text"):
            rec += _ld(3, r["severity_text"].encode())
        rec += _ld(5, _pb_any(r.get("body", "")))
        for k, v in r.get("attributes", {}).items():
            rec += _ld(6, _pb_kv(k, v))
        rec += _tag(11, 1) + struct.pack("<Q", r.get("observed_time_unix_nano", 0))
        recs += _ld(2, rec)
    scope_logs = _ld(1, _ld(1, scope.encode())) + recs
    res = b"".join(_ld(1, _pb_kv(k, v)) for k, v in resource.items())
    resource_logs = _ld(1, res) + _ld(2, scope_logs)
    return _ld(1, resource_logs)


# ---- sending -----------------------------------------------------------------------------


def send(endpoint: str, body: bytes, protocol: str, use_gzip: bool, timeout: float = 10.0):
    url = endpoint.rstrip("/") + "/v1/logs"
    headers = {
        "Content-Type": "application/json" if protocol == "json" else "application/x-protobuf"
    }
    if use_gzip:
        body = gzip.compress(body)
        headers["Content-Encoding"] = "gzip"
    req = urllib.request.Request(url, data=body, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, resp.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _parse_kv(items):
    out = {}
    for item in items or []:
        k, _, v = item.partition("=")
        try:
            out[k] = int(v)
        except ValueError:
            out[k] = v
    return out


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    p.add_argument("--endpoint", required=True, help="collector base URL (/v1/logs is appended)")
    p.add_argument("--protocol", choices=["json", "protobuf"], default="protobuf")
    p.add_argument("--gzip", action="store_true")
    p.add_argument("--records", type=int, default=1)
    p.add_argument("--body", default="devstack probe")
    p.add_argument("--scope", default="devstack")
    p.add_argument("--attr", action="append", help="record attribute key=value")
    p.add_argument("--resource", action="append", help="resource attribute key=value")
    a = p.parse_args(argv)
    now = time.time_ns()
    attrs = _parse_kv(a.attr)
    records = [
        {
            "time_unix_nano": now,
            "observed_time_unix_nano": now,
            "body": a.body if a.records == 1 else f"{a.body} {i}",
            "attributes": dict(attrs, **{"devstack.index": i}),
        }
        for i in range(a.records)
    ]
    resource = _parse_kv(a.resource) or {"service.name": "devstack-probe"}
    encode = to_json if a.protocol == "json" else to_protobuf
    status, resp = send(a.endpoint, encode(resource, a.scope, records), a.protocol, a.gzip)
    print(status, resp.decode(errors="replace"))
    return 0 if 200 <= status < 300 else 1


if __name__ == "__main__":
    sys.exit(main())
