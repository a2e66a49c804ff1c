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
12. Behaviour `secrets-deletion-window` (switchable): a secret deleted with
`ForceDeleteWithoutRecovery` is gone only after a window (`FLOWLOGS_DEVSTACK_SECRET_DELETION_WINDOW`
seconds, default 10), as AWS finishes the deletion in the background. Meanwhile DescribeSecret
returns it with `DeletedDate`, CreateSecret of its name answers `InvalidRequestException` with
AWS's two messages in turn ("You can't create this secret because a secret with this name is
already scheduled for deletion." first, then "You can’t perform this operation on the secret
because it was deleted.", curly apostrophe), and RestoreSecret answers the second. moto removes
the secret at once.

13. Behaviour `secrets-labelled-versions` (switchable): DescribeSecret's `VersionIdsToStages` lists
labelled versions only, and ListSecretVersionIds lists unlabelled (deprecated) ones only with
`IncludeDeprecated`, as AWS does; moto lists every version with its (possibly empty) labels.

14. Behaviour `firehose-http-delivery` (switchable): a record put into a stream with an HTTP
endpoint destination is posted as Firehose posts it ("HTTP endpoint delivery request and response
specifications", Firehose developer guide): POST, `Content-Type: application/json`,
`Content-Encoding: gzip` (the body gzipped) when the stream's RequestConfiguration says GZIP, the
headers `X-Amz-Firehose-Protocol-Version: 1.0`, `X-Amz-Firehose-Request-Id`,
`X-Amz-Firehose-Source-Arn`, `X-Amz-Firehose-Access-Key` (the configured key, or `api_key` of the
stream's secret when SecretsManagerConfiguration is enabled) and
`X-Amz-Firehose-Common-Attributes` (`{"commonAttributes":{...}}`, when configured), body
`{"requestId","timestamp","records":[{"data"}]}`. PutRecord answers at once; the post is made in
the background. A batch is delivered only on a 200 whose JSON body echoes `requestId` and has
`timestamp`; anything else is retried (same request id) until the stream's
RetryOptions.DurationInSeconds has passed (0: no retry; 413 is never retried), then each record
is written to the backup bucket as a failed-data JSON line (`attemptsMade`, `arrivalTimestamp`,
`errorCode`, `errorMessage`, `attemptEndingTimestamp`, `rawData`) under
`<ErrorOutputPrefix or Prefix>http-endpoint-failed/YYYY/MM/DD/HH/`. Not modelled: buffering (each
put is posted at once), the error log group. moto posts synchronously, without those headers,
without gzip, accepts any answer and writes no backup.

Usage: moto_server.py -H HOST -p PORT (moto's own options)
"""
import base64
import json
import os
import re
import sys
import threading
import time

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

from moto.secretsmanager import models as sm_models  # noqa: E402
from moto.secretsmanager import responses as sm_responses  # noqa: E402
from moto.secretsmanager.exceptions import InvalidRequestException  # noqa: E402

SECRET_SCHEDULED = ("You can't create this secret because a secret with this name is already "
                    "scheduled for deletion.")
SECRET_DELETED = "You can\u2019t perform this operation on the secret because it was deleted."
_secret_lock = threading.Lock()
_force_deleted: dict[tuple[int, str], float] = {}  # (backend, name) -> when it is really gone
_create_refusals: dict[tuple[int, str], int] = {}


def secret_deletion_window() -> float:
    return float(os.environ.get("FLOWLOGS_DEVSTACK_SECRET_DELETION_WINDOW") or 10)


def _purge_deleted(backend) -> None:
    now = time.time()
    with _secret_lock:
        for key, until in list(_force_deleted.items()):
            if key[0] == id(backend) and until <= now:
                del _force_deleted[key]
                _create_refusals.pop(key, None)
                backend.secrets.pop(key[1])


def _force_deleted_name(backend, secret_id: str) -> str | None:
    secret = backend.secrets.get(secret_id)
    if secret is None:
        return None
    with _secret_lock:
        return secret.name if (id(backend), secret.name) in _force_deleted else None


_sm_delete = sm_models.SecretsManagerBackend.delete_secret


def _delete_secret(self, secret_id, recovery_window_in_days, force_delete_without_recovery):
    if "secrets-deletion-window" not in BEHAVIOURS or not force_delete_without_recovery:
        return _sm_delete(self, secret_id, recovery_window_in_days, force_delete_without_recovery)
    _purge_deleted(self)
    secret = self.secrets.get(secret_id)
    if secret is None:
        return _sm_delete(self, secret_id, recovery_window_in_days, force_delete_without_recovery)
    now = time.time()
    if secret.deleted_date is None:
        secret.delete(now)
    with _secret_lock:
        _force_deleted.setdefault((id(self), secret.name), now + secret_deletion_window())
    return secret.arn, secret.name, now


_sm_create = sm_models.SecretsManagerBackend.create_secret


def _create_secret(self, name, *args, **kwargs):
    if "secrets-deletion-window" in BEHAVIOURS:
        _purge_deleted(self)
        if _force_deleted_name(self, name):
            with _secret_lock:
                n = _create_refusals.get((id(self), name), 0)
                _create_refusals[(id(self), name)] = n + 1
            raise InvalidRequestException(SECRET_SCHEDULED if n % 2 == 0 else SECRET_DELETED)
    return _sm_create(self, name, *args, **kwargs)


_sm_restore = sm_models.SecretsManagerBackend.restore_secret


def _restore_secret(self, secret_id):
    if "secrets-deletion-window" in BEHAVIOURS:
        _purge_deleted(self)
        if _force_deleted_name(self, secret_id):
            raise InvalidRequestException(SECRET_DELETED)
    return _sm_restore(self, secret_id)


def _purging(method):
    def wrapper(self, *args, **kwargs):
        if "secrets-deletion-window" in BEHAVIOURS:
            _purge_deleted(self)
        return method(self, *args, **kwargs)
    return wrapper


sm_models.SecretsManagerBackend.delete_secret = _delete_secret
sm_models.SecretsManagerBackend.create_secret = _create_secret
sm_models.SecretsManagerBackend.restore_secret = _restore_secret
for _name in ("describe_secret", "get_secret_value", "put_secret_value", "list_secrets",
              "list_secret_version_ids", "tag_resource"):
    setattr(sm_models.SecretsManagerBackend, _name,
            _purging(getattr(sm_models.SecretsManagerBackend, _name)))

_form_version_ids_to_stages = sm_models.FakeSecret._form_version_ids_to_stages


def _labelled_version_ids_to_stages(self):
    stages = _form_version_ids_to_stages(self)
    if "secrets-labelled-versions" not in BEHAVIOURS:
        return stages
    return {version: labels for version, labels in stages.items() if labels}


sm_models.FakeSecret._form_version_ids_to_stages = _labelled_version_ids_to_stages

_list_secret_version_ids = sm_responses.SecretsManagerResponse.list_secret_version_ids


def _list_version_ids(self):
    text = _list_secret_version_ids(self)
    if "secrets-labelled-versions" not in BEHAVIOURS \
            or self._get_param("IncludeDeprecated", if_none=False):
        return text
    listed = json.loads(text)
    listed["Versions"] = [v for v in listed["Versions"] if v.get("VersionStages")]
    return json.dumps(listed)


sm_responses.SecretsManagerResponse.list_secret_version_ids = _list_version_ids

import gzip  # noqa: E402
import urllib.error  # noqa: E402
import urllib.request  # noqa: E402
import uuid  # noqa: E402

from moto.firehose import models as firehose_models  # noqa: E402
from moto.s3.models import s3_backends  # noqa: E402

FIREHOSE_TIMEOUT = 180  # "HTTP endpoints have 3 minutes to respond to a request"
from firehose_http import failed_data_key, firehose_delivered, firehose_request  # noqa: E402


def _firehose_access_key(account_id: str, region: str, http: dict) -> str | None:
    secrets = http.get("SecretsManagerConfiguration") or {}
    if secrets.get("Enabled") and secrets.get("SecretARN"):
        try:
            value = sm_models.secretsmanager_backends[account_id][region].get_secret_value(
                secrets["SecretARN"], None, "AWSCURRENT")
            return json.loads(value.get("SecretString") or "{}").get("api_key")
        except Exception:  # noqa: BLE001 - Firehose then fails the delivery; so do we
            return None
    return (http.get("EndpointConfiguration") or {}).get("AccessKey")


def _deliver_http(backend, stream, http: dict, records: list[bytes]) -> None:
    url = (http.get("EndpointConfiguration") or {}).get("Url", "")
    retry_s = float((http.get("RetryOptions") or {}).get("DurationInSeconds", 300))
    request_id = str(uuid.uuid4())
    arrived = time.time()
    attempts, delay, error_code, error = 0, 1.0, "", ""
    while True:
        attempts += 1
        key = _firehose_access_key(backend.account_id, backend.region_name, http)
        headers, body = firehose_request(stream.delivery_stream_arn, http, records, key,
                                         request_id, int(time.time() * 1000))
        status = 0
        try:
            req = urllib.request.Request(url, data=body, headers=headers, method="POST")
            with urllib.request.urlopen(req, timeout=FIREHOSE_TIMEOUT) as resp:
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
    lines = [json.dumps({"attemptsMade": attempts, "arrivalTimestamp": int(arrived * 1000),
                         "errorCode": error_code, "errorMessage": error,
                         "attemptEndingTimestamp": int(now * 1000),
                         "rawData": base64.b64encode(r).decode()}) for r in records]
    data = ("\n".join(lines) + "\n").encode()
    if (s3.get("CompressionFormat") or "UNCOMPRESSED").upper() == "GZIP":
        data = gzip.compress(data)
    prefix = s3.get("ErrorOutputPrefix") or s3.get("Prefix") or ""
    s3_backends[backend.account_id][backend.partition].put_object(
        bucket, failed_data_key(prefix, stream.delivery_stream_name, now), data)


_put_record_batch = firehose_models.FirehoseBackend.put_record_batch


def _put_record_batch_as_firehose(self, delivery_stream_name, records):
    stream = self.delivery_streams.get(delivery_stream_name)
    http = None
    if stream is not None and "firehose-http-delivery" in BEHAVIOURS:
        http = next((d["HttpEndpoint"] for d in stream.destinations if "HttpEndpoint" in d), None)
    if http is None:
        return _put_record_batch(self, delivery_stream_name, records)
    data = [r["Data"] if isinstance(r["Data"], bytes) else str(r["Data"]).encode()
            for r in records]
    threading.Thread(target=_deliver_http, args=(self, stream, http, data), daemon=True).start()
    return {"FailedPutCount": 0, "Encrypted": False,
            "RequestResponses": [{"RecordId": uuid.uuid4().hex * 2} for _ in records]}


firehose_models.FirehoseBackend.put_record_batch = _put_record_batch_as_firehose

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
