//! Every rule a config value must pass, once: pure functions over raw values that say what is wrong
//! and what to write instead. The checker (`super::Checker`) runs them on a file, the wizard runs the
//! checker on the raw config it builds, and the JSON Schema (`super::schema`) takes its bounds from
//! the constants here. Each limit names the AWS API reference field it comes from.

use std::net::IpAddr;
use std::ops::RangeInclusive;

/// What is wrong with one value, and what to write instead. The checker adds the file, line and key.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    pub problem: String,
    pub fix: String,
}

fn problem(problem: impl Into<String>, fix: impl Into<String>) -> Problem {
    Problem {
        problem: problem.into(),
        fix: fix.into(),
    }
}

/// `stack` becomes part of every name; the longest derived ones are the buckets
/// `<stack>-flowlogs-<12-digit account>-<region>` and `<stack>-failures-<account>-<region>` (S3: at
/// most 63, so 24 leaves room for a region name of 16 characters), the roles `flowlogs-<stack>-forwarder` / `-firehose` (IAM RoleName: at
/// most 64), the function `flowlogs-<stack>-forwarder` (Lambda FunctionName: at most 64) and the
/// stream `flowlogs-<stack>` (Firehose DeliveryStreamName: at most 64).
pub const STACK_LEN: RangeInclusive<usize> = 1..=24;
pub const STACK_PATTERN: &str = "^[a-z]([a-z0-9-]*[a-z0-9])?$";
/// EC2 CreateFlowLogs `ResourceIds`: at most 1000 for VPCs, subnets and network interfaces.
pub const MAX_RESOURCE_IDS: usize = 1000;
/// EC2 CreateFlowLogs `MaxAggregationInterval`: 60 or 600 seconds.
pub const AGGREGATION_INTERVALS: [u32; 2] = [60, 600];
/// S3 lifecycle `Expiration.Days`: a positive 32-bit integer.
pub const RETENTION_DAYS: RangeInclusive<u32> = 1..=i32::MAX as u32;
/// Characters allowed in `bucket.prefix`: they need no escaping in S3 keys, IAM resource ARNs and
/// bucket policies (no `*` or `?` wildcards, no `${...}` policy variables, no spaces).
pub const PREFIX_PATTERN: &str =
    r"^(?!AWSLogs)(?!(.*/)?\.\.?(/|$))([A-Za-z0-9._-]+/)*([A-Za-z0-9._-]+/?)?$";
/// S3 keys are at most 1024 bytes; the flow-log part after the prefix (hive layout, hourly
/// folders, file name) takes about 250 of them.
pub const PREFIX_MAX_LEN: usize = 512;
/// Lambda CreateFunction `MemorySize`: 128 to 10240 MB.
pub const LAMBDA_MEMORY_MB: RangeInclusive<u32> = 128..=10240;
/// Lambda CreateFunction `Timeout`: 1 to 900 seconds.
pub const LAMBDA_TIMEOUT_S: RangeInclusive<u32> = 1..=900;
/// Lambda PutFunctionEventInvokeConfig `MaximumRetryAttempts`: 0 to 2.
pub const LAMBDA_RETRY_ATTEMPTS: RangeInclusive<u32> = 0..=2;
/// Lambda PutFunctionEventInvokeConfig `MaximumEventAgeInSeconds`: 60 to 21600.
pub const LAMBDA_EVENT_AGE_S: RangeInclusive<u32> = 60..=21600;
/// Firehose `HttpEndpointConfiguration.Url`: 1 to 1000 characters, pattern `https://.*`.
pub const FIREHOSE_URL_MAX_LEN: usize = 1000;
/// Firehose `HttpEndpointBufferingHints.SizeInMBs`: 1 to 64.
pub const FIREHOSE_BUFFER_MB: RangeInclusive<u32> = 1..=64;
/// Firehose `HttpEndpointBufferingHints.IntervalInSeconds`: 0 to 900.
pub const FIREHOSE_BUFFER_S: RangeInclusive<u32> = 0..=900;
/// Firehose `HttpEndpointRetryOptions.DurationInSeconds`: 0 to 7200.
pub const FIREHOSE_RETRY_S: RangeInclusive<u32> = 0..=7200;
/// Firehose `HttpEndpointConfiguration.AccessKey`: at most 4096 characters.
pub const FIREHOSE_ACCESS_KEY_MAX_LEN: usize = 4096;
/// Firehose `HttpEndpointCommonAttribute`: name 1 to 256 characters, not blank; value at most 1024.
pub const COMMON_ATTRIBUTE_NAME_MAX_LEN: usize = 256;
pub const COMMON_ATTRIBUTE_VALUE_MAX_LEN: usize = 1024;
/// HTTP header names as the forwarder sends them (a subset of RFC 9110's token characters).
pub const HEADER_NAME_PATTERN: &str = "^[A-Za-z0-9_-]+$";
/// An http(s) URL with a host (the OTLP endpoint).
pub const HTTP_URL_PATTERN: &str = "^https?://[^/?#@]+";
/// `https://` on port 443, or `http(s)://` to a loopback host on any port (see `firehose_url`).
pub const FIREHOSE_URL_PATTERN: &str = r"^(https://([^/?#@:\[]+|\[[0-9A-Fa-f:.]+\])(:443)?([/?#]|$)|https?://(localhost|127\.[0-9]+\.[0-9]+\.[0-9]+|\[::1\])([:/?#]|$))";
/// The only port Firehose delivers to ("HTTP endpoint delivery request and response
/// specifications": "Currently, only port 443 is supported for HTTP endpoint data delivery").
pub const FIREHOSE_PORT: u16 = 443;
/// The schema's part of the S3 bucket naming rules (the checker adds the rest: no `..`, no IP
/// address, reserved prefixes and suffixes).
pub const BUCKET_NAME_PATTERN: &str = "^[a-z0-9][a-z0-9.-]*[a-z0-9]$";
/// Some character other than white space.
pub const NOT_BLANK_PATTERN: &str = r"\S";
pub const REGION_PATTERN: &str = "^[a-z0-9]+(-[a-z0-9]+)+-[0-9]+$";

