"""Firehose fixes: delivery to an HTTP endpoint as Firehose makes it (the request and answer rules
are pure, in devstack/firehose_http.py)."""

from __future__ import annotations

import base64
import gzip
import json
import threading
import time
import urllib.error
import urllib.request
import uuid

from firehose_http import failed_data_key, firehose_delivered, firehose_request
from fixes.registry import fix, on

MOTO = "5.2.5"
TIMEOUT_S = 180  # "HTTP endpoints have 3 minutes to respond to a request"


def _access_key(account_id: str, region: str, http: dict) -> str | None:
    from moto.secretsmanager import models as sm_models

    secrets = http.get("SecretsManagerConfiguration") or {}
    if secrets.get("Enabled") and secrets.get("SecretARN"):
        try:
            value = sm_models.secretsmanager_backends[account_id][region].get_secret_value(
                secrets["SecretARN"], None, "AWSCURRENT")
            return json.loads(value.get("SecretString") or "{}").get("api_key")
        except Exception:  # noqa: BLE001 - Firehose then fails the delivery; so do we
            return None
    return (http.get("EndpointConfiguration") or {}).get("AccessKey")


def failed_data(records: list[bytes], attempts: int, arrived: float, now: float,
                error_code: str, error: str, gzipped: bool) -> bytes:
    """The backup object of records that could not be delivered: a JSON line per record."""
    lines = [json.dumps({"attemptsMade": attempts, "arrivalTimestamp": int(arrived * 1000),
                         "errorCode": error_code, "errorMessage": error,
                         "attemptEndingTimestamp": int(now * 1000),
                         "rawData": base64.b64encode(r).decode()}) for r in records]
    data = ("\n".join(lines) + "\n").encode()
    return gzip.compress(data) if gzipped else data


def deliver_http(backend, stream, http: dict, records: list[bytes]) -> None:
    from moto.s3.models import s3_backends

    url = (http.get("EndpointConfiguration") or {}).get("Url", "")
    retry_s = float((http.get("RetryOptions") or {}).get("DurationInSeconds", 300))
    request_id = str(uuid.uuid4())
    arrived = time.time()
    attempts, delay, error_code, error = 0, 1.0, "", ""
    while True:
        attempts += 1
        key = _access_key(backend.account_id, backend.region_name, http)
        headers, body = firehose_request(stream.delivery_stream_arn, http, records, key,
                                         request_id, int(time.time() * 1000))
        status = 0
        try:
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:
                status, answer = resp.status, resp.read()
        except urllib.error.HTTPError as e:
            status, answer = e.code, e.read()
        except Exception as e:  # noqa: BLE001
            error_code, error = "HttpEndpoint.ConnectionFailed", f"{type(e).__name__}: {e}"
        if status:
            why = firehose_delivered(status, answer, request_id)
            if why is None:
                return
            error_code, error = "HttpEndpoint.InvalidResponseFromDestination", why
        if status == 413 or time.time() - arrived + delay > retry_s:
            break
        time.sleep(delay)
        delay = min(delay * 2, 30.0)
    s3 = http.get("S3DestinationDescription") or http.get("S3Configuration") or {}
    bucket = (s3.get("BucketARN") or "").split(":")[-1]
    if not bucket:
        return
    now = time.time()
    data = failed_data(records, attempts, arrived, now, error_code, error,
                       (s3.get("CompressionFormat") or "UNCOMPRESSED").upper() == "GZIP")
    prefix = s3.get("ErrorOutputPrefix") or s3.get("Prefix") or ""
    s3_backends[backend.account_id][backend.partition].put_object(
        bucket, failed_data_key(prefix, stream.delivery_stream_name, now), data)


@fix("firehose-http-delivery", "firehose", MOTO,
     "a record put into a stream with an HTTP endpoint destination is posted in the background "
     "with Firehose's headers and gzip, retried until RetryOptions.DurationInSeconds unless a "
     "200 echoes requestId, then backed up to S3 (Firehose developer guide, 'HTTP endpoint "
     "delivery request and response specifications'); moto posts synchronously, accepts anything",
     behaviour="firehose-http-delivery")
def http_delivery() -> None:
    from moto.firehose import models

    original = models.FirehoseBackend.put_record_batch

    def put_record_batch(self, delivery_stream_name, records):
        stream = self.delivery_streams.get(delivery_stream_name)
        http = None
        if stream is not None and on("firehose-http-delivery"):
            http = next((d["HttpEndpoint"] for d in stream.destinations if "HttpEndpoint" in d),
                        None)
        if http is None:
            return original(self, delivery_stream_name, records)
        data = [r["Data"] if isinstance(r["Data"], bytes) else str(r["Data"]).encode()
                for r in records]
        threading.Thread(target=deliver_http, args=(self, stream, http, data),
                         daemon=True).start()
        return {"FailedPutCount": 0, "Encrypted": False,
                "RequestResponses": [{"RecordId": uuid.uuid4().hex * 2} for _ in records]}

    models.FirehoseBackend.put_record_batch = put_record_batch
