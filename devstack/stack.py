"""The local stack for flowlogs' tests and demo: moto, rotel and the forwarder under cargo lambda.

    python devstack/stack.py up   --state DIR [--services moto,rotel,lambda[,otlp-headers][,aws-tls][,otlp-tls][,otlp-no-zstd]]
                                  [--bootstrap PATH]
                                  [--aws-behaviours default|all|none|name,name]
    python devstack/stack.py down --state DIR

`up` starts each service on a free 127.0.0.1 port, waits until each answers a real request
(bounded; on failure it prints the service's log tail, stops what it started and exits 1),
then writes DIR/state.json and prints the same JSON:

    {"aws_endpoint": "http://127.0.0.1:P",   # the router when lambda is on, else moto itself
     "moto_endpoint": "http://127.0.0.1:M",
     "otlp_endpoint": "http://127.0.0.1:R",  # rotel's OTLP/HTTP receiver (base URL)
     "capture_file": "DIR/otlp-logs.jsonl",  # one JSON object per received log record
     "pids": {"moto": 1, "rotel": 2, "router": 3}, "logs_dir": "DIR/logs", ...}

`otlp-headers` (implies rotel) puts devstack/otlp_front.py before rotel: `otlp_endpoint` is then
the front, which writes the headers of every request to `otlp_requests_file` and passes it on.

`aws-tls` (implies moto) puts devstack/tls_front.py before the AWS endpoint: `aws_tls_endpoint`
is `https://127.0.0.1:T`, whose certificate is signed by the authority in `aws_tls_ca_file`
(made at start; trust it with SSL_CERT_FILE). `aws_endpoint` stays plain HTTP.

`otlp-no-zstd` (implies rotel) puts devstack/otlp_front.py before rotel with
`--refuse-encoding zstd`: `otlp_no_zstd_endpoint` answers 415 to a zstd request and passes every
other one to rotel, recording each in `otlp_no_zstd_requests_file`.

`otlp-tls` (implies rotel) puts the same front before the OTLP endpoint: `otlp_tls_endpoint` is
`https://127.0.0.1:U`, signed by the authority in `otlp_tls_ca_file`. `otlp_endpoint` stays plain
HTTP.

`down` stops every process group named in state.json and waits until none is left; it is
idempotent. Every service runs in its own session, so a process group is a whole service
(the router's group also holds `cargo lambda watch` and the forwarder).

lambda needs moto (the router forwards every non-Invoke call to it): asking for lambda
starts moto too.

`--aws-behaviours` (default: FLOWLOGS_DEVSTACK_BEHAVIOURS, else `default`) chooses which AWS
behaviours the stack's AWS front shows (devstack/behaviours.py, devstack/README.md); the chosen
names are in state.json as `aws_behaviours`. A behaviour of the router on a stack without lambda
puts the router (without a Lambda runtime) in front of moto. The venv comes from FLOWLOGS_VENV (default ~/.cache/flowlogs/venv).
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import ssl
import subprocess
import sys
import time

import behaviours

HERE = os.path.dirname(os.path.abspath(__file__))
ALL_SERVICES = ("moto", "rotel", "lambda", "otlp-headers", "aws-tls", "otlp-tls", "otlp-no-zstd")
# Started only when asked for (not part of the default set): a front before rotel that records
# every request's headers (devstack/otlp_front.py), an HTTPS front before the AWS endpoint
# (devstack/tls_front.py), and one before the OTLP endpoint.
DEFAULT_SERVICES = ("moto", "rotel", "lambda")
ACCOUNT_ID = "123456789012"
REGION = "us-east-1"
STS_AUTH = (
    "AWS4-HMAC-SHA256 Credential=test/20240101/us-east-1/sts/aws4_request, "
    "SignedHeaders=host, Signature=0"
)


class StackError(Exception):
    pass


def venv_dir() -> str:
    return os.environ.get("FLOWLOGS_VENV") or os.path.join(
        os.path.expanduser("~"), ".cache", "flowlogs", "venv"
    )


def rotel_agent(venv: str) -> str:
    lib = os.path.join(venv, "lib")
    for entry in sorted(os.listdir(lib)) if os.path.isdir(lib) else []:
        candidate = os.path.join(lib, entry, "site-packages", "rotel", "rotel-agent")
        if os.path.isfile(candidate):
            return candidate
    raise StackError(f"rotel-agent not found under {lib}/*/site-packages/rotel: run .ci/install")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tail(path: str, lines: int = 40) -> str:
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            f.seek(max(0, f.tell() - 16384))
            text = f.read().decode(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


def http_status(url: str, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> int | None:
    host, port = url.split("//", 1)[1].split(":")
    try:
        conn = http.client.HTTPConnection(host, int(port), timeout=3)
        conn.request(method, path, body=body, headers=headers or {})
        status = conn.getresponse().status
        conn.close()
        return status
    except OSError:
        return None


# ---- processes --------------------------------------------------------------------------

def proc_start_time(pid: int) -> str | None:
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is pgid."""
    out = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if fields[0] != "Z" and int(fields[2]) == pgid:
            out.append(int(entry))
    return out


