//! Synthetic VPC flow log files, deterministic for a seed: the data of the benchmarks.
//!
//! A file looks like what VPC Flow Logs delivers to S3: a header line naming the fields, then
//! one space-separated record per line, `-` for a value that does not apply, and (when asked)
//! a NODATA or SKIPDATA record every K records. The values follow the shape of real traffic,
//! which is what the parser's and encoder's speed depend on: 5 % IPv6, mostly private local
//! addresses, TCP 70 % / UDP 22 % / ICMP / ICMPv6 / ESP, well-known service ports against
//! ephemeral ones, 15 % REJECT, interfaces, subnets and instances drawn from the bounded pools
//! a VPC has, 20 % of flows from ECS tasks (long ARNs and ids). Transit gateway fields (the
//! `tgw` format) come from a gateway with attachments in a few accounts' VPCs, 3 % of flows
//! losing packets; they are drawn from a random stream of their own, so a VPC format's file is
//! the same bytes as before they existed.
//!
//! Used by the `gen_flowlogs` example (the command line) and by `benches/pipeline.rs`; the
//! tests are in `generate_tests.rs`.

use flowlogs_forwarder::format::{self, Field};
use rand::seq::IndexedRandom;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::Path;

/// Bumped whenever the output for given options changes, so cached files are not reused.
pub const GENERATOR_VERSION: u32 = 1;

/// What to generate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub records: u64,
    /// The columns, in order.
    pub fields: Vec<&'static Field>,
    pub seed: u64,
    /// Every K-th record is a NODATA or SKIPDATA one (alternately); 0: never.
    pub nodata_every: u64,
}

impl Options {
    /// `default` (the 14 version-2 fields), `all` (every field of versions 2 to 8, in
    /// catalogue order), `tgw` (every transit gateway field, AWS's default for them) or a
    /// comma-separated list of field names.
    pub fn fields_of(spec: &str) -> Result<Vec<&'static Field>, String> {
        let fields: Vec<&'static Field> = match spec {
            "default" => format::DEFAULT_FIELDS
                .iter()
                .map(|n| format::lookup(n).expect("default fields are in the catalogue"))
                .collect(),
            "all" => format::fields().iter().collect(),
            "tgw" => format::tgw_fields(),
            list => {
                let names: Vec<&str> = list.split(',').map(str::trim).collect();
                let unknown: Vec<&str> = names
                    .iter()
                    .copied()
                    .filter(|n| format::lookup_any(n).is_none())
                    .collect();
                if !unknown.is_empty() {
                    return Err(format!(
                        "unknown field(s) in --format: {} (fields are the names of the VPC and \
                         transit gateway flow log catalogue, e.g. srcaddr,dstaddr,action)",
                        unknown.join(" ")
                    ));
                }
                names.iter().filter_map(|n| format::lookup_any(n)).collect()
            }
        };
        Ok(fields)
    }

    /// A file name that changes with every option and with [`GENERATOR_VERSION`]: the key of
    /// a cache of generated files.
    pub fn cache_name(&self) -> String {
        let names: Vec<&str> = self.fields.iter().map(|f| f.name).collect();
        // The field list can be long; a short digest of it keeps the name readable.
        let digest = names
            .join(",")
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
                (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
            });
        format!(
            "v{GENERATOR_VERSION}-{}f{:08x}-{}r-seed{}-nodata{}.log.gz",
            names.len(),
            digest as u32,
            self.records,
            self.seed,
            self.nodata_every
        )
    }
}

/// Writes the file to `out` (gzip when its name ends in `.gz`), through a temporary file
/// beside it, so an interrupted run leaves no partial file under the final name.
pub fn write_file(out: &Path, options: &Options) -> io::Result<()> {
    let gzip = out.extension().is_some_and(|e| e == "gz");
    let mut partial = out.as_os_str().to_owned();
    partial.push(".partial");
    let partial = std::path::PathBuf::from(partial);
    let file = io::BufWriter::with_capacity(1 << 16, std::fs::File::create(&partial)?);
    if gzip {
        let mut gz = flate2::write::GzEncoder::new(file, flate2::Compression::default());
        write(&mut gz, options)?;
        gz.finish()?.flush()?;
    } else {
        let mut file = file;
        write(&mut file, options)?;
        file.flush()?;
    }
    std::fs::rename(&partial, out)
}

