"""EC2 fixes: CreateFlowLogs's S3 destinations as AWS takes them (a folder, a key named by id, a
bucket of another account and its policy), and the opt-in Regions an account has not enabled."""

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


# -- cross-account delivery: the bucket policy decides ------------------------------------------

DELIVERY_PRINCIPAL = "delivery.logs.amazonaws.com"


def access_denied(bucket: str) -> str:
    """CreateFlowLogs's Unsuccessful message for a bucket of another account whose policy does not
    let the delivery service write for this account (awsdocs/amazon-vpc-user-guide#28)."""
    return f"Access Denied for LogDestination: {bucket}. Please check LogDestination permission"


def _list(value) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def wildcard_match(pattern: str, value: str, case_sensitive: bool = True) -> bool:
    """IAM's wildcards: `*` any run of characters (`/` included), `?` one character."""
    import re

    regex = re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".")
    return re.fullmatch(regex, value, 0 if case_sensitive else re.IGNORECASE) is not None


def _principal_is_delivery(principal) -> bool:
    if principal == "*":
        return True
    if not isinstance(principal, dict):
        return False
    return DELIVERY_PRINCIPAL in _list(principal.get("Service")) or "*" in _list(principal.get("AWS"))


def _condition_met(operator: str, key: str, expected, context: dict) -> bool:
    """One condition test; an operator this module does not know is not met (an Allow then does
    not apply, nor does a Deny)."""
    if_exists = operator.endswith("IfExists")
    base = operator[:-len("IfExists")] if if_exists else operator
    # condition keys are case-insensitive (AWS:SourceAccount and aws:SourceAccount alike)
    have = next((v for k, v in context.items() if k.lower() == key.lower()), None)
    if have is None:
        return if_exists
    wanted = [str(v) for v in _list(expected)]
    if base in ("StringEquals", "ArnEquals"):
        return have in wanted
    if base == "StringEqualsIgnoreCase":
        return have.lower() in [w.lower() for w in wanted]
    if base in ("StringLike", "ArnLike"):
        return any(wildcard_match(w, have) for w in wanted)
    if base == "StringNotEquals":
        return have not in wanted
    if base == "StringNotLike":
        return not any(wildcard_match(w, have) for w in wanted)
    if base == "Bool":
        return have.lower() in [w.lower() for w in wanted]
    return False


def _conditions_met(conditions, context: dict) -> bool:
    return all(_condition_met(op, key, expected, context)
               for op, tests in (conditions or {}).items()
               for key, expected in (tests or {}).items())


def statement_allows(policy: dict, action: str, resource: str, context: dict) -> bool:
    """Whether the bucket policy lets the delivery service do `action` on `resource` with the
    request's `context`: an Allow statement applies and no Deny statement does."""
    allowed = False
    for statement in _list(policy.get("Statement")):
        if not _principal_is_delivery(statement.get("Principal")):
            continue
        if not any(wildcard_match(a, action, case_sensitive=False)
                   for a in _list(statement.get("Action"))):
            continue
        if not any(wildcard_match(r, resource) for r in _list(statement.get("Resource"))):
            continue
        if not _conditions_met(statement.get("Condition"), context):
            continue
        if statement.get("Effect") == "Deny":
            return False
        allowed = allowed or statement.get("Effect") == "Allow"
    return allowed


def delivery_context(account: str, region: str, org_id: str | None,
                     acl_header: bool) -> dict:
    """What the delivery service's request carries for a flow log of `account` in `region`:
    aws:SourceAccount, an aws:SourceArn of that account's logs in that region (the policies AWS
    documents match it with ArnLike arn:aws:logs:<region>:<account>:*), aws:SourceOrgID when the
    account is in an organisation, TLS, and the ACL header only when the bucket takes ACLs (with
    ACLs disabled, BucketOwnerEnforced, the service sends none: AWS-FACTS.md)."""
    context = {"aws:SourceAccount": account,
               "aws:SourceArn": f"arn:aws:logs:{region}:{account}:vpc-flow-log-delivery",
               "aws:SecureTransport": "true"}
    if org_id:
        context["aws:SourceOrgID"] = org_id
    if acl_header:
        context["s3:x-amz-acl"] = "bucket-owner-full-control"
    return context


