"""Fixes of moto's server itself (every service): the router's hooks into the recording, and
response bodies sent as written.

The router's hooks: a request with `X-Devstack-Internal` (the router's own reads and log writes)
is not recorded; a request with `X-Devstack-Injected` (an error the router injects, see
devstack/consistency.py) is recorded like any other call and answered with that error, without
acting on it. So moto's recording holds every call the product made, failed ones included.
"""

from __future__ import annotations

import base64
import json
import threading

from fixes.registry import fix

MOTO = "5.2.5"
INTERNAL_HEADER = "X-Devstack-Internal"
INJECTED_HEADER = "X-Devstack-Injected"


def decode_injected(value: str) -> tuple[int, dict, bytes]:
    """The router's `X-Devstack-Injected` value: base64 of JSON [status, headers, base64 body]."""
    status, headers, body = json.loads(base64.b64decode(value))
    return status, headers, base64.b64decode(body)


@fix("recorder-serialised-not-internal", "core", MOTO,
     "not an AWS behaviour: the recording holds each call the product made, whole; moto's "
     "recorder appends from its server's threads unsynchronised, so a large entry (CreateFunction "
     "with its zip) came out interleaved with others and unreadable")
def recorder_hooks() -> None:
    from moto.moto_api import recorder

    original = recorder._record_request
    lock = threading.Lock()

    def record_unless_internal(request, body=None):
        if request.headers.get(INTERNAL_HEADER):
            return
        with lock:
            original(request, body)

    recorder._record_request = record_unless_internal


@fix("answer-injected", "core", MOTO,
     "not an AWS behaviour: an error the router injects (an AWS answer, devstack/consistency.py) "
     "is recorded as the call it refused and answered without acting on it")
def answer_injected() -> None:
    from moto.core import utils as moto_utils
    from moto.moto_api import recorder

    original = moto_utils.convert_to_flask_response.__call__

    def call(self, args=None, **kwargs):
        from flask import Response
        from flask import request as flask_request

        injected = flask_request.headers.get(INJECTED_HEADER)
        if not injected:
            return original(self, args, **kwargs)
        recorder._record_request(moto_utils.normalize_request(flask_request))
        status, headers, body = decode_injected(injected)
        return Response(response=body, status=status, headers=headers)

    moto_utils.convert_to_flask_response.__call__ = call


@fix("bodies-as-written", "core", MOTO,
     "AWS returns JSON bodies as written (CloudWatch Logs returns log events as put); moto "
     "rewrites every <RequestId> span of any body with a greedy pattern, which spliced two log "
     "events quoting S3 error documents into one")
def bodies_as_written() -> None:
    from moto.core.responses import BaseResponse

    original = BaseResponse._enrich_response

    def enrich_xml_only(headers, body):
        if isinstance(body, str) and body.lstrip().startswith("<"):
            return original(headers, body)
        headers, _ = original(headers, "")  # the request id header, the body untouched
        return headers, body

    BaseResponse._enrich_response = staticmethod(enrich_xml_only)
