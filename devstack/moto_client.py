"""The router's own calls to moto (reading notification configurations, policies, writing logs).

Every call carries `X-Devstack-Internal: 1`: the moto wrapper does not record it, so a test that
records the product's AWS calls sees only the product's (and the forwarder's) calls.
"""

from __future__ import annotations

import http.client
import json
import urllib.parse
import xml.etree.ElementTree as ET

INTERNAL_HEADER = "X-Devstack-Internal"


def auth(service: str) -> str:
    return ("AWS4-HMAC-SHA256 Credential=devstack/20240101/us-east-1/"
            f"{service}/aws4_request, SignedHeaders=host, Signature=0")


class Moto:
    def __init__(self, url: str):
        u = urllib.parse.urlsplit(url)
        self.host, self.port = u.hostname or "127.0.0.1", u.port or 80

    def request(self, method: str, path: str, service: str, body: bytes = b"",
                headers: dict | None = None) -> tuple[int, dict, bytes]:
        conn = http.client.HTTPConnection(self.host, self.port, timeout=60)
        try:
            hdrs = {"Authorization": auth(service), INTERNAL_HEADER: "1",
                    "Content-Length": str(len(body))}
            hdrs.update(headers or {})
            conn.request(method, path, body=body or None, headers=hdrs)
            resp = conn.getresponse()
            return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
        finally:
            conn.close()

    def json(self, service: str, target: str, payload: dict) -> tuple[int, dict]:
        status, _, data = self.request("POST", "/", service, json.dumps(payload).encode(), {
            "X-Amz-Target": target, "Content-Type": "application/x-amz-json-1.1"})
        try:
            return status, json.loads(data or b"{}")
        except ValueError:
            return status, {}

    def query(self, service: str, params: dict) -> tuple[int, ET.Element | None]:
        body = urllib.parse.urlencode(params).encode()
        status, _, data = self.request("POST", "/", service, body, {
            "Content-Type": "application/x-www-form-urlencoded"})
        try:
            return status, ET.fromstring(data)
        except ET.ParseError:
            return status, None

    # -- the reads the behaviours need --
    def function(self, name: str) -> dict | None:
        status, _, data = self.request(
            "GET", f"/2015-03-31/functions/{urllib.parse.quote(name, safe='')}/configuration",
            "lambda")
        return json.loads(data) if status == 200 else None

    def function_policy(self, name: str) -> str:
        status, _, data = self.request(
            "GET", f"/2015-03-31/functions/{urllib.parse.quote(name, safe='')}/policy", "lambda")
        return json.loads(data).get("Policy", "") if status == 200 else ""

    def event_invoke_config(self, name: str) -> dict | None:
        status, _, data = self.request(
            "GET", f"/2019-09-25/functions/{urllib.parse.quote(name, safe='')}/event-invoke-config",
            "lambda")
        return json.loads(data) if status == 200 else None

    def put_object(self, bucket: str, key: str, body: bytes) -> int:
        status, _, _ = self.request(
            "PUT", f"/{urllib.parse.quote(bucket)}/{urllib.parse.quote(key, safe='/')}", "s3",
            body, {"Content-Type": "application/json"})
        return status

    def notification_xml(self, bucket: str) -> bytes:
        status, _, data = self.request("GET", f"/{urllib.parse.quote(bucket)}?notification",
                                       "s3")
        return data if status == 200 else b""

    def head_object(self, bucket: str, key: str) -> dict | None:
        status, headers, _ = self.request(
            "HEAD", f"/{urllib.parse.quote(bucket)}/{urllib.parse.quote(key, safe='/')}", "s3")
        return headers if status == 200 else None

    def eventbridge_rules(self) -> list[dict]:
        """Every rule of the default event bus (ListRules, all pages)."""
        rules, token = [], None
        while True:
            payload = {"EventBusName": "default"} | ({"NextToken": token} if token else {})
            status, page = self.json("events", "AWSEvents.ListRules", payload)
            if status != 200:
                return rules
            rules += page.get("Rules") or []
            token = page.get("NextToken")
            if not token:
                return rules

    def rule_targets(self, rule: str) -> list[dict]:
        """The targets of a rule of the default bus (ListTargetsByRule, all pages)."""
        targets, token = [], None
        while True:
            payload = {"Rule": rule} | ({"NextToken": token} if token else {})
            status, page = self.json("events", "AWSEvents.ListTargetsByRule", payload)
            if status != 200:
                return targets
            targets += page.get("Targets") or []
            token = page.get("NextToken")
            if not token:
                return targets

    def role_policy_documents(self, role: str) -> list[str]:
        """The inline and attached policy documents of a role (JSON text each)."""
        docs = []

        def texts(root, tag):
            return [e.text or "" for e in root.iter() if e.tag.rsplit("}", 1)[-1] == tag] \
                if root is not None else []

        _, root = self.query("iam", {"Action": "ListRolePolicies", "RoleName": role,
                                     "Version": "2010-05-08"})
        for name in texts(root, "member"):
            _, doc = self.query("iam", {"Action": "GetRolePolicy", "RoleName": role,
                                        "PolicyName": name, "Version": "2010-05-08"})
            docs += [urllib.parse.unquote(t) for t in texts(doc, "PolicyDocument")]
        _, root = self.query("iam", {"Action": "ListAttachedRolePolicies", "RoleName": role,
                                     "Version": "2010-05-08"})
        for arn in texts(root, "PolicyArn"):
            _, pol = self.query("iam", {"Action": "GetPolicy", "PolicyArn": arn,
                                        "Version": "2010-05-08"})
            for version in texts(pol, "DefaultVersionId")[:1]:
                _, ver = self.query("iam", {"Action": "GetPolicyVersion", "PolicyArn": arn,
                                            "VersionId": version, "Version": "2010-05-08"})
                docs += [urllib.parse.unquote(t) for t in texts(ver, "Document")]
        return docs