def cross_account_refusal(policy_text: str | None, bucket: str, folder: str, account: str,
                          region: str, org_id: str | None, acl_header: bool) -> str | None:
    """None when the bucket policy lets the delivery service write this account's flow logs of
    this region (PutObject under `<folder>AWSLogs/<account>/vpcflowlogs/<region>/` and
    GetBucketAcl on the bucket); otherwise what is missing, for the wrapper's log."""
    import json

    try:
        policy = json.loads(policy_text) if policy_text else {}
    except ValueError:
        policy = {}
    context = delivery_context(account, region, org_id, acl_header)
    key = f"{folder}AWSLogs/{account}/vpcflowlogs/{region}/2026/01/01/" \
          f"{account}_vpcflowlogs_{region}_fl-0_20260101T0000Z_0.log.gz"
    if not statement_allows(policy, "s3:PutObject", f"arn:aws:s3:::{bucket}/{key}", context):
        return f"no statement lets {DELIVERY_PRINCIPAL} s3:PutObject {key} with {context}"
    if not statement_allows(policy, "s3:GetBucketAcl", f"arn:aws:s3:::{bucket}", context):
        return f"no statement lets {DELIVERY_PRINCIPAL} s3:GetBucketAcl with {context}"
    return None


def organisation_of(account: str) -> str | None:
    """The organisation id of an account in moto's Organizations (member or management)."""
    from moto.organizations.models import organizations_backends

    owner = organizations_backends.master_accounts.get(account)
    if owner is not None:
        org = organizations_backends[owner[0]][owner[1]].org
        return org.id if org else None
    if account in organizations_backends:
        org = organizations_backends[account]["aws"].org
        return org.id if org else None
    return None


@fix("flow-log-cross-account-delivery", "ec2", MOTO,
     "CreateFlowLogs to a bucket of another account succeeds only when the bucket policy lets "
     "delivery.logs.amazonaws.com PutObject under AWSLogs/<account>/ and GetBucketAcl for that "
     "account (aws:SourceAccount/aws:SourceArn or aws:SourceOrgID); otherwise Unsuccessful, 400 "
     "'Access Denied for LogDestination: <bucket>. Please check LogDestination permission', "
     "and a flow log whose bucket policy no longer allows it shows DeliverLogsStatus FAILED, "
     "'Access error' (VPC user guide, 'Create a flow log that publishes to Amazon S3'; "
     "awsdocs/amazon-vpc-user-guide#28; AWS-FACTS.md 'Many accounts, one bucket'); moto "
     "creates it",
     behaviour="flow-log-cross-account-delivery")
