"""A selftest per fix of the moto wrapper (collected by devstack/selftest.py): each sends the
requests the fix is about to moto's own WSGI app, in-process, with every fix applied, and asserts
AWS's answer; a switched fix is also checked with its behaviour off (moto's answer). Needs moto
(the stack's venv): without it these tests are skipped, saying so. `test_every_fix_has_a_test`
keeps the registry and the tests in step."""

from __future__ import annotations

import base64
import io
import json
import os
import tempfile
import sys
import threading
import time
import unittest
import urllib.parse
import zipfile
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import behaviours
import fixes
from fixes import core, ec2, iam, registry, s3, secretsmanager, sts

try:
    import moto
    from werkzeug.test import Client
except ImportError:  # pragma: no cover - outside the venv
    moto = None

NEEDS_MOTO = unittest.skipIf(moto is None, "moto is not installed (run with the stack's venv "
                                           "python, ~/.cache/flowlogs/venv/bin/python)")
ACCOUNT, REGION = "123456789012", "us-east-1"
_app = None


def app():
    """moto's server app, with every fix applied once (and every behaviour on)."""
    global _app
    if _app is None:
        from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app

        fixes.apply_all(moto.__version__, behaviours.ALL, mode="warn",
                        log=lambda line: print(line, file=sys.stderr))
        _app = DomainDispatcherApplication(create_backend_app)
    return _app


@contextmanager
def behaviour_off(name: str):
    registry.set_behaviours(set(behaviours.ALL) - {name})
    try:
        yield
    finally:
        registry.set_behaviours(behaviours.ALL)


def auth(service: str, access_key: str = "test", region: str = REGION) -> dict:
    return {"Authorization": f"AWS4-HMAC-SHA256 Credential={access_key}/20240101/{region}/"
                             f"{service}/aws4_request, SignedHeaders=host, Signature=0"}


def call(service: str, method: str, path: str, body: bytes | str = b"", headers=None,
         access_key: str = "test", region: str = REGION):
    resp = Client(app()).open(path, method=method, data=body,
                              headers={**auth(service, access_key, region), **(headers or {})})
    return resp.status_code, resp.headers, resp.get_data()


def json_call(service: str, target: str, payload: dict, version: str = "1.1"):
    status, _, data = call(service, "POST", "/", json.dumps(payload), {
        "X-Amz-Target": target, "Content-Type": f"application/x-amz-json-{version}"})
    return status, json.loads(data or b"{}")


def query(service: str, params: dict, access_key: str = "test", region: str = REGION):
    status, _, data = call(service, "POST", "/", urllib.parse.urlencode(params),
                           {"Content-Type": "application/x-www-form-urlencoded"},
                           access_key, region)
    return status, data.decode()


def unique(prefix: str) -> str:
    return f"{prefix}-{time.monotonic_ns()}"


def notification_xml(rule_name: str) -> str:
    return ('<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            '<CloudFunctionConfiguration><Id>a</Id>'
            f'<CloudFunction>arn:aws:lambda:{REGION}:{ACCOUNT}:function:fwd</CloudFunction>'
            '<Event>s3:ObjectCreated:*</Event><Filter><S3Key><FilterRule>'
            f'<Name>{rule_name}</Name><Value>AWSLogs/</Value></FilterRule></S3Key></Filter>'
            '</CloudFunctionConfiguration></NotificationConfiguration>')


class FixTest(unittest.TestCase):
    """A fix's test: skipped, saying why, on a moto the fix was not checked on (the test is how
    a fix is checked on a new moto: widen its version in the registry, then run it)."""
    FIX = ""

    def setUp(self):
        fix = next(f for f in registry.REGISTRY if f.name == self.FIX)
        if not registry.version_in(moto.__version__, fix.moto):
            self.skipTest(f"fix {fix.name} was checked on moto {fix.moto}, this is moto "
                          f"{moto.__version__}")


