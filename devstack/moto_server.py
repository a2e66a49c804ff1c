"""moto's server, with fixes that make it answer as AWS does, and the router's hooks.

1. S3 GetBucketNotificationConfiguration: moto answers it with an empty body (5.1) or a GetBucketNotificationResponse element (5.2) when a bucket has no notification configuration; real S3 answers
with an empty <NotificationConfiguration/> element, and the AWS SDK for Rust refuses the empty body
("no root element"). Here moto answers as S3 does.

2. `aws:SecureTransport`: moto does not evaluate the `Bool` condition, so the bucket's
`Deny ... Bool aws:SecureTransport false` statement denies every object read and write. The local
stack's plain HTTP on loopback stands in for AWS's HTTPS endpoints, so requests count as secure
transport and that statement does not apply, as it does not in AWS for HTTPS requests.

3. Behaviour `filter-rule-case` (switchable, see devstack/behaviours.py): GetBucketNotification-
Configuration names filter rules `Prefix`/`Suffix`, as S3 does whatever case they were written in
(aws/aws-sdk#389, AWS-FACTS.md "Filter names come back capitalised"); moto echoes the case written.

4. moto's own S3 -> Lambda dispatch is off: it cannot run the function (no Docker) and the router
dispatches S3 events itself (behaviour `s3-events`), so an event is delivered once.

5. The router's hooks: a request with `X-Devstack-Internal` (the router's own reads and log
writes) is not recorded; a request with `X-Devstack-Injected` (an error the router injects, see
devstack/consistency.py) is recorded like any other call and answered with that error, without
acting on it. So moto's recording holds every call the product made, failed ones included.
Recording is serialised: moto's server answers on threads and its recorder appends each entry
with unsynchronised writes, so a large entry (CreateFunction with its zip) written while the
bucket chain's calls were recorded came out interleaved with them, unreadable, and the call was
missing from the recording.

6. Behaviour `flow-log-folder` (switchable): CreateFlowLogs accepts an S3 destination with a folder,
`arn:aws:s3:::bucket/folder/` (EC2 API reference, `LogDestination`; AWS-FACTS.md), and
DescribeFlowLogs echoes it as given. moto looks the whole `bucket/folder/` up as a bucket name and
answers Unsuccessful, "LogDestination: ... does not exist" (DESIGN §10).

7. S3 PutBucketNotificationConfiguration accepts filter rule names in any case (`Prefix` as S3
itself returns them, or `prefix`); moto asserts lower case and answers 500 to `Prefix`, so a client
that writes back the configuration it read (with behaviour `filter-rule-case`) failed. Here the
names are lower-cased before moto reads them.

8. Lambda PutFunctionEventInvokeConfig replaces the function's config, as AWS does; moto appends
it to a list and answers the first one ever put from then on, so a changed retry count or
destination would never show.
9. Athena BatchGetNamedQuery and DeleteNamedQuery, which moto 5.2.5 does not implement ("action has
not been implemented"): answered from moto's own named queries as the Athena API reference
describes (an unknown id is listed in `UnprocessedNamedQueryIds`, or refused with
InvalidRequestException).

10. Response bodies are sent as moto's handlers wrote them, except XML ones. moto puts its request
id into every body with `re.sub(r"(?<=<RequestId>).*(?=</RequestId>)", ...)`, JSON bodies too, and
the match is greedy: a CloudWatch Logs answer whose log events carry an S3 error document (the
forwarder's report of an AccessDenied read) had everything between the first event's
`<RequestId>` and the last one's `</RequestId>` replaced, so two events came back as one spliced
message and verify could not read the first. AWS returns log events as they were written.

11. Behaviour `flow-log-kms-key-id` (switchable): CreateFlowLogs to an S3 bucket whose default
encryption is SSE-KMS with its `KMSMasterKeyID` written as a key id (not an ARN) answers an
Unsuccessful item per resource, code 400, "LogDestination: <bucket> is undeliverable" (VPC user
guide, flow-log troubleshooting; AWS-FACTS.md "Keys and encryption"); moto accepts it.

Usage: moto_server.py -H HOST -p PORT (moto's own options)
"""
import base64
import json
import os
import re
import sys
import threading

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import behaviours  # noqa: E402
from moto.core import utils as moto_utils  # noqa: E402
from moto.core.responses import BaseResponse  # noqa: E402
from moto.iam import access_control  # noqa: E402
from moto.moto_api import recorder  # noqa: E402
from moto.athena import responses as athena_responses  # noqa: E402
from moto.s3 import notifications, responses  # noqa: E402

