"""S3 fixes: notification configurations read and written as S3 does, and moto's own S3 -> Lambda
dispatch off (the router dispatches S3 events, behaviour `s3-events`)."""

from __future__ import annotations

import re

from fixes.registry import fix, on

MOTO = "5.2.5"
EMPTY = ('<?xml version="1.0" encoding="UTF-8"?>\n'
         '<NotificationConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>')
FILTER_NAME = re.compile(r"<Name>(prefix|suffix)</Name>", re.IGNORECASE)


@fix("s3-empty-notification", "s3", MOTO,
     "GetBucketNotificationConfiguration of a bucket without one answers an empty "
     "<NotificationConfiguration/> (S3 API reference); moto answers an empty body (5.1) or a "
     "GetBucketNotificationResponse element (5.2), which the Rust SDK refuses")
def empty_notification() -> None:
    from moto.s3 import responses

    original = responses.S3Response.get_bucket_notification

    def get_bucket_notification(self):
        if not self.backend.get_bucket_notification_configuration(self.bucket_name):
            return 200, {"Content-Type": "application/xml"}, EMPTY
        return original(self)

    responses.S3Response.get_bucket_notification = get_bucket_notification


def capitalise_filter_names(text: str) -> str:
    return FILTER_NAME.sub(lambda m: f"<Name>{m.group(1).capitalize()}</Name>", text)


@fix("filter-rule-case", "s3", MOTO,
     "GetBucketNotificationConfiguration names filter rules Prefix/Suffix whatever case they "
     "were written in (aws/aws-sdk#389; AWS-FACTS.md 'Filter names come back capitalised')",
     behaviour="filter-rule-case")
def filter_rule_case() -> None:
    from moto.s3 import responses

    original = responses.S3Response.get_bucket_notification

    def get_bucket_notification(self):
        result = original(self)
        if not on("filter-rule-case") or not isinstance(result, tuple):
            return result
        status, headers, body = result
        text = body.decode() if isinstance(body, bytes) else body
        return status, headers, capitalise_filter_names(text)

    responses.S3Response.get_bucket_notification = get_bucket_notification


@fix("s3-filter-names-any-case", "s3", MOTO,
     "PutBucketNotificationConfiguration accepts filter rule names in any case (Prefix, as S3 "
     "returns them, or prefix); moto asserts lower case and answers 500 to Prefix")
def filter_names_any_case() -> None:
    from moto.s3 import responses

    original = responses.S3Response._notification_config_from_body

    def notification_config_any_case(self):
        body = self.body.decode() if isinstance(self.body, bytes) else self.body
        self.body = FILTER_NAME.sub(lambda m: f"<Name>{m.group(1).lower()}</Name>", body or "")
        return original(self)

    responses.S3Response._notification_config_from_body = notification_config_any_case


@fix("s3-no-moto-lambda-dispatch", "s3", MOTO,
     "S3 invokes a notification's function once per event; moto's own dispatch cannot run the "
     "function (no Docker) and the router dispatches S3 events (behaviour s3-events)")
def no_moto_lambda_dispatch() -> None:
    from moto.s3 import notifications

    notifications._invoke_awslambda = lambda *_args, **_kwargs: None


EVENTBRIDGE_ELEMENT = "<EventBridgeConfiguration></EventBridgeConfiguration>"


def with_eventbridge(text: str) -> str:
    """A GetBucketNotificationConfiguration document with `<EventBridgeConfiguration>` added as the
    root's last child (S3 API reference, NotificationConfiguration: an empty element when on)."""
    if "EventBridgeConfiguration" in text:
        return text
    closing = "</NotificationConfiguration>"
    if closing in text:
        return text.replace(closing, EVENTBRIDGE_ELEMENT + closing, 1)
    return re.sub(r"<NotificationConfiguration([^>]*)/>",
                  lambda m: f"<NotificationConfiguration{m.group(1)}>{EVENTBRIDGE_ELEMENT}"
                            f"{closing}", text, count=1)


@fix("s3-eventbridge-configuration", "s3", MOTO,
     "GetBucketNotificationConfiguration answers <EventBridgeConfiguration/> when the bucket "
     "sends its events to EventBridge (S3 API reference, NotificationConfiguration; S3 user guide "
     "'Enabling Amazon EventBridge'); moto 5.2.5 keeps it but leaves it out of the answer")
def eventbridge_configuration() -> None:
    from moto.s3 import responses

    original = responses.S3Response.get_bucket_notification

    def get_bucket_notification(self):
        result = original(self)
        config = self.backend.get_bucket_notification_configuration(self.bucket_name)
        if config is None or getattr(config, "event_bridge", None) is None \
                or not isinstance(result, tuple):
            return result
        status, headers, body = result
        text = body.decode() if isinstance(body, bytes) else body
        if "GetBucketNotificationResponse" in text or "NotificationConfiguration" not in text:
            text = EMPTY
        return status, headers, with_eventbridge(text)

    responses.S3Response.get_bucket_notification = get_bucket_notification


@fix("s3-no-moto-eventbridge-dispatch", "s3", MOTO,
     "S3 sends a bucket's events to the default bus only, in the shape of the S3 user guide "
     "('EventBridge event message structure'), and EventBridge invokes the Lambda targets of the "
     "matching rules; moto 5.2.5 sends them to the rules of every bus, with `eTag`, a numeric "
     "`time` and `reason` ObjectCreated, and has no Lambda targets: the router delivers them "
     "(behaviour s3-eventbridge)")
def no_moto_eventbridge_dispatch() -> None:
    from moto.s3 import notifications

    notifications._send_event_bridge_message = lambda *_args, **_kwargs: None