class Registry(unittest.TestCase):
    def test_version_spec(self):
        self.assertTrue(registry.version_in("5.2.5", "5.2.5"))
        self.assertTrue(registry.version_in("5.2.5", ">=5.1,<5.3"))
        self.assertFalse(registry.version_in("5.3.0", ">=5.1,<5.3"))
        self.assertFalse(registry.version_in("5.2.6", "==5.2.5"))
        self.assertTrue(registry.version_in("5.2.6.dev0", "<=5.2.6"))
        with self.assertRaises(ValueError):
            registry.version_in("5.2.5", "~5")

    def test_every_fix_names_aws_service_and_a_known_behaviour(self):
        names = [f.name for f in registry.REGISTRY]
        self.assertEqual(len(names), len(set(names)))
        for f in registry.REGISTRY:
            self.assertTrue(f.aws and f.service and f.moto, f.name)
            registry.version_in("5.2.5", f.moto)  # readable
            if f.behaviour is not None:
                self.assertIn(f.behaviour, behaviours.CATALOGUE, f.name)
        switched = {f.behaviour for f in registry.REGISTRY if f.behaviour}
        self.assertEqual(switched, behaviours.MOTO_WRAPPER_ONLY)

    def test_an_other_moto_is_named_or_refused(self):
        fake = [registry.Fix("x", "s3", "5.2.5", "what AWS does", lambda: None)]
        self.assertEqual([f.name for f in registry.unverified("5.3.0", fake)], ["x"])
        self.assertEqual(registry.unverified("5.2.5", fake), [])
        saved = list(registry.REGISTRY)
        try:
            registry.REGISTRY[:] = fake
            lines = []
            registry.apply_all("5.3.0", set(), mode="warn", log=lines.append)
            self.assertIn("x (s3, checked on moto 5.2.5)", lines[0])
            with self.assertRaisesRegex(registry.FixError, "5.3.0 is not the version"):
                registry.apply_all("5.3.0", set(), mode="refuse")
            registry.REGISTRY[:] = [registry.Fix("y", "ec2", "5.2.5", "w", lambda: 1 / 0)]
            with self.assertRaisesRegex(registry.FixError, "fix y .* could not be applied"):
                registry.apply_all("5.2.5", set(), mode="warn")
        finally:
            registry.REGISTRY[:] = saved
            registry.set_behaviours(behaviours.ALL)

    def test_every_fix_has_a_test(self):
        tested = {c.FIX for c in globals().values()
                  if isinstance(c, type) and issubclass(c, FixTest)}
        self.assertEqual({f.name for f in registry.REGISTRY} - tested, set())

    def test_every_fix_is_in_the_readme(self):
        with open(os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))),
                               "README.md")) as f:
            readme = f.read()
        for f in registry.REGISTRY:
            self.assertIn(f"| `{f.name}` |", readme, f.name)

    def test_pure_parts(self):
        self.assertEqual(ec2.s3_destination_bucket("arn:aws:s3:::b/f/"), ("arn:aws:s3:::b", "f/"))
        self.assertTrue(ec2.undeliverable_key("1234abcd-12ab"))
        self.assertFalse(ec2.undeliverable_key("arn:aws:kms:us-east-1:1:key/1234abcd-12ab"))
        self.assertEqual(ec2.default_kms_key_id({"Rule": {"ApplyServerSideEncryptionByDefault": {
            "SSEAlgorithm": "aws:kms", "KMSMasterKeyID": "k"}}}), "k")
        self.assertFalse(iam.statement_applies({"Bool": {"aws:SecureTransport": "false"}}))
        self.assertTrue(iam.statement_applies({"Bool": {"aws:SecureTransport": "true"}}))
        self.assertEqual(s3.capitalise_filter_names("<Name>suffix</Name>"), "<Name>Suffix</Name>")
        self.assertEqual(s3.with_eventbridge("<NotificationConfiguration/>"),
                         "<NotificationConfiguration><EventBridgeConfiguration>"
                         "</EventBridgeConfiguration></NotificationConfiguration>")
        self.assertTrue(sts.trust_allows(
            '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111111111111:root"},'
            '"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}',
            "arn:aws:sts::111111111111:user/moto", "111111111111", "x"))
        self.assertFalse(sts.trust_allows(
            '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"111111111111"},'
            '"Action":"sts:AssumeRole","Condition":{"StringEquals":{"sts:ExternalId":"x"}}}]}',
            "arn:aws:sts::111111111111:user/moto", "111111111111", None))
        self.assertFalse(sts.trust_allows(
            '{"Statement":[{"Effect":"Allow","Principal":{"AWS":"222222222222"},'
            '"Action":"sts:AssumeRole"}]}',
            "arn:aws:sts::111111111111:user/moto", "111111111111", None))
        self.assertTrue(ec2.wildcard_match("arn:aws:s3:::b/*AWSLogs/1/*", "arn:aws:s3:::b/f/AWSLogs/1/x"))
        self.assertFalse(ec2.wildcard_match("arn:aws:logs:?:1:*", "arn:aws:logs:eu-west-1:1:x"))
        self.assertEqual([secretsmanager.create_refusal(n) for n in range(3)],
                         [secretsmanager.SECRET_SCHEDULED, secretsmanager.SECRET_DELETED,
                          secretsmanager.SECRET_SCHEDULED])


@NEEDS_MOTO
class EmptyNotification(FixTest):
    FIX = "s3-empty-notification"

    def test_an_empty_configuration_is_an_empty_element(self):
        bucket = unique("empty")
        self.assertEqual(call("s3", "PUT", f"/{bucket}")[0], 200)
        status, _, body = call("s3", "GET", f"/{bucket}?notification")
        self.assertEqual(status, 200)
        self.assertIn(b"<NotificationConfiguration xmlns=", body)
        self.assertNotIn(b"GetBucketNotificationResponse", body)


