"""Unit tests of the AWS front's pure rules (run by tests/integration/devstack_behaviours.rs, or directly:
`python devstack/selftest.py`): S3's key encoding and filter matching, overlap and permission
checks, the event and error shapes, the behaviour switches, Lambda's log stream names and what
Firehose posts to an HTTP endpoint; and, collected from `fixes/selftest.py`, a test per fix of the
moto wrapper (those need moto: run with the stack's venv python, as the Rust test does)."""

from __future__ import annotations

import json
import os
import re
import sys
import unittest
import xml.etree.ElementTree as ET

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import async_invoke  # noqa: E402
import aws_calls  # noqa: E402
import aws_errors  # noqa: E402
import behaviours  # noqa: E402
import firehose_http  # noqa: E402
import destination_check  # noqa: E402
import eventbridge  # noqa: E402
import lambda_logs  # noqa: E402
import s3_notifications as n  # noqa: E402
from consistency import validation_error  # noqa: E402
from fixes.selftest import *  # noqa: E402,F401,F403 - a test per moto fix, collected here

ARN = "arn:aws:lambda:us-east-1:123456789012:function:fwd"


def dest(prefix="", suffix="", events=("s3:ObjectCreated:*",), arn=ARN):
    return n.Destination(kind="lambda", arn=arn, id="x", events=list(events), prefix=prefix,
                         suffix=suffix)


class KeyEncoding(unittest.TestCase):
    def test_s3_encoding(self):
        self.assertEqual(n.encode_key("AWSLogs/aws-account-id=1/a b.log"),
                         "AWSLogs/aws-account-id%3D1/a+b.log")
        self.assertEqual(n.encode_key("x/ü+&.gz"), "x/%C3%BC%2B%26.gz")

    def test_filters_match_the_encoded_key_only(self):
        key = "AWSLogs/aws-account-id=123/region=us-east-1/f.log.gz"
        self.assertTrue(n.matches(dest("AWSLogs/aws-account-id%3D123/", ".gz"),
                                  "ObjectCreated:Put", key))
        self.assertFalse(n.matches(dest("AWSLogs/aws-account-id=123/"), "ObjectCreated:Put", key))
        self.assertFalse(n.matches(dest(suffix=".log"), "ObjectCreated:Put", key))

    def test_event_names(self):
        self.assertTrue(n.matches(dest(events=["s3:ObjectCreated:Put"]), "ObjectCreated:Put", "k"))
        self.assertFalse(n.matches(dest(events=["s3:ObjectCreated:Put"]), "ObjectCreated:Copy",
                                   "k"))
        self.assertTrue(n.matches(dest(), "ObjectCreated:CompleteMultipartUpload", "k"))
        self.assertFalse(n.matches(dest(events=["s3:ObjectRemoved:*"]), "ObjectCreated:Put", "k"))