/// Organizations `Account.Id`: 12 digits.
pub const ACCOUNT_PATTERN: &str = "^[0-9]{12}$";
/// Organizations `ParentId` (ListAccountsForParent): an OU `ou-` (4-32 then 8-32 lower-case
/// letters or digits) or a root `r-` (4-32).
pub const OU_PATTERN: &str = "^(ou-[0-9a-z]{4,32}-[0-9a-z]{8,32}|r-[0-9a-z]{4,32})$";
/// `targets.concurrency`: targets worked on at once. Each holds a few connections; more than 64 at
/// once meets EC2's and STS's request-rate throttles sooner than it saves time.
pub const TARGET_CONCURRENCY: RangeInclusive<u32> = 1..=64;
/// IAM `RoleName`: 1 to 64 of `[\w+=,.@-]`.
pub const ROLE_NAME_MAX_LEN: usize = 64;
/// EC2 tag keys are 1 to 128 characters, values at most 256 (`Tag`).
pub const TAG_KEY_MAX_LEN: usize = 128;
pub const TAG_VALUE_MAX_LEN: usize = 256;
/// STS AssumeRole `ExternalId`: 2 to 1224 of `[\w+=,.@:/-]`.
pub const EXTERNAL_ID_LEN: RangeInclusive<usize> = 2..=1224;

fn in_range(
    value: u32,
    range: &RangeInclusive<u32>,
    what: &str,
    source: &str,
) -> Result<(), Problem> {
    if range.contains(&value) {
        return Ok(());
    }
    Err(problem(
        format!(
            "{value} is outside what {source} accepts ({} to {})",
            range.start(),
            range.end()
        ),
        format!("use {what} from {} to {}", range.start(), range.end()),
    ))
}

pub fn stack(stack: &str) -> Result<(), Problem> {
    let fix = "use 1 to 24 lowercase letters, digits and hyphens, starting with a letter (it becomes part of bucket, role, function and stream names)";
    if !STACK_LEN.contains(&stack.len()) {
        return Err(problem(
            format!(
                "`{stack}` is {} characters long; at most {} fit in every name derived from it",
                stack.len(),
                STACK_LEN.end()
            ),
            fix,
        ));
    }
    let ok_chars = stack
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
    if !ok_chars || !stack.starts_with(|c: char| c.is_ascii_lowercase()) || stack.ends_with('-') {
        return Err(problem(
            format!("`{stack}` is not a usable stack name"),
            fix,
        ));
    }
    Ok(())
}

pub fn region(region: &str) -> Result<(), Problem> {
    let parts: Vec<&str> = region.split('-').collect();
    let ok = parts.len() >= 3
        && parts.iter().all(|p| {
            !p.is_empty()
                && p.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        })
        && parts
            .last()
            .is_some_and(|p| p.chars().all(|c| c.is_ascii_digit()));
    if ok {
        return Ok(());
    }
    Err(problem(
        format!("`{region}` is not an AWS region name"),
        "write a region such as `us-east-1`, or leave it out to use the profile's region",
    ))
}

