"""EC2 fixes: CreateFlowLogs's S3 destinations as AWS takes them."""

from __future__ import annotations

from fixes.registry import fix, on

MOTO = "5.2.5"


def s3_destination_bucket(destination: str) -> tuple[str, str]:
    """`arn:aws:s3:::bucket/folder/` -> (`arn:aws:s3:::bucket`, `folder/`)."""
    arn, _, folder = destination.partition("/")
    return arn, folder


def default_kms_key_id(encryption) -> str | None:
    """The `KMSMasterKeyID` of a bucket's SSE-KMS default encryption as moto keeps it (the parsed
    ServerSideEncryptionConfiguration: one rule or a list), or None."""
    rules = (encryption or {}).get("Rule") or []
    for rule in rules if isinstance(rules, list) else [rules]:
        default = (rule or {}).get("ApplyServerSideEncryptionByDefault") or {}
        if str(default.get("SSEAlgorithm", "")).startswith("aws:kms"):
            return default.get("KMSMasterKeyID")
    return None


def undeliverable_key(key_id: str | None) -> bool:
    """A key named by its id (or a bare alias name), not by an ARN: log delivery cannot use it."""
    return bool(key_id) and not key_id.startswith("arn:")


@fix("flow-log-folder", "ec2", MOTO,
     "CreateFlowLogs accepts an S3 destination with a folder, arn:aws:s3:::bucket/folder/, and "
     "DescribeFlowLogs echoes it as given (EC2 API reference, LogDestination; DESIGN §10); moto "
     "looks bucket/folder/ up as a bucket name and answers Unsuccessful",
     behaviour="flow-log-folder")
def flow_log_folder() -> None:
    from moto.ec2.exceptions import FlowLogAlreadyExists
    from moto.ec2.models.flow_logs import FlowLogsBackend

    original = FlowLogsBackend.create_flow_logs

    def create_flow_logs(self, resource_type, resource_ids, traffic_type,
                         deliver_logs_permission_arn, log_destination_type, log_destination,
                         *args, **kwargs):
        bucket_arn, folder = s3_destination_bucket(log_destination or "")
        if not on("flow-log-folder") or log_destination_type != "s3" or not folder:
            return original(self, resource_type, resource_ids, traffic_type,
                            deliver_logs_permission_arn, log_destination_type, log_destination,
                            *args, **kwargs)
        # moto's own duplicate check compares the destination it was given: check the full one.
        for existing in self.describe_flow_logs():
            if existing.resource_id in resource_ids and existing.log_destination == log_destination:
                raise FlowLogAlreadyExists()
        created, unsuccessful = original(
            self, resource_type, resource_ids, traffic_type, deliver_logs_permission_arn,
            log_destination_type, bucket_arn, *args, **kwargs)
        for flow_log in created:
            flow_log.log_destination = log_destination
        return created, unsuccessful

    FlowLogsBackend.create_flow_logs = create_flow_logs


@fix("flow-log-kms-key-id", "ec2", MOTO,
     "CreateFlowLogs to a bucket whose SSE-KMS default encryption names its key by id, not ARN, "
     "answers Unsuccessful, 400 'LogDestination: <bucket> is undeliverable' (VPC user guide, "
     "flow-log troubleshooting; AWS-FACTS.md 'Keys and encryption'); moto accepts it",
     behaviour="flow-log-kms-key-id")
def flow_log_kms_key_id() -> None:
    # after flow-log-folder: it wraps that fix's CreateFlowLogs
    from moto.ec2.models.flow_logs import FlowLogsBackend

    original = FlowLogsBackend.create_flow_logs

    def create_flow_logs(self, resource_type, resource_ids, traffic_type,
                         deliver_logs_permission_arn, log_destination_type, log_destination,
                         *args, **kwargs):
        if on("flow-log-kms-key-id") and log_destination_type == "s3":
            from moto.s3.exceptions import MissingBucket
            from moto.s3.models import s3_backends

            bucket_arn, _ = s3_destination_bucket(log_destination or "")
            name = bucket_arn.split(":", 5)[-1]
            try:
                bucket = s3_backends[self.account_id][self.partition].get_bucket(name)
            except MissingBucket:
                bucket = None
            if bucket is not None and undeliverable_key(default_kms_key_id(bucket.encryption)):
                return [], [(rid, "400", f"LogDestination: {name} is undeliverable")
                            for rid in resource_ids]
        return original(self, resource_type, resource_ids, traffic_type,
                        deliver_logs_permission_arn, log_destination_type, log_destination,
                        *args, **kwargs)

    FlowLogsBackend.create_flow_logs = create_flow_logs