@NEEDS_MOTO
class FilterRuleCase(FixTest):
    FIX = "filter-rule-case"

    def test_rule_names_come_back_capitalised(self):
        bucket = unique("case")
        call("s3", "PUT", f"/{bucket}")
        self.assertEqual(call("s3", "PUT", f"/{bucket}?notification",
                              notification_xml("prefix"))[0], 200)
        self.assertIn(b"<Name>Prefix</Name>", call("s3", "GET", f"/{bucket}?notification")[2])
        with behaviour_off("filter-rule-case"):
            self.assertIn(b"<Name>prefix</Name>",
                          call("s3", "GET", f"/{bucket}?notification")[2])


@NEEDS_MOTO
class FilterNamesAnyCase(FixTest):
    FIX = "s3-filter-names-any-case"

    def test_capitalised_rule_names_are_accepted(self):
        bucket = unique("anycase")
        call("s3", "PUT", f"/{bucket}")
        status, _, body = call("s3", "PUT", f"/{bucket}?notification", notification_xml("Prefix"))
        self.assertEqual(status, 200, body)
        self.assertIn(b"AWSLogs/", call("s3", "GET", f"/{bucket}?notification")[2])


@NEEDS_MOTO
class NoMotoLambdaDispatch(FixTest):
    FIX = "s3-no-moto-lambda-dispatch"

    def test_moto_does_not_invoke_the_function_itself(self):
        from moto.s3 import notifications

        # moto's own dispatcher would look the function up (and fail on these arguments)
        self.assertIsNone(notifications._invoke_awslambda(None, None, None, None, None))


EVENTBRIDGE_ON = ('<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
                  '<EventBridgeConfiguration></EventBridgeConfiguration>'
                  '</NotificationConfiguration>')


@NEEDS_MOTO
class EventBridgeConfiguration(FixTest):
    FIX = "s3-eventbridge-configuration"

    def test_the_eventbridge_setting_comes_back_alone_or_beside_entries(self):
        bucket = unique("eb")
        call("s3", "PUT", f"/{bucket}")
        self.assertEqual(call("s3", "PUT", f"/{bucket}?notification", EVENTBRIDGE_ON)[0], 200)
        body = call("s3", "GET", f"/{bucket}?notification")[2]
        self.assertIn(b"<EventBridgeConfiguration>", body)
        self.assertIn(b"<NotificationConfiguration xmlns=", body)
        both = notification_xml("prefix").replace(
            "</NotificationConfiguration>",
            "<EventBridgeConfiguration></EventBridgeConfiguration></NotificationConfiguration>")
        self.assertEqual(call("s3", "PUT", f"/{bucket}?notification", both)[0], 200)
        body = call("s3", "GET", f"/{bucket}?notification")[2]
        self.assertIn(b"<EventBridgeConfiguration>", body)
        self.assertIn(b"AWSLogs/", body)
        # Turned off: gone from the answer.
        self.assertEqual(call("s3", "PUT", f"/{bucket}?notification",
                              notification_xml("prefix"))[0], 200)
        self.assertNotIn(b"EventBridgeConfiguration", call("s3", "GET", f"/{bucket}?notification")[2])


@NEEDS_MOTO
class NoMotoEventBridgeDispatch(FixTest):
    FIX = "s3-no-moto-eventbridge-dispatch"

    def test_moto_does_not_send_s3_events_to_eventbridge_itself(self):
        from moto.s3 import notifications

        self.assertIsNone(notifications._send_event_bridge_message(None, None, None, None))


@NEEDS_MOTO
class SecureTransport(FixTest):
    FIX = "iam-secure-transport"

    def test_a_deny_on_insecure_transport_does_not_apply(self):
        from moto.iam import access_control

        deny = {"Effect": "Deny", "Action": "s3:*", "Resource": "*",
                "Condition": {"Bool": {"aws:SecureTransport": "false"}}}
        statement = access_control.IAMPolicyStatement(deny)
        self.assertEqual(statement.is_action_permitted("s3:GetObject"),
                         access_control.PermissionResult.NEUTRAL)
        plain = access_control.IAMPolicyStatement(dict(deny, Condition={}))
        self.assertEqual(plain.is_action_permitted("s3:GetObject"),
                         access_control.PermissionResult.DENIED)


@contextmanager
def recording():
    from moto.moto_api import recorder

    with tempfile.TemporaryDirectory() as tmp:
        saved = recorder._location
        recorder._location = os.path.join(tmp, "recording")
        recorder.reset_recording()
        recorder.start_recording()
        try:
            yield lambda: [json.loads(line) for line in recorder.download_recording()
                           .splitlines()]
        finally:
            recorder.stop_recording()
            recorder._location = saved