BEHAVIOURS = behaviours.from_env()

_EMPTY = '<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
_original = responses.S3Response.get_bucket_notification


_FILTER_NAME = re.compile(r"<Name>(prefix|suffix)</Name>", re.IGNORECASE)


def _get_bucket_notification(self):
    if not self.backend.get_bucket_notification_configuration(self.bucket_name):
        return 200, {"Content-Type": "application/xml"}, _EMPTY
    result = _original(self)
    if "filter-rule-case" not in BEHAVIOURS or not isinstance(result, tuple):
        return result
    status, headers, body = result
    text = body.decode() if isinstance(body, bytes) else body
    text = _FILTER_NAME.sub(lambda m: f"<Name>{m.group(1).capitalize()}</Name>", text)
    return status, headers, text


responses.S3Response.get_bucket_notification = _get_bucket_notification

_notification_config_from_body = responses.S3Response._notification_config_from_body


def _notification_config_any_case(self):
    body = self.body.decode() if isinstance(self.body, bytes) else self.body
    self.body = _FILTER_NAME.sub(lambda m: f"<Name>{m.group(1).lower()}</Name>", body or "")
    return _notification_config_from_body(self)


responses.S3Response._notification_config_from_body = _notification_config_any_case

_is_action_permitted = access_control.IAMPolicyStatement.is_action_permitted


def _statement_permits(self, action, resource="*", principal=None, incoming_condition_values=None):
    condition = self._statement.get("Condition") or {}
    secure_transport = (condition.get("Bool") or {}).get("aws:SecureTransport")
    if secure_transport is not None and str(secure_transport).lower() != "true":
        return access_control.PermissionResult.NEUTRAL
    return _is_action_permitted(self, action, resource, principal, incoming_condition_values)


access_control.IAMPolicyStatement.is_action_permitted = _statement_permits

notifications._invoke_awslambda = lambda *_args, **_kwargs: None

_record_request = recorder._record_request


_record_lock = threading.Lock()


def _record_unless_internal(request, body=None):
    if request.headers.get("X-Devstack-Internal"):
        return
    with _record_lock:
        _record_request(request, body)


recorder._record_request = _record_unless_internal

_flask_call = moto_utils.convert_to_flask_response.__call__


def _answer_injected(self, args=None, **kwargs):
    from flask import Response
    from flask import request as flask_request

    injected = flask_request.headers.get("X-Devstack-Injected")
    if not injected:
        return _flask_call(self, args, **kwargs)
    recorder._record_request(moto_utils.normalize_request(flask_request))
    status, headers, body = json.loads(base64.b64decode(injected))
    return Response(response=base64.b64decode(body), status=status, headers=headers)


moto_utils.convert_to_flask_response.__call__ = _answer_injected

from moto.ec2.exceptions import FlowLogAlreadyExists  # noqa: E402
from moto.ec2.models.flow_logs import FlowLogsBackend  # noqa: E402

_create_flow_logs = FlowLogsBackend.create_flow_logs


def s3_destination_bucket(destination: str) -> tuple[str, str]:
    """`arn:aws:s3:::bucket/folder/` -> (`arn:aws:s3:::bucket`, `folder/`)."""
    arn, _, folder = destination.partition("/")
    return arn, folder


def _create_flow_logs_with_folder(self, resource_type, resource_ids, traffic_type,
                                  deliver_logs_permission_arn, log_destination_type,
                                  log_destination, *args, **kwargs):
    bucket_arn, folder = s3_destination_bucket(log_destination or "")
    if "flow-log-folder" not in BEHAVIOURS or log_destination_type != "s3" or not folder:
        return _create_flow_logs(self, resource_type, resource_ids, traffic_type,
                                 deliver_logs_permission_arn, log_destination_type,
                                 log_destination, *args, **kwargs)
    # moto's own duplicate check compares the destination it was given: check the full one here.
    for existing in self.describe_flow_logs():
        if existing.resource_id in resource_ids and existing.log_destination == log_destination:
            raise FlowLogAlreadyExists()
    created, unsuccessful = _create_flow_logs(
        self, resource_type, resource_ids, traffic_type, deliver_logs_permission_arn,
        log_destination_type, bucket_arn, *args, **kwargs)
    for flow_log in created:
        flow_log.log_destination = log_destination
    return created, unsuccessful