def stop_group(pgid: int, grace: float = 5.0) -> None:
    if not group_members(pgid):
        return
    try:
        os.killpg(pgid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not group_members(pgid):
            return
        time.sleep(0.05)
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + 5
    while group_members(pgid) and time.monotonic() < deadline:
        time.sleep(0.05)


def spawn(name: str, cmd: list[str], logs_dir: str, env: dict | None = None,
          cwd: str | None = None) -> subprocess.Popen:
    logf = open(os.path.join(logs_dir, f"{name}.log"), "ab")
    try:
        return subprocess.Popen(
            cmd, stdin=subprocess.DEVNULL, stdout=logf, stderr=subprocess.STDOUT,
            env=env, cwd=cwd, start_new_session=True,
        )
    except OSError as e:
        raise StackError(f"{name}: cannot run {cmd[0]}: {e}") from e
    finally:
        logf.close()


class Service:
    def __init__(self, name: str, proc: subprocess.Popen, url: str, log: str, ready):
        self.name, self.proc, self.url, self.log, self.ready = name, proc, url, log, ready


def wait_ready(svc: Service, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        if svc.proc.poll() is not None:
            raise StackError(
                f"{svc.name} exited with status {svc.proc.returncode} before it was ready.\n"
                f"--- {svc.log} (tail) ---\n{tail(svc.log)}"
            )
        if svc.ready(svc.url):
            return
        if time.monotonic() > deadline:
            raise StackError(
                f"{svc.name} did not answer on {svc.url} within {timeout:.0f}s.\n"
                f"--- {svc.log} (tail) ---\n{tail(svc.log)}"
            )
        time.sleep(delay)
        delay = min(delay * 1.5, 0.5)


# ---- readiness probes: a real request each ----------------------------------------------

def moto_ready(url: str) -> bool:
    return http_status(
        url, "POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15",
        {"Content-Type": "application/x-www-form-urlencoded", "Authorization": STS_AUTH},
    ) == 200


def rotel_ready(url: str) -> bool:
    return http_status(url, "POST", "/v1/logs", b'{"resourceLogs":[]}',
                       {"Content-Type": "application/json"}) == 200


def tls_front_ready(ca_file: str):
    def ready(url: str) -> bool:
        if not os.path.isfile(ca_file):
            return False
        host, port = url.split("//", 1)[1].split(":")
        context = ssl.create_default_context(cafile=ca_file)
        try:
            conn = http.client.HTTPSConnection(host, int(port), timeout=2, context=context)
            conn.request("POST", "/", b"Action=GetCallerIdentity&Version=2011-06-15",
                         {"Content-Type": "application/x-www-form-urlencoded",
                          "Authorization": STS_AUTH})
            status = conn.getresponse().status
            conn.close()
            return status == 200
        except (OSError, http.client.HTTPException):
            return False
    return ready


def otlp_tls_ready(ca_file: str):
    def ready(url: str) -> bool:
        if not os.path.isfile(ca_file):
            return False
        host, port = url.split("//", 1)[1].split(":")
        context = ssl.create_default_context(cafile=ca_file)
        try:
            conn = http.client.HTTPSConnection(host, int(port), timeout=2, context=context)
            conn.request("POST", "/v1/logs", b'{"resourceLogs":[]}',
                         {"Content-Type": "application/json"})
            status = conn.getresponse().status
            conn.close()
            return status == 200
        except (OSError, http.client.HTTPException):
            return False
    return ready


def router_ready(url: str) -> bool:
    return http_status(url, "GET", "/_devstack/health") == 200


# ---- up / down ---------------------------------------------------------------------------

def write_state(state_dir: str, state: dict) -> None:
    path = os.path.join(state_dir, "state.json")
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        json.dump(state, f, indent=2)
        f.write("\n")
    os.replace(tmp, path)


def read_state(state_dir: str) -> dict | None:
    try:
        with open(os.path.join(state_dir, "state.json")) as f:
            return json.load(f)
    except FileNotFoundError:
        return None
    except json.JSONDecodeError as e:
        raise StackError(f"{state_dir}/state.json is not JSON: {e}") from e


def down(state_dir: str) -> int:
    state = read_state(state_dir)
    if not state:
        return 0
    procs = state.get("procs", {})
    # the router first: it would otherwise notice and restart its children
    names = sorted(state.get("pids", {}), key=lambda n: (n != "router", n))
    for name in names:
        pid = state["pids"][name]
        recorded = procs.get(name, {}).get("start")
        now = proc_start_time(pid)
        if now is not None and recorded is not None and now != recorded:
            # the pid now belongs to another process: Linux does not reuse a pid while it is
            # still some group's id, so our group is gone and this one is not ours to stop
            continue
        stop_group(pid)
        left = group_members(pid)
        if left:
            print(f"devstack: {name} (process group {pid}) still has processes {left}",
                  file=sys.stderr)
            return 1
    state["pids"] = {}
    state["procs"] = {}
    state["stopped"] = True
    write_state(state_dir, state)
    return 0


def start_services(args) -> dict:
    state_dir = os.path.abspath(args.state)
    logs_dir = os.path.join(state_dir, "logs")
    os.makedirs(logs_dir, exist_ok=True)
    if read_state(state_dir):
        down(state_dir)  # a previous stack in the same directory: never leave it running

    try:
        chosen = behaviours.parse(args.aws_behaviours)
    except behaviours.BehaviourError as e:
        raise StackError(str(e)) from e
    services = [s.strip() for s in args.services.split(",") if s.strip()]
    unknown = [s for s in services if s not in ALL_SERVICES]
    if unknown:
        raise StackError(f"unknown service(s) {unknown}; known: {', '.join(ALL_SERVICES)}")
    if ("lambda" in services or "aws-tls" in services) and "moto" not in services:
        services.insert(0, "moto")
    for front in ("otlp-headers", "otlp-tls", "otlp-no-zstd"):
        if front in services and "rotel" not in services:
            services.insert(services.index(front), "rotel")
    venv = venv_dir()
    if not os.path.isdir(venv):
        raise StackError(f"no venv at {venv} (FLOWLOGS_VENV): run .ci/install first")
    bootstrap = None
    if "lambda" in services:
        if not args.bootstrap:
            raise StackError("the lambda service needs --bootstrap PATH (the forwarder binary)")
        bootstrap = os.path.abspath(args.bootstrap)
        if not os.path.isfile(bootstrap):
            raise StackError(f"--bootstrap {bootstrap}: no such file")

    capture = os.path.join(state_dir, "otlp-logs.jsonl")
    state = {
        "aws_endpoint": None,
        "moto_endpoint": None,
        "otlp_endpoint": None,
        "otlp_grpc_endpoint": None,
        "capture_file": capture,
        "pids": {},
        "procs": {},
        "logs_dir": logs_dir,
        "services": services,
        "account_id": ACCOUNT_ID,
        "region": REGION,
        "aws_behaviours": chosen,
    }
    started: list[Service] = []

    def record(svc: Service) -> None:
        started.append(svc)
        state["pids"][svc.name] = svc.proc.pid
        state["procs"][svc.name] = {"pid": svc.proc.pid, "start": proc_start_time(svc.proc.pid)}
        write_state(state_dir, state)  # so that `down` can clean up even if `up` is killed

    base_env = {k: v for k, v in os.environ.items() if not k.startswith("ROTEL_")}
    base_env[behaviours.ENV] = ",".join(chosen) or "none"
    router_needed = "lambda" in services or ("moto" in services and any(
        b not in behaviours.MOTO_WRAPPER_ONLY for b in chosen))
    try:
        if "moto" in services:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            # devstack/moto_server.py is moto_server with fixes where moto differs from AWS
            # (devstack/fixes/, each checked against a moto version: see devstack/README.md)
            wrapper = os.path.join(HERE, "moto_server.py")
            cmd = ([os.path.join(venv, "bin", "python"), wrapper] if os.path.isfile(wrapper)
                   else [os.path.join(venv, "bin", "moto_server")])
            # Each moto keeps its request recording in its own state dir, not in the cwd
            # (a file per server: tests run several stacks at once).
            moto_env = dict(base_env, MOTO_RECORDER_FILEPATH=os.path.join(state_dir, "moto_recording"))
            proc = spawn("moto", cmd + ["-H", "127.0.0.1", "-p", str(port)], logs_dir,
                         env=moto_env)
            record(Service("moto", proc, url, os.path.join(logs_dir, "moto.log"), moto_ready))
            state["moto_endpoint"] = state["aws_endpoint"] = url
        if "rotel" in services:
            port, grpc = free_port(), free_port()
            url = f"http://127.0.0.1:{port}"
            open(capture, "a").close()
            env = dict(base_env, FLOWLOGS_CAPTURE_FILE=capture)
            proc = spawn("rotel", [
                rotel_agent(venv), "start",
                "--otlp-http-endpoint", f"127.0.0.1:{port}",
                "--otlp-grpc-endpoint", f"127.0.0.1:{grpc}",
                "--exporter", "blackhole",
                "--otlp-with-logs-processor", os.path.join(HERE, "capture.py"),
                "--batch-timeout", "50ms",
                "--pid-file", os.path.join(state_dir, "rotel.pid"),
                "--log-file", os.path.join(logs_dir, "rotel-agent.log"),
            ], logs_dir, env=env, cwd=state_dir)
            record(Service("rotel", proc, url, os.path.join(logs_dir, "rotel.log"), rotel_ready))
            state["otlp_endpoint"] = url
            state["otlp_grpc_endpoint"] = f"http://127.0.0.1:{grpc}"
        if "otlp-headers" in services:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            requests = os.path.join(state_dir, "otlp-requests.jsonl")
            proc = spawn("otlp-headers", [
                sys.executable, os.path.join(HERE, "otlp_front.py"), "--port", str(port),
                "--upstream", state["otlp_endpoint"], "--record", requests,
            ], logs_dir, env=base_env)
            record(Service("otlp-headers", proc, url, os.path.join(logs_dir, "otlp-headers.log"),
                           rotel_ready))
            state["otlp_rotel_endpoint"] = state["otlp_endpoint"]
            state["otlp_endpoint"] = url
            state["otlp_requests_file"] = requests
        if router_needed:
            watch_dir = os.path.join(state_dir, "lambda-watch")
            os.makedirs(os.path.join(watch_dir, "src"), exist_ok=True)
            # cargo lambda watch runs `cargo metadata` even with --only-lambda-apis: give it
            # a trivial package without dependencies (works offline, builds nothing).
            with open(os.path.join(watch_dir, "Cargo.toml"), "w") as f:
                f.write('[package]\nname = "devstack-watch"\nversion = "0.0.0"\n'
                        'edition = "2021"\n\n[workspace]\n')
            with open(os.path.join(watch_dir, "src", "main.rs"), "w") as f:
                f.write("fn main() {}\n")
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            proc = spawn("router", [
                sys.executable, os.path.join(HERE, "router.py"),
                "--port", str(port), "--moto", state["moto_endpoint"],
                "--cargo-lambda", os.path.join(venv, "bin", "cargo-lambda"),
                "--watch-dir", watch_dir, "--logs-dir", logs_dir,
                "--region", REGION, "--account", ACCOUNT_ID,
            ] + (["--bootstrap", bootstrap] if bootstrap else []), logs_dir, env=base_env)
            record(Service("router", proc, url, os.path.join(logs_dir, "router.log"),
                           router_ready))
            state["aws_endpoint"] = url
            if bootstrap:
                state["bootstrap"] = bootstrap
        if "aws-tls" in services:
            port = free_port()
            url = f"https://127.0.0.1:{port}"
            cert_dir = os.path.join(state_dir, "aws-tls")
            os.makedirs(cert_dir, exist_ok=True)
            ca_file = os.path.join(cert_dir, "ca.pem")
            proc = spawn("aws-tls", [
                os.path.join(venv, "bin", "python"), os.path.join(HERE, "tls_front.py"),
                "--port", str(port), "--upstream", state["aws_endpoint"], "--cert-dir", cert_dir,
            ], logs_dir, env=base_env)
            record(Service("aws-tls", proc, url, os.path.join(logs_dir, "aws-tls.log"),
                           tls_front_ready(ca_file)))
            state["aws_tls_endpoint"] = url
            state["aws_tls_ca_file"] = ca_file
        if "otlp-tls" in services:
            port = free_port()
            url = f"https://127.0.0.1:{port}"
            cert_dir = os.path.join(state_dir, "otlp-tls")
            os.makedirs(cert_dir, exist_ok=True)
            ca_file = os.path.join(cert_dir, "ca.pem")
            proc = spawn("otlp-tls", [
                os.path.join(venv, "bin", "python"), os.path.join(HERE, "tls_front.py"),
                "--port", str(port), "--upstream", state["otlp_endpoint"], "--cert-dir", cert_dir,
            ], logs_dir, env=base_env)
            record(Service("otlp-tls", proc, url, os.path.join(logs_dir, "otlp-tls.log"),
                           otlp_tls_ready(ca_file)))
            state["otlp_tls_endpoint"] = url
            state["otlp_tls_ca_file"] = ca_file
        if "otlp-no-zstd" in services:
            port = free_port()
            url = f"http://127.0.0.1:{port}"
            requests = os.path.join(state_dir, "otlp-no-zstd-requests.jsonl")
            proc = spawn("otlp-no-zstd", [
                sys.executable, os.path.join(HERE, "otlp_front.py"), "--port", str(port),
                "--upstream", state["otlp_endpoint"], "--record", requests,
                "--refuse-encoding", "zstd",
            ], logs_dir, env=base_env)
            record(Service("otlp-no-zstd", proc, url, os.path.join(logs_dir, "otlp-no-zstd.log"),
                           rotel_ready))
            state["otlp_no_zstd_endpoint"] = url
            state["otlp_no_zstd_requests_file"] = requests
        for svc in started:
            wait_ready(svc, args.timeout)
    except BaseException:
        for svc in started:
            stop_group(svc.proc.pid)
        state["pids"], state["procs"] = {}, {}
        write_state(state_dir, state)
        raise
    write_state(state_dir, state)
    return state


def up(args) -> int:
    # A free port can be taken by someone else between our probe and the service's bind:
    # start again on new ports when that is what went wrong.
    for attempt in range(3):
        try:
            state = start_services(args)
            break
        except StackError as e:
            if "in use" not in str(e).lower() or attempt == 2:
                raise
            print(f"devstack: a port was taken meanwhile, starting again: {e}", file=sys.stderr)
    print(json.dumps(state, indent=2))
    return 0


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description="flowlogs local stack (moto, rotel, cargo lambda)")
    sub = p.add_subparsers(dest="cmd", required=True)
    pu = sub.add_parser("up", help="start the stack and print its state as JSON")
    pu.add_argument("--state", required=True, help="directory for state.json, logs, capture")
    pu.add_argument("--services", default=",".join(DEFAULT_SERVICES),
                    help="comma-separated subset of " + ",".join(ALL_SERVICES)
                         + " (default: " + ",".join(DEFAULT_SERVICES) + ")")
    pu.add_argument("--bootstrap", help="forwarder bootstrap binary (lambda service)")
    pu.add_argument("--aws-behaviours",
                    default=os.environ.get(behaviours.ENV) or "default",
                    help="AWS behaviours of the stack's AWS front: default, all, none, or "
                         "names (-name removes one): " + ", ".join(behaviours.ALL))
    pu.add_argument("--timeout", type=float,
                    default=float(os.environ.get("FLOWLOGS_STACK_TIMEOUT", "120")),
                    help="seconds to wait for each service (default 120)")
    pd = sub.add_parser("down", help="stop every process of the stack (idempotent)")
    pd.add_argument("--state", required=True)
    args = p.parse_args(argv)

    def on_term(_sig, _frame):
        raise SystemExit(143)

    signal.signal(signal.SIGTERM, on_term)
    try:
        if args.cmd == "up":
            return up(args)
        return down(os.path.abspath(args.state))
    except StackError as e:
        print(f"devstack: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
