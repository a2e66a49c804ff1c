"""moto's server, with one fix for the local stack: S3 GetBucketNotificationConfiguration.

moto answers it with an empty body (5.1) or a GetBucketNotificationResponse element (5.2) when a bucket has no notification configuration; real S3 answers
with an empty <NotificationConfiguration/> element, and the AWS SDK for Rust refuses the empty body
("no root element"). This wrapper makes moto answer as S3 does. Usage: moto_server.py -H HOST -p PORT
"""
import sys

from moto.s3 import responses

_EMPTY = '<?xml version="1.0" encoding="UTF-8"?>\n<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>'
_original = responses.S3Response.get_bucket_notification


def _get_bucket_notification(self):
    if not self.backend.get_bucket_notification_configuration(self.bucket_name):
        return 200, {"Content-Type": "application/xml"}, _EMPTY
    return _original(self)


responses.S3Response.get_bucket_notification = _get_bucket_notification

if __name__ == "__main__":
    from moto.server import main

    main(sys.argv[1:])