def flow_log_cross_account_delivery() -> None:
    # after flow-log-kms-key-id: it wraps that fix's CreateFlowLogs
    import sys

    from moto.ec2.models.flow_logs import FlowLogsBackend

    original = FlowLogsBackend.create_flow_logs
    original_describe = FlowLogsBackend.describe_flow_logs

    def refusal(backend, log_destination: str) -> tuple[str, str | None]:
        """(bucket name, why the delivery is refused or None) for a flow log of `backend`'s
        account and region; None as the reason when the bucket is its own or missing."""
        from moto.s3.exceptions import MissingBucket
        from moto.s3.models import s3_backends

        bucket_arn, folder = s3_destination_bucket(log_destination or "")
        name = bucket_arn.split(":", 5)[-1]
        try:
            bucket = s3_backends[backend.account_id][backend.partition].get_bucket(name)
        except MissingBucket:
            return name, None  # moto answers "does not exist" itself
        if bucket.account_id == backend.account_id:
            return name, None
        # moto keeps PutBucketOwnershipControls's ObjectOwnership as a string
        ownership = bucket.ownership_rule or "BucketOwnerEnforced"
        policy = bucket.policy.decode() if bucket.policy else None
        why = cross_account_refusal(policy, name, folder, backend.account_id,
                                    backend.region_name, organisation_of(backend.account_id),
                                    ownership != "BucketOwnerEnforced")
        return name, why and f"bucket of {bucket.account_id}: {why}"

    def create_flow_logs(self, resource_type, resource_ids, traffic_type,
                         deliver_logs_permission_arn, log_destination_type, log_destination,
                         *args, **kwargs):
        if on("flow-log-cross-account-delivery") and log_destination_type == "s3":
            name, why = refusal(self, log_destination)
            if why is not None:
                print(f"devstack: flow-log-cross-account-delivery: CreateFlowLogs in "
                      f"{self.account_id}/{self.region_name} to {name} refused, {why}",
                      file=sys.stderr, flush=True)
                return [], [(rid, "400", access_denied(name)) for rid in resource_ids]
        return original(self, resource_type, resource_ids, traffic_type,
                        deliver_logs_permission_arn, log_destination_type, log_destination,
                        *args, **kwargs)

    def describe_flow_logs(self, *args, **kwargs):
        """A flow log made while the policy allowed it fails to deliver once it no longer does:
        DeliverLogsStatus FAILED, 'Access error' (EC2 API reference, FlowLog)."""
        flow_logs = original_describe(self, *args, **kwargs)
        if on("flow-log-cross-account-delivery"):
            for flow_log in flow_logs:
                if flow_log.log_destination_type != "s3":
                    continue
                _, why = refusal(self, flow_log.log_destination)
                flow_log.deliver_logs_status = "SUCCESS" if why is None else "FAILED"
                flow_log.deliver_logs_error_message = None if why is None else "Access error"
        return flow_logs

    FlowLogsBackend.create_flow_logs = create_flow_logs
    FlowLogsBackend.describe_flow_logs = describe_flow_logs


# -- opt-in regions: disabled until the account enables them ------------------------------------

# Regions launched before 20 March 2019 are enabled in every account; every later one is an opt-in
# Region, disabled until the account enables it (AWS Account Management guide, "Enable or disable
# AWS Regions in your account"). moto serves every region to every account.
ENABLED_BY_DEFAULT = frozenset({
    "us-east-1", "us-east-2", "us-west-1", "us-west-2", "ca-central-1", "sa-east-1",
    "eu-west-1", "eu-west-2", "eu-west-3", "eu-central-1", "eu-north-1",
    "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-south-1",
    "ap-southeast-1", "ap-southeast-2",
})
AUTH_FAILURE = "AWS was not able to validate the provided access credentials"


def region_disabled(region: str) -> bool:
    """An opt-in region (not enabled by default); the stack enables none (moto has no Account
    EnableRegion)."""
    return region.startswith(("af-", "ap-", "ca-", "eu-", "il-", "me-", "mx-", "sa-", "us-")) \
        and region not in ENABLED_BY_DEFAULT


def auth_failure_document() -> str:
    import uuid

    return ('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error>'
            f"<Code>AuthFailure</Code><Message>{AUTH_FAILURE}</Message></Error></Errors>"
            f"<RequestID>{uuid.uuid4()}</RequestID></Response>")


@fix("ec2-opt-in-region-disabled", "ec2", MOTO,
     "An EC2 call in an opt-in Region the account has not enabled (every Region launched after "
     "20 March 2019: af-south-1, ap-east-1, eu-south-1, me-south-1, ...) answers 401 AuthFailure "
     "'AWS was not able to validate the provided access credentials' (AWS Account Management "
     "guide, 'Enable or disable AWS Regions in your account'; turbot/steampipe-plugin-aws#75, "
     "fog/fog-aws#585); moto serves every Region",
     behaviour="ec2-opt-in-region-disabled")
def opt_in_region_disabled() -> None:
    from moto.core.responses import BaseResponse
    from moto.ec2.responses import EC2Response

    def call_action(self):
        if on("ec2-opt-in-region-disabled") and region_disabled(self.region or ""):
            return 401, {"Content-Type": "text/xml", "status": 401}, auth_failure_document()
        return BaseResponse.call_action(self)

    EC2Response.call_action = call_action
