"""Error responses shaped as each AWS service sends them, so that the SDK parses a typed error.

- S3 (REST-XML): `<Error><Code/><Message/>...<RequestId/><HostId/></Error>`, no body on HEAD.
- Lambda (REST-JSON): the code in the `x-amzn-ErrorType` header, body `{"Type","message"}`.
- Firehose (JSON 1.1): body `{"__type": code, "message"}`.
- IAM (query): `<ErrorResponse><Error><Type/><Code/><Message/></Error><RequestId/></ErrorResponse>`.

Each builder returns (status, headers, body) as the router answers.
"""

from __future__ import annotations

import json
import uuid
from xml.sax.saxutils import escape


def request_id() -> str:
    return str(uuid.uuid4())


def s3(status: int, code: str, message: str, extra: list[tuple[str, str]] | None = None,
       method: str = "GET"):
    rid = uuid.uuid4().hex[:16].upper()
    fields = "".join(f"<{k}>{escape(v)}</{k}>" for k, v in extra or [])
    body = ('<?xml version="1.0" encoding="UTF-8"?>\n'
            f"<Error><Code>{code}</Code><Message>{escape(message)}</Message>{fields}"
            f"<RequestId>{rid}</RequestId><HostId>{rid}</HostId></Error>").encode()
    headers = [("Content-Type", "application/xml"), ("x-amz-request-id", rid)]
    return status, headers, b"" if method == "HEAD" else body


def lambda_(status: int, code: str, message: str):
    rid = request_id()
    body = json.dumps({"Type": "User", "message": message}).encode()
    return status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", code),
                    ("x-amzn-RequestId", rid)], body


def json11(status: int, code: str, message: str):
    rid = request_id()
    body = json.dumps({"__type": code, "message": message}).encode()
    return status, [("Content-Type", "application/x-amz-json-1.1"),
                    ("x-amzn-RequestId", rid)], body


def query(status: int, code: str, message: str, kind: str = "Sender"):
    rid = request_id()
    body = ("<ErrorResponse><Error>"
            f"<Type>{kind}</Type><Code>{code}</Code><Message>{escape(message)}</Message>"
            f"</Error><RequestId>{rid}</RequestId></ErrorResponse>").encode()
    return status, [("Content-Type", "text/xml")], body