class Configuration(unittest.TestCase):
    def test_parse_reads_rule_names_in_any_case(self):
        xml = ('<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
               f'<CloudFunctionConfiguration><Id>a</Id><CloudFunction>{ARN}</CloudFunction>'
               '<Event>s3:ObjectCreated:*</Event><Filter><S3Key>'
               '<FilterRule><Name>Prefix</Name><Value>p/</Value></FilterRule>'
               '<FilterRule><Name>suffix</Name><Value>.gz</Value></FilterRule>'
               '</S3Key></Filter></CloudFunctionConfiguration>'
               '<QueueConfiguration><Queue>arn:aws:sqs:us-east-1:1:q</Queue>'
               '<Event>s3:ObjectRemoved:*</Event></QueueConfiguration>'
               '</NotificationConfiguration>')
        parsed = n.parse(xml)
        self.assertEqual([(d.kind, d.id, d.prefix, d.suffix) for d in parsed],
                         [("lambda", "a", "p/", ".gz"), ("queue", "", "", "")])
        self.assertEqual(n.parse(b""), [])

    def test_overlap(self):
        self.assertTrue(n.overlaps([dest("a/"), dest("a/b/")]))
        self.assertTrue(n.overlaps([dest("a/", ".gz"), dest("", ".gz")]))
        self.assertFalse(n.overlaps([dest("a/"), dest("b/")]))
        self.assertFalse(n.overlaps([dest(suffix=".gz"), dest(suffix=".log")]))
        self.assertFalse(n.overlaps([dest("a/", events=["s3:ObjectCreated:*"]),
                                     dest("a/", events=["s3:ObjectRemoved:*"])]))
        self.assertTrue(n.overlaps([dest("a/", events=["s3:ObjectCreated:Put"]),
                                    dest("a/", events=["s3:ObjectCreated:*"])]))

    def test_permission_for_this_bucket(self):
        def policy(principal="s3.amazonaws.com", action="lambda:InvokeFunction", cond=None):
            st = {"Effect": "Allow", "Principal": {"Service": principal}, "Action": action,
                  "Resource": ARN}
            if cond is not None:
                st["Condition"] = cond
            return json.dumps({"Version": "2012-10-17", "Statement": [st]})

        like = {"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::flows"}}
        self.assertTrue(n.permission_allows(policy(cond=like), "flows"))
        self.assertFalse(n.permission_allows(policy(cond=like), "other"))
        self.assertTrue(n.permission_allows(
            policy(cond={"ArnLike": {"AWS:SourceArn": "arn:aws:s3:::fl*"}}), "flows"))
        self.assertTrue(n.permission_allows(policy(), "any"))
        self.assertFalse(n.permission_allows(policy(principal="sns.amazonaws.com"), "flows"))
        self.assertFalse(n.permission_allows(policy(action="lambda:GetFunction"), "flows"))
        self.assertFalse(n.permission_allows("", "flows"))