/// Ids of one kind (`vpc-`, `subnet-`, `eni-` then hex digits), each once, at most 1000.
pub fn resource_ids(ids: &[String], id_prefix: &str) -> Result<(), Problem> {
    for id in ids {
        let hex = id.strip_prefix(id_prefix).unwrap_or("");
        if hex.is_empty() || !hex.chars().all(|c| c.is_ascii_hexdigit()) {
            return Err(problem(
                format!("`{id}` is not a {id_prefix}... id"),
                format!("write ids such as `{id_prefix}0abc1234def567890`"),
            ));
        }
    }
    let mut unique = ids.to_vec();
    unique.sort();
    unique.dedup();
    if unique.len() != ids.len() {
        return Err(problem("an id is listed twice", "list each id once"));
    }
    if ids.len() > MAX_RESOURCE_IDS {
        return Err(problem(
            format!("{} ids are more than one flow log takes (EC2 CreateFlowLogs: at most {MAX_RESOURCE_IDS})", ids.len()),
            "split the ids over several stacks",
        ));
    }
    Ok(())
}

pub fn max_aggregation_interval(seconds: u32) -> Result<(), Problem> {
    if AGGREGATION_INTERVALS.contains(&seconds) {
        return Ok(());
    }
    Err(problem(
        format!("{seconds} seconds is not an interval AWS offers (EC2 CreateFlowLogs: 60 or 600)"),
        "use 60 or 600",
    ))
}

/// S3's naming rules for general purpose buckets.
pub fn bucket_name(name: &str) -> Result<(), Problem> {
    let bad = |why: &str| {
        Err(problem(
            format!("`{name}` is not a valid S3 bucket name: {why}"),
            "use 3 to 63 lowercase letters, digits, hyphens and dots, starting and ending with a letter or digit",
        ))
    };
    if !(3..=63).contains(&name.len()) {
        return bad("it must be 3 to 63 characters long");
    }
    if !name
        .chars()
        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '.')
    {
        return bad("only lowercase letters, digits, hyphens and dots are allowed");
    }
    let edge_ok = |c: Option<char>| c.is_some_and(|c| c.is_ascii_lowercase() || c.is_ascii_digit());
    if !edge_ok(name.chars().next()) || !edge_ok(name.chars().last()) {
        return bad("it must start and end with a letter or digit");
    }
    if name.contains("..") || name.contains(".-") || name.contains("-.") {
        return bad("dots may not be next to each other or to a hyphen");
    }
    if name.parse::<std::net::Ipv4Addr>().is_ok() {
        return bad("it may not look like an IP address");
    }
    for prefix in ["xn--", "sthree-", "amzn-s3-demo-"] {
        if name.starts_with(prefix) {
            return bad(&format!("it may not start with `{prefix}`"));
        }
    }
    for suffix in ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] {
        if name.ends_with(suffix) {
            return bad(&format!("it may not end with `{suffix}`"));
        }
    }
    Ok(())
}

/// The folder before `AWSLogs/`: empty, or segments of letters, digits, `.`, `_` and `-` joined by
/// `/`, with no leading `/`. Returns it normalised to end in `/` (or empty).
pub fn bucket_prefix(prefix: &str) -> Result<String, Problem> {
    let fix = "write a folder such as `flow-logs` or `team-a/vpc`: letters, digits, `.`, `_`, `-`, and `/` between folders (AWS adds AWSLogs/ itself)";
    if prefix.is_empty() {
        return Ok(String::new());
    }
    if prefix.starts_with('/') {
        return Err(problem(
            format!(
                "`{prefix}` starts with `/`, which would make an empty first folder in every key"
            ),
            fix,
        ));
    }
    if let Some(bad) = prefix
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "._-/".contains(*c)))
    {
        let why = match bad {
            '*' | '?' => "is a wildcard in IAM and bucket policies",
            '$' => "starts a policy variable (`${...}`) in IAM and bucket policies",
            ' ' => "must be encoded in S3 event filters and is easy to get wrong",
            _ => "is not safe in S3 keys, IAM ARNs and bucket policies alike",
        };
        return Err(problem(
            format!("`{prefix}` contains `{bad}`, which {why}"),
            fix,
        ));
    }
    let trimmed = prefix.trim_end_matches('/');
    if trimmed
        .split('/')
        .any(|s| s.is_empty() || s == "." || s == "..")
    {
        return Err(problem(
            format!("`{prefix}` has an empty, `.` or `..` folder"),
            fix,
        ));
    }
    if trimmed.starts_with("AWSLogs") {
        return Err(problem(format!("`{prefix}` is not a usable folder"), fix));
    }
    if prefix.len() > PREFIX_MAX_LEN {
        return Err(problem(
            format!(
                "`{prefix}` is {} characters long; S3 keys are at most 1024 bytes and flow logs need about 250 of them",
                prefix.len()
            ),
            format!("use at most {PREFIX_MAX_LEN} characters"),
        ));
    }
    Ok(format!("{trimmed}/"))
}

