"""moto's server with the devstack's fixes applied: the AWS side's emulator, answering as AWS does
where moto does not.

Each fix is a module per service in `devstack/fixes/` (s3, iam, ec2, lambda_, athena,
secretsmanager, firehose, and core for moto's server itself), registered with the moto version it
was checked on and what real AWS does (`fixes/registry.py`). On start every fix is applied; a
fix not verified for the installed moto is named on stderr (moto.log), or stops the server with
`FLOWLOGS_DEVSTACK_UNVERIFIED_FIXES=refuse`; a fix that cannot be applied always stops it. Fixes
that implement a switchable behaviour (devstack/behaviours.py) follow
`FLOWLOGS_DEVSTACK_BEHAVIOURS`.

Usage: moto_server.py -H HOST -p PORT (moto's own options)
       moto_server.py --fixes (the registry: name, service, moto version, switch, what AWS does)
"""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import behaviours  # noqa: E402
import fixes  # noqa: E402


def main(argv: list[str]) -> int:
    if argv[:1] == ["--fixes"]:
        print(fixes.table())
        return 0
    import moto
    from moto.server import main as moto_main

    try:
        fixes.apply_all(moto.__version__, behaviours.from_env(),
                        log=lambda line: print(line, file=sys.stderr, flush=True))
    except fixes.FixError as e:
        print(f"devstack: {e}", file=sys.stderr, flush=True)
        return 2
    moto_main(argv)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
