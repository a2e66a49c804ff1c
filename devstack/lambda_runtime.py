"""The Lambda function manager: runs the real forwarder for the router's Lambda Invoke.

moto's Lambda runs no code. For an invoke the manager
  1. has the function's configuration read back from moto (GetFunctionConfiguration: environment,
     timeout, memory, ARN) - the environment the deployer configured, never a copy of it;
  2. (re)starts `cargo lambda watch --only-lambda-apis` and the forwarder `bootstrap` binary with
     that environment, plus AWS_LAMBDA_RUNTIME_API, AWS_ENDPOINT_URL=the router and dummy
     credentials, whenever the configuration or the binary changed or the previous process died;
  3. forwards the invoke to cargo lambda and answers the way AWS Lambda does: 200 with the
     payload, or 200 with `X-Amz-Function-Error: Unhandled` and the error payload (cargo lambda
     itself answers a function error with a bare 500), `Runtime.ExitError` when the bootstrap
     dies, `Sandbox.Timedout` past the function's timeout.
The bootstrap reaches the runtime API through the router (`/.rt/...`, `runtime_api`), which
rewrites two headers that cargo lambda gets wrong: `Lambda-Runtime-Deadline-Ms` (cargo lambda
sends the constant 600000, a deadline in 1970) becomes now + the function's timeout, and
`Lambda-Runtime-Invoked-Function-Arn` (the literal "function-arn") becomes the real ARN.

Invokes are served one at a time, as one Lambda instance with reserved concurrency 1 would. With
behaviour `lambda-logs`, each invoke's output is written to the function's log group
(`lambda_logs.py`).
"""

from __future__ import annotations

import base64
import http.client
import json
import os
import subprocess
import threading
import time
import uuid

from aws_calls import FORWARDER_ACCESS_KEY, role_name
from lambda_logs import LambdaLogs
from proxy import HOP_BY_HOP, free_port, log, split_url


def tail(path: str, n: int = 4096) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - n))
            return f.read().decode(errors="replace")
    except OSError:
        return ""



def invoke_line(function: str, invocation_type: str, status: int, function_error: str,
                seconds: float) -> str:
    """The router's log line of one invoke that ended: `invoke F (Event) -> 200  in 0.12s`. The
    integration harness reads it (`Stack::invocations`): keep the two in step."""
    return f"invoke {function} ({invocation_type}) -> {status} {function_error} in {seconds:.2f}s"

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


def bootstrap_env(cfg: dict, router_port: int) -> dict:
    """The forwarder's environment: the function's own variables, Lambda's reserved ones, and the
    router as its AWS endpoint (so that AWS behaviours apply to the forwarder's calls too)."""
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
        "AWS_LAMBDA_RUNTIME_API": f"http://127.0.0.1:{router_port}/.rt",
        "AWS_LAMBDA_FUNCTION_NAME": "_",
        "AWS_LAMBDA_FUNCTION_VERSION": cfg.get("Version") or "$LATEST",
        "AWS_LAMBDA_FUNCTION_MEMORY_SIZE": str(cfg.get("MemorySize") or 128),
        "AWS_LAMBDA_LOG_GROUP_NAME": f"/aws/lambda/{name}",
        "AWS_LAMBDA_LOG_STREAM_NAME": "devstack",
        "AWS_EXECUTION_ENV": "AWS_Lambda_provided.al2023",
        "AWS_REGION": region,
        "AWS_DEFAULT_REGION": region,
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{router_port}",
        "AWS_ACCESS_KEY_ID": FORWARDER_ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_SESSION_TOKEN": "test",
        "AWS_EC2_METADATA_DISABLED": "true",
        "_HANDLER": cfg.get("Handler") or "bootstrap",
    })
    return env


class LambdaManager:
    """Runs invokes of the function, one at a time, on the current `Runtime` generation."""

    def __init__(self, bootstrap_path: str, router_port: int, runtime: Runtime,
                 lambda_logs: LambdaLogs, behaviours: set[str]):
        self.bootstrap_path = bootstrap_path
        self.router_port = router_port
        self.runtime = runtime
        self.lambda_logs = lambda_logs
        self.behaviours = behaviours
        self.logs_dir = runtime.logs_dir
        self.invoke_lock = threading.Lock()
        self.state_lock = threading.Lock()
        self.current_role = ""  # the role of the function being invoked (invokes are serial)

    def health(self) -> dict:
        with self.state_lock:
            return {"watch": self.runtime.watch_url, "bootstrap": self.bootstrap_path}

    def invoke_sync(self, cfg: dict, payload: bytes, want_log: bool,
                    invocation_type: str = "RequestResponse"):
        """Runs one invoke of the function `cfg` describes; returns (status, headers, body).
        `invocation_type` is the caller's (`Event` for an attempt of an async invoke), for the
        log only: the harness counts the `Event` attempts that ended (`invoke_line`)."""
        with self.invoke_lock:
            return self._invoke_locked(cfg, payload, want_log, invocation_type)

    def _invoke_locked(self, cfg, payload, want_log, invocation_type):
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
        env = bootstrap_env(cfg, self.router_port)
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
        log(invoke_line(cfg.get('FunctionName'), invocation_type, outcome[0],
                        dict(outcome[1]).get('X-Amz-Function-Error', ''),
                        time.monotonic() - started))
        return outcome

    def runtime_api(self, method, path, headers, body):
        """The bootstrap's runtime API calls, passed to cargo lambda with its headers fixed."""
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
