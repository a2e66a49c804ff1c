"""moto's server, with two fixes that make it answer as AWS does.

1. S3 GetBucketNotificationConfiguration: moto answers it with an empty body (5.1) or a GetBucketNotificationResponse element (5.2) when a bucket has no notification configuration; real S3 answers
with an empty <NotificationConfiguration/> element, and the AWS SDK for Rust refuses the empty body
("no root element"). Here moto answers as S3 does.

2. `aws:SecureTransport`: moto does not evaluate the `Bool` condition, so the bucket's
`Deny ... Bool aws:SecureTransport false` statement denies every object read and write. The local
stack's plain HTTP on loopback stands in for AWS's HTTPS endpoints, so requests count as secure
transport and that statement does not apply, as it does not in AWS for HTTPS requests.

Usage: moto_server.py -H HOST -p PORT (moto's own options)
"""
import sys

from moto.iam import access_control
from moto.s3 import responses

_EMPTY = '<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
_original = responses.S3Response.get_bucket_notification


def _get_bucket_notification(self):
    if not self.backend.get_bucket_notification_configuration(self.bucket_name):
        return 200, {"Content-Type": "application/xml"}, _EMPTY
    return _original(self)


responses.S3Response.get_bucket_notification = _get_bucket_notification

_is_action_permitted = access_control.IAMPolicyStatement.is_action_permitted


def _statement_permits(self, action, resource="*", principal=None, incoming_condition_values=None):
    condition = self._statement.get("Condition") or {}
    secure_transport = (condition.get("Bool") or {}).get("aws:SecureTransport")
    if secure_transport is not None and str(secure_transport).lower() != "true":
        return access_control.PermissionResult.NEUTRAL
    return _is_action_permitted(self, action, resource, principal, incoming_condition_values)


access_control.IAMPolicyStatement.is_action_permitted = _statement_permits

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
