"""The local stack's AWS endpoint, an HTTP front that routes each request to the part that
answers it:

- `/.rt/...`: the forwarder's Lambda runtime API calls, to cargo lambda (`lambda_runtime.py`);
- `POST /2015-03-31/functions/{name}/invocations` (Lambda Invoke): the function's configuration is
  read from moto, then the invoke runs the real forwarder (`lambda_runtime.LambdaManager`), or,
  for InvocationType Event, is queued (`async_invoke.AsyncInvoker`);
- `/_devstack/health`: the runtime's state, for stack.py's readiness check;
- everything else: the AWS front (`aws_front.py`), which sends it to moto or answers as AWS would.

Started by devstack/stack.py; runs `cargo lambda watch` and `bootstrap` in its own process group,
so stopping that group stops everything.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import behaviours as behaviours_mod  # noqa: E402
from async_invoke import AsyncInvoker, queued_line  # noqa: E402
from aws_calls import function_name  # noqa: E402
from aws_front import AwsFront  # noqa: E402
from consistency import Consistency  # noqa: E402
from lambda_logs import LambdaLogs  # noqa: E402
from lambda_runtime import LambdaManager, Runtime  # noqa: E402
from moto_client import Moto  # noqa: E402
from proxy import HOP_BY_HOP, forward, log  # noqa: E402

INVOKE_PREFIX = "/2015-03-31/functions/"
INVOKE_SUFFIX = "/invocations"
DUMMY_AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/lambda/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


class Router:
    """The parts, wired: the Lambda manager, the async-invoke engine and the AWS front."""

    def __init__(self, args):
        self.moto_url = args.moto.rstrip("/")
        self.behaviours = behaviours_mod.from_env()
        moto = Moto(self.moto_url)
        bootstrap_path = os.path.abspath(args.bootstrap) if args.bootstrap else ""
        self.lambdas = LambdaManager(
            bootstrap_path, args.port, Runtime(args.cargo_lambda, args.watch_dir, args.logs_dir),
            LambdaLogs(moto), self.behaviours)
        self.async_invoker = AsyncInvoker(moto, self.lambdas.invoke_sync, self.behaviours,
                                          behaviours_mod.retry_delays(), log)
        consistency = Consistency(self.behaviours, behaviours_mod.window(), args.region,
                                  args.account)
        self.front = AwsFront(self.moto_url, moto, consistency, self.behaviours, args.region,
                              self.async_invoker, lambda: self.lambdas.current_role)

    def function_configuration(self, name_in_path: str, query: str, headers) -> tuple:
        auth = [(k, v) for k, v in headers if k.lower() in ("authorization", "x-amz-date",
                                                            "x-amz-security-token")]
        if not any(k.lower() == "authorization" for k, _ in auth):
            auth.append(("Authorization", DUMMY_AUTH))
        qualifier = urllib.parse.parse_qs(query).get("Qualifier", [None])[0]
        path = f"{INVOKE_PREFIX}{name_in_path}/configuration"
        if qualifier:
            path += "?Qualifier=" + urllib.parse.quote(qualifier)
        return forward(self.moto_url, "GET", path, auth, b"")

    def invoke(self, name_in_path, query, headers, body):
        """Lambda Invoke; returns (status, headers list, body)."""
        status, moto_headers, data = self.function_configuration(name_in_path, query, headers)
        if status != 200:
            return status, moto_headers, data  # e.g. ResourceNotFoundException, as AWS says it
        cfg = json.loads(data)
        hdr = {k.lower(): v for k, v in headers}
        invocation_type = hdr.get("x-amz-invocation-type", "RequestResponse")
        if invocation_type == "DryRun":
            return 204, [], b""
        if invocation_type == "Event" and "s3-events" in self.behaviours:
            self.async_invoker.invoke(cfg.get("FunctionName") or function_name(name_in_path),
                                      body)
            return 202, [("Content-Type", "application/json")], b""
        if invocation_type == "Event":
            log(queued_line(cfg.get("FunctionName") or function_name(name_in_path)))
            threading.Thread(target=self.lambdas.invoke_sync, args=(cfg, body, False, "Event"),
                             daemon=True).start()
            return 202, [("Content-Type", "application/json")], b""
        return self.lambdas.invoke_sync(cfg, body, hdr.get("x-amz-log-type") == "Tail")


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
                    self.reply(200, [("Content-Type", "application/json")],
                               json.dumps(router.lambdas.health()).encode())
                elif path.startswith("/.rt/"):
                    self.reply(*router.lambdas.runtime_api(self.command, self.path, headers,
                                                           body))
                elif (self.command == "POST" and path.startswith(INVOKE_PREFIX)
                      and path.endswith(INVOKE_SUFFIX)):
                    name = path[len(INVOKE_PREFIX):-len(INVOKE_SUFFIX)]
                    self.reply(*router.invoke(name, split.query, headers, body))
                else:
                    self.reply(*router.front.aws(self.command, self.path, headers, body))
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
    runtime = router.lambdas.runtime
    if router.lambdas.bootstrap_path:
        runtime.start_watch()  # proves cargo lambda works before we report ready

    def on_term(_sig, _frame):
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, on_term)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), make_handler(router))
    server.daemon_threads = True
    log(f"AWS behaviours: {', '.join(sorted(router.behaviours)) or 'none'}")
    log(f"router on 127.0.0.1:{args.port} -> moto {router.moto_url}, "
        f"cargo lambda watch {runtime.watch_url}, bootstrap {router.lambdas.bootstrap_path}")
    try:
        server.serve_forever(poll_interval=0.2)
    except (KeyboardInterrupt, SystemExit):
        pass
    finally:
        runtime.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