/// Writes the header line and the records.
pub fn write(out: &mut impl Write, options: &Options) -> io::Result<()> {
    let names: Vec<&str> = options.fields.iter().map(|f| f.name).collect();
    writeln!(out, "{}", names.join(" "))?;
    let version = options.fields.iter().map(|f| f.version).max().unwrap_or(2);
    let mut rng = ChaCha8Rng::seed_from_u64(options.seed);
    let pools = Pools::draw(&mut rng);
    let mut tgw_rng = ChaCha8Rng::seed_from_u64(options.seed ^ 0x7467_7767);
    let gateway = options
        .fields
        .iter()
        .any(|f| format::lookup(f.name).is_none())
        .then(|| Gateway::draw(&mut tgw_rng));
    let mut line = String::with_capacity(1024);
    for i in 0..options.records {
        let status = match options.nodata_every {
            k if k > 0 && i % k == k - 1 => {
                if (i / k) % 2 == 0 {
                    "NODATA"
                } else {
                    "SKIPDATA"
                }
            }
            _ => "OK",
        };
        let flow = Flow::draw(&mut rng, &pools);
        let hop = gateway.as_ref().map(|g| Hop::draw(&mut tgw_rng, g));
        line.clear();
        for (n, field) in options.fields.iter().enumerate() {
            if n > 0 {
                line.push(' ');
            }
            match &hop {
                Some(hop) if hop.write_value(field.name, status, &mut line) => {}
                _ => flow.write_value(field.name, version, status, &mut line),
            }
        }
        line.push('\n');
        out.write_all(line.as_bytes())?;
    }
    Ok(())
}

/// The start of the five minutes the records fall in (2024-06-19T14:18:20Z).
pub const T0: u64 = 1_718_806_700;
const ACCOUNT: &str = "123456789012";

/// A VPC has a bounded set of interfaces, subnets and instances: records draw from these.
struct Pools {
    eni: Vec<String>,
    vpc: Vec<String>,
    subnet: Vec<String>,
    instance: Vec<String>,
}

impl Pools {
    fn draw(rng: &mut impl Rng) -> Pools {
        let mut ids = |prefix: &str, n: usize| -> Vec<String> {
            (0..n).map(|_| hex_id(rng, prefix)).collect()
        };
        Pools {
            eni: ids("eni", 64),
            vpc: ids("vpc", 3),
            subnet: ids("subnet", 12),
            instance: ids("i", 40),
        }
    }
}

/// `prefix-` and 17 hex digits, like AWS resource ids.
fn hex_id(rng: &mut impl Rng, prefix: &str) -> String {
    format!("{prefix}-{:017x}", rng.random_range(0..1u128 << 68))
}

fn hex128(rng: &mut impl Rng) -> String {
    format!("{:032x}", rng.random::<u128>())
}

fn ipv4(rng: &mut impl Rng, private: bool) -> String {
    if private {
        format!(
            "10.{}.{}.{}",
            rng.random_range(0..4),
            rng.random_range(0..256),
            rng.random_range(1..255)
        )
    } else {
        format!(
            "{}.{}.{}.{}",
            rng.random_range(1..224),
            rng.random_range(0..256),
            rng.random_range(0..256),
            rng.random_range(1..255)
        )
    }
}

fn ipv6(rng: &mut impl Rng) -> String {
    let mut s = String::from("2600:1f18");
    for _ in 0..6 {
        let _ = write!(s, ":{:x}", rng.random_range(0..65536u32));
    }
    s
}

/// One attachment of the transit gateway: a VPC of some account, seen through its subnet,
/// interface and zone.
struct Attachment {
    id: String,
    account: &'static str,
    vpc: String,
    subnet: String,
    eni: String,
    az: &'static str,
}

/// A transit gateway and its attachments.
struct Gateway {
    id: String,
    attachments: Vec<Attachment>,
}

impl Gateway {
    fn draw(rng: &mut impl Rng) -> Gateway {
        let attachments = (0..8)
            .map(|i| Attachment {
                id: hex_id(rng, "tgw-attach"),
                account: ["123456789012", "210987654321", "345678901234"][i % 3],
                vpc: hex_id(rng, "vpc"),
                subnet: hex_id(rng, "subnet"),
                eni: hex_id(rng, "eni"),
                az: ["use1-az1", "use1-az2", "use1-az4"][i % 3],
            })
            .collect();
        Gateway {
            id: hex_id(rng, "tgw"),
            attachments,
        }
    }
}

/// A flow's way through the transit gateway: the attachment it is logged on, the other one,
/// and the packets lost (one reason in 3 % of flows).
struct Hop<'g> {
    gateway: &'g Gateway,
    from: &'g Attachment,
    to: &'g Attachment,
    /// no-route, blackhole, mtu-exceeded, ttl-expired.
    lost: [u64; 4],
}

