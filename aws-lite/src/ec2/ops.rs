//! The typed actions: their parameters (names as in the EC2 API reference) and the readers of their
//! answers. Pure: requests become [`Params`], answers come in as [`Node`]s; the client sends them.

use aws_smithy_types::date_time::{DateTime, Format};

use super::query::Params;
use super::xml::Node;

/// A tag: `<item><key/><value/></item>` in answers, `Key`/`Value` in requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tag {
    pub key: String,
    pub value: String,
}

impl Tag {
    pub fn new(key: impl Into<String>, value: impl Into<String>) -> Tag {
        Tag {
            key: key.into(),
            value: value.into(),
        }
    }
}

/// A Describe* filter: a name (`resource-id`, `tag:<key>`, `log-destination-type`...) and the
/// values any of which matches.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    pub name: String,
    pub values: Vec<String>,
}

impl Filter {
    pub fn new<S: Into<String>>(
        name: impl Into<String>,
        values: impl IntoIterator<Item = S>,
    ) -> Filter {
        Filter {
            name: name.into(),
            values: values.into_iter().map(Into::into).collect(),
        }
    }
}

/// A flow log as DescribeFlowLogs tells it (the fields flowlogs reads).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FlowLog {
    pub id: String,
    pub resource_id: String,
    /// `ACCEPT`, `REJECT` or `ALL`; absent for a transit gateway's.
    pub traffic_type: Option<String>,
    pub log_format: Option<String>,
    pub max_aggregation_interval: Option<i32>,
    /// `cloud-watch-logs`, `s3` or `kinesis-data-firehose`.
    pub log_destination_type: Option<String>,
    pub log_destination: Option<String>,
    pub tags: Vec<Tag>,
    /// `ACTIVE`.
    pub status: Option<String>,
    /// `SUCCESS`, `FAILED`.
    pub deliver_logs_status: Option<String>,
    pub deliver_logs_error_message: Option<String>,
    /// The role EC2 delivers with (CloudWatch Logs, or Firehose in another account).
    pub deliver_logs_permission_arn: Option<String>,
    /// Seconds since the epoch.
    pub creation_time: Option<i64>,
}

/// A VPC as DescribeVpcs and CreateVpc tell it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vpc {
    pub id: String,
    pub cidr_block: Option<String>,
    pub is_default: bool,
    pub owner_id: Option<String>,
    pub state: Option<String>,
    pub tags: Vec<Tag>,
}

impl Vpc {
    /// The value of the tag `key`.
    pub fn tag(&self, key: &str) -> Option<&str> {
        self.tags
            .iter()
            .find(|t| t.key == key)
            .map(|t| t.value.as_str())
    }
}

/// CreateFlowLogs' `DestinationOptions` (S3 destinations only).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DestinationOptions {
    /// `plain-text` or `parquet`.
    pub file_format: String,
    pub hive_compatible_partitions: bool,
    pub per_hour_partition: bool,
}

/// A CreateFlowLogs request.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateFlowLogs {
    pub resource_ids: Vec<String>,
    /// `VPC`, `Subnet`, `NetworkInterface`, `TransitGateway` or `TransitGatewayAttachment`.
    pub resource_type: String,
    /// `ACCEPT`, `REJECT` or `ALL`; AWS refuses one for a transit gateway or attachment.
    pub traffic_type: Option<String>,
    pub log_destination_type: Option<String>,
    pub log_destination: Option<String>,
    pub log_format: Option<String>,
    pub max_aggregation_interval: Option<i32>,
    pub client_token: Option<String>,
    /// Tags of the new flow logs (a `vpc-flow-log` tag specification).
    pub tags: Vec<Tag>,
    pub destination_options: Option<DestinationOptions>,
}