pub fn retention_days(days: u32) -> Result<(), Problem> {
    if days == 0 {
        return Err(problem(
            "0 days would delete every log at once",
            "use a number of days, for example 90",
        ));
    }
    in_range(
        days,
        &RETENTION_DAYS,
        "a number of days",
        "S3 lifecycle expiration",
    )
}

/// An http(s) URL with a host (the OTLP endpoint the forwarder posts to).
pub fn otlp_endpoint(raw: &str) -> Result<(), Problem> {
    http_url(raw)
        .map(|_| ())
        .map_err(|p| problem(p, "write an http:// or https:// URL"))
}

fn http_url(raw: &str) -> Result<url::Url, String> {
    let url = url::Url::parse(raw).map_err(|e| format!("`{raw}` is not a URL ({e})"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(format!("`{raw}` is not an http(s) URL with a host"));
    }
    Ok(url)
}

/// Firehose posts only to `https://` (HttpEndpointConfiguration.Url, pattern `https://.*`, at most
/// 1000 characters), and only on port 443 (AWS accepts another port in the URL and then fails
/// every delivery). `http://` and other ports are let through for loopback hosts only, where local
/// stacks run and no AWS Firehose can reach.
pub fn firehose_url(raw: &str) -> Result<(), Problem> {
    let fix = "write the endpoint's https:// URL (Firehose delivers only over HTTPS; http:// is accepted for 127.0.0.1, localhost and [::1] only)";
    let url = http_url(raw).map_err(|p| problem(p, fix))?;
    if url.scheme() == "http" && !is_loopback(&url) {
        return Err(problem(
            format!("`{raw}` is not https://, and Firehose refuses any other scheme"),
            fix,
        ));
    }
    if !is_loopback(&url) && url.port_or_known_default() != Some(FIREHOSE_PORT) {
        let port = url.port().map_or_else(|| "?".into(), |p| p.to_string());
        let mut fixed = url.clone();
        let _ = fixed.set_port(None);
        return Err(problem(
            format!("`{raw}` names port {port}; Firehose delivers to HTTP endpoints on port {FIREHOSE_PORT} only"),
            format!("serve the endpoint on port {FIREHOSE_PORT} and write its URL without a port, such as `{fixed}`"),
        ));
    }
    if raw.len() > FIREHOSE_URL_MAX_LEN {
        return Err(problem(
            format!(
                "the URL is {} characters long; Firehose takes at most {FIREHOSE_URL_MAX_LEN}",
                raw.len()
            ),
            format!("use a URL of at most {FIREHOSE_URL_MAX_LEN} characters"),
        ));
    }
    Ok(())
}

fn is_loopback(url: &url::Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => IpAddr::V4(ip).is_loopback(),
        Some(url::Host::Ipv6(ip)) => IpAddr::V6(ip).is_loopback(),
        None => false,
    }
}

pub fn header_name(name: &str) -> Result<(), Problem> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_".contains(c))
    {
        return Err(problem(
            format!("`{name}` is not an HTTP header name"),
            "use letters, digits, `-` and `_`",
        ));
    }
    Ok(())
}

pub fn service_name(name: &str) -> Result<(), Problem> {
    if name.trim().is_empty() {
        return Err(problem(
            "the service name is empty",
            "write a name such as `vpc-flow-logs`",
        ));
    }
    Ok(())
}

pub fn lambda_memory_mb(mb: u32) -> Result<(), Problem> {
    in_range(mb, &LAMBDA_MEMORY_MB, "MB", "Lambda (MemorySize)")
}

pub fn lambda_timeout_s(s: u32) -> Result<(), Problem> {
    in_range(s, &LAMBDA_TIMEOUT_S, "seconds", "Lambda (Timeout)")
}

pub fn lambda_retry_attempts(n: u32) -> Result<(), Problem> {
    in_range(
        n,
        &LAMBDA_RETRY_ATTEMPTS,
        "retries",
        "Lambda (MaximumRetryAttempts)",
    )
}

pub fn lambda_event_age_s(s: u32) -> Result<(), Problem> {
    in_range(
        s,
        &LAMBDA_EVENT_AGE_S,
        "seconds",
        "Lambda (MaximumEventAgeInSeconds)",
    )
}

pub fn firehose_buffer_mb(mb: u32) -> Result<(), Problem> {
    in_range(
        mb,
        &FIREHOSE_BUFFER_MB,
        "MB",
        "Firehose for an HTTP endpoint (BufferingHints.SizeInMBs)",
    )
}

pub fn firehose_buffer_s(s: u32) -> Result<(), Problem> {
    in_range(
        s,
        &FIREHOSE_BUFFER_S,
        "seconds",
        "Firehose (BufferingHints.IntervalInSeconds)",
    )
}

