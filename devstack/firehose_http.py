"""What Firehose sends to an HTTP endpoint and what it takes for an answer (behaviour
`firehose-http-delivery`, run by the moto wrapper's fix in `fixes/firehose.py`): pure functions,
tested in `selftest.py`. Source: Firehose developer guide, "HTTP endpoint delivery request and response specifications"."""

from __future__ import annotations

import base64
import gzip
import json
import time
import uuid


def firehose_request(stream_arn: str, http: dict, records: list[bytes], access_key: str | None,
                     request_id: str, now_ms: int) -> tuple[dict, bytes]:
    """The headers and body Firehose posts for one batch (pure)."""
    body = json.dumps({"requestId": request_id, "timestamp": now_ms,
                       "records": [{"data": base64.b64encode(r).decode()} for r in records]},
                      separators=(",", ":")).encode()
    headers = {"Content-Type": "application/json",
               "X-Amz-Firehose-Protocol-Version": "1.0",
               "X-Amz-Firehose-Request-Id": request_id,
               "X-Amz-Firehose-Source-Arn": stream_arn}
    if access_key is not None:
        headers["X-Amz-Firehose-Access-Key"] = access_key
    request = http.get("RequestConfiguration") or {}
    attributes = {a["AttributeName"]: a.get("AttributeValue", "")
                  for a in request.get("CommonAttributes") or []}
    if attributes:
        headers["X-Amz-Firehose-Common-Attributes"] = json.dumps(
            {"commonAttributes": attributes}, separators=(",", ":"))
    if (request.get("ContentEncoding") or "NONE").upper() == "GZIP":
        headers["Content-Encoding"] = "gzip"
        body = gzip.compress(body)
    return headers, body


def firehose_delivered(status: int, body: bytes, request_id: str) -> str | None:
    """None when Firehose counts the batch delivered, else why not (pure)."""
    if status != 200:
        return f"The endpoint answered HTTP {status}"
    try:
        answer = json.loads(body or b"null")
    except ValueError:
        return "The response body is not JSON"
    if not isinstance(answer, dict) or answer.get("requestId") != request_id:
        return "The response does not echo the request's requestId"
    if "timestamp" not in answer:
        return "The response has no timestamp"
    return None


def failed_data_key(prefix: str, stream: str, now: float) -> str:
    t = time.gmtime(now)
    return (f"{prefix}http-endpoint-failed/{time.strftime('%Y/%m/%d/%H', t)}/"
            f"{stream}-1-{time.strftime('%Y-%m-%d-%H-%M-%S', t)}-{uuid.uuid4()}")