@NEEDS_MOTO
class RecorderHooks(FixTest):
    FIX = "recorder-serialised-not-internal"

    def test_internal_calls_are_not_recorded_and_large_entries_stay_whole(self):
        bucket = unique("rec")
        with recording() as entries:
            call("s3", "PUT", f"/{bucket}")
            call("s3", "GET", f"/{bucket}?notification", headers={core.INTERNAL_HEADER: "1"})
            big = b"x" * 2_000_000
            threads = [threading.Thread(target=call, args=("s3", "PUT", f"/{bucket}/k{i}", big))
                       for i in range(6)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            urls = [e["url"] for e in entries()]  # every line reads as JSON
        self.assertEqual(len(urls), 7, urls)
        self.assertFalse(any("notification" in u for u in urls), urls)


@NEEDS_MOTO
class AnswerInjected(FixTest):
    FIX = "answer-injected"

    def test_an_injected_error_is_recorded_and_answered_without_acting(self):
        import aws_front

        bucket = unique("inj")
        error = aws_front.injected_header(
            (409, [["Content-Type", "application/xml"]], b"<Error><Code>X</Code></Error>"))
        with recording() as entries:
            status, _, body = call("s3", "PUT", f"/{bucket}",
                                   headers={core.INJECTED_HEADER: error})
            self.assertEqual(len(entries()), 1)
        self.assertEqual((status, body), (409, b"<Error><Code>X</Code></Error>"))
        self.assertEqual(call("s3", "HEAD", f"/{bucket}")[0], 404)


@NEEDS_MOTO
class BodiesAsWritten(FixTest):
    FIX = "bodies-as-written"

    def test_log_events_quoting_request_ids_come_back_as_written(self):
        group = unique("/g")
        target = "Logs_20140328."
        json_call("logs", target + "CreateLogGroup", {"logGroupName": group})
        json_call("logs", target + "CreateLogStream", {"logGroupName": group,
                                                        "logStreamName": "s"})
        messages = [f"<Error><RequestId>R{i}</RequestId></Error>" for i in range(2)]
        now = int(time.time() * 1000)
        json_call("logs", target + "PutLogEvents", {
            "logGroupName": group, "logStreamName": "s",
            "logEvents": [{"timestamp": now, "message": m} for m in messages]})
        _, events = json_call("logs", target + "GetLogEvents", {"logGroupName": group,
                                                                 "logStreamName": "s"})
        self.assertEqual([e["message"] for e in events["events"]], messages)


def vpc_and_bucket(kms_key_id: str | None = None) -> tuple[str, str]:
    bucket = unique("fl")
    call("s3", "PUT", f"/{bucket}")
    if kms_key_id:
        status, _, body = call("s3", "PUT", f"/{bucket}?encryption", (
            '<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault>'
            f'<SSEAlgorithm>aws:kms</SSEAlgorithm><KMSMasterKeyID>{kms_key_id}</KMSMasterKeyID>'
            '</ApplyServerSideEncryptionByDefault></Rule></ServerSideEncryptionConfiguration>'))
        assert status == 200, body
    _, text = query("ec2", {"Action": "CreateVpc", "Version": "2016-11-15",
                            "CidrBlock": "10.0.0.0/16"})
    vpc = text.split("<vpcId>", 1)[1].split("<", 1)[0]
    return vpc, bucket


def create_flow_log(vpc: str, destination: str) -> str:
    return query("ec2", {"Action": "CreateFlowLogs", "Version": "2016-11-15",
                         "ResourceId.1": vpc, "ResourceType": "VPC", "TrafficType": "ALL",
                         "LogDestinationType": "s3", "LogDestination": destination})[1]


@NEEDS_MOTO
class FlowLogFolder(FixTest):
    FIX = "flow-log-folder"

    def test_a_destination_with_a_folder_is_taken_and_echoed(self):
        vpc, bucket = vpc_and_bucket()
        destination = f"arn:aws:s3:::{bucket}/folder/"
        text = create_flow_log(vpc, destination)
        self.assertIn("<flowLogIdSet>", text)
        self.assertNotIn("does not exist", text)
        described = query("ec2", {"Action": "DescribeFlowLogs", "Version": "2016-11-15",
                                  "Filter.1.Name": "resource-id", "Filter.1.Value.1": vpc})[1]
        self.assertIn(f"<logDestination>{destination}</logDestination>", described)
        with behaviour_off("flow-log-folder"):
            vpc, bucket = vpc_and_bucket()
            self.assertIn("does not exist", create_flow_log(vpc, f"arn:aws:s3:::{bucket}/f/"))


@NEEDS_MOTO
class FlowLogKmsKeyId(FixTest):
    FIX = "flow-log-kms-key-id"

    def test_a_key_named_by_id_is_undeliverable(self):
        vpc, bucket = vpc_and_bucket(kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab")
        self.assertIn(f"LogDestination: {bucket} is undeliverable",
                      create_flow_log(vpc, f"arn:aws:s3:::{bucket}"))
        arn = f"arn:aws:kms:{REGION}:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab"
        vpc, bucket = vpc_and_bucket(kms_key_id=arn)
        self.assertNotIn("undeliverable", create_flow_log(vpc, f"arn:aws:s3:::{bucket}"))
        with behaviour_off("flow-log-kms-key-id"):
            vpc, bucket = vpc_and_bucket(kms_key_id="1234abcd-12ab-34cd-56ef-1234567890ab")
            self.assertNotIn("undeliverable", create_flow_log(vpc, f"arn:aws:s3:::{bucket}"))


def create_tgw_flow_log(resource_id: str, bucket: str, **extra) -> str:
    params = {"Action": "CreateFlowLogs", "Version": "2016-11-15", "ResourceId.1": resource_id,
              "ResourceType": "TransitGateway", "LogDestinationType": "s3",
              "LogDestination": f"arn:aws:s3:::{bucket}/tgw/"}
    params.update(extra)
    return query("ec2", params)[1]


@NEEDS_MOTO
class FlowLogTransitGateway(FixTest):
    FIX = "flow-log-transit-gateway"

    def test_aws_refusals_and_the_tgw_default_format(self):
        _, bucket = vpc_and_bucket()
        text = query("ec2", {"Action": "CreateTransitGateway", "Version": "2016-11-15"})[1]
        tgw = text.split("<transitGatewayId>", 1)[1].split("<", 1)[0]
        refused = create_tgw_flow_log(tgw, bucket, TrafficType="ALL")
        self.assertIn("InvalidParameter", refused)
        self.assertIn("traffic-type is not supported", refused)
        refused = create_tgw_flow_log(tgw, bucket, MaxAggregationInterval="600")
        self.assertIn("max-aggregation-interval other than 60 sec", refused)
        refused = create_tgw_flow_log("tgw-0123456789abcdef0", bucket)
        self.assertIn("Invalid Resource id tgw-0123456789abcdef0 for resource-type "
                      "TransitGateway", refused)
        made = create_tgw_flow_log(tgw, bucket)
        self.assertIn("<flowLogIdSet>", made)
        described = query("ec2", {"Action": "DescribeFlowLogs", "Version": "2016-11-15",
                                  "Filter.1.Name": "resource-id", "Filter.1.Value.1": tgw})[1]
        self.assertIn("${tgw-attachment-id}", described)
        self.assertIn("<maxAggregationInterval>60</maxAggregationInterval>", described)
        self.assertNotIn("<trafficType>", described)
        self.assertEqual(ec2.TGW_DEFAULT_FORMAT.count("${"), 36)
        with behaviour_off("flow-log-transit-gateway"):
            self.assertNotIn("InvalidParameter",
                             create_tgw_flow_log(tgw, bucket, TrafficType="ALL"))


@NEEDS_MOTO
class EventInvokeConfigReplaces(FixTest):
    FIX = "lambda-event-invoke-config-replaces"

    def test_a_second_put_replaces_the_first(self):
        role = unique("r")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"},
            "Action": "sts:AssumeRole"}]})
        query("iam", {"Action": "CreateRole", "Version": "2010-05-08", "RoleName": role,
                      "AssumeRolePolicyDocument": trust})
        zipped = io.BytesIO()
        with zipfile.ZipFile(zipped, "w") as z:
            z.writestr("bootstrap", "#!/bin/sh\n")
        name = unique("fn")
        status, _, body = call("lambda", "POST", "/2015-03-31/functions", json.dumps({
            "FunctionName": name, "Runtime": "provided.al2023", "Handler": "bootstrap",
            "Role": f"arn:aws:iam::{ACCOUNT}:role/{role}",
            "Code": {"ZipFile": base64.b64encode(zipped.getvalue()).decode()}}))
        self.assertEqual(status, 201, body)
        path = f"/2019-09-25/functions/{name}/event-invoke-config"
        for retries in (2, 0):
            status, _, body = call("lambda", "PUT", path,
                                   json.dumps({"MaximumRetryAttempts": retries}))
            self.assertEqual(status, 200, body)
        got = json.loads(call("lambda", "GET", path)[2])
        self.assertEqual(got["MaximumRetryAttempts"], 0)


