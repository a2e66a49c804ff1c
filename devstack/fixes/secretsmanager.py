"""Secrets Manager fixes: a force-deleted secret lingers as in AWS, and versions are listed by
their labels."""

from __future__ import annotations

import json
import os
import threading
import time

from fixes.registry import fix, on

MOTO = "5.2.5"
WINDOW_ENV = "FLOWLOGS_DEVSTACK_SECRET_DELETION_WINDOW"
SECRET_SCHEDULED = ("You can't create this secret because a secret with this name is already "
                    "scheduled for deletion.")
SECRET_DELETED = "You can\u2019t perform this operation on the secret because it was deleted."
PURGING = ("describe_secret", "get_secret_value", "put_secret_value", "list_secrets",
           "list_secret_version_ids", "tag_resource")

_lock = threading.Lock()
_force_deleted: dict[tuple[int, str], float] = {}  # (backend, name) -> when it is really gone
_create_refusals: dict[tuple[int, str], int] = {}


def deletion_window() -> float:
    return float(os.environ.get(WINDOW_ENV) or 10)


def create_refusal(n: int) -> str:
    """AWS's answer to the n-th (from 0) CreateSecret of a name still being deleted: its two
    messages in turn."""
    return SECRET_SCHEDULED if n % 2 == 0 else SECRET_DELETED


def _purge_deleted(backend) -> None:
    now = time.time()
    with _lock:
        for key, until in list(_force_deleted.items()):
            if key[0] == id(backend) and until <= now:
                del _force_deleted[key]
                _create_refusals.pop(key, None)
                backend.secrets.pop(key[1])


def _force_deleted_name(backend, secret_id: str) -> str | None:
    secret = backend.secrets.get(secret_id)
    if secret is None:
        return None
    with _lock:
        return secret.name if (id(backend), secret.name) in _force_deleted else None


@fix("secrets-deletion-window", "secretsmanager", MOTO,
     "after DeleteSecret with ForceDeleteWithoutRecovery AWS finishes the deletion in the "
     "background: DescribeSecret still shows DeletedDate, CreateSecret and RestoreSecret of it "
     "are refused with InvalidRequestException (DeleteSecret API reference; "
     "terraform-provider-aws secretsmanager/secret.go); moto removes it at once",
     behaviour="secrets-deletion-window")
def deletion_window_fix() -> None:
    from moto.secretsmanager import models
    from moto.secretsmanager.exceptions import InvalidRequestException

    backend = models.SecretsManagerBackend
    delete, create, restore = backend.delete_secret, backend.create_secret, backend.restore_secret

    def delete_secret(self, secret_id, recovery_window_in_days, force_delete_without_recovery):
        if not on("secrets-deletion-window") or not force_delete_without_recovery:
            return delete(self, secret_id, recovery_window_in_days, force_delete_without_recovery)
        _purge_deleted(self)
        secret = self.secrets.get(secret_id)
        if secret is None:
            return delete(self, secret_id, recovery_window_in_days, force_delete_without_recovery)
        now = time.time()
        if secret.deleted_date is None:
            secret.delete(now)
        with _lock:
            _force_deleted.setdefault((id(self), secret.name), now + deletion_window())
        return secret.arn, secret.name, now

    def create_secret(self, name, *args, **kwargs):
        if on("secrets-deletion-window"):
            _purge_deleted(self)
            if _force_deleted_name(self, name):
                with _lock:
                    n = _create_refusals.get((id(self), name), 0)
                    _create_refusals[(id(self), name)] = n + 1
                raise InvalidRequestException(create_refusal(n))
        return create(self, name, *args, **kwargs)

    def restore_secret(self, secret_id):
        if on("secrets-deletion-window"):
            _purge_deleted(self)
            if _force_deleted_name(self, secret_id):
                raise InvalidRequestException(SECRET_DELETED)
        return restore(self, secret_id)

    def purging(method):
        def wrapper(self, *args, **kwargs):
            if on("secrets-deletion-window"):
                _purge_deleted(self)
            return method(self, *args, **kwargs)
        return wrapper

    backend.delete_secret = delete_secret
    backend.create_secret = create_secret
    backend.restore_secret = restore_secret
    for name in PURGING:
        setattr(backend, name, purging(getattr(backend, name)))


def labelled_only(version_ids_to_stages: dict) -> dict:
    return {version: labels for version, labels in version_ids_to_stages.items() if labels}


@fix("secrets-labelled-versions", "secretsmanager", MOTO,
     "DescribeSecret's VersionIdsToStages lists labelled versions only, and ListSecretVersionIds "
     "lists unlabelled ones only with IncludeDeprecated (DescribeSecret and ListSecretVersionIds "
     "API reference); moto lists every version",
     behaviour="secrets-labelled-versions")
def labelled_versions() -> None:
    from moto.secretsmanager import models, responses

    form = models.FakeSecret._form_version_ids_to_stages
    list_ids = responses.SecretsManagerResponse.list_secret_version_ids

    def version_ids_to_stages(self):
        stages = form(self)
        return labelled_only(stages) if on("secrets-labelled-versions") else stages

    def list_version_ids(self):
        text = list_ids(self)
        if not on("secrets-labelled-versions") \
                or self._get_param("IncludeDeprecated", if_none=False):
            return text
        listed = json.loads(text)
        listed["Versions"] = [v for v in listed["Versions"] if v.get("VersionStages")]
        return json.dumps(listed)

    models.FakeSecret._form_version_ids_to_stages = version_ids_to_stages
    responses.SecretsManagerResponse.list_secret_version_ids = list_version_ids
