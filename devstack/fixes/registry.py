"""The registry of the moto wrapper's fixes: each patch of moto's internals, the moto versions it
was checked against, and what real AWS does that it teaches moto.

A fix is registered with `@fix(...)` on its apply function, in the module of its service
(`fixes/s3.py`, `fixes/ec2.py`, ...). `apply_all` applies every fix in registration order (a fix
that wraps a method another fix wrapped comes after it in its module) and says which fixes were not
verified for the moto that is running:

- `FLOWLOGS_DEVSTACK_UNVERIFIED_FIXES=warn` (default): each unverified fix is named on stderr
  (moto.log) and applied; a moto upgrade can be tried, and its test run shows what broke.
- `FLOWLOGS_DEVSTACK_UNVERIFIED_FIXES=refuse`: the wrapper exits before serving, naming them.

A fix whose apply fails (moto moved the method it patches) always stops the wrapper: a stack
that silently lost a fix would pass tests AWS fails.

A fix switched by a behaviour (`behaviour=`) is applied always and asks `on(behaviour)` when
called, so that behaviours can be chosen per stack without changing what is patched.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Callable

MODE_ENV = "FLOWLOGS_DEVSTACK_UNVERIFIED_FIXES"


@dataclass(frozen=True)
class Fix:
    name: str  # unique; the behaviour's name when it implements one
    service: str  # the moto service it patches ("s3", "core" for moto's server itself)
    moto: str  # the moto versions it was written and checked for: "5.2.5", ">=5.1,<5.3"
    aws: str  # one line: what real AWS does, with its source
    apply: Callable[[], None]
    behaviour: str | None = None  # the switchable behaviour (devstack/behaviours.py), or always on


REGISTRY: list[Fix] = []
_active: set[str] = set()


def fix(name: str, service: str, moto: str, aws: str, behaviour: str | None = None):
    """Registers the decorated function as the apply function of a fix."""
    def register(apply: Callable[[], None]) -> Callable[[], None]:
        if any(f.name == name for f in REGISTRY):
            raise ValueError(f"fix {name!r} registered twice")
        REGISTRY.append(Fix(name, service, moto, aws, apply, behaviour))
        return apply
    return register


def on(behaviour: str) -> bool:
    """Whether the stack's chosen behaviours include this one (read when a fix is called)."""
    return behaviour in _active


def set_behaviours(names) -> None:
    _active.clear()
    _active.update(names)


def _version(text: str) -> tuple[int, ...]:
    return tuple(int(p) for p in re.findall(r"\d+", text)[:3])


def version_in(version: str, spec: str) -> bool:
    """`version` matches every comma-separated clause of `spec` (`==`, `>=`, `<=`, `<`, `>`, or a
    bare version meaning `==`); pre-release tags are ignored."""
    have = _version(version)
    ops = {"==": lambda a, b: a == b, ">=": lambda a, b: a >= b, "<=": lambda a, b: a <= b,
           "<": lambda a, b: a < b, ">": lambda a, b: a > b}
    for clause in [c.strip() for c in spec.split(",") if c.strip()]:
        m = re.fullmatch(r"(==|>=|<=|<|>)?\s*([\d.]+)", clause)
        if m is None:
            raise ValueError(f"moto version spec {spec!r}: cannot read {clause!r}")
        if not ops[m.group(1) or "=="](have, _version(m.group(2))):
            return False
    return True


def unverified(version: str, fixes: list[Fix] | None = None) -> list[Fix]:
    return [f for f in (REGISTRY if fixes is None else fixes) if not version_in(version, f.moto)]


class FixError(RuntimeError):
    pass


def apply_all(version: str, behaviours, mode: str | None = None, log=None) -> list[Fix]:
    """Applies every registered fix for this moto version; returns the unverified ones."""
    mode = (mode or os.environ.get(MODE_ENV) or "warn").strip()
    if mode not in ("warn", "refuse"):
        raise FixError(f"{MODE_ENV}={mode!r}: expected warn or refuse")
    set_behaviours(behaviours)
    missing = unverified(version)
    if missing:
        listing = "; ".join(f"{f.name} ({f.service}, checked on moto {f.moto})" for f in missing)
        if mode == "refuse":
            raise FixError(f"moto {version} is not the version these fixes were checked on: "
                           f"{listing}. Install the pinned moto (devstack/requirements.txt) or "
                           f"re-check the fixes and widen their version; {MODE_ENV}=warn to try.")
        if log is not None:
            log(f"devstack: moto {version}: fixes not verified for this version (applied anyway, "
                f"{MODE_ENV}=refuse to stop): {listing}")
    for f in REGISTRY:
        try:
            f.apply()
        except Exception as e:  # noqa: BLE001 - name the fix, whatever moto raised
            raise FixError(f"fix {f.name} ({f.service}, checked on moto {f.moto}) could not be "
                           f"applied to moto {version}: {type(e).__name__}: {e}") from e
    return missing


def table() -> str:
    """The registry as lines (`moto_server.py --fixes`)."""
    return "\n".join(f"{f.name}\t{f.service}\tmoto {f.moto}\t"
                     f"{'behaviour ' + f.behaviour if f.behaviour else 'always'}\t{f.aws}"
                     for f in REGISTRY)
