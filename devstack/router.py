"""The local stack's AWS endpoint: moto for every call, the real forwarder for Lambda Invoke.

moto's Lambda runs no code, so this stdlib reverse proxy sends every request to moto except
`POST /2015-03-31/functions/{name}/invocations`. For an Invoke it
  1. reads the function's configuration back from moto (GetFunctionConfiguration: environment,
     timeout, memory, ARN) - the environment the deployer configured, never a copy of it;
  2. (re)starts `cargo lambda watch --only-lambda-apis` and the forwarder `bootstrap` binary with
     that environment, plus AWS_LAMBDA_RUNTIME_API, AWS_ENDPOINT_URL=moto and dummy credentials,
     whenever the configuration or the binary changed or the previous process died;
  3. forwards the invoke to cargo lambda and answers the way AWS Lambda does: 200 with the
     payload, or 200 with `X-Amz-Function-Error: Unhandled` and the error payload (cargo lambda
     itself answers a function error with a bare 500).
The bootstrap reaches the runtime API through this router (`/.rt/...`), which rewrites two
headers that cargo lambda gets wrong: `Lambda-Runtime-Deadline-Ms` (cargo lambda sends the
constant 600000, a deadline in 1970) becomes now + the function's timeout, and
`Lambda-Runtime-Invoked-Function-Arn` (the literal "function-arn") becomes the real ARN.

Invokes are served one at a time, as one Lambda instance with reserved concurrency 1 would.
Started by devstack/stack.py; runs `cargo lambda watch` and `bootstrap` in its own process group,
so stopping that group stops everything.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import behaviours as behaviours_mod  # noqa: E402
import s3_notifications  # noqa: E402
from aws_calls import FORWARDER_ACCESS_KEY, Call, classify, function_name, role_name  # noqa: E402
from consistency import Consistency, validation_error  # noqa: E402
from lambda_logs import LambdaLogs  # noqa: E402
from moto_client import Moto  # noqa: E402
import async_invoke  # noqa: E402
import destination_check  # noqa: E402
import aws_errors  # noqa: E402

HOP_BY_HOP = {
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "te",
    "trailer",
    "trailers",
    "transfer-encoding",
    "upgrade",
    "expect",
}
INJECTED_HEADER = "X-Devstack-Injected"  # the moto wrapper records the call, answers this
S3_CREATED_EVENTS = {"PutObject": "ObjectCreated:Put", "CopyObject": "ObjectCreated:Copy",
                     "CompleteMultipartUpload": "ObjectCreated:CompleteMultipartUpload"}
INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"
DUMMY_AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/lambda/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


def log(msg: str) -> None:
    sys.stderr.write(time.strftime("%H:%M:%S ") + msg + "\n")
    sys.stderr.flush()


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def split_url(url: str) -> tuple[str, int]:
    u = urllib.parse.urlsplit(url)
    return u.hostname or "127.0.0.1", u.port or 80


def tail(path: str, n: int = 4096) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode(errors="replace")
    except OSError:
        return ""


class Runtime:
    """One generation of `cargo lambda watch` plus the bootstrap that polls it."""

    def __init__(self, cargo_lambda: str, watch_dir: str, logs_dir: str):
        self.cargo_lambda = cargo_lambda
        self.watch_dir = watch_dir
        self.logs_dir = logs_dir
        self.watch: subprocess.Popen | None = None
        self.watch_url = ""
        self.bootstrap: subprocess.Popen | None = None
        self.key: tuple | None = None
        self.used = False  # a bootstrap has polled this watch: its queue may hold stale events
        self.timeout_s = 3.0
        self.function_arn = "arn:aws:lambda:us-east-1:123456789012:function:_"

    # -- cargo lambda watch --
    def start_watch(self, timeout: float = 60.0) -> None:
        port = free_port()
        logf = open(os.path.join(self.logs_dir, "lambda-watch.log"), "ab")
        logf.write(f"--- starting cargo lambda watch on 127.0.0.1:{port}\n".encode())
        logf.flush()
        env = dict(os.environ)
        env.setdefault("CARGO_NET_OFFLINE", "true")
        self.watch = subprocess.Popen(
            [self.cargo_lambda, "lambda", "watch", "--only-lambda-apis",
             "-A", "127.0.0.1", "-P", str(port)],
            cwd=self.watch_dir, env=env, stdin=subprocess.DEVNULL, stdout=logf,
            stderr=subprocess.STDOUT,
        )
        logf.close()
        self.watch_url = f"http://127.0.0.1:{port}"
        self.used = False
        deadline = time.monotonic() + timeout
        while True:
            if self.watch.poll() is not None:
                raise RuntimeError(
                    f"cargo lambda watch exited with {self.watch.returncode}:\n"
                    + tail(os.path.join(self.logs_dir, "lambda-watch.log"))
                )
            if self.watch_ready():
                return
            if time.monotonic() > deadline:
                raise RuntimeError(
                    f"cargo lambda watch not ready on {self.watch_url} after {timeout:.0f}s:\n"
                    + tail(os.path.join(self.logs_dir, "lambda-watch.log"))
                )
            time.sleep(0.1)

    def watch_ready(self) -> bool:
        # A CORS preflight is answered by cargo lambda itself. Any GET or POST to an unknown
        # path is queued as an invocation of the function, so it must not be used as a probe.
        host, port = split_url(self.watch_url)
        try:
            conn = http.client.HTTPConnection(host, port, timeout=2)
            conn.request("OPTIONS", "/2015-03-31/functions/_/invocations", headers={
                "Origin": "http://127.0.0.1", "Access-Control-Request-Method": "POST"})
            status = conn.getresponse().status
            conn.close()
            return status == 200
        except OSError:
            return False

    # -- bootstrap --
    def stop(self) -> None:
        for proc in (self.bootstrap, self.watch):
            if proc is not None and proc.poll() is None:
                proc.terminate()
        for proc in (self.bootstrap, self.watch):
            if proc is not None:
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        self.bootstrap = None
        self.watch = None
        self.key = None

    def ensure(self, key: tuple, env: dict, bootstrap_path: str) -> None:
        alive = self.bootstrap is not None and self.bootstrap.poll() is None
        if alive and key == self.key and self.watch is not None and self.watch.poll() is None:
            return
        if self.bootstrap is not None or self.used or self.watch is None \
                or self.watch.poll() is not None:
            self.stop()
            self.start_watch()
        logf = open(os.path.join(self.logs_dir, "forwarder.log"), "ab")
        logf.write(f"--- starting {bootstrap_path}\n".encode())
        logf.flush()
        self.bootstrap = subprocess.Popen(
            [bootstrap_path], env=env, cwd=os.path.dirname(bootstrap_path) or ".",
            stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
        )
        logf.close()
        self.used = True
        self.key = key


class Router:
    def __init__(self, args):
        self.moto_url = args.moto.rstrip("/")
        self.bootstrap_path = os.path.abspath(args.bootstrap) if args.bootstrap else ""
        self.logs_dir = args.logs_dir
        self.port = args.port
        self.runtime = Runtime(args.cargo_lambda, args.watch_dir, args.logs_dir)
        self.invoke_lock = threading.Lock()
        self.state_lock = threading.Lock()
        self.behaviours = behaviours_mod.from_env()
        self.retry_delays = behaviours_mod.retry_delays()
        self.moto = Moto(self.moto_url)
        self.consistency = Consistency(self.behaviours, behaviours_mod.window(),
                                       args.region, args.account)
        self.lambda_logs = LambdaLogs(self.moto)
        self.region, self.account = args.region, args.account
        self.current_role = ""  # the role of the function being invoked (invokes are serial)

    # ---- the AWS front: every call but Invoke ----
    def aws(self, method, raw_path, headers, body):
        """Sends a call to moto, or answers it as AWS would now (each a behaviour)."""
        lower = {k.lower(): v for k, v in headers}
        call = classify(method, raw_path, lower, body)
        error = None
        if call.op == "PutBucketNotificationConfiguration" \
                and "notification-validation" in self.behaviours:
            error = self.validate_notification(call, body)
        if call.op in ("PutFunctionEventInvokeConfig", "UpdateFunctionEventInvokeConfig") \
                and "lambda-destination-check" in self.behaviours:
            error = self.check_destination(call)
        if error is None:
            error = self.consistency.injected(call, method, body, self.current_role)
        if error is not None:
            # moto records the call and answers the error without acting on it
            encoded = base64.b64encode(json.dumps(
                [error[0], error[1], base64.b64encode(error[2]).decode()]).encode()).decode()
            log(f"injected {error[0]} for {call.op or method} {raw_path}")
            return self.moto_request(method, raw_path, headers + [(INJECTED_HEADER, encoded)],
                                     body)
        status, resp_headers, data = self.moto_request(method, raw_path, headers, body)
        if 200 <= status < 300:
            self.consistency.accepted(call)
            if call.op in S3_CREATED_EVENTS and "s3-events" in self.behaviours \
                    and b"<Error>" not in data[:512]:
                self.dispatch_s3_event(call)
        return status, resp_headers, data

    def validate_notification(self, call: Call, body: bytes):
        """S3 test-sends to every destination on each write; Lambda ones need the function and
        a permission for this bucket. Overlapping rules are refused."""
        try:
            destinations = s3_notifications.parse(body)
        except Exception:  # noqa: BLE001 - moto answers a malformed document itself
            return None
        if s3_notifications.overlaps(destinations):
            return aws_errors.s3(400, "InvalidArgument",
                                 "Configurations overlap. Configurations on the same bucket "
                                 "cannot share a common event type.",
                                 [("ArgumentName", "Event"), ("ArgumentValue", "")], "PUT")
        failing = []
        for dest in destinations:
            if dest.kind != "lambda":
                continue
            name = function_name(dest.arn)
            if self.moto.function(name) is None or not s3_notifications.permission_allows(
                    self.moto.function_policy(name), call.bucket):
                failing.append(dest.arn)
        return validation_error(failing) if failing else None

    def check_destination(self, call: Call):
        """Lambda refuses an S3 on-failure destination the function's role may not write to
        (`destination_check.py`)."""
        destination = ((call.params.get("DestinationConfig") or {}).get("OnFailure") or {}) \
            .get("Destination") or ""
        if destination_check.s3_bucket(destination) is None:
            return None
        cfg = self.moto.function(call.function)
        if cfg is None:
            return None  # moto answers ResourceNotFoundException itself
        documents = self.moto.role_policy_documents(role_name(cfg.get("Role") or ""))
        missing = destination_check.missing_permission(documents, destination)
        if missing is None:
            return None
        return aws_errors.lambda_(400, "InvalidParameterValueException",
                                  destination_check.message(missing, destination))

    # ---- S3 events: the function invoked asynchronously, as S3 does ----
    def dispatch_s3_event(self, call: Call) -> None:
        event_name = S3_CREATED_EVENTS[call.op]
        try:
            destinations = s3_notifications.parse(self.moto.notification_xml(call.bucket))
        except Exception as e:  # noqa: BLE001
            log(f"s3-events: unreadable notification configuration of {call.bucket}: {e!r}")
            return
        targets = [d for d in destinations
                   if d.kind == "lambda" and s3_notifications.matches(d, event_name, call.key)]
        if not targets:
            return
        head = self.moto.head_object(call.bucket, call.key) or {}
        for dest in targets:
            payload = s3_notifications.event(
                self.region, event_name, call.bucket, call.key,
                int(head.get("content-length") or 0), head.get("etag") or "", dest.id)
            log(f"s3-events: {event_name} s3://{call.bucket}/{call.key} -> {dest.arn}")
            self.invoke_async(function_name(dest.arn), json.dumps(payload).encode())

    def invoke_async(self, function: str, payload: bytes) -> None:
        """InvocationType Event: queued, run in the background, a failure retried. With
        `lambda-async-failures`, the retries and the event's age follow the function's event
        invoke config, and an event that still fails goes to its S3 on-failure destination
        (`async_invoke.py`); without it, two retries and the event is dropped."""
        def run():
            queued = time.time()
            retries, max_age, bucket = 2, None, None
            if "lambda-async-failures" in self.behaviours:
                retries, max_age, bucket = async_invoke.settings(
                    self.moto.event_invoke_config(function))
            delays = self.retry_delays or [0.0]
            status, headers, body, attempts, condition = 0, [], b"", 0, "RetriesExhausted"
            cfg = None
            for attempt in range(retries + 1):
                if attempt:
                    time.sleep(delays[min(attempt - 1, len(delays) - 1)])
                    if max_age is not None and time.time() - queued > max_age:
                        condition = "EventAgeExceeded"
                        break
                cfg = self.moto.function(function)
                if cfg is None:
                    log(f"async invoke: function {function} is gone: event dropped")
                    return
                status, headers, body = self.invoke_sync(cfg, payload, False)
                attempts += 1
                if status == 200 and not dict(headers).get("X-Amz-Function-Error"):
                    return
                log(f"async invoke of {function} failed (attempt {attempts}): "
                    + ("retrying" if attempt < retries else "giving up"))
            if bucket is None or cfg is None:
                return
            now = time.time()
            key = async_invoke.record_key(function, now)
            document = async_invoke.record(
                cfg.get("FunctionArn", ""), dict(headers).get("x-amzn-RequestId", ""),
                condition, attempts, payload, body,
                dict(headers).get("X-Amz-Function-Error"), now)
            written = self.moto.put_object(bucket, key, json.dumps(document).encode())
            log(f"async invoke of {function}: record s3://{bucket}/{key} "
                f"({condition}, {attempts} attempts) -> {written}")

        threading.Thread(target=run, daemon=True).start()

    # ---- plumbing ----
    def moto_request(self, method, path, headers, body):
        host, port = split_url(self.moto_url)
        conn = http.client.HTTPConnection(host, port, timeout=300)
        try:
            conn.putrequest(method, path, skip_host=True, skip_accept_encoding=True)
            has_host = False
            for k, v in headers:
                if k.lower() in HOP_BY_HOP or k.lower() == "content-length":
                    continue
                has_host |= k.lower() == "host"
                conn.putheader(k, v)
            if not has_host:
                conn.putheader("Host", f"{host}:{port}")
            if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body if body else None)
            resp = conn.getresponse()
            data = resp.read()
            return resp.status, resp.getheaders(), data
        finally:
            conn.close()

    def function_configuration(self, name_in_path: str, query: str, headers) -> tuple:
        auth = [(k, v) for k, v in headers if k.lower() in ("authorization", "x-amz-date",
                                                            "x-amz-security-token")]
        if not any(k.lower() == "authorization" for k, _ in auth):
            auth.append(("Authorization", DUMMY_AUTH))
        qualifier = urllib.parse.parse_qs(query).get("Qualifier", [None])[0]
        path = f"{INVOKE_PREFIX}{name_in_path}/configuration"
        if qualifier:
            path += "?Qualifier=" + urllib.parse.quote(qualifier)
        return self.moto_request("GET", path, auth, b"")

    # ---- invoke ----
    def invoke(self, name_in_path, query, headers, body):
        """Returns (status, headers list, body)."""
        status, moto_headers, data = self.function_configuration(name_in_path, query, headers)
        if status != 200:
            return status, moto_headers, data  # e.g. ResourceNotFoundException, as AWS says it
        cfg = json.loads(data)
        hdr = {k.lower(): v for k, v in headers}
        invocation_type = hdr.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type == "DryRun":
            return 204, [], b""
        if invocation_type == "Event" and "s3-events" in self.behaviours:
            self.invoke_async(cfg.get("FunctionName") or function_name(name_in_path), body)
            return 202, [("Content-Type", "application/json")], b""
        if invocation_type == "Event":
            threading.Thread(target=self.invoke_sync, args=(cfg, body, False),
                             daemon=True).start()
            return 202, [("Content-Type", "application/json")], b""
        return self.invoke_sync(cfg, body, hdr.get("x-amz-log-type") == "Tail")

    def bootstrap_env(self, cfg: dict) -> dict:
        arn = cfg.get("FunctionArn", "")
        parts = arn.split(":")
        region = parts[3] if len(parts) > 3 and parts[3] else "us-east-1"
        name = cfg.get("FunctionName", "_")
        env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LANG": "C.UTF-8", "TZ": ":UTC"}
        for k in ("RUST_LOG", "RUST_BACKTRACE", "SSL_CERT_FILE", "SSL_CERT_DIR"):
            if k in os.environ:
                env[k] = os.environ[k]
        env.update((cfg.get("Environment") or {}).get("Variables") or {})
        env.update({
            "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{self.port}/.rt",
            "AWS_LAMBDA_FUNCTION_NAME": "_",
            "AWS_LAMBDA_FUNCTION_VERSION": cfg.get("Version") or "$LATEST",
            "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(cfg.get("MemorySize") or 128),
            "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
            "AWS_LAMBDA_LOG_STREAM_NAME": "devstack",
            "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
            "AWS_REGION": region,
            "AWS_DEFAULT_REGION": region,
            # through this router, so that AWS behaviours apply to the forwarder's calls too
            "AWS_ENDPOINT_URL": f"http://127.0.0.1:{self.port}",
            "AWS_ACCESS_KEY_ID": FORWARDER_ACCESS_KEY,
            "AWS_SECRET_ACCESS_KEY": "test",
            "AWS_SESSION_TOKEN": "test",
            "AWS_EC2_METADATA_DISABLED": "true",
            "_HANDLER": cfg.get("Handler") or "bootstrap",
        })
        return env

    def invoke_sync(self, cfg: dict, payload: bytes, want_log: bool):
        with self.invoke_lock:
            return self._invoke_locked(cfg, payload, want_log)

    def _invoke_locked(self, cfg, payload, want_log):
        request_id = str(uuid.uuid4())
        base_headers = [("Content-Type", "application/json"),
                        ("X-Amz-Executed-Version", cfg.get("Version") or "$LATEST"),
                        ("x-amzn-RequestId", request_id)]

        def function_error(error_type, message):
            body = json.dumps({"errorType": error_type, "errorMessage": message}).encode()
            return 200, base_headers + [("X-Amz-Function-Error", "Unhandled")], body

        self.current_role = role_name(cfg.get("Role") or "")
        if not self.bootstrap_path or not os.path.isfile(self.bootstrap_path):
            return function_error("Runtime.InvalidEntrypoint",
                                  f"devstack: no bootstrap binary at {self.bootstrap_path}")
        st = os.stat(self.bootstrap_path)
        env = self.bootstrap_env(cfg)
        timeout_s = float(cfg.get("Timeout") or 3)
        key = (self.bootstrap_path, st.st_mtime_ns, st.st_size, tuple(sorted(env.items())))
        forwarder_log = os.path.join(self.logs_dir, "forwarder.log")
        with self.state_lock:
            try:
                self.runtime.ensure(key, env, self.bootstrap_path)
            except RuntimeError as e:
                return 502, [("Content-Type", "text/plain")], f"devstack: {e}".encode()
            self.runtime.timeout_s = timeout_s
            self.runtime.function_arn = cfg.get("FunctionArn") or self.runtime.function_arn
            watch_url = self.runtime.watch_url
            bootstrap = self.runtime.bootstrap
        log_start = os.path.getsize(forwarder_log) if os.path.exists(forwarder_log) else 0
        started_wall = time.time()

        result: dict = {}

        def call():
            host, port = split_url(watch_url)
            try:
                conn = http.client.HTTPConnection(host, port, timeout=timeout_s + 30)
                conn.request("POST", "/2015-03-31/functions/_/invocations", body=payload,
                             headers={"Content-Type": "application/json"})
                resp = conn.getresponse()
                result["resp"] = (resp.status, resp.getheaders(), resp.read())
                conn.close()
            except Exception as e:  # noqa: BLE001
                result["error"] = e

        worker = threading.Thread(target=call, daemon=True)
        worker.start()
        started = time.monotonic()
        outcome = None
        while worker.is_alive():
            worker.join(0.05)
            if not worker.is_alive():
                break
            if bootstrap.poll() is not None:
                worker.join(0.5)  # the answer may already be on its way
                if worker.is_alive():
                    outcome = function_error(
                        "Runtime.ExitError",
                        f"RequestId: {request_id} Error: Runtime exited with error: "
                        f"exit status {bootstrap.returncode}")
                break
            if time.monotonic() - started > timeout_s + 1:
                outcome = function_error(
                    "Sandbox.Timedout",
                    f"RequestId: {request_id} Error: Task timed out after {timeout_s:.2f} seconds")
                break
        if outcome is None:
            if "error" in result:
                outcome = (502, [("Content-Type", "text/plain")],
                           f"devstack: invoke through cargo lambda failed: {result['error']}"
                           .encode())
            else:
                status, _headers, body = result["resp"]
                if status == 200:
                    outcome = (200, base_headers, body)
                elif status == 500 and body.startswith(b"{") and b"errorType" in body:
                    outcome = (200, base_headers + [("X-Amz-Function-Error", "Unhandled")], body)
                else:
                    outcome = (status, base_headers, body)
        else:
            # the runtime died or hung: throw away this generation (its queue may hold the event)
            with self.state_lock:
                self.runtime.stop()
        if want_log or "lambda-logs" in self.behaviours:
            with open(forwarder_log, "rb") as f:
                f.seek(log_start)
                output = f.read()
        if "lambda-logs" in self.behaviours:
            try:
                stream = self.lambda_logs.write(cfg, bootstrap, request_id,
                                                output.decode(errors="replace"), started_wall,
                                                time.monotonic() - started)
                log(f"lambda-logs: {stream or 'no log group and no logs:CreateLogGroup: nothing'}")
            except Exception as e:  # noqa: BLE001 - Lambda's logging never fails an invoke
                log(f"lambda-logs: could not write: {e!r}")
        if want_log:
            logs = output[-4096:]
            outcome = (outcome[0], outcome[1] + [("X-Amz-Log-Result",
                                                  base64.b64encode(logs).decode())], outcome[2])
        log(f"invoke {cfg.get('FunctionName')} -> {outcome[0]} "
            f"{dict(outcome[1]).get('X-Amz-Function-Error', '')} "
            f"in {time.monotonic() - started:.2f}s")
        return outcome

    # ---- runtime API proxy ----
    def runtime_api(self, method, path, headers, body):
        with self.state_lock:
            watch_url = self.runtime.watch_url
            timeout_s = self.runtime.timeout_s
            arn = self.runtime.function_arn
        host, port = split_url(watch_url)
        conn = http.client.HTTPConnection(host, port)  # /next is a long poll: no timeout
        try:
            fwd = {k: v for k, v in headers if k.lower() not in HOP_BY_HOP
                   and k.lower() not in ("host", "content-length")}
            conn.request(method, path, body=body if body else None, headers=fwd)
            resp = conn.getresponse()
            data = resp.read()
            out = []
            for k, v in resp.getheaders():
                if k.lower() == "lambda-runtime-deadline-ms":
                    v = str(int(time.time() * 1000 + timeout_s * 1000))
                elif k.lower() == "lambda-runtime-invoked-function-arn":
                    v = arn
                out.append((k, v))
            return resp.status, out, data
        finally:
            conn.close()


def make_handler(router: Router):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        server_version = "flowlogs-devstack-router"

        def log_message(self, fmt, *args):  # noqa: N802 - stdlib name
            log(f"{self.command} {self.path} " + (fmt % args))

        def read_body(self) -> bytes:
            if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
                out = bytearray()
                while True:
                    size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                    if size == 0:
                        while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                            pass
                        return bytes(out)
                    out += self.rfile.read(size)
                    self.rfile.readline()
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length else b""

        def reply(self, status, headers, body):
            self.send_response(status)
            has_length = False
            for k, v in headers:
                lk = k.lower()
                if lk in HOP_BY_HOP:
                    continue
                if lk == "content-length":
                    if self.command != "HEAD":
                        continue
                    has_length = True
                self.send_header(k, v)
            if self.command != "HEAD":
                self.send_header("Content-Length", str(len(body)))
            elif not has_length:
                self.send_header("Content-Length", "0")
            self.end_headers()
            if self.command != "HEAD" and body:
                self.wfile.write(body)

        def handle_any(self):
            try:
                body = self.read_body()
                headers = list(self.headers.items())
                split = urllib.parse.urlsplit(self.path)
                path = split.path
                if path == "/_devstack/health":
                    with router.state_lock:
                        info = {"watch": router.runtime.watch_url,
                                "bootstrap": router.bootstrap_path}
                    self.reply(200, [("Content-Type", "application/json")],
                               json.dumps(info).encode())
                elif path.startswith("/.rt/"):
                    self.reply(*router.runtime_api(self.command, self.path, headers, body))
                elif (self.command == "POST" and path.startswith(INVOKE_PREFIX)
                      and path.endswith(INVOKE_SUFFIX)):
                    name = path[len(INVOKE_PREFIX):-len(INVOKE_SUFFIX)]
                    self.reply(*router.invoke(name, split.query, headers, body))
                else:
                    self.reply(*router.aws(self.command, self.path, headers, body))
            except (BrokenPipeError, ConnectionResetError):
                pass
            except Exception as e:  # noqa: BLE001
                log(f"error on {self.command} {self.path}: {e!r}")
                try:
                    self.reply(502, [("Content-Type", "text/plain")], f"devstack: {e}".encode())
                except OSError:
                    pass

        do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_PATCH = do_OPTIONS = handle_any

    return Handler


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="flowlogs devstack router")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--moto", required=True, help="moto base URL")
    p.add_argument("--bootstrap", help="forwarder bootstrap binary (none: no Lambda runtime)")
    p.add_argument("--region", default="us-east-1")
    p.add_argument("--account", default="123456789012")
    p.add_argument("--cargo-lambda", default="cargo-lambda", help="cargo-lambda executable")
    p.add_argument("--watch-dir", default=".", help="a directory with a trivial Cargo.toml")
    p.add_argument("--logs-dir", required=True)
    args = p.parse_args(argv)

    router = Router(args)
    if router.bootstrap_path:
        router.runtime.start_watch()  # proves cargo lambda works before we report ready

    def on_term(_sig, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(router))
    server.daemon_threads = True
    log(f"AWS behaviours: {', '.join(sorted(router.behaviours)) or 'none'}")
    log(f"router on 127.0.0.1:{args.port} -> moto {router.moto_url}, "
        f"cargo lambda watch {router.runtime.watch_url}, bootstrap {router.bootstrap_path}")
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        router.runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