@NEEDS_MOTO
class AthenaNamedQueries(FixTest):
    FIX = "athena-named-queries"

    def test_batch_get_and_delete(self):
        _, created = json_call("athena", "AmazonAthena.CreateNamedQuery", {
            "Name": "q", "Database": "d", "QueryString": "SELECT 1"})
        qid = created["NamedQueryId"]
        status, got = json_call("athena", "AmazonAthena.BatchGetNamedQuery",
                                {"NamedQueryIds": [qid, "missing"]})
        self.assertEqual(status, 200, got)
        self.assertEqual([q["NamedQueryId"] for q in got["NamedQueries"]], [qid])
        self.assertEqual([q["NamedQueryId"] for q in got["UnprocessedNamedQueryIds"]],
                         ["missing"])
        self.assertEqual(json_call("athena", "AmazonAthena.DeleteNamedQuery",
                                   {"NamedQueryId": qid})[0], 200)
        self.assertEqual(json_call("athena", "AmazonAthena.DeleteNamedQuery",
                                   {"NamedQueryId": qid})[0], 400)


def secrets(target: str, payload: dict):
    return json_call("secretsmanager", "secretsmanager." + target, payload)


@NEEDS_MOTO
class SecretsDeletionWindow(FixTest):
    FIX = "secrets-deletion-window"

    def test_a_force_deleted_secret_lingers_for_the_window(self):
        os.environ[secretsmanager.WINDOW_ENV] = "1"
        try:
            name = unique("s")
            secrets("CreateSecret", {"Name": name, "SecretString": "x"})
            self.assertEqual(secrets("DeleteSecret", {
                "SecretId": name, "ForceDeleteWithoutRecovery": True})[0], 200)
            self.assertIn("DeletedDate", secrets("DescribeSecret", {"SecretId": name})[1])
            answers = [secrets("CreateSecret", {"Name": name, "SecretString": "y"})
                       for _ in range(2)]
            self.assertEqual([(s, a.get("message")) for s, a in answers],
                             [(400, secretsmanager.SECRET_SCHEDULED),
                              (400, secretsmanager.SECRET_DELETED)])
            self.assertEqual(secrets("RestoreSecret", {"SecretId": name})[1].get("message"),
                             secretsmanager.SECRET_DELETED)
            deadline = time.monotonic() + 10
            while secrets("CreateSecret", {"Name": name, "SecretString": "z"})[0] != 200:
                self.assertLess(time.monotonic(), deadline, "the secret never went away")
                time.sleep(0.1)
        finally:
            del os.environ[secretsmanager.WINDOW_ENV]
        with behaviour_off("secrets-deletion-window"):
            name = unique("s")
            secrets("CreateSecret", {"Name": name, "SecretString": "x"})
            secrets("DeleteSecret", {"SecretId": name, "ForceDeleteWithoutRecovery": True})
            self.assertEqual(secrets("CreateSecret", {"Name": name, "SecretString": "y"})[0], 200)