impl CreateFlowLogs {
    pub fn params(&self) -> Params {
        let mut p = Params::new();
        p.opt("ClientToken", self.client_token.as_deref())
            .list("ResourceId", &self.resource_ids)
            .set("ResourceType", &self.resource_type)
            .opt("TrafficType", self.traffic_type.as_deref())
            .opt("LogDestinationType", self.log_destination_type.as_deref())
            .opt("LogDestination", self.log_destination.as_deref())
            .opt("LogFormat", self.log_format.as_deref())
            .tag_specification("vpc-flow-log", &self.tags)
            .opt(
                "MaxAggregationInterval",
                self.max_aggregation_interval.map(|i| i.to_string()),
            );
        if let Some(o) = &self.destination_options {
            p.set("DestinationOptions.FileFormat", &o.file_format)
                .set(
                    "DestinationOptions.HiveCompatiblePartitions",
                    o.hive_compatible_partitions.to_string(),
                )
                .set(
                    "DestinationOptions.PerHourPartition",
                    o.per_hour_partition.to_string(),
                );
        }
        p
    }
}

/// A resource an action could not act on (`unsuccessful/item`), with EC2's code and message.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Unsuccessful {
    pub resource_id: Option<String>,
    pub code: String,
    pub message: String,
}

/// What CreateFlowLogs answers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CreateFlowLogsOutput {
    pub flow_log_ids: Vec<String>,
    pub unsuccessful: Vec<Unsuccessful>,
}

fn text(node: &Node, path: &str) -> Option<String> {
    node.text_at(path).map(str::to_string)
}

pub(crate) fn tags(node: &Node) -> Vec<Tag> {
    node.items("tagSet")
        .map(|t| {
            Tag::new(
                t.text_at("key").unwrap_or_default(),
                t.text_at("value").unwrap_or_default(),
            )
        })
        .collect()
}

pub(crate) fn flow_log(f: &Node) -> FlowLog {
    FlowLog {
        id: f.text_at("flowLogId").unwrap_or_default().to_string(),
        resource_id: f.text_at("resourceId").unwrap_or_default().to_string(),
        traffic_type: text(f, "trafficType"),
        log_format: text(f, "logFormat"),
        max_aggregation_interval: f
            .text_at("maxAggregationInterval")
            .and_then(|s| s.trim().parse().ok()),
        log_destination_type: text(f, "logDestinationType"),
        log_destination: text(f, "logDestination"),
        tags: tags(f),
        status: text(f, "flowLogStatus"),
        deliver_logs_status: text(f, "deliverLogsStatus"),
        deliver_logs_error_message: text(f, "deliverLogsErrorMessage"),
        deliver_logs_permission_arn: text(f, "deliverLogsPermissionArn"),
        creation_time: f
            .text_at("creationTime")
            .and_then(|s| DateTime::from_str(s.trim(), Format::DateTimeWithOffset).ok())
            .map(|t| t.secs()),
    }
}

pub(crate) fn vpc(v: &Node) -> Vpc {
    Vpc {
        id: v.text_at("vpcId").unwrap_or_default().to_string(),
        cidr_block: text(v, "cidrBlock"),
        is_default: v.text_at("isDefault").map(str::trim) == Some("true"),
        owner_id: text(v, "ownerId"),
        state: text(v, "state"),
        tags: tags(v),
    }
}

pub(crate) fn unsuccessful(answer: &Node) -> Vec<Unsuccessful> {
    answer
        .items("unsuccessful")
        .map(|u| Unsuccessful {
            resource_id: text(u, "resourceId"),
            code: u.text_at("error/code").unwrap_or_default().to_string(),
            message: u.text_at("error/message").unwrap_or_default().to_string(),
        })
        .collect()
}

pub(crate) fn create_flow_logs_output(answer: &Node) -> CreateFlowLogsOutput {
    CreateFlowLogsOutput {
        flow_log_ids: answer
            .items("flowLogIdSet")
            .map(|i| i.text.clone())
            .collect(),
        unsuccessful: unsuccessful(answer),
    }
}