pub fn firehose_retry_s(s: u32) -> Result<(), Problem> {
    in_range(
        s,
        &FIREHOSE_RETRY_S,
        "seconds",
        "Firehose (RetryOptions.DurationInSeconds)",
    )
}

/// The written value's length (a `${env:NAME}` reference is checked again when it is resolved).
pub fn firehose_access_key(raw: &str) -> Result<(), Problem> {
    if raw.len() > FIREHOSE_ACCESS_KEY_MAX_LEN {
        return Err(problem(
            format!(
                "the access key is {} characters long; Firehose takes at most {FIREHOSE_ACCESS_KEY_MAX_LEN}",
                raw.len()
            ),
            "check the value (write `${env:NAME}` to read it from the environment)",
        ));
    }
    Ok(())
}

pub fn common_attribute(name: &str, value: &str) -> Result<(), Problem> {
    if name.trim().is_empty() || name.len() > COMMON_ATTRIBUTE_NAME_MAX_LEN {
        return Err(problem(
            format!("`{name}` is not a name Firehose takes for a common attribute (1 to {COMMON_ATTRIBUTE_NAME_MAX_LEN} characters, not blank)"),
            "use a short name such as `env`",
        ));
    }
    if value.len() > COMMON_ATTRIBUTE_VALUE_MAX_LEN {
        return Err(problem(
            format!(
                "the value is {} characters long; Firehose takes at most {COMMON_ATTRIBUTE_VALUE_MAX_LEN}",
                value.len()
            ),
            format!("use at most {COMMON_ATTRIBUTE_VALUE_MAX_LEN} characters"),
        ));
    }
    Ok(())
}

/// A POSIX environment variable name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn env_name(name: &str) -> Result<(), String> {
    let ok = name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if ok {
        return Ok(());
    }
    Err(format!(
        "`{name}` is not an environment variable name: use letters, digits and `_`, not starting with a digit (the name, such as SIGNOZ_KEY, not the secret)"
    ))
}

/// A 12-digit AWS account id.
pub fn account_id(id: &str) -> Result<(), Problem> {
    if id.len() == 12 && id.chars().all(|c| c.is_ascii_digit()) {
        return Ok(());
    }
    Err(problem(
        format!("`{id}` is not an AWS account id"),
        "write the 12 digits, quoted (\"012345678901\"), so YAML keeps the leading zeros",
    ))
}

/// Account ids, each once.
pub fn account_ids(ids: &[String]) -> Result<(), Problem> {
    ids.iter().try_for_each(|id| account_id(id))?;
    once_each(ids)
}

fn once_each(values: &[String]) -> Result<(), Problem> {
    let mut seen = std::collections::BTreeSet::new();
    match values.iter().find(|v| !seen.insert(v.as_str())) {
        Some(twice) => Err(problem(
            format!("`{twice}` is listed twice"),
            "list each once",
        )),
        None => Ok(()),
    }
}

/// An organisational unit (`ou-ab12-cd34ef56`) or a root (`r-ab12`) id.
pub fn organizational_unit(id: &str) -> Result<(), Problem> {
    let ok = match id.strip_prefix("ou-") {
        Some(rest) => rest.split_once('-').is_some_and(|(a, b)| {
            (4..=32).contains(&a.len())
                && (8..=32).contains(&b.len())
                && [a, b].iter().all(|p| {
                    p.chars()
                        .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
                })
        }),
        None => id.strip_prefix("r-").is_some_and(|r| {
            (4..=32).contains(&r.len())
                && r.chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit())
        }),
    };
    if ok {
        return Ok(());
    }
    Err(problem(
        format!("`{id}` is not an organisational unit or root id"),
        "write an id such as `ou-ab12-cd34ef56` (or a root `r-ab12`), as `aws organizations list-organizational-units-for-parent` shows",
    ))
}

/// Regions, each a region name, each once.
pub fn regions(regions: &[String]) -> Result<(), Problem> {
    regions.iter().try_for_each(|r| region(r))?;
    once_each(regions)
}