@NEEDS_MOTO
class SecretsLabelledVersions(FixTest):
    FIX = "secrets-labelled-versions"

    def test_unlabelled_versions_are_listed_only_when_deprecated_ones_are_asked_for(self):
        name = unique("v")
        secrets("CreateSecret", {"Name": name, "SecretString": "1"})
        for value in ("2", "3"):
            secrets("PutSecretValue", {"SecretId": name, "SecretString": value})
        described = secrets("DescribeSecret", {"SecretId": name})[1]
        self.assertEqual(len(described["VersionIdsToStages"]), 2)
        self.assertEqual(len(secrets("ListSecretVersionIds", {"SecretId": name})[1]["Versions"]),
                         2)
        self.assertEqual(len(secrets("ListSecretVersionIds", {
            "SecretId": name, "IncludeDeprecated": True})[1]["Versions"]), 3)
        with behaviour_off("secrets-labelled-versions"):
            self.assertEqual(len(secrets("DescribeSecret", {"SecretId": name})[1]
                                 ["VersionIdsToStages"]), 3)


class _Endpoint(BaseHTTPRequestHandler):
    seen: list = []

    def do_POST(self):  # noqa: N802 - stdlib name
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.seen.append((dict(self.headers), body))
        request_id = self.headers.get("X-Amz-Firehose-Request-Id", "")
        answer = json.dumps({"requestId": request_id, "timestamp": 1}).encode()
        self.send_response(200)
        self.send_header("Content-Length", str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *_args):
        pass


@NEEDS_MOTO
class FirehoseHttpDelivery(FixTest):
    FIX = "firehose-http-delivery"

    def test_a_record_is_posted_as_firehose_posts_it(self):
        server = ThreadingHTTPServer(("127.0.0.1", 0), _Endpoint)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        try:
            name = unique("st")
            status, created = json_call("firehose", "Firehose_20150804.CreateDeliveryStream", {
                "DeliveryStreamName": name, "DeliveryStreamType": "DirectPut",
                "HttpEndpointDestinationConfiguration": {
                    "EndpointConfiguration": {"Url": f"http://127.0.0.1:{server.server_port}",
                                              "AccessKey": "k"},
                    "RequestConfiguration": {"ContentEncoding": "GZIP"},
                    "RetryOptions": {"DurationInSeconds": 0},
                    "S3Configuration": {"RoleARN": f"arn:aws:iam::{ACCOUNT}:role/r",
                                        "BucketARN": "arn:aws:s3:::backup"}}})
            self.assertEqual(status, 200, created)
            json_call("firehose", "Firehose_20150804.PutRecord", {
                "DeliveryStreamName": name,
                "Record": {"Data": base64.b64encode(b"hello").decode()}})
            deadline = time.monotonic() + 10
            while not _Endpoint.seen:
                self.assertLess(time.monotonic(), deadline, "nothing was posted")
                time.sleep(0.05)
            headers, _ = _Endpoint.seen[0]
            self.assertEqual(headers.get("Content-Encoding"), "gzip")
            self.assertEqual(headers.get("X-Amz-Firehose-Protocol-Version"), "1.0")
            self.assertEqual(headers.get("X-Amz-Firehose-Access-Key"), "k")
        finally:
            server.shutdown()
            server.server_close()