/// The next page's token, when the answer has one.
pub(crate) fn next_token(answer: &Node) -> Option<String> {
    answer
        .text_at("nextToken")
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ec2::xml::parse;

    #[test]
    fn create_flow_logs_sends_every_field_with_its_query_name() {
        let request = CreateFlowLogs {
            resource_ids: vec!["vpc-1a2b3c4d".into()],
            resource_type: "VPC".into(),
            traffic_type: Some("ALL".into()),
            log_destination_type: Some("s3".into()),
            log_destination: Some("arn:aws:s3:::my-bucket/flow/".into()),
            log_format: Some("${version} ${srcaddr}".into()),
            max_aggregation_interval: Some(60),
            client_token: Some("tok-1".into()),
            tags: vec![
                Tag::new("flowlogs:stack", "demo"),
                Tag::new("managed-by", "flowlogs"),
            ],
            destination_options: Some(DestinationOptions {
                file_format: "parquet".into(),
                hive_compatible_partitions: true,
                per_hour_partition: false,
            }),
        };
        assert_eq!(
            request.params().encode("CreateFlowLogs"),
            [
                "Action=CreateFlowLogs",
                "Version=2016-11-15",
                "ClientToken=tok-1",
                "ResourceId.1=vpc-1a2b3c4d",
                "ResourceType=VPC",
                "TrafficType=ALL",
                "LogDestinationType=s3",
                "LogDestination=arn%3Aaws%3As3%3A%3A%3Amy-bucket%2Fflow%2F",
                "LogFormat=%24%7Bversion%7D%20%24%7Bsrcaddr%7D",
                "TagSpecification.1.ResourceType=vpc-flow-log",
                "TagSpecification.1.Tag.1.Key=flowlogs%3Astack",
                "TagSpecification.1.Tag.1.Value=demo",
                "TagSpecification.1.Tag.2.Key=managed-by",
                "TagSpecification.1.Tag.2.Value=flowlogs",
                "MaxAggregationInterval=60",
                "DestinationOptions.FileFormat=parquet",
                "DestinationOptions.HiveCompatiblePartitions=true",
                "DestinationOptions.PerHourPartition=false",
            ]
            .join("&")
        );
    }

    #[test]
    fn a_transit_gateways_flow_log_sends_no_traffic_type() {
        let request = CreateFlowLogs {
            resource_ids: vec!["tgw-1".into()],
            resource_type: "TransitGateway".into(),
            ..CreateFlowLogs::default()
        };
        let p = request.params();
        assert_eq!(p.get("TrafficType"), None);
        assert_eq!(p.get("ResourceType"), Some("TransitGateway"));
        assert_eq!(p.get("TagSpecification.1.ResourceType"), None);
    }

    /// The DescribeFlowLogs example answer of the EC2 API reference, with the fields added since.
    #[test]
    fn a_described_flow_log_is_read_field_by_field() {
        let answer = parse(
            r#"<DescribeFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>3cb46f23-099e-4bf0-891c-EXAMPLE</requestId>
    <flowLogSet>
        <item>
            <deliverLogsErrorMessage>Access error</deliverLogsErrorMessage>
            <resourceId>vpc-1a2b3c4d</resourceId>
            <deliverLogsStatus>FAILED</deliverLogsStatus>
            <flowLogStatus>ACTIVE</flowLogStatus>
            <creationTime>2017-01-23T10:28:15Z</creationTime>
            <logGroupName>FlowLogsForSubnetA</logGroupName>
            <trafficType>ALL</trafficType>
            <flowLogId>fl-ab12cd34</flowLogId>
            <logDestinationType>s3</logDestinationType>
            <logDestination>arn:aws:s3:::my-bucket/flow/</logDestination>
            <logFormat>${version} ${srcaddr}</logFormat>
            <maxAggregationInterval>600</maxAggregationInterval>
            <tagSet><item><key>flowlogs:stack</key><value>demo</value></item></tagSet>
        </item>
        <item>
            <flowLogId>fl-2</flowLogId>
            <resourceId>tgw-1</resourceId>
            <creationTime>2026-12-06T22:00:00.123Z</creationTime>
        </item>
    </flowLogSet>
    <nextToken>tok==</nextToken>
</DescribeFlowLogsResponse>"#,
        )
        .unwrap();
        let logs: Vec<FlowLog> = answer.items("flowLogSet").map(flow_log).collect();
        assert_eq!(
            logs[0],
            FlowLog {
                id: "fl-ab12cd34".into(),
                resource_id: "vpc-1a2b3c4d".into(),
                traffic_type: Some("ALL".into()),
                log_format: Some("${version} ${srcaddr}".into()),
                max_aggregation_interval: Some(600),
                log_destination_type: Some("s3".into()),
                log_destination: Some("arn:aws:s3:::my-bucket/flow/".into()),
                tags: vec![Tag::new("flowlogs:stack", "demo")],
                status: Some("ACTIVE".into()),
                deliver_logs_status: Some("FAILED".into()),
                deliver_logs_error_message: Some("Access error".into()),
                deliver_logs_permission_arn: None,
                creation_time: Some(1485167295),
            }
        );
        assert_eq!(logs[1].traffic_type, None);
        assert_eq!(logs[1].creation_time, Some(1796594400));
        assert_eq!(next_token(&answer).as_deref(), Some("tok=="));
    }

    /// CreateFlowLogs' and DeleteFlowLogs' answers, as in the EC2 API reference.
    #[test]
    fn created_ids_and_unsuccessful_items_are_read() {
        let answer = parse(
            r#"<CreateFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>2d96dae3-504b-4fc4-bf50-266EXAMPLE</requestId>
  <unsuccessful>
    <item>
      <error><code>FlowLogAlreadyExists</code><message>This flow log already exists</message></error>
      <resourceId>vpc-2</resourceId>
    </item>
  </unsuccessful>
  <flowLogIdSet><item>fl-1a2b3c4d</item></flowLogIdSet>
</CreateFlowLogsResponse>"#,
        )
        .unwrap();
        assert_eq!(
            create_flow_logs_output(&answer),
            CreateFlowLogsOutput {
                flow_log_ids: vec!["fl-1a2b3c4d".into()],
                unsuccessful: vec![Unsuccessful {
                    resource_id: Some("vpc-2".into()),
                    code: "FlowLogAlreadyExists".into(),
                    message: "This flow log already exists".into(),
                }],
            }
        );
        let deleted = parse(
            r#"<DeleteFlowLogsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>c5c4f51f-f4e9-42bc-8700-EXAMPLE</requestId>
    <unsuccessful/>
</DeleteFlowLogsResponse>"#,
        )
        .unwrap();
        assert!(unsuccessful(&deleted).is_empty());
        assert_eq!(next_token(&deleted), None);
    }

    /// The DescribeVpcs example answer of the EC2 API reference.
    #[test]
    fn a_described_vpc_is_read() {
        let answer = parse(
            r#"<DescribeVpcsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
  <requestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</requestId>
  <vpcSet>
    <item>
      <vpcId>vpc-1a2b3c4d</vpcId>
      <ownerId>123456789012</ownerId>
      <state>available</state>
      <cidrBlock>10.0.0.0/23</cidrBlock>
      <cidrBlockAssociationSet>
        <item><cidrBlock>10.0.0.0/23</cidrBlock><associationId>vpc-cidr-assoc-1</associationId>
          <cidrBlockState><state>associated</state></cidrBlockState></item>
      </cidrBlockAssociationSet>
      <dhcpOptionsId>dopt-7a8b9c2d</dhcpOptionsId>
      <instanceTenancy>default</instanceTenancy>
      <isDefault>false</isDefault>
      <tagSet><item><key>Name</key><value>prod</value></item></tagSet>
    </item>
  </vpcSet>
</DescribeVpcsResponse>"#,
        )
        .unwrap();
        let vpcs: Vec<Vpc> = answer.items("vpcSet").map(vpc).collect();
        assert_eq!(
            vpcs,
            [Vpc {
                id: "vpc-1a2b3c4d".into(),
                cidr_block: Some("10.0.0.0/23".into()),
                is_default: false,
                owner_id: Some("123456789012".into()),
                state: Some("available".into()),
                tags: vec![Tag::new("Name", "prod")],
            }]
        );
        assert_eq!(vpcs[0].tag("Name"), Some("prod"));
    }
}