impl<'g> Hop<'g> {
    fn draw(rng: &mut impl Rng, gateway: &'g Gateway) -> Hop<'g> {
        let n = gateway.attachments.len();
        let from = rng.random_range(0..n);
        let to = (from + rng.random_range(1..n)) % n;
        let mut lost = [0; 4];
        if rng.random_bool(0.03) {
            lost[rng.random_range(0..4)] = rng.random_range(1..50);
        }
        Hop {
            gateway,
            from: &gateway.attachments[from],
            to: &gateway.attachments[to],
            lost,
        }
    }

    /// Appends the value of a transit-gateway-only field and says so, or says it is not one.
    /// A record without data keeps the gateway and the attachment only.
    fn write_value(&self, field: &str, status: &str, line: &mut String) -> bool {
        let (from, to) = (self.from, self.to);
        let value: &str = match field {
            "resource-type" => "TransitGateway",
            "tgw-id" => &self.gateway.id,
            "tgw-attachment-id" => &from.id,
            _ if status != "OK"
                && (field.starts_with("tgw-") || field.starts_with("packets-lost")) =>
            {
                "-"
            }
            "tgw-src-vpc-account-id" => from.account,
            "tgw-dst-vpc-account-id" => to.account,
            "tgw-src-vpc-id" => &from.vpc,
            "tgw-dst-vpc-id" => &to.vpc,
            "tgw-src-subnet-id" => &from.subnet,
            "tgw-dst-subnet-id" => &to.subnet,
            "tgw-src-eni" => &from.eni,
            "tgw-dst-eni" => &to.eni,
            "tgw-src-az-id" => from.az,
            "tgw-dst-az-id" => to.az,
            "tgw-pair-attachment-id" => &to.id,
            "packets-lost-no-route"
            | "packets-lost-blackhole"
            | "packets-lost-mtu-exceeded"
            | "packets-lost-ttl-expired" => {
                let i = [
                    "packets-lost-no-route",
                    "packets-lost-blackhole",
                    "packets-lost-mtu-exceeded",
                    "packets-lost-ttl-expired",
                ]
                .iter()
                .position(|f| *f == field)
                .expect("one of the four");
                let _ = write!(line, "{}", self.lost[i]);
                return true;
            }
            _ => return false,
        };
        line.push_str(value);
        true
    }
}

/// An ECS task's identifiers, for the flows that come from one.
struct Ecs {
    container_id: String,
    task_arn: String,
    task_id: String,
}

/// One flow's values, drawn before the columns are chosen, so that a seed gives the same
/// flows whatever the format.
struct Flow<'p> {
    ipv6: bool,
    inbound: bool,
    src: String,
    dst: String,
    protocol: u32,
    srcport: u32,
    dstport: u32,
    start: u64,
    end: u64,
    packets: u64,
    bytes: u64,
    reject: bool,
    eni: &'p str,
    account_known: bool,
    vpc: &'p str,
    subnet: &'p str,
    instance: Option<&'p str>,
    tcp_flags: u32,
    az: &'static str,
    src_service: &'static str,
    dst_service: &'static str,
    traffic_path: Option<u32>,
    ecs: Option<Ecs>,
    bpa: bool,
}