FlowLogsBackend.create_flow_logs = _create_flow_logs_with_folder


def default_kms_key_id(encryption) -> str | None:
    """The `KMSMasterKeyID` of a bucket's SSE-KMS default encryption as moto keeps it (the parsed
    ServerSideEncryptionConfiguration: one rule or a list), or None."""
    rules = (encryption or {}).get("Rule") or []
    for rule in rules if isinstance(rules, list) else [rules]:
        default = (rule or {}).get("ApplyServerSideEncryptionByDefault") or {}
        if str(default.get("SSEAlgorithm", "")).startswith("aws:kms"):
            return default.get("KMSMasterKeyID")
    return None


def undeliverable_key(key_id: str | None) -> bool:
    """A key named by its id (or a bare alias name), not by an ARN: log delivery cannot use it."""
    return bool(key_id) and not key_id.startswith("arn:")


def _create_flow_logs_kms_key_id(self, resource_type, resource_ids, traffic_type,
                                 deliver_logs_permission_arn, log_destination_type,
                                 log_destination, *args, **kwargs):
    if "flow-log-kms-key-id" in BEHAVIOURS and log_destination_type == "s3":
        from moto.s3.exceptions import MissingBucket
        from moto.s3.models import s3_backends

        bucket_arn, _ = s3_destination_bucket(log_destination or "")
        name = bucket_arn.split(":", 5)[-1]
        try:
            bucket = s3_backends[self.account_id][self.partition].get_bucket(name)
        except MissingBucket:
            bucket = None
        if bucket is not None and undeliverable_key(default_kms_key_id(bucket.encryption)):
            # VPC user guide, flow-log troubleshooting: the bucket's default encryption must
            # name a customer managed key by its ARN.
            return [], [(rid, "400", f"LogDestination: {name} is undeliverable")
                        for rid in resource_ids]
    return _create_flow_logs_with_folder(self, resource_type, resource_ids, traffic_type,
                                         deliver_logs_permission_arn, log_destination_type,
                                         log_destination, *args, **kwargs)


FlowLogsBackend.create_flow_logs = _create_flow_logs_kms_key_id

from moto.awslambda.models import EventInvokeConfig, LambdaBackend  # noqa: E402


def _put_function_event_invoke_config(self, function_name, config):
    fn = self.get_function(function_name)
    event_config = EventInvokeConfig(fn.function_arn, fn.last_modified, config)
    fn.event_invoke_config = [event_config]
    return event_config.response()


LambdaBackend.put_function_event_invoke_config = _put_function_event_invoke_config


def _named_query_json(nq):
    return {"Name": nq.name, "Description": nq.description, "Database": nq.database,
            "QueryString": nq.query_string, "NamedQueryId": nq.id, "WorkGroup": nq.workgroup.name}


def _batch_get_named_query(self):
    found, missing = [], []
    for query_id in self._get_param("NamedQueryIds") or []:
        nq = self.athena_backend.named_queries.get(query_id)
        if nq is None:
            missing.append({"NamedQueryId": query_id, "ErrorCode": "INVALID_INPUT",
                            "ErrorMessage": "named query not found"})
        else:
            found.append(_named_query_json(nq))
    return json.dumps({"NamedQueries": found, "UnprocessedNamedQueryIds": missing})


def _delete_named_query(self):
    query_id = self._get_param("NamedQueryId")
    if self.athena_backend.named_queries.pop(query_id, None) is None:
        return self.error(f"named query {query_id} not found", 400)
    return json.dumps({})


_original_enrich = BaseResponse._enrich_response


def _enrich_xml_only(headers, body):
    if isinstance(body, str) and body.lstrip().startswith("<"):
        return _original_enrich(headers, body)
    headers, _ = _original_enrich(headers, "")  # the request id header, the body untouched
    return headers, body


BaseResponse._enrich_response = staticmethod(_enrich_xml_only)
athena_responses.AthenaResponse.batch_get_named_query = _batch_get_named_query
athena_responses.AthenaResponse.delete_named_query = _delete_named_query

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
