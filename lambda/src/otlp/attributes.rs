//! The attribute table: which OpenTelemetry attribute each flow log column becomes (VPC and
//! transit gateway columns alike), with the names of the OpenTelemetry Collector's
//! awslogsencoding extension, and the IANA names of protocol numbers.

use super::wire::AttrKey;

/// Lowercase IANA protocol keywords of the numbers VPC traffic commonly carries.
#[inline]
pub fn protocol_name(number: i64) -> Option<&'static str> {
    Some(match number {
        0 => "hopopt",
        1 => "icmp",
        2 => "igmp",
        4 => "ipv4",
        6 => "tcp",
        8 => "egp",
        17 => "udp",
        27 => "rdp",
        41 => "ipv6",
        43 => "ipv6-route",
        44 => "ipv6-frag",
        46 => "rsvp",
        47 => "gre",
        50 => "esp",
        51 => "ah",
        58 => "ipv6-icmp",
        59 => "ipv6-nonxt",
        60 => "ipv6-opts",
        88 => "eigrp",
        89 => "ospfigp",
        94 => "ipip",
        97 => "etherip",
        103 => "pim",
        108 => "ipcomp",
        112 => "vrrp",
        115 => "l2tp",
        132 => "sctp",
        136 => "udplite",
        137 => "mpls-in-ip",
        _ => return None,
    })
}

/// What to do with a column.
#[derive(Debug, Clone)]
pub(super) enum Action {
    /// An attribute under this key, value as typed.
    Attr(AttrKey),
    /// An int field the collector writes as a string attribute.
    IntAsString(AttrKey),
    /// Used elsewhere (addresses, timestamp, resource) or nothing to write.
    Skip,
    Protocol,
    NetworkType,
    Direction,
}

pub(super) fn action_for(name: &str) -> Action {
    let attr = |k: &str| Action::Attr(AttrKey::new(k));
    match name {
        "version" => attr("aws.vpc.flow.log.version"),
        "interface-id" => attr("network.interface.name"),
        "srcport" => attr("source.port"),
        "dstport" => attr("destination.port"),
        "packets" => attr("aws.vpc.flow.packets"),
        "bytes" => attr("aws.vpc.flow.bytes"),
        "start" => attr("aws.vpc.flow.start"),
        "action" => attr("aws.vpc.flow.action"),
        "log-status" => attr("aws.vpc.flow.status"),
        "vpc-id" => attr("aws.vpc.id"),
        "subnet-id" => attr("aws.vpc.subnet.id"),
        "instance-id" => attr("host.id"),
        "tcp-flags" => Action::IntAsString(AttrKey::new("network.tcp.flags")),
        "type" => Action::NetworkType,
        "az-id" => attr("aws.az.id"),
        "sublocation-type" => attr("aws.sublocation.type"),
        "sublocation-id" => attr("aws.sublocation.id"),
        "pkt-src-aws-service" => attr("aws.vpc.flow.source.service"),
        "pkt-dst-aws-service" => attr("aws.vpc.flow.destination.service"),
        "flow-direction" => Action::Direction,
        "traffic-path" => Action::IntAsString(AttrKey::new("aws.vpc.flow.traffic_path")),
        "ecs-cluster-arn" => attr("aws.ecs.cluster.arn"),
        "ecs-cluster-name" => attr("aws.ecs.cluster.name"),
        "ecs-container-instance-arn" => attr("aws.ecs.container.instance.arn"),
        "ecs-container-instance-id" => attr("aws.ecs.container.instance.id"),
        "ecs-container-id" => attr("aws.ecs.container.id"),
        "ecs-second-container-id" => attr("aws.ecs.second.container.id"),
        "ecs-service-name" => attr("aws.ecs.service.name"),
        "ecs-task-definition-arn" => attr("aws.ecs.task.definition.arn"),
        "ecs-task-arn" => attr("aws.ecs.task.arn"),
        "ecs-task-id" => attr("aws.ecs.task.id"),
        "reject-reason" => attr("aws.vpc.flow.reject_reason"),
        // Transit gateway flow logs, as the collector names them (its PR #46276).
        "tgw-id" => attr("aws.tgw.id"),
        "tgw-attachment-id" => attr("aws.tgw.attachment.id"),
        "tgw-src-vpc-id" => attr("aws.tgw.source.vpc.id"),
        "tgw-dst-vpc-id" => attr("aws.tgw.destination.vpc.id"),
        "tgw-src-subnet-id" => attr("aws.tgw.source.vpc.subnet.id"),
        "tgw-dst-subnet-id" => attr("aws.tgw.destination.vpc.subnet.id"),
        "tgw-src-eni" => attr("aws.tgw.source.eni.id"),
        "tgw-dst-eni" => attr("aws.tgw.destination.eni.id"),
        "tgw-src-az-id" => attr("aws.tgw.source.az.id"),
        "tgw-dst-az-id" => attr("aws.tgw.destination.az.id"),
        "tgw-pair-attachment-id" => attr("aws.tgw.attachment.pair.id"),
        "packets-lost-no-route" => attr("aws.vpc.flow.packets_lost_no_route"),
        "packets-lost-blackhole" => attr("aws.vpc.flow.packets_lost_blackhole"),
        "packets-lost-mtu-exceeded" => attr("aws.vpc.flow.packets_lost_mtu_exceeded"),
        "packets-lost-ttl-expired" => attr("aws.vpc.flow.packets_lost_ttl_expired"),
        // The collector leaves these two out; named after its `aws.tgw.source.vpc.*`.
        "tgw-src-vpc-account-id" => attr("aws.tgw.source.vpc.account.id"),
        "tgw-dst-vpc-account-id" => attr("aws.tgw.destination.vpc.account.id"),
        "protocol" => Action::Protocol,
        // `resource-type` names the kind of resource the flow log is on (`TransitGateway`); the
        // `aws.tgw.*` attributes mark the record as a transit gateway one already, and the
        // collector drops it too.
        "srcaddr" | "dstaddr" | "pkt-srcaddr" | "pkt-dstaddr" | "end" | "account-id" | "region"
        | "resource-type" => Action::Skip,
        // A field we do not know (a newer version): keep it, under the flow namespace.
        other => Action::Attr(AttrKey::new(&format!(
            "aws.vpc.flow.{}",
            other.replace('-', "_")
        ))),
    }
}

/// The keys of the attributes that do not come from one column each.
#[derive(Debug)]
pub(super) struct DerivedKeys {
    pub(super) protocol_name: AttrKey,
    pub(super) transport: AttrKey,
    pub(super) protocol: AttrKey,
    pub(super) network_type: AttrKey,
    pub(super) direction: AttrKey,
    pub(super) source: AttrKey,
    pub(super) destination: AttrKey,
    pub(super) local: AttrKey,
    pub(super) uid: AttrKey,
}

impl DerivedKeys {
    pub(super) fn new() -> DerivedKeys {
        DerivedKeys {
            protocol_name: AttrKey::new("network.protocol.name"),
            transport: AttrKey::new("network.transport"),
            protocol: AttrKey::new("aws.vpc.flow.protocol"),
            network_type: AttrKey::new("network.type"),
            direction: AttrKey::new("network.io.direction"),
            source: AttrKey::new("source.address"),
            destination: AttrKey::new("destination.address"),
            local: AttrKey::new("network.local.address"),
            uid: AttrKey::new("log.record.uid"),
        }
    }
}