def organisation_member() -> tuple[str, str, str]:
    """An organisation (made once; moto keeps one per management account) and a new member
    account: (organisation id, member account id, access key of the member's
    OrganizationAccountAccessRole assumed from the management account)."""
    status, body = json_call("organizations", "AWSOrganizationsV20161128.DescribeOrganization", {})
    if status != 200:
        status, body = json_call("organizations",
                                 "AWSOrganizationsV20161128.CreateOrganization",
                                 {"FeatureSet": "ALL"})
        assert status == 200, body
    org_id = body["Organization"]["Id"]
    status, created = json_call("organizations", "AWSOrganizationsV20161128.CreateAccount",
                                {"AccountName": unique("m"), "Email": "m@example.com"})
    assert status == 200, created
    member = created["CreateAccountStatus"]["AccountId"]
    status, text = query("sts", {"Action": "AssumeRole", "Version": "2011-06-15",
                                 "RoleArn": f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                 "RoleSessionName": "selftest"})
    assert status == 200, text
    return org_id, member, text.split("<AccessKeyId>", 1)[1].split("<", 1)[0]


@NEEDS_MOTO
class StsTrustPolicy(FixTest):
    FIX = "sts-trust-policy"

    def assume(self, role_arn: str, external_id: str | None = None, access_key: str = "test"):
        params = {"Action": "AssumeRole", "Version": "2011-06-15", "RoleArn": role_arn,
                  "RoleSessionName": "selftest"}
        if external_id:
            params["ExternalId"] = external_id
        return query("sts", params, access_key)

    def test_only_a_trusted_caller_assumes_an_existing_role(self):
        _, member, key = organisation_member()
        # the organisation's role trusts the management account: assumed above; in the member
        # account, the caller is that account, which it does not trust
        status, text = self.assume(f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole",
                                   access_key=key)
        self.assertEqual(status, 403, text)
        missing = f"arn:aws:iam::{member}:role/Missing"
        status, text = self.assume(missing)
        self.assertEqual(status, 403, text)
        self.assertIn("<Code>AccessDenied</Code>", text)
        self.assertIn("User: arn:aws:sts::123456789012:user/moto is not authorized to perform: "
                      f"sts:AssumeRole on resource: {missing}", text)
        role = unique("ext")
        trust = json.dumps({"Version": "2012-10-17", "Statement": [{
            "Effect": "Allow", "Principal": {"AWS": f"arn:aws:iam::{ACCOUNT}:root"},
            "Action": "sts:AssumeRole",
            "Condition": {"StringEquals": {"sts:ExternalId": "s3cret"}}}]})
        status, text = query("iam", {"Action": "CreateRole", "Version": "2010-05-08",
                                     "RoleName": role, "AssumeRolePolicyDocument": trust}, key)
        self.assertEqual(status, 200, text)
        arn = f"arn:aws:iam::{member}:role/{role}"
        self.assertEqual(self.assume(arn)[0], 403)
        self.assertEqual(self.assume(arn, "wrong")[0], 403)
        self.assertEqual(self.assume(arn, "s3cret")[0], 200)
        with behaviour_off("sts-trust-policy"):
            self.assertEqual(self.assume(missing)[0], 200)