/// `targets.role`: a role name, or a role ARN in which `{account}` stands for each member account.
pub fn target_role(role: &str) -> Result<(), Problem> {
    if let Some(rest) = role.strip_prefix("arn:") {
        let parts: Vec<&str> = rest.splitn(5, ':').collect();
        let ok = parts.len() == 5
            && !parts[0].is_empty()
            && parts[1] == "iam"
            && parts[2].is_empty()
            && parts[4].starts_with("role/")
            && parts[4].len() > "role/".len();
        if !ok {
            return Err(problem(
                format!("`{role}` is not an IAM role ARN"),
                "write `arn:aws:iam::{account}:role/NAME`, or just the role's name",
            ));
        }
        if parts[3] != "{account}" {
            return Err(problem(
                format!("`{role}` names one account, and every member account has its own role"),
                "write `{account}` where the account id goes: `arn:aws:iam::{account}:role/NAME`",
            ));
        }
        return Ok(());
    }
    let ok = !role.is_empty()
        && role.len() <= ROLE_NAME_MAX_LEN
        && role
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@_-".contains(c));
    if ok {
        return Ok(());
    }
    Err(problem(
        format!("`{role}` is not an IAM role name"),
        format!("write the role's name (1 to {ROLE_NAME_MAX_LEN} letters, digits and `+=,.@_-`, such as `OrganizationAccountAccessRole`), or an ARN with `{{account}}`"),
    ))
}

/// STS AssumeRole `ExternalId` as resolved (checked when it is known, at run time for `${env:...}`).
pub fn external_id(value: &str) -> Result<(), Problem> {
    let ok = EXTERNAL_ID_LEN.contains(&value.len())
        && value
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "+=,.@:/_-".contains(c));
    if ok {
        return Ok(());
    }
    Err(problem(
        "the external id is not one STS accepts",
        format!(
            "use {} to {} letters, digits and `+=,.@:/_-`",
            EXTERNAL_ID_LEN.start(),
            EXTERNAL_ID_LEN.end()
        ),
    ))
}

pub fn target_concurrency(n: u32) -> Result<(), Problem> {
    in_range(
        n,
        &TARGET_CONCURRENCY,
        "a number of targets at once",
        "flowlogs",
    )
}

/// A VPC tag to select by: EC2's tag key and value lengths.
pub fn vpc_tag(key: &str, value: &str) -> Result<(), Problem> {
    if key.is_empty() || key.len() > TAG_KEY_MAX_LEN {
        return Err(problem(
            format!("`{key}` is not a tag key EC2 allows"),
            format!("use 1 to {TAG_KEY_MAX_LEN} characters"),
        ));
    }
    if value.len() > TAG_VALUE_MAX_LEN {
        return Err(problem(
            format!("the value of `{key}` is {} characters long", value.len()),
            format!("use at most {TAG_VALUE_MAX_LEN} characters"),
        ));
    }
    Ok(())
}

/// Glue `DatabaseInput.Name` / `TableInput.Name`: 1 to 255 characters; Athena reads only names of
/// lower-case letters, digits and `_` ("Name databases, tables, and columns", Athena user guide).
pub const GLUE_NAME_MAX_LEN: usize = 255;
pub const GLUE_NAME_PATTERN: &str = "^[a-z0-9_]+$";
/// Athena `WorkGroup`: 1 to 128 characters of `[a-zA-Z0-9._-]` (CreateWorkGroup `Name`).
pub const WORKGROUP_MAX_LEN: usize = 128;
pub const WORKGROUP_PATTERN: &str = "^[a-zA-Z0-9._-]+$";
/// An `s3://bucket/folder/` URI (Athena `ResultConfiguration.OutputLocation`).
pub const S3_URI_PATTERN: &str = "^s3://[a-z0-9][a-z0-9.-]*[a-z0-9](/.*)?$";

/// A Glue database or table name Athena can query: `what` is `database` or `table`.
pub fn glue_name(name: &str, what: &str) -> Result<(), Problem> {
    let fix = format!(
        "use 1 to {GLUE_NAME_MAX_LEN} lower-case letters, digits and `_` (Athena reads no other {what} names), such as `vpc_flow_logs`"
    );
    if name.is_empty() || name.len() > GLUE_NAME_MAX_LEN {
        return Err(problem(
            format!("the {what} name is {} characters long", name.len()),
            fix,
        ));
    }
    if let Some(bad) = name
        .chars()
        .find(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_'))
    {
        return Err(problem(
            format!("`{name}` contains `{bad}`, which Athena does not allow in a {what} name"),
            fix,
        ));
    }
    Ok(())
}

pub fn workgroup(name: &str) -> Result<(), Problem> {
    let ok = (1..=WORKGROUP_MAX_LEN).contains(&name.len())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "._-".contains(c));
    if ok {
        return Ok(());
    }
    Err(problem(
        format!("`{name}` is not an Athena workgroup name"),
        format!(
            "use 1 to {WORKGROUP_MAX_LEN} letters, digits, `.`, `_` and `-`, such as `primary`"
        ),
    ))
}