class Shapes(unittest.TestCase):
    def test_event_is_the_aws_example_shape(self):
        record = n.event("us-east-1", "ObjectCreated:Put", "flows", "a=b/c d.gz", 12, '"e1"',
                         "cfg")["Records"][0]
        self.assertEqual((record["eventVersion"], record["eventSource"], record["awsRegion"],
                          record["eventName"]),
                         ("2.1", "aws:s3", "us-east-1", "ObjectCreated:Put"))
        self.assertRegex(record["eventTime"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
        for field in ("userIdentity", "requestParameters", "responseElements"):
            self.assertTrue(record[field], field)
        s3 = record["s3"]
        self.assertEqual(s3["configurationId"], "cfg")
        self.assertEqual(s3["bucket"]["arn"], "arn:aws:s3:::flows")
        self.assertIn("principalId", s3["bucket"]["ownerIdentity"])
        self.assertEqual((s3["object"]["key"], s3["object"]["size"], s3["object"]["eTag"]),
                         ("a%3Db/c+d.gz", 12, "e1"))
        later = n.event("us-east-1", "ObjectCreated:Put", "flows", "k", 1, "e", "c")
        self.assertGreater(later["Records"][0]["s3"]["object"]["sequencer"], s3["object"]["sequencer"])

    def test_validation_error_names_each_destination(self):
        status, headers, body = validation_error([ARN, ARN + "2"])
        root = ET.fromstring(body)
        self.assertEqual(status, 400)
        self.assertEqual(root.findtext("Code"), "InvalidArgument")
        self.assertEqual(root.findtext("Message"),
                         "Unable to validate the following destination configurations")
        self.assertEqual(root.findtext("ArgumentName2"), ARN + "2")
        self.assertIn(ARN, root.findtext("ArgumentValue1"))

    def test_error_protocols(self):
        status, headers, body = aws_errors.lambda_(409, "ResourceConflictException", "m")
        self.assertEqual((status, dict(headers)["x-amzn-ErrorType"]),
                         (409, "ResourceConflictException"))
        self.assertEqual(json.loads(body)["message"], "m")
        _, _, body = aws_errors.json11(400, "InvalidArgumentException", "m")
        self.assertEqual(json.loads(body)["__type"], "InvalidArgumentException")
        self.assertEqual(aws_errors.s3(404, "NoSuchBucket", "m", method="HEAD")[2], b"")

    def test_log_stream_name_and_create_permission(self):
        self.assertRegex(lambda_logs.stream_name("$LATEST"),
                         r"^\d{4}/\d\d/\d\d/\[\$LATEST\][0-9a-f]{32}$")
        allow = json.dumps({"Statement": [{"Effect": "Allow", "Action": ["logs:*"],
                                           "Resource": "*"}]})
        only_put = json.dumps({"Statement": {"Effect": "Allow", "Action": "logs:PutLogEvents",
                                             "Resource": "*"}})
        self.assertTrue(lambda_logs.allows_create_log_group([only_put, allow]))
        self.assertFalse(lambda_logs.allows_create_log_group([only_put]))


class Requests(unittest.TestCase):
    def classify(self, method, path, headers=None, body=b""):
        auth = ("AWS4-HMAC-SHA256 Credential=AK/20240101/us-east-1/s3/aws4_request, "
                "SignedHeaders=host, Signature=0")
        return aws_calls.classify(method, path, {"authorization": auth, **(headers or {})}, body)

    def test_s3_operations(self):
        self.assertEqual(self.classify("PUT", "/flows").op, "CreateBucket")
        self.assertEqual(self.classify("PUT", "/flows?notification").op,
                         "PutBucketNotificationConfiguration")
        put = self.classify("PUT", "/flows/a%3Db/c")
        self.assertEqual((put.op, put.bucket, put.key), ("PutObject", "flows", "a=b/c"))
        self.assertEqual(self.classify("PUT", "/flows/k", {"x-amz-copy-source": "x/y"}).op,
                         "CopyObject")
        self.assertEqual(self.classify("PUT", "/flows/k?partNumber=1&uploadId=u").op, "")
        self.assertEqual(self.classify("POST", "/flows/k?uploadId=u").op,
                         "CompleteMultipartUpload")
        self.assertEqual(self.classify("GET", "/flows/k").op, "GetObject")

    def test_event_invoke_config_writes(self):
        put = self.classify("PUT", "/2019-09-25/functions/fwd/event-invoke-config", body=b"{}")
        self.assertEqual((put.service, put.op, put.function),
                         ("lambda", "PutFunctionEventInvokeConfig", "fwd"))
        post = self.classify("POST", "/2019-09-25/functions/arn%3Aaws%3Alambda%3Aus-east-1%3A1"
                                     "%3Afunction%3Afwd/event-invoke-config", body=b"{}")
        self.assertEqual((post.op, post.function), ("UpdateFunctionEventInvokeConfig", "fwd"))
        self.assertEqual(self.classify("GET", "/2019-09-25/functions/fwd/event-invoke-config").op,
                         "")


class Switches(unittest.TestCase):
    def test_parse(self):
        self.assertEqual(behaviours.parse("all"), list(behaviours.ALL))
        self.assertEqual(behaviours.parse("none"), [])
        self.assertEqual(behaviours.parse("all,-s3-events"),
                         [b for b in behaviours.ALL if b != "s3-events"])
        self.assertEqual(behaviours.parse("lambda-logs,s3-events"), ["s3-events", "lambda-logs"])
        self.assertEqual(behaviours.parse(None), list(behaviours.DEFAULT))
        with self.assertRaises(behaviours.BehaviourError):
            behaviours.parse("s3-event")

    def test_every_behaviour_is_documented(self):
        with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), "README.md")) as f:
            readme = f.read()
        for name in behaviours.ALL:
            self.assertTrue(re.search(rf"`{re.escape(name)}`", readme), name)


