"""What an AWS request is: service, operation and the resource it names, read from the raw request.

The router decides from this which behaviour applies. Only the operations a behaviour needs are
named; everything else is `op=""` with its service and, for S3, its bucket.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from dataclasses import dataclass, field

LAMBDA_FUNCTIONS = "/2015-03-31/functions"
LAMBDA_EVENT_INVOKE = "/2019-09-25/functions/"
_CREDENTIAL = re.compile(r"Credential=([^/,\s]+)/[^/]+/[^/]+/([^/]+)/aws4_request")
# The access key the router gives the forwarder, so that its own calls can be told apart.
FORWARDER_ACCESS_KEY = "devstack-forwarder"


@dataclass
class Call:
    service: str
    op: str = ""
    bucket: str = ""
    key: str = ""
    function: str = ""
    access_key: str = ""
    params: dict = field(default_factory=dict)  # query-protocol form fields or JSON body

    @property
    def from_forwarder(self) -> bool:
        return self.access_key == FORWARDER_ACCESS_KEY


def function_name(name_or_arn: str) -> str:
    """`name`, `name:qualifier`, or a function ARN -> the bare name."""
    text = urllib.parse.unquote(name_or_arn)
    if text.startswith("arn:"):
        parts = text.split(":")
        return parts[6] if len(parts) > 6 else text
    return text.split(":")[0]


def role_name(role_arn: str) -> str:
    return role_arn.rsplit("/", 1)[-1]


def classify(method: str, raw_path: str, headers: dict, body: bytes) -> Call:
    """headers: lower-case names."""
    split = urllib.parse.urlsplit(raw_path)
    path, query = split.path, urllib.parse.parse_qs(split.query, keep_blank_values=True)
    m = _CREDENTIAL.search(headers.get("authorization", ""))
    access_key, service = (m.group(1), m.group(2)) if m else ("", "")
    call = Call(service=service, access_key=access_key)
    target = headers.get("x-amz-target", "")
    if target:
        call.op = target.rsplit(".", 1)[-1]
        call.service = service or target.split("_", 1)[0].lower()
        try:
            call.params = json.loads(body or b"{}")
        except ValueError:
            call.params = {}
        return call
    if service in ("iam", "sts", "ec2") or (method == "POST" and path == "/" and body
                                            and b"Action=" in body):
        form = urllib.parse.parse_qs(body.decode(errors="replace"))
        call.params = {k: v[0] for k, v in form.items()}
        call.op = call.params.get("Action", "")
        return call
    if path.startswith(LAMBDA_EVENT_INVOKE) and path.endswith("/event-invoke-config"):
        call.service = "lambda"
        call.function = function_name(path[len(LAMBDA_EVENT_INVOKE):].split("/", 1)[0])
        if method in ("PUT", "POST"):
            call.op = ("PutFunctionEventInvokeConfig" if method == "PUT"
                       else "UpdateFunctionEventInvokeConfig")
            try:
                call.params = json.loads(body or b"{}")
            except ValueError:
                call.params = {}
        return call
    if path.startswith(LAMBDA_FUNCTIONS):
        call.service = "lambda"
        rest = path[len(LAMBDA_FUNCTIONS):].strip("/").split("/")
        if rest == [""] and method == "POST":
            call.op = "CreateFunction"
        elif len(rest) >= 2:
            call.function = function_name(rest[0])
            if rest[1] == "configuration" and method == "PUT":
                call.op = "UpdateFunctionConfiguration"
            elif rest[1] == "policy" and method == "POST":
                call.op = "AddPermission"
        if call.op in ("CreateFunction", "UpdateFunctionConfiguration"):
            try:
                call.params = json.loads(body or b"{}")
            except ValueError:
                call.params = {}
            if call.op == "CreateFunction":
                call.function = function_name(call.params.get("FunctionName", ""))
        return call
    if service == "s3" or (not service and path.count("/") >= 1):
        call.service = "s3"
        bucket, _, key = path.lstrip("/").partition("/")
        call.bucket = urllib.parse.unquote(bucket)
        call.key = urllib.parse.unquote(key)
        if not call.bucket:
            return call
        if not call.key:
            if method == "PUT" and not query:
                call.op = "CreateBucket"
            elif method == "PUT" and "notification" in query:
                call.op = "PutBucketNotificationConfiguration"
            return call
        if method == "GET" and not any(q in query for q in ("uploadId", "tagging", "acl",
                                                            "attributes")):
            call.op = "GetObject"
        elif method == "PUT" and "uploadId" not in query and not any(
                q in query for q in ("tagging", "acl", "retention", "legal-hold")):
            call.op = "CopyObject" if "x-amz-copy-source" in headers else "PutObject"
        elif method == "POST" and "uploadId" in query:
            call.op = "CompleteMultipartUpload"
    return call


def role_arns(value) -> list[str]:
    """Every `RoleARN` anywhere in a Firehose request body."""
    found = []
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "RoleARN" and isinstance(v, str):
                found.append(v)
            else:
                found += role_arns(v)
    elif isinstance(value, list):
        for v in value:
            found += role_arns(v)
    return found