@NEEDS_MOTO
class FlowLogCrossAccountDelivery(FixTest):
    FIX = "flow-log-cross-account-delivery"

    def test_the_hub_bucket_policy_decides(self):
        org_id, member, key = organisation_member()
        bucket = unique("hub")
        call("s3", "PUT", f"/{bucket}")
        region = "eu-west-1"

        def create(folder: str = "") -> str:
            # a new VPC each time: moto refuses a second flow log of a VPC to the same bucket,
            # whatever the folder
            _, text = query("ec2", {"Action": "CreateVpc", "Version": "2016-11-15",
                                    "CidrBlock": "10.0.0.0/16"}, key, region)
            vpc = text.split("<vpcId>", 1)[1].split("<", 1)[0]
            return query("ec2", {"Action": "CreateFlowLogs", "Version": "2016-11-15",
                                 "ResourceId.1": vpc, "ResourceType": "VPC",
                                 "TrafficType": "ALL", "LogDestinationType": "s3",
                                 "LogDestination": f"arn:aws:s3:::{bucket}{folder}"},
                         key, region)[1]

        def policy(condition: dict, write_prefix: str = "AWSLogs/") -> None:
            statements = [
                {"Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
                 "Action": "s3:PutObject", "Resource": f"arn:aws:s3:::{bucket}/{write_prefix}*",
                 "Condition": condition},
                {"Effect": "Allow", "Principal": {"Service": "delivery.logs.amazonaws.com"},
                 "Action": "s3:GetBucketAcl", "Resource": f"arn:aws:s3:::{bucket}",
                 "Condition": condition}]
            status, _, body = call("s3", "PUT", f"/{bucket}?policy", json.dumps(
                {"Version": "2012-10-17", "Statement": statements}))
            assert status in (200, 204), body

        refused = f"Access Denied for LogDestination: {bucket}. Please check LogDestination permission"
        self.assertIn(refused, create())  # no policy
        policy({"StringEquals": {"aws:SourceAccount": "111111111111"}})
        self.assertIn(refused, create())  # another account's statement
        policy({"StringEquals": {"aws:SourceAccount": member}},
               write_prefix=f"AWSLogs/{member}/vpcflowlogs/us-east-1/")
        self.assertIn(refused, create())  # another region's prefix
        policy({"StringEquals": {"aws:SourceAccount": member,
                                 "s3:x-amz-acl": "bucket-owner-full-control"}})
        self.assertIn(refused, create())  # ACLs disabled: no ACL header (AWS-FACTS.md)
        policy({"StringEquals": {"aws:SourceAccount": member},
                "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{region}:{member}:*"}})
        self.assertIn("<flowLogIdSet><item>", create().replace("\n", "").replace(" ", ""))
        policy({"StringEquals": {"aws:SourceOrgID": org_id}}, write_prefix="*AWSLogs/")
        made = create("/org/")
        self.assertNotIn(refused, made)
        self.assertIn("<flowLogIdSet><item>", made.replace("\\n", "").replace(" ", ""), made)
        policy({"StringEquals": {"aws:SourceOrgID": "o-other"}}, write_prefix="*AWSLogs/")
        self.assertIn(refused, create("/other/"))
        # A policy that no longer allows the account: the flow logs made fail to deliver.
        def statuses() -> list[str]:
            text = query("ec2", {"Action": "DescribeFlowLogs", "Version": "2016-11-15"},
                         key, region)[1]
            return [part.split("<", 1)[0] for part in text.split("<deliverLogsStatus>")[1:]]

        policy({"StringEquals": {"aws:SourceOrgID": org_id}}, write_prefix="*AWSLogs/")
        self.assertEqual(statuses(), ["SUCCESS", "SUCCESS"])
        policy({"StringEquals": {"aws:SourceOrgID": "o-other"}}, write_prefix="*AWSLogs/")
        self.assertEqual(statuses(), ["FAILED", "FAILED"])
        self.assertIn("Access error", query("ec2", {"Action": "DescribeFlowLogs",
                                                    "Version": "2016-11-15"}, key, region)[1])
        with behaviour_off("flow-log-cross-account-delivery"):
            self.assertNotIn(refused, create("/off/"))


@NEEDS_MOTO
class OptInRegionDisabled(FixTest):
    FIX = "ec2-opt-in-region-disabled"

    def test_an_opt_in_region_answers_auth_failure(self):
        self.assertTrue(ec2.region_disabled("af-south-1"))
        self.assertFalse(ec2.region_disabled("eu-west-1"))
        status, text = query("ec2", {"Action": "DescribeVpcs", "Version": "2016-11-15"},
                             region="me-south-1")
        self.assertEqual(status, 401, text)
        self.assertIn("<Code>AuthFailure</Code><Message>AWS was not able to validate the "
                      "provided access credentials</Message>", text)
        self.assertEqual(query("ec2", {"Action": "DescribeVpcs", "Version": "2016-11-15"},
                               region="eu-west-1")[0], 200)
        with behaviour_off("ec2-opt-in-region-disabled"):
            self.assertEqual(query("ec2", {"Action": "DescribeVpcs", "Version": "2016-11-15"},
                                   region="me-south-1")[0], 200)


@NEEDS_MOTO
class StsSessionExpiry(FixTest):
    FIX = "sts-session-expiry"

    def test_expired_credentials_are_refused(self):
        from fixes import sts as sts_fix

        _, member, key = organisation_member()  # a session of an hour
        describe = {"Action": "DescribeVpcs", "Version": "2016-11-15"}
        self.assertEqual(query("ec2", describe, key)[0], 200)
        os.environ[sts_fix.SESSION_ENV] = "0"
        try:
            status, text = query("sts", {
                "Action": "AssumeRole", "Version": "2011-06-15", "RoleSessionName": "expired",
                "RoleArn": f"arn:aws:iam::{member}:role/OrganizationAccountAccessRole"})
            self.assertEqual(status, 200, text)
        finally:
            del os.environ[sts_fix.SESSION_ENV]
        expired = text.split("<AccessKeyId>", 1)[1].split("<", 1)[0]
        status, text = query("ec2", describe, expired)
        self.assertEqual(status, 400, text)
        self.assertIn("<Code>RequestExpired</Code><Message>Request has expired.</Message>", text)
        status, text = query("iam", {"Action": "ListRoles", "Version": "2010-05-08"}, expired)
        self.assertEqual(status, 403, text)
        self.assertIn("<Code>ExpiredToken</Code><Message>The security token included in the "
                      "request is expired</Message>", text)
        self.assertEqual(query("ec2", describe, key)[0], 200)
        with behaviour_off("sts-session-expiry"):
            self.assertEqual(query("ec2", describe, expired)[0], 200)