/// Where Athena writes query results: `s3://bucket/folder/`, returned ending in `/`.
pub fn s3_uri(uri: &str) -> Result<String, Problem> {
    let fix = "write an S3 folder such as `s3://my-bucket/athena-results/`";
    let Some(rest) = uri.strip_prefix("s3://") else {
        return Err(problem(format!("`{uri}` is not an s3:// URI"), fix));
    };
    let bucket = rest.split('/').next().unwrap_or_default();
    bucket_name(bucket).map_err(|p| problem(format!("`{uri}`: {}", p.problem), fix))?;
    Ok(if uri.ends_with('/') {
        uri.to_string()
    } else {
        format!("{uri}/")
    })
}

/// `delivery.filter.drop`: every CIDR block and port of every rule, and no rule without a
/// condition. The error names the value's path under `delivery.filter` (`drop[1].source[0]`).
pub fn filter(
    rules: &[flowlogs_forwarder::filter::RawRule],
) -> Result<flowlogs_forwarder::filter::Filter, (String, Problem)> {
    flowlogs_forwarder::filter::Filter::from_rules(rules).map_err(|e| {
        let fix = if e.field.ends_with(']') && e.field.contains("port") {
            "write a port (0 to 65535) or a range such as \"1024-65535\""
        } else if e.field.contains("source") || e.field.contains("destination") {
            "write a CIDR block such as 10.0.0.0/8 or 2001:db8::/32"
        } else {
            "give the rule at least one of log_status, action, source, destination, source_port, destination_port"
        };
        (e.field.clone(), problem(format!("{:?} {}", e.value, e.reason), fix))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn athena_names_follow_glue_and_athena_rules() {
        assert!(glue_name("prod_vpc_flow_logs", "table").is_ok());
        assert!(glue_name("flowlogs", "database").is_ok());
        let e = glue_name("prod-vpc", "table").unwrap_err();
        assert!(e.problem.contains("`-`"), "{e:?}");
        assert!(e.fix.contains("lower-case"), "{e:?}");
        assert!(glue_name("Flow", "table").is_err());
        assert!(glue_name("", "database").is_err());
        assert!(glue_name(&"a".repeat(256), "table").is_err());
        assert!(glue_name(&"a".repeat(255), "table").is_ok());
        assert!(workgroup("primary").is_ok() && workgroup("team.A-1_x").is_ok());
        assert!(workgroup("a b").is_err() && workgroup("").is_err());
        assert!(workgroup(&"w".repeat(129)).is_err());
        assert_eq!(s3_uri("s3://logs-1/athena").unwrap(), "s3://logs-1/athena/");
        assert_eq!(s3_uri("s3://logs-1/").unwrap(), "s3://logs-1/");
        assert!(s3_uri("https://logs-1/x").is_err());
        assert!(s3_uri("s3://Bad_Bucket/x").is_err());
    }

    #[test]
    fn firehose_url_is_https_except_on_loopback() {
        assert!(firehose_url("https://o2.example.com/x").is_ok());
        for local in [
            "http://127.0.0.1:5080/x",
            "http://127.9.9.9/x",
            "http://localhost:8080/x",
            "http://[::1]:8080/x",
        ] {
            assert!(firehose_url(local).is_ok(), "{local}");
        }
        let e = firehose_url("http://o2.example.com/x").unwrap_err();
        assert!(e.problem.contains("not https://"), "{e:?}");
        assert!(e.fix.contains("https://"), "{e:?}");
        assert!(firehose_url("http://10.0.0.1/x").is_err());
        let long = format!("https://o2.example.com/{}", "a".repeat(1000));
        assert!(firehose_url(&long).unwrap_err().problem.contains("1000"));
    }

    #[test]
    fn firehose_url_on_a_port_other_than_443_is_refused_with_the_rule_and_the_fix() {
        assert!(firehose_url("https://o2.example.com:443/x").is_ok());
        assert!(firehose_url("https://o2.example.com/x").is_ok());
        let e =
            firehose_url("https://o2.example.com:5080/api/default/_kinesis_firehose").unwrap_err();
        assert!(e.problem.contains("port 5080"), "{e:?}");
        assert!(e.problem.contains("port 443 only"), "{e:?}");
        assert!(
            e.fix
                .contains("`https://o2.example.com/api/default/_kinesis_firehose`"),
            "{e:?}"
        );
        assert!(firehose_url("https://10.0.0.1:8443/").is_err());
        // a local stack's receiver on loopback is no AWS endpoint: any port
        assert!(firehose_url("https://127.0.0.1:8443/x").is_ok());
        // the schema's pattern says the same
        let schema = serde_json::json!({ "type": "string", "pattern": FIREHOSE_URL_PATTERN });
        for (url, ok) in [
            ("https://o2.example.com/x", true),
            ("https://o2.example.com:443/x", true),
            ("https://o2.example.com", true),
            ("https://o2.example.com:5080/x", false),
            ("http://127.0.0.1:5080/x", true),
            ("https://localhost:8443/x", true),
            ("http://o2.example.com/x", false),
            ("https://[2001:db8::1]/x", true),
            ("https://[2001:db8::1]:8443/x", false),
        ] {
            assert_eq!(
                jsonschema::is_valid(&schema, &serde_json::json!(url)),
                ok,
                "{url}"
            );
        }
    }

    #[test]
    fn prefix_allows_folders_of_safe_characters_only() {
        assert_eq!(bucket_prefix("").unwrap(), "");
        assert_eq!(bucket_prefix("team-a").unwrap(), "team-a/");
        assert_eq!(
            bucket_prefix("team_a/vpc.logs/").unwrap(),
            "team_a/vpc.logs/"
        );
        for (bad, why) in [
            ("/team", "starts with `/`"),
            ("team*", "wildcard"),
            ("team?", "wildcard"),
            ("${aws:username}", "policy variable"),
            ("a b", "`"),
            ("a//b", "empty"),
            ("a/../b", "`..`"),
            ("AWSLogs", "not a usable folder"),
        ] {
            let e = bucket_prefix(bad).unwrap_err();
            assert!(e.problem.contains(why), "{bad}: {e:?}");
            assert!(e.fix.contains("letters, digits"), "{bad}: {e:?}");
        }
        assert!(bucket_prefix(&"a".repeat(513)).is_err());
    }

    #[test]
    fn ranges_name_the_value_the_range_and_the_source() {
        let e = firehose_buffer_mb(65).unwrap_err();
        assert!(
            e.problem.contains("65") && e.problem.contains("1 to 64"),
            "{e:?}"
        );
        assert!(e.problem.contains("SizeInMBs"), "{e:?}");
        assert_eq!(e.fix, "use MB from 1 to 64");
        assert!(firehose_buffer_mb(64).is_ok() && firehose_buffer_mb(0).is_err());
        assert!(firehose_buffer_s(900).is_ok() && firehose_buffer_s(901).is_err());
        assert!(firehose_retry_s(7200).is_ok() && firehose_retry_s(7201).is_err());
        assert!(lambda_memory_mb(128).is_ok() && lambda_memory_mb(127).is_err());
        assert!(lambda_memory_mb(10240).is_ok() && lambda_memory_mb(10241).is_err());
        assert!(lambda_timeout_s(900).is_ok() && lambda_timeout_s(0).is_err());
        assert!(lambda_retry_attempts(0).is_ok() && lambda_retry_attempts(2).is_ok());
        assert!(lambda_retry_attempts(3).is_err());
        assert!(lambda_event_age_s(60).is_ok() && lambda_event_age_s(21600).is_ok());
        assert!(lambda_event_age_s(59).is_err() && lambda_event_age_s(21601).is_err());
        assert!(retention_days(1).is_ok() && retention_days(0).is_err());
        assert!(retention_days(u32::MAX).is_err());
    }

    #[test]
    fn env_names_are_posix() {
        for good in ["KEY", "_KEY", "key_2", "K"] {
            assert!(env_name(good).is_ok(), "{good}");
        }
        for bad in ["", "2KEY", "BAD-NAME", "A B", "É"] {
            assert!(env_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_longest_stack_fits_every_derived_name() {
        let longest = "a".repeat(*STACK_LEN.end());
        // 16 characters: longer than any region name today (ap-southeast-7 has 14).
        let region = "ap-southeast-777";
        let bucket = format!("{longest}-flowlogs-123456789012-{region}");
        assert!(bucket_name(&bucket).is_ok(), "{bucket}");
        for name in [
            format!("flowlogs-{longest}-forwarder"),
            format!("flowlogs-{longest}-firehose"),
            format!("flowlogs-{longest}"),
        ] {
            assert!(name.len() <= 64, "{name}");
        }
        assert!(stack(&"a".repeat(25)).is_err());
    }

    #[test]
    fn common_attributes_follow_firehose_limits() {
        assert!(common_attribute("env", "prod").is_ok());
        assert!(common_attribute(" ", "prod").is_err());
        assert!(common_attribute(&"n".repeat(257), "v").is_err());
        assert!(common_attribute("n", &"v".repeat(1025)).is_err());
    }

    #[test]
    fn resource_ids_are_checked_and_bounded() {
        assert!(resource_ids(&["vpc-0abc".into()], "vpc-").is_ok());
        assert!(resource_ids(&["0abc".into()], "vpc-").is_err());
        assert!(resource_ids(&["vpc-1".into(), "vpc-1".into()], "vpc-").is_err());
        let many: Vec<String> = (0..1001).map(|i| format!("vpc-{i:x}")).collect();
        assert!(resource_ids(&many, "vpc-")
            .unwrap_err()
            .problem
            .contains("1000"));
    }
}
