#!/usr/bin/env python3
"""Checks that `cargo build` and `cargo test` compile the AWS SDK alike. Dev-dependencies can turn on
features of crates the SDK sits on (tokio, libc, url's idna, ...); cargo then builds that crate,
and every SDK crate above it, a second time for the tests, which is most of a first run again
after the demo's build. Lists every crate whose features differ between the two builds, and exits
1 when one of them is a dependency of an SDK crate, naming the fix. Run: .ci/feature-drift.py"""
import subprocess, sys


def tree(*args):
    packages = args if "-p" in args else ("--workspace", *args)
    out = subprocess.run(["cargo", "tree", "--prefix", "none", *packages],
                         check=True, capture_output=True, text=True).stdout
    return [line.replace(" (*)", "").replace(" (proc-macro)", "") for line in out.splitlines() if line]


def features(edges):
    found = {}
    for line in tree("-e", edges, "-f", "{p}|{f}"):
        package, _, feats = line.partition("|")
        name, version = package.split()[:2]
        found.setdefault((name, version), set()).add(feats)
    return found


build = features("no-dev")   # what `cargo build` resolves
test = features("all")       # what `cargo test` resolves
sdk = sorted({name for name, _ in build if name.startswith("aws-sdk-") or name == "aws-config"})
cone = set()
for line in tree("-e", "normal,build", "-f", "{p}", *[a for name in sdk for a in ("-p", name)]):
    name, version = line.split()[:2]
    cone.add((name, version))

differing = sorted(key for key in build if key in test and build[key] != test[key])
failed = False
for name, version in differing:
    under_sdk = (name, version) in cone
    failed |= under_sdk
    print(f"{'UNDER THE SDK' if under_sdk else 'test build only'}: {name} {version}: "
          f"build {sorted(build[(name, version)])} test {sorted(test[(name, version)])}")
if failed:
    print("a dev-dependency changes the features of a crate the AWS SDK depends on: ask for the same "
          "features in the deployer's [dependencies] (see the comment there), or `cargo test` "
          "compiles the SDK twice", file=sys.stderr)
    sys.exit(1)
print(f"the AWS SDK ({len(sdk)} crates, {len(cone)} packages with their dependencies) is built "
      f"alike for `cargo build` and `cargo test`")
