"""Behaviour `lambda-logs`: the function's output in its CloudWatch log group, as Lambda writes it.

Lambda sends what the function prints to the group `/aws/lambda/<function>` (or the group of its
LoggingConfig), one stream per execution environment named `YYYY/MM/DD/[$LATEST]<32 hex>`, each
line one event, framed by `START RequestId: ... Version: ...`, `END RequestId: ...` and
`REPORT RequestId: ... Duration: ... ms ...` (Lambda developer guide, "Using CloudWatch Logs with
Lambda"). Lambda writes only if the group exists or the function's role may create it
(`logs:CreateLogGroup`, as AWSLambdaBasicExecutionRole allows); otherwise nothing is written and
nothing fails. The product is to create the group itself (issue 12, item 7).
"""

from __future__ import annotations

import fnmatch
import json
import math
import time
import uuid

from aws_calls import role_name
from moto_client import Moto

LOGS_TARGET = "Logs_20140328."


def stream_name(version: str) -> str:
    return time.strftime("%Y/%m/%d/", time.gmtime()) + f"[{version}]" + uuid.uuid4().hex


def allows_create_log_group(policy_documents: list[str]) -> bool:
    for text in policy_documents:
        try:
            doc = json.loads(text)
        except ValueError:
            continue
        statements = doc.get("Statement") or []
        for st in statements if isinstance(statements, list) else [statements]:
            if st.get("Effect") != "Allow":
                continue
            actions = st.get("Action") or []
            for action in actions if isinstance(actions, list) else [actions]:
                if fnmatch.fnmatchcase("logs:createloggroup", str(action).lower()):
                    return True
    return False


def log_group_of(cfg: dict) -> str:
    return ((cfg.get("LoggingConfig") or {}).get("LogGroup")
            or f"/aws/lambda/{cfg.get('FunctionName', '_')}")


class LambdaLogs:
    """Writes one invocation's output; one stream per runtime generation (execution environment)."""

    def __init__(self, moto: Moto):
        self.moto = moto
        self.streams: dict[tuple, str] = {}

    def group_ready(self, group: str, cfg: dict) -> bool:
        status, found = self.moto.json("logs", LOGS_TARGET + "DescribeLogGroups",
                                       {"logGroupNamePrefix": group})
        if any(g.get("logGroupName") == group for g in found.get("logGroups") or []):
            return True
        role = role_name(cfg.get("Role") or "")
        if not role or not allows_create_log_group(self.moto.role_policy_documents(role)):
            return False
        status, _ = self.moto.json("logs", LOGS_TARGET + "CreateLogGroup",
                                   {"logGroupName": group})
        return status == 200

    def write(self, cfg: dict, generation: object, request_id: str, output: str,
              started: float, duration_s: float) -> str | None:
        """Returns the stream written to, or None when Lambda would write nothing."""
        group = log_group_of(cfg)
        if not self.group_ready(group, cfg):
            return None
        version = cfg.get("Version") or "$LATEST"
        key = (group, id(generation))
        stream = self.streams.get(key)
        if stream is None:
            stream = stream_name(version)
            self.moto.json("logs", LOGS_TARGET + "CreateLogStream",
                           {"logGroupName": group, "logStreamName": stream})
            self.streams[key] = stream
        ms = int(started * 1000)
        duration_ms = duration_s * 1000
        memory = cfg.get("MemorySize") or 128
        lines = [f"START RequestId: {request_id} Version: {version}"]
        lines += [line for line in output.splitlines()
                  if line.strip() and not line.startswith("--- starting ")]
        lines += [f"END RequestId: {request_id}",
                  f"REPORT RequestId: {request_id}\tDuration: {duration_ms:.2f} ms\t"
                  f"Billed Duration: {math.ceil(duration_ms)} ms\tMemory Size: {memory} MB\t"
                  f"Max Memory Used: {min(memory, 32)} MB\t"]
        end_ms = ms + int(duration_ms)
        events = [{"timestamp": ms if i == 0 else end_ms if i >= len(lines) - 2 else ms + 1,
                   "message": line} for i, line in enumerate(lines)]
        self.moto.json("logs", LOGS_TARGET + "PutLogEvents",
                       {"logGroupName": group, "logStreamName": stream, "logEvents": events})
        return stream
