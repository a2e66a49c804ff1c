"""The moto wrapper's fixes, a module per service, each registered (`fixes/registry.py`) with the
moto version it was checked on and what real AWS does. Importing this package registers them in
the order they are applied; `devstack/moto_server.py` applies them, `fixes/selftest.py` tests each.
"""

from fixes import core, s3, iam, ec2, lambda_, athena, secretsmanager, firehose, sts  # noqa: F401
from fixes.registry import REGISTRY, Fix, FixError, apply_all, on, table  # noqa: F401