class AsyncFailures(unittest.TestCase):
    def test_settings_default_to_lambdas_and_read_an_s3_destination(self):
        self.assertEqual(async_invoke.settings(None), (2, 21600, None))
        self.assertEqual(async_invoke.settings({
            "MaximumRetryAttempts": 0, "MaximumEventAgeInSeconds": 60,
            "DestinationConfig": {"OnFailure": {"Destination": "arn:aws:s3:::my-bucket"}}}),
            (0, 60, "my-bucket"))
        self.assertEqual(async_invoke.settings({"DestinationConfig": {"OnFailure": {
            "Destination": "arn:aws:sqs:us-east-1:123456789012:q"}}})[2], None)

    def test_the_record_key_and_shape_are_lambdas(self):
        now = 1764400000.25  # 2025-11-29T07:06:40Z
        key = async_invoke.record_key("fwd", now, "0f0e0d0c-0b0a-0908-0706-050403020100")
        self.assertEqual(
            key, "aws/lambda/async/fwd/2025/11/29/2025-11-29T07.06.40-"
                 "0f0e0d0c-0b0a-0908-0706-050403020100")
        record = async_invoke.record(ARN, "req-1", "RetriesExhausted", 3, b'{"Records": []}',
                                     b'{"errorType": "ExportFailed"}', "Unhandled", now)
        self.assertEqual(record["requestContext"], {
            "requestId": "req-1", "functionArn": ARN + ":$LATEST",
            "condition": "RetriesExhausted", "approximateInvokeCount": 3})
        self.assertEqual(record["requestPayload"], {"Records": []})
        self.assertEqual(record["responseContext"]["functionError"], "Unhandled")
        self.assertEqual(record["responsePayload"]["errorType"], "ExportFailed")
        self.assertEqual(record["timestamp"], "2025-11-29T07:06:40.250Z")


class InvocationLog(unittest.TestCase):
    """The router's log lines the integration harness counts (`Stack::invocations`)."""

    class Moto:
        def function(self, name):
            return {"FunctionName": name, "FunctionArn": ARN}

        def event_invoke_config(self, name):
            return None

    def test_an_async_event_is_logged_queued_and_each_attempt_runs_as_event(self):
        import threading
        logged, types, done = [], [], threading.Event()
        answers = [(200, [("X-Amz-Function-Error", "Unhandled")], b"{}"), (200, [], b"{}")]

        def invoke_sync(cfg, payload, want_log, invocation_type="RequestResponse"):
            types.append(invocation_type)
            answer = answers.pop(0)
            if not answers:
                done.set()
            return answer

        invoker = async_invoke.AsyncInvoker(self.Moto(), invoke_sync, set(), [0.0], logged.append)
        invoker.invoke("fwd", b"{}")
        self.assertTrue(done.wait(5))
        self.assertEqual(logged[0], "async invoke of fwd: queued")
        self.assertIn("async invoke of fwd failed (attempt 1): retrying", logged)
        self.assertEqual(types, ["Event", "Event"])

    def test_an_ended_invoke_names_its_invocation_type(self):
        import lambda_runtime
        self.assertEqual(lambda_runtime.invoke_line("fwd", "Event", 200, "Unhandled", 0.125),
                         "invoke fwd (Event) -> 200 Unhandled in 0.12s")
        self.assertTrue(lambda_runtime.invoke_line("fwd", "RequestResponse", 200, "", 1)
                        .startswith("invoke fwd (RequestResponse) -> 200 "))


class FirehoseHttp(unittest.TestCase):
    HTTP = {"RequestConfiguration": {"ContentEncoding": "GZIP", "CommonAttributes": [
        {"AttributeName": "env", "AttributeValue": "test"}]}}

    def test_the_request_is_the_documented_one(self):
        import gzip
        headers, body = firehose_http.firehose_request(
            "arn:aws:firehose:us-east-1:1:deliverystream/s", self.HTTP, [b'{"message":"x"}'],
            "key", "rid", 1700000000000)
        self.assertEqual(headers["Content-Type"], "application/json")
        self.assertEqual(headers["Content-Encoding"], "gzip")
        self.assertEqual(headers["X-Amz-Firehose-Protocol-Version"], "1.0")
        self.assertEqual(headers["X-Amz-Firehose-Request-Id"], "rid")
        self.assertEqual(headers["X-Amz-Firehose-Source-Arn"],
                         "arn:aws:firehose:us-east-1:1:deliverystream/s")
        self.assertEqual(headers["X-Amz-Firehose-Access-Key"], "key")
        self.assertEqual(json.loads(headers["X-Amz-Firehose-Common-Attributes"]),
                         {"commonAttributes": {"env": "test"}})
        sent = json.loads(gzip.decompress(body))
        self.assertEqual(sent["requestId"], "rid")
        self.assertEqual(sent["timestamp"], 1700000000000)
        self.assertEqual(sent["records"], [{"data": "eyJtZXNzYWdlIjoieCJ9"}])
        plain, body = firehose_http.firehose_request("arn", {}, [b"x"], None, "r", 1)
        self.assertNotIn("Content-Encoding", plain)
        self.assertNotIn("X-Amz-Firehose-Access-Key", plain)
        self.assertNotIn("X-Amz-Firehose-Common-Attributes", plain)
        self.assertEqual(json.loads(body)["records"], [{"data": "eA=="}])

    def test_only_a_200_echoing_the_request_id_with_a_timestamp_is_delivered(self):
        ok = firehose_http.firehose_delivered
        self.assertIsNone(ok(200, b'{"requestId":"a","timestamp":1}', "a"))
        self.assertIsNotNone(ok(200, b'{"requestId":"b","timestamp":1}', "a"))
        self.assertIsNotNone(ok(200, b'{"requestId":"a"}', "a"))
        self.assertIsNotNone(ok(200, b"", "a"))
        self.assertIsNotNone(ok(401, b'{"requestId":"a","timestamp":1}', "a"))

    def test_failed_data_goes_under_http_endpoint_failed(self):
        key = firehose_http.failed_data_key("firehose-failed/", "flowlogs-x", 0)
        self.assertTrue(key.startswith(
            "firehose-failed/http-endpoint-failed/1970/01/01/00/flowlogs-x-1-1970-01-01-00-00-00-"),
            key)


