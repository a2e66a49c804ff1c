"""IAM fixes: policy conditions moto does not evaluate."""

from __future__ import annotations

from fixes.registry import fix

MOTO = "5.2.5"


def statement_applies(condition: dict | None) -> bool:
    """Whether a statement applies: not when it is conditioned on `aws:SecureTransport` being anything but true: the
    stack's plain HTTP on loopback stands in for AWS's HTTPS endpoints, so every request counts as
    secure transport and such a statement does not apply."""
    secure = ((condition or {}).get("Bool") or {}).get("aws:SecureTransport")
    return secure is None or str(secure).lower() == "true"


@fix("iam-secure-transport", "iam", MOTO,
     "requests to AWS's HTTPS endpoints satisfy aws:SecureTransport, so a bucket policy's "
     "'Deny ... Bool aws:SecureTransport false' does not apply (IAM condition keys reference); "
     "moto does not evaluate Bool and the Deny refuses every object read and write")
def secure_transport() -> None:
    from moto.iam import access_control

    original = access_control.IAMPolicyStatement.is_action_permitted

    def statement_permits(self, action, resource="*", principal=None,
                          incoming_condition_values=None):
        if not statement_applies(self._statement.get("Condition")):
            return access_control.PermissionResult.NEUTRAL
        return original(self, action, resource, principal, incoming_condition_values)

    access_control.IAMPolicyStatement.is_action_permitted = statement_permits
