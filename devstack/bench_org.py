"""The organisation benchmark of issue 24 (`devstack/bench-org`): how `flowlogs plan` and a no-op
`flowlogs setup` scale from one member account to a fleet (50 accounts × 2 regions by default) at
concurrency 8, against the local stack (moto behind the router, every AWS behaviour on).

1. Starts a stack (`stack.py up --services moto`, default behaviours) in a temporary directory.
2. Seeds an organisation: the hub (moto's default account) creates it and `1 + accounts` member
   accounts (CreateAccount makes `OrganizationAccountAccessRole` in each), and, in each member and
   region, one VPC beside moto's default VPC.
3. Two configs, both `flow_log.resources.all_vpcs: true` through `targets:` (accounts, regions,
   role, concurrency): `bench-one` targets the first member, `bench-fleet` the others. Each is set
   up once (not timed; `--no-verify`, a stand-in forwarder zip: moto runs no code), then
   `plan --detailed-exitcode` (must say no changes) and `setup --yes --no-verify` (no-op) are timed
   `repeat` times each; the median counts.
4. Prints a table: wall time per command for one account and for the fleet, and the ratio.

Needs the product of issue 24 (`targets:`); `--seed-only` checks steps 1 and 2 alone.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import zipfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
HUB_REGION = "us-east-1"
ROLE = "OrganizationAccountAccessRole"


def stack_up(state: str) -> dict:
    out = subprocess.run([sys.executable, os.path.join(HERE, "stack.py"), "up", "--state", state,
                          "--services", "moto"], stdout=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"stack.py up failed ({out.returncode})")
    return json.loads(out.stdout)


def stack_down(state: str) -> None:
    subprocess.run([sys.executable, os.path.join(HERE, "stack.py"), "down", "--state", state],
                   check=False)


def client(endpoint: str, service: str, region: str = HUB_REGION, creds: dict | None = None):
    import boto3

    creds = creds or {"aws_access_key_id": "test", "aws_secret_access_key": "test"}
    return boto3.client(service, region_name=region, endpoint_url=endpoint, **creds)


def seed(endpoint: str, members: int, regions: list[str]) -> list[str]:
    """The organisation and its members, each with one VPC per region; the member account ids."""
    started = time.monotonic()
    org = client(endpoint, "organizations")
    org.create_organization(FeatureSet="ALL")
    sts = client(endpoint, "sts")
    accounts = []
    for n in range(members):
        status = org.create_account(AccountName=f"bench-{n}",
                                    Email=f"bench-{n}@example.com")["CreateAccountStatus"]
        account = status["AccountId"]
        c = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{ROLE}",
                            RoleSessionName="bench-seed")["Credentials"]
        creds = {"aws_access_key_id": c["AccessKeyId"],
                 "aws_secret_access_key": c["SecretAccessKey"],
                 "aws_session_token": c["SessionToken"]}
        for region in regions:
            vpc = client(endpoint, "ec2", region, creds).create_vpc(CidrBlock="10.8.0.0/16")["Vpc"]
            assert vpc["OwnerId"] == account, vpc
        accounts.append(account)
    print(f"seeded {members} member accounts × {len(regions)} regions (2 VPCs each: the default "
          f"and one) in {time.monotonic() - started:.1f}s", flush=True)
    return accounts


def config(stack: str, accounts: list[str], regions: list[str], concurrency: int) -> str:
    lines = [
        "version: 1", f"stack: {stack}", f"region: {HUB_REGION}",
        "flow_log:", "  resources:", "    all_vpcs: true",
        "delivery:", "  otlp:", "    endpoint: https://collector.example.com:4318",
        "targets:", "  accounts:"] + [f"    - \"{a}\"" for a in accounts] + [
        "  regions:"] + [f"    - {r}" for r in regions] + [
        f"  role: {ROLE}", f"  concurrency: {concurrency}", ""]
    return "\n".join(lines)


def fake_zip(path: str) -> None:
    data = io.BytesIO()
    with zipfile.ZipFile(data, "w") as z:
        z.writestr("bootstrap", "#!/bin/sh\n")
    with open(path, "wb") as f:
        f.write(data.getvalue())


class Runner:
    def __init__(self, flowlogs: str, endpoint: str, state: str):
        self.flowlogs, self.state = flowlogs, state
        self.env = {k: v for k, v in os.environ.items()
                    if not k.startswith("AWS_") and k != "FLOWLOGS_FORWARDER_FROM_SOURCE"}
        self.env.update({"AWS_ENDPOINT_URL": endpoint, "AWS_ACCESS_KEY_ID": "test",
                         "AWS_SECRET_ACCESS_KEY": "test", "AWS_REGION": HUB_REGION,
                         "AWS_CONFIG_FILE": os.path.join(state, "no-aws-config"),
                         "AWS_SHARED_CREDENTIALS_FILE": os.path.join(state, "no-aws-credentials"),
                         "AWS_EC2_METADATA_DISABLED": "true"})
        self.zip = os.path.join(state, "forwarder.zip")
        fake_zip(self.zip)

    def run(self, cfg: str, args: list[str], ok: tuple[int, ...] = (0,)) -> float:
        cmd = [self.flowlogs, *args, "--forwarder-zip", self.zip, "-c", cfg]
        started = time.monotonic()
        out = subprocess.run(cmd, env=self.env, stdin=subprocess.DEVNULL, capture_output=True,
                             text=True, check=False)
        took = time.monotonic() - started
        if out.returncode not in ok:
            raise SystemExit(f"$ {' '.join(cmd)} -> {out.returncode}\n{out.stdout}{out.stderr}")
        return took


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--accounts", type=int, default=50)
    p.add_argument("--regions", default="us-east-1,eu-west-1")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--flowlogs")
    p.add_argument("--seed-only", action="store_true")
    p.add_argument("--keep", action="store_true", help="keep the stack's directory")
    args = p.parse_args(argv)
    regions = [r.strip() for r in args.regions.split(",") if r.strip()]
    flowlogs = args.flowlogs
    if not flowlogs and not args.seed_only:
        target = os.environ.get("CARGO_TARGET_DIR") or os.path.join(ROOT, "target")
        flowlogs = next((p for p in (os.path.join(target, "release", "flowlogs"),
                                     os.path.join(target, "debug", "flowlogs"))
                         if os.path.isfile(p)), None)
        if flowlogs is None:
            raise SystemExit(f"no flowlogs binary under {target}: cargo build --release, "
                             "or --flowlogs PATH")
    state = tempfile.mkdtemp(prefix="flowlogs-bench-org-")
    try:
        endpoint = stack_up(state)["aws_endpoint"]
        accounts = seed(endpoint, 1 + args.accounts, regions)
        if args.seed_only:
            return 0
        runner = Runner(flowlogs, endpoint, state)
        results = {}
        for name, targets in (("one", accounts[:1]), ("fleet", accounts[1:])):
            cfg = os.path.join(state, f"bench-{name}.yaml")
            with open(cfg, "w") as f:
                f.write(config(f"bench-{name}", targets, regions, args.concurrency))
            first = runner.run(cfg, ["setup", "--yes", "--no-verify"])
            print(f"bench-{name}: {len(targets)} account(s) × {len(regions)} regions, first "
                  f"setup {first:.2f}s", flush=True)
            plans = [runner.run(cfg, ["plan", "--detailed-exitcode"]) for _ in range(args.repeat)]
            setups = [runner.run(cfg, ["setup", "--yes", "--no-verify"])
                      for _ in range(args.repeat)]
            results[name] = (len(targets), statistics.median(plans), statistics.median(setups))
        (n1, plan1, setup1), (nf, planf, setupf) = results["one"], results["fleet"]
        print(f"\nflowlogs {os.path.basename(flowlogs)} ({flowlogs}), concurrency "
              f"{args.concurrency}, {len(regions)} regions, median of {args.repeat}")
        print(f"{'command':<24}{f'{n1} account':>12}{f'{nf} accounts':>14}{'ratio':>8}")
        for label, one, fleet in (("plan", plan1, planf), ("setup (no changes)", setup1, setupf)):
            print(f"{label:<24}{one:>11.2f}s{fleet:>13.2f}s{fleet / one:>7.1f}×")
        return 0
    finally:
        stack_down(state)
        if args.keep:
            print(f"kept {state}")
        else:
            shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