class DestinationCheck(unittest.TestCase):
    DEST = "arn:aws:s3:::failures"

    @staticmethod
    def policy(*statements):
        return [json.dumps({"Version": "2012-10-17", "Statement": list(statements)})]

    @staticmethod
    def allow(action, resource):
        return {"Effect": "Allow", "Action": action, "Resource": resource}

    def test_put_object_on_every_key_and_list_bucket_are_needed(self):
        whole = self.allow("s3:PutObject", "arn:aws:s3:::failures/*")
        listing = self.allow("s3:ListBucket", "arn:aws:s3:::failures")
        check = destination_check.missing_permission
        self.assertIsNone(check(self.policy(whole, listing), self.DEST))
        prefixed = self.allow("s3:PutObject", "arn:aws:s3:::failures/aws/lambda/async/fwd/*")
        self.assertEqual(check(self.policy(prefixed, listing), self.DEST), "PutObject")
        self.assertEqual(check(self.policy(whole), self.DEST), "ListBucket")
        # wider wildcards, action wildcards and lists count; a Deny or another bucket does not
        self.assertIsNone(check(self.policy(self.allow(["s3:Put*", "s3:List*"], [
            "arn:aws:s3:::*/*", "arn:aws:s3:::failures"])), self.DEST))
        self.assertIsNone(check(self.policy(self.allow("s3:*", "*")), self.DEST))
        self.assertEqual(check(self.policy(
            {**whole, "Effect": "Deny"}, listing), self.DEST), "PutObject")
        self.assertEqual(check(self.policy(self.allow("s3:PutObject", "arn:aws:s3:::logs/*"),
                                           listing), self.DEST), "PutObject")
        self.assertEqual(check(self.policy(self.allow("s3:PutObject", "arn:aws:s3:::failures/?"),
                                           listing), self.DEST), "PutObject")
        # not an S3 destination: nothing to check here
        self.assertIsNone(check([], "arn:aws:sqs:us-east-1:123456789012:q"))

    def test_the_message_is_lambdas(self):
        self.assertEqual(
            destination_check.message("PutObject", "arn:aws:s3:::failures"),
            "The function execution role does not have permissions to call PutObject on "
            "arn:aws:s3:::failures")


OTLP_SIDE = ("capture.py", "otlp_front.py", "otlp_send.py", "tls_front.py")


