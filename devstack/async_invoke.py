"""Lambda's asynchronous invocation, as the router runs it (behaviour `lambda-async-failures`).

What AWS does (Lambda developer guide, "Asynchronous invocation" and "Capturing records of Lambda
asynchronous invocations"): an event that fails is retried `MaximumRetryAttempts` times (0 to 2,
default 2) while it is younger than `MaximumEventAgeInSeconds` (60 to 21600, default 21600), both
from the function's event invoke config. When it still fails, and the config names an S3 bucket as
the `OnFailure` destination, Lambda writes an invocation record as a JSON object to
`aws/lambda/async/<function-name>/YYYY/MM/DD/YYYY-MM-DDTHH.MM.SS-<random UUID>` in that bucket:

    {"version": "1.0", "timestamp": "...Z",
     "requestContext": {"requestId", "functionArn": "...:$LATEST",
                        "condition": "RetriesExhausted" | "EventAgeExceeded",
                        "approximateInvokeCount": n},
     "requestPayload": <the event>,
     "responseContext": {"statusCode": 200, "executedVersion": "$LATEST",
                         "functionError": "Unhandled"},
     "responsePayload": <the function's error payload>}

The pure parts (settings, the key, the record) are tested by `selftest.py`; `AsyncInvoker` is the
engine the router runs them with: it queues the event, invokes the function through the Lambda
manager (`lambda_runtime.py`), retries, and writes the record to the destination.
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from typing import Callable

DEFAULT_RETRIES = 2
DEFAULT_MAX_AGE_S = 21600


def settings(config: dict | None) -> tuple[int, int, str | None]:
    """(retries, max event age, S3 bucket of the on-failure destination or None) from a
    GetFunctionEventInvokeConfig answer (None: the function has none: Lambda's defaults)."""
    config = config or {}
    retries = config.get("MaximumRetryAttempts")
    age = config.get("MaximumEventAgeInSeconds")
    destination = ((config.get("DestinationConfig") or {}).get("OnFailure") or {}) \
        .get("Destination") or ""
    bucket = None
    if destination.startswith("arn:") and destination.split(":")[2:3] == ["s3"]:
        bucket = destination.split(":::", 1)[-1].split("/", 1)[0] or None
    return (DEFAULT_RETRIES if retries is None else int(retries),
            DEFAULT_MAX_AGE_S if age is None else int(age), bucket)


def record_key(function: str, now: float, record_id: str | None = None) -> str:
    stamp = time.gmtime(now)
    return (f"aws/lambda/async/{function}/{time.strftime('%Y/%m/%d', stamp)}/"
            f"{time.strftime('%Y-%m-%dT%H.%M.%S', stamp)}-{record_id or uuid.uuid4()}")


def record(function_arn: str, request_id: str, condition: str, invoke_count: int,
           payload: bytes, response: bytes, function_error: str | None, now: float) -> dict:
    def as_json(data: bytes):
        try:
            return json.loads(data or b"null")
        except ValueError:
            return data.decode(errors="replace")

    arn = function_arn if function_arn.count(":") >= 7 else function_arn + ":$LATEST"
    response_context = {"statusCode": 200, "executedVersion": "$LATEST"}
    if function_error:
        response_context["functionError"] = function_error
    return {
        "version": "1.0",
        "timestamp": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now))
        + f".{int(now * 1000) % 1000:03d}Z",
        "requestContext": {"requestId": request_id, "functionArn": arn,
                           "condition": condition, "approximateInvokeCount": invoke_count},
        "requestPayload": as_json(payload),
        "responseContext": response_context,
        "responsePayload": as_json(response),
    }


def queued_line(function: str) -> str:
    """The router's log line of an async invoke accepted (S3's, EventBridge's, or a client's
    `InvocationType: Event`); the integration harness counts these as dispatched."""
    return f"async invoke of {function}: queued"


class AsyncInvoker:
    """InvocationType Event: queued, run in the background, a failure retried. With
    `lambda-async-failures`, the retries and the event's age follow the function's event invoke
    config, and an event that still fails goes to its S3 on-failure destination; without it, two
    retries and the event is dropped. `moto` reads the function and its config and writes the
    record (`moto_client.Moto`); `invoke_sync(cfg, payload, want_log)` runs one attempt."""

    def __init__(self, moto, invoke_sync: Callable, behaviours: set[str],
                 retry_delays: list[float], log: Callable[[str], None]):
        self.moto = moto
        self.invoke_sync = invoke_sync
        self.behaviours = behaviours
        self.retry_delays = retry_delays
        self.log = log

    def invoke(self, function: str, payload: bytes) -> None:
        self.log(queued_line(function))
        threading.Thread(target=self.run, args=(function, payload), daemon=True).start()

    def run(self, function: str, payload: bytes) -> None:
        queued = time.time()
        retries, max_age, bucket = 2, None, None
        if "lambda-async-failures" in self.behaviours:
            retries, max_age, bucket = settings(self.moto.event_invoke_config(function))
        delays = self.retry_delays or [0.0]
        status, headers, body, attempts, condition = 0, [], b"", 0, "RetriesExhausted"
        cfg = None
        for attempt in range(retries + 1):
            if attempt:
                time.sleep(delays[min(attempt - 1, len(delays) - 1)])
                if max_age is not None and time.time() - queued > max_age:
                    condition = "EventAgeExceeded"
                    break
            cfg = self.moto.function(function)
            if cfg is None:
                self.log(f"async invoke: function {function} is gone: event dropped")
                return
            status, headers, body = self.invoke_sync(cfg, payload, False, "Event")
            attempts += 1
            if status == 200 and not dict(headers).get("X-Amz-Function-Error"):
                return
            self.log(f"async invoke of {function} failed (attempt {attempts}): "
                     + ("retrying" if attempt < retries else "giving up"))
        if bucket is None or cfg is None:
            return
        now = time.time()
        key = record_key(function, now)
        document = record(
            cfg.get("FunctionArn", ""), dict(headers).get("x-amzn-RequestId", ""),
            condition, attempts, payload, body,
            dict(headers).get("X-Amz-Function-Error"), now)
        written = self.moto.put_object(bucket, key, json.dumps(document).encode())
        self.log(f"async invoke of {function}: record s3://{bucket}/{key} "
                 f"({condition}, {attempts} attempts) -> {written}")