impl<'p> Flow<'p> {
    fn draw(rng: &mut impl Rng, pools: &'p Pools) -> Flow<'p> {
        let v6 = rng.random_bool(0.05);
        let inbound = rng.random_bool(0.5);
        let local = if v6 { ipv6(rng) } else { ipv4(rng, true) };
        let remote = if v6 {
            ipv6(rng)
        } else {
            let private = rng.random_bool(0.3);
            ipv4(rng, private)
        };
        let (src, dst) = if inbound {
            (remote, local)
        } else {
            (local, remote)
        };
        // TCP 70, UDP 22, ICMP 5, ICMPv6 2, ESP 1 (per 100).
        let protocol = match rng.random_range(0..100) {
            0..70 => 6,
            70..92 => 17,
            92..97 => 1,
            97..99 => 58,
            _ => 50,
        };
        let service = *[22, 53, 80, 123, 443, 3306, 5432, 6379, 8080]
            .choose(rng)
            .expect("not empty");
        let ephemeral = rng.random_range(1024..65536);
        let (srcport, dstport) = match (protocol, inbound) {
            (6 | 17, true) => (ephemeral, service),
            (6 | 17, false) => (service, ephemeral),
            _ => (0, 0),
        };
        let start = T0 + rng.random_range(0..300);
        let end = start + rng.random_range(1..61);
        let packets = rng.random_range(1..5000u64);
        let bytes = packets * rng.random_range(40..1500u64);
        let reject = rng.random_bool(0.15);
        let pick = |rng: &mut _, pool: &'p [String]| -> &'p str {
            pool.choose(rng).expect("pools are not empty")
        };
        let eni = pick(rng, &pools.eni);
        let is_ecs = rng.random_bool(0.2);
        let account_known = rng.random_bool(0.97);
        let vpc = pick(rng, &pools.vpc);
        let subnet = pick(rng, &pools.subnet);
        let instance = rng.random_bool(0.8).then(|| pick(rng, &pools.instance));
        let tcp_flags = if protocol == 6 {
            *[0, 1, 2, 3, 18, 19, 4].choose(rng).expect("not empty")
        } else {
            0
        };
        let az = *["use1-az1", "use1-az2", "use1-az4"]
            .choose(rng)
            .expect("not empty");
        let src_service = *["-", "-", "-", "S3", "AMAZON", "EC2"]
            .choose(rng)
            .expect("not empty");
        let dst_service = *["-", "-", "-", "DYNAMODB", "AMAZON"]
            .choose(rng)
            .expect("not empty");
        let traffic_path = (!inbound).then(|| *[1, 2, 3, 7, 8].choose(rng).expect("not empty"));
        let ecs = is_ecs.then(|| Ecs {
            container_id: format!("{}-{}", hex128(rng), rng.random_range(0..10_000_000_000u64)),
            task_arn: format!("arn:aws:ecs:us-east-1:{ACCOUNT}:task/web/{}", hex128(rng)),
            task_id: hex128(rng),
        });
        let bpa = reject && rng.random_bool(0.1);
        Flow {
            ipv6: v6,
            inbound,
            src,
            dst,
            protocol,
            srcport,
            dstport,
            start,
            end,
            packets,
            bytes,
            reject,
            eni,
            account_known,
            vpc,
            subnet,
            instance,
            tcp_flags,
            az,
            src_service,
            dst_service,
            traffic_path,
            ecs,
            bpa,
        }
    }

    /// Appends the value of `field` to `line`. A NODATA or SKIPDATA record keeps only the
    /// fields that identify the interface and the window; the others are `-`.
    fn write_value(&self, field: &str, version: u8, status: &str, line: &mut String) {
        const KEPT_WITHOUT_DATA: [&str; 6] = [
            "version",
            "account-id",
            "interface-id",
            "start",
            "end",
            "log-status",
        ];
        if status != "OK" && !KEPT_WITHOUT_DATA.contains(&field) {
            line.push('-');
            return;
        }
        let ecs = self.ecs.as_ref();
        let ecs_or_dash = |value: &'static str| if ecs.is_some() { value } else { "-" };
        let _ = match field {
            "version" => write!(line, "{version}"),
            "account-id" => line.write_str(if self.account_known {
                ACCOUNT
            } else {
                "unknown"
            }),
            "interface-id" => line.write_str(self.eni),
            "srcaddr" | "pkt-srcaddr" => line.write_str(&self.src),
            "dstaddr" | "pkt-dstaddr" => line.write_str(&self.dst),
            "srcport" => write!(line, "{}", self.srcport),
            "dstport" => write!(line, "{}", self.dstport),
            "protocol" => write!(line, "{}", self.protocol),
            "packets" => write!(line, "{}", self.packets),
            "bytes" => write!(line, "{}", self.bytes),
            "start" => write!(line, "{}", self.start),
            "end" => write!(line, "{}", self.end),
            "action" => line.write_str(if self.reject { "REJECT" } else { "ACCEPT" }),
            "log-status" => line.write_str(status),
            "vpc-id" => line.write_str(self.vpc),
            "subnet-id" => line.write_str(self.subnet),
            "instance-id" => line.write_str(self.instance.unwrap_or("-")),
            "tcp-flags" => write!(line, "{}", self.tcp_flags),
            "type" => line.write_str(if self.ipv6 { "IPv6" } else { "IPv4" }),
            "region" => line.write_str("us-east-1"),
            "az-id" => line.write_str(self.az),
            "pkt-src-aws-service" => line.write_str(self.src_service),
            "pkt-dst-aws-service" => line.write_str(self.dst_service),
            "flow-direction" => line.write_str(if self.inbound { "ingress" } else { "egress" }),
            "traffic-path" => match self.traffic_path {
                Some(p) => write!(line, "{p}"),
                None => line.write_str("-"),
            },
            "ecs-cluster-arn" => line.write_str(ecs_or_dash(
                "arn:aws:ecs:us-east-1:123456789012:cluster/web",
            )),
            "ecs-cluster-name" => line.write_str(ecs_or_dash("web")),
            "ecs-container-id" => line.write_str(ecs.map_or("-", |e| &e.container_id)),
            "ecs-service-name" => line.write_str(ecs_or_dash("checkout")),
            "ecs-task-definition-arn" => line.write_str(ecs_or_dash(
                "arn:aws:ecs:us-east-1:123456789012:task-definition/checkout:7",
            )),
            "ecs-task-arn" => line.write_str(ecs.map_or("-", |e| &e.task_arn)),
            "ecs-task-id" => line.write_str(ecs.map_or("-", |e| &e.task_id)),
            "reject-reason" => line.write_str(if self.bpa { "BPA" } else { "-" }),
            // sublocation-*, ecs-container-instance-*, ecs-second-container-id: flows in a
            // region's own zones from tasks on Fargate, where AWS writes `-`.
            _ => line.write_str("-"),
        };
    }
}
