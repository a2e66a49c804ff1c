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


TGW_RESOURCE_TYPES = ("TransitGateway", "TransitGatewayAttachment")

# Every transit gateway flow log field, in AWS's order: what AWS logs without a LogFormat (TGW guide,
# "Transit Gateway Flow Logs", "Available fields"); moto answers the VPC default instead.
TGW_DEFAULT_FORMAT = " ".join("${%s}" % f for f in (
    "version resource-type account-id tgw-id tgw-attachment-id tgw-src-vpc-account-id "
    "tgw-dst-vpc-account-id tgw-src-vpc-id tgw-dst-vpc-id tgw-src-subnet-id tgw-dst-subnet-id "
    "tgw-src-eni tgw-dst-eni tgw-src-az-id tgw-dst-az-id tgw-pair-attachment-id srcaddr dstaddr "
    "srcport dstport protocol packets bytes start end log-status type packets-lost-no-route "
    "packets-lost-blackhole packets-lost-mtu-exceeded packets-lost-ttl-expired tcp-flags region "
    "flow-direction pkt-src-aws-service pkt-dst-aws-service").split())


def tgw_flow_log_refusal(resource_type: str, resource_ids, traffic_type, interval,
                         known) -> str | None:
    """AWS's InvalidParameter message for a transit gateway CreateFlowLogs it refuses, or None.
    `known(id)` says whether the transit gateway or attachment exists."""
    if resource_type not in TGW_RESOURCE_TYPES:
        return None
    if traffic_type:
        return ("traffic-type is not supported when the resource-type is TransitGateway or "
                "TransitGatewayAttachment")
    if interval is not None and int(interval) != 60:
        return ("max-aggregation-interval other than 60 sec / 1 min is not supported when the "
                "resource-type is TransitGateway or TransitGatewayAttachment")
    if len(resource_ids) > 25:
        return (f"{len(resource_ids)} resource ids: at most 25 are supported when the "
                f"resource-type is {resource_type}")
    for rid in resource_ids:
        if not known(rid):
            return f"Invalid Resource id {rid} for resource-type {resource_type}"
    return None


@fix("flow-log-transit-gateway", "ec2", MOTO,
     "CreateFlowLogs with ResourceType TransitGateway or TransitGatewayAttachment refuses a "
     "TrafficType, a MaxAggregationInterval other than 60 and more than 25 ids, checks that each "
     "transit gateway or attachment exists (InvalidParameter), defaults LogFormat to every TGW "
     "field and the interval to 60 (TGW guide, 'Work with flow logs using the CLI'; errors as "
     "hashicorp/terraform-provider-aws#26169 and ministryofjustice/modernisation-platform#8016 "
     "quote them); moto takes any id, TrafficType and interval and logs the VPC default format",
     behaviour="flow-log-transit-gateway")
def flow_log_transit_gateway() -> None:
    # after flow-log-kms-key-id: it wraps that fix's CreateFlowLogs
    from moto.ec2.exceptions import InvalidParameter
    from moto.ec2.models.flow_logs import FlowLogsBackend

    original = FlowLogsBackend.create_flow_logs

    def create_flow_logs(self, resource_type, resource_ids, traffic_type,
                         deliver_logs_permission_arn, log_destination_type, log_destination,
                         *args, **kwargs):
        if on("flow-log-transit-gateway") and resource_type in TGW_RESOURCE_TYPES:
            store = (self.transit_gateways if resource_type == "TransitGateway"
                     else self.transit_gateway_attachments)
            refusal = tgw_flow_log_refusal(resource_type, resource_ids, traffic_type,
                                           kwargs.get("max_aggregation_interval"),
                                           lambda rid: rid in store)
            if refusal:
                raise InvalidParameter(refusal)
            kwargs["max_aggregation_interval"] = 60
            if kwargs.get("log_format") is None:
                kwargs["log_format"] = TGW_DEFAULT_FORMAT
        return original(self, resource_type, resource_ids, traffic_type,
                        deliver_logs_permission_arn, log_destination_type, log_destination,
                        *args, **kwargs)

    FlowLogsBackend.create_flow_logs = create_flow_logs