class EventBridge(unittest.TestCase):
    PATTERN = {"source": ["aws.s3"], "detail-type": ["Object Created"],
               "detail": {"bucket": {"name": ["b"]},
                          "object": {"key": [{"wildcard": "AWSLogs/aws-account-id=1/*.log.gz"}]}}}

    def test_the_event_is_the_s3_user_guides_shape_with_the_key_as_it_is(self):
        e = eventbridge.event("123456789012", "us-east-1", "PutObject", "b",
                              "AWSLogs/aws-account-id=1/a b+c.log.gz", 7, '"abc"')
        self.assertEqual((e["version"], e["detail-type"], e["source"]),
                         ("0", "Object Created", "aws.s3"))
        self.assertEqual(e["resources"], ["arn:aws:s3:::b"])
        self.assertEqual(e["detail"]["object"]["key"], "AWSLogs/aws-account-id=1/a b+c.log.gz")
        self.assertEqual((e["detail"]["object"]["size"], e["detail"]["object"]["etag"]),
                         (7, "abc"))
        self.assertEqual(e["detail"]["reason"], "PutObject")
        self.assertRegex(e["time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")

    def test_patterns_match_bucket_and_key_by_prefix_suffix_and_wildcard(self):
        e = eventbridge.event("1", "us-east-1", "PutObject", "b",
                              "AWSLogs/aws-account-id=1/x/y.log.gz", 7, "")
        self.assertTrue(eventbridge.matches(self.PATTERN, e))
        other = eventbridge.event("1", "us-east-1", "PutObject", "c",
                                  "AWSLogs/aws-account-id=1/x/y.log.gz", 7, "")
        self.assertFalse(eventbridge.matches(self.PATTERN, other))
        wrong_suffix = eventbridge.event("1", "us-east-1", "PutObject", "b",
                                         "AWSLogs/aws-account-id=1/y.log", 7, "")
        self.assertFalse(eventbridge.matches(self.PATTERN, wrong_suffix))
        by = {"detail": {"object": {"key": [{"prefix": "AWSLogs/"}]}}}
        self.assertTrue(eventbridge.matches(by, e))
        by = {"detail": {"object": {"key": [{"suffix": ".parquet"}, {"suffix": ".gz"}]}}}
        self.assertTrue(eventbridge.matches(by, e))
        self.assertFalse(eventbridge.matches({"detail-type": ["Object Deleted"]}, e))
        self.assertFalse(eventbridge.matches({"detail": {"nope": [{"exists": True}]}}, e))
        self.assertTrue(eventbridge.matches({"detail": {"nope": [{"exists": False}]}}, e))
        self.assertTrue(eventbridge.matches(
            {"detail": {"object": {"key": [{"wildcard": "a\\*b"}]}}},
            {"detail": {"object": {"key": "a*b"}}}))
        self.assertFalse(eventbridge.matches(
            {"detail": {"object": {"key": [{"wildcard": "a\\*b"}]}}},
            {"detail": {"object": {"key": "axb"}}}))

    def test_enabled_and_the_permission_for_the_rule(self):
        self.assertTrue(eventbridge.enabled(
            '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">'
            '<EventBridgeConfiguration/></NotificationConfiguration>'))
        self.assertFalse(eventbridge.enabled("<NotificationConfiguration/>"))
        self.assertFalse(eventbridge.enabled(b""))
        rule = "arn:aws:events:us-east-1:1:rule/r"
        policy = json.dumps({"Statement": [{
            "Effect": "Allow", "Principal": {"Service": "events.amazonaws.com"},
            "Action": "lambda:InvokeFunction",
            "Condition": {"ArnLike": {"AWS:SourceArn": rule}}}]})
        self.assertTrue(eventbridge.permission_allows(policy, rule))
        self.assertFalse(eventbridge.permission_allows(policy, rule + "-other"))
        s3_only = policy.replace("events.amazonaws.com", "s3.amazonaws.com")
        self.assertFalse(eventbridge.permission_allows(s3_only, rule))


class Layout(unittest.TestCase):
    def test_the_otlp_side_imports_nothing_of_the_aws_side(self):
        import ast

        here = os.path.dirname(os.path.abspath(__file__))
        local = {f[:-3] for f in os.listdir(here) if f.endswith(".py")} | {"fixes"}
        for name in OTLP_SIDE:
            with open(os.path.join(here, name)) as f:
                tree = ast.parse(f.read())
            imported = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
                        for a in n.names}
            imported |= {(n.module or "").split(".")[0] for n in ast.walk(tree)
                         if isinstance(n, ast.ImportFrom)}
            self.assertEqual(imported & local, set(), name)


if __name__ == "__main__":
    unittest.main()
