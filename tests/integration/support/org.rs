//! An AWS Organization in the local stack (issue 24): the hub (moto's default account, the
//! management account) creates an organisation and its member accounts, and the tests act in a
//! member account through its `OrganizationAccountAccessRole`, as flowlogs does.
//!
//! moto gives each account its own backends; an assumed role's credentials act in the role's
//! account (moto decides the account from the request's access key, which AssumeRole registered
//! in that account's IAM). CreateAccount makes `OrganizationAccountAccessRole` in the new account,
//! trusting the management account, as AWS does. With the stack's `sts-trust-policy` behaviour,
//! AssumeRole honours that trust policy, so [`Member::refuse_assume_role`] makes one account
//! refuse the hub the way AWS would.
//!
//! ```ignore
//! let org = Organisation::create(&stack, 3).await;
//! let vpc = org.members[0].create_vpc("eu-west-1", "10.1.0.0/16").await;
//! let key = put_flow_log_object(&s3, BUCKET, &org.members[0].account, "eu-west-1", "fl-0abc").await;
//! ```
//!
//! Organizations is called over its JSON protocol directly: the tests need three calls of it, not
//! the SDK crate (the product carries that one).

use std::io::{Read as _, Write as _};
use std::net::TcpStream;
use std::time::Duration;

use flowlogs_aws_lite::ec2::{Filter, FlowLog};
use serde_json::{json, Value};

use super::{gzip, Stack, REGION};

/// The role AWS Organizations makes in every account it creates.
pub const ORG_ROLE: &str = "OrganizationAccountAccessRole";
/// An account outside the organisation, trusted instead of the hub by a refusing role.
pub const STRANGER_ACCOUNT: &str = "999999999999";

/// The organisation: its id and its member accounts (the hub, its management account, apart).
pub struct Organisation {
    pub id: String,
    pub members: Vec<Member>,
}

/// A member account, reached through its `OrganizationAccountAccessRole` from the hub.
pub struct Member {
    pub account: String,
    pub name: String,
    endpoint: String,
    /// Credentials of the assumed role taken at creation: used when the role refuses the hub
    /// (so that the test can restore its trust policy); they last the stack's session length.
    credentials: aws_sdk_s3::config::Credentials,
}

/// The role's ARN in `account`.
pub fn role_arn(account: &str) -> String {
    format!("arn:aws:iam::{account}:role/{ORG_ROLE}")
}

/// Calls an Organizations operation as the hub; its JSON answer, or panics with moto's.
pub fn organizations(stack: &Stack, operation: &str, payload: Value) -> (u16, Value) {
    let endpoint = stack.aws_endpoint.trim_start_matches("http://");
    let body = payload.to_string();
    let mut stream = TcpStream::connect(endpoint)
        .unwrap_or_else(|e| panic!("cannot connect to {endpoint}: {e}"));
    stream.set_read_timeout(Some(Duration::from_secs(60))).ok();
    write!(
        stream,
        "POST / HTTP/1.1\r\nHost: {endpoint}\r\nContent-Type: application/x-amz-json-1.1\r\n\
         X-Amz-Target: AWSOrganizationsV20161128.{operation}\r\n\
         Authorization: AWS4-HMAC-SHA256 Credential=test/20240101/{REGION}/organizations/aws4_request, SignedHeaders=host, Signature=0\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut response = String::new();
    stream.read_to_string(&mut response).unwrap();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status: u16 = head
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    // A chunked answer is not expected from moto's JSON services; be lenient all the same.
    let json_text = body
        .find('{')
        .map(|start| &body[start..=body.rfind('}').unwrap_or(body.len() - 1)])
        .unwrap_or("{}");
    let value = serde_json::from_str(json_text).unwrap_or(Value::Null);
    (status, value)
}

impl Organisation {
    /// Creates the organisation (the hub is its management account) and `members` accounts,
    /// named `member-1`, `member-2`, ...; assumes each one's role once.
    pub async fn create(stack: &Stack, members: usize) -> Organisation {
        let (status, created) =
            organizations(stack, "CreateOrganization", json!({"FeatureSet": "ALL"}));
        assert_eq!(status, 200, "CreateOrganization: {created}");
        let id = created["Organization"]["Id"]
            .as_str()
            .expect("an organisation id")
            .to_string();
        let mut all = Vec::new();
        for n in 1..=members {
            all.push(Member::create(stack, &format!("member-{n}")).await);
        }
        Organisation { id, members: all }
    }

    /// The member accounts' ids, in creation order.
    pub fn accounts(&self) -> Vec<String> {
        self.members.iter().map(|m| m.account.clone()).collect()
    }
}

impl Member {
    /// CreateAccount in the hub's organisation, then AssumeRole into its role.
    pub async fn create(stack: &Stack, name: &str) -> Member {
        let (status, created) = organizations(
            stack,
            "CreateAccount",
            json!({"AccountName": name, "Email": format!("{name}@example.com")}),
        );
        assert_eq!(status, 200, "CreateAccount {name}: {created}");
        let status = &created["CreateAccountStatus"];
        assert_eq!(
            status["State"], "SUCCEEDED",
            "CreateAccount {name}: {created}"
        );
        let account = status["AccountId"].as_str().unwrap().to_string();
        let credentials = assume(stack, &account)
            .await
            .unwrap_or_else(|e| panic!("AssumeRole into {account} ({name}): {e}"));
        Member {
            account,
            name: name.to_string(),
            endpoint: stack.aws_endpoint.clone(),
            credentials,
        }
    }

    /// SDK configuration acting in this account, in `region`: with fresh credentials of the role
    /// (sessions may be short, `Behaviours::session_seconds`), or, when the role refuses the hub,
    /// with the ones taken at creation.
    pub async fn sdk_config(&self, region: &str) -> aws_config::SdkConfig {
        let credentials = assume_at(&self.endpoint, &self.account)
            .await
            .unwrap_or_else(|_| self.credentials.clone());
        aws_config::defaults(aws_config::BehaviorVersion::latest())
            .http_client(flowlogs_forwarder::aws_http::client())
            .endpoint_url(&self.endpoint)
            .region(aws_config::Region::new(region.to_string()))
            .credentials_provider(credentials)
            .load()
            .await
    }

    pub async fn ec2(&self, region: &str) -> flowlogs_aws_lite::ec2::Ec2 {
        flowlogs_aws_lite::ec2::Ec2::new(&self.sdk_config(region).await)
    }

    /// A new VPC in this account and region, tagged `Name=<name>-<cidr>`; its id.
    pub async fn create_vpc(&self, region: &str, cidr: &str) -> String {
        let vpc = self
            .ec2(region)
            .await
            .create_vpc(cidr, &[])
            .await
            .unwrap_or_else(|e| panic!("CreateVpc in {} {region}: {e:?}", self.account));
        assert_eq!(
            vpc.owner_id.as_deref(),
            Some(self.account.as_str()),
            "the VPC is the member's"
        );
        vpc.id
    }

    /// Every VPC of this account in `region` (moto gives each account and region a default one).
    pub async fn vpcs(&self, region: &str) -> Vec<String> {
        self.ec2(region)
            .await
            .describe_vpcs(&[])
            .await
            .unwrap_or_else(|e| panic!("DescribeVpcs in {} {region}: {e:?}", self.account))
            .into_iter()
            .map(|v| v.id)
            .collect()
    }

    /// The flow logs of this account in `region` delivering to `bucket` (any folder).
    pub async fn flow_logs_to(&self, region: &str, bucket: &str) -> Vec<FlowLog> {
        self.ec2(region)
            .await
            .describe_flow_logs(&[], &[Filter::new("log-destination-type", ["s3"])])
            .await
            .unwrap_or_else(|e| panic!("DescribeFlowLogs in {} {region}: {e:?}", self.account))
            .into_iter()
            .filter(|f| {
                f.log_destination.as_deref().is_some_and(|d| {
                    d.trim_start_matches("arn:aws:s3:::").split('/').next() == Some(bucket)
                })
            })
            .collect()
    }

    /// Makes the role refuse the hub as AWS would: its trust policy now trusts another account
    /// only, so the hub's AssumeRole gets 403 AccessDenied (behaviour `sts-trust-policy`).
    pub async fn refuse_assume_role(&self) {
        self.set_trust(STRANGER_ACCOUNT).await;
    }

    /// Trusts the hub (the management account) again, as CreateAccount made the role.
    pub async fn trust_hub_again(&self) {
        self.set_trust(super::ACCOUNT_ID).await;
    }

    async fn set_trust(&self, trusted: &str) {
        let document = json!({"Version": "2012-10-17", "Statement": [{"Effect": "Allow",
            "Principal": {"AWS": format!("arn:aws:iam::{trusted}:root")},
            "Action": "sts:AssumeRole"}]});
        aws_sdk_iam::Client::new(&self.sdk_config(REGION).await)
            .update_assume_role_policy()
            .role_name(ORG_ROLE)
            .policy_document(document.to_string())
            .send()
            .await
            .unwrap_or_else(|e| panic!("UpdateAssumeRolePolicy in {}: {e:?}", self.account));
    }
}

/// AssumeRole from the hub into `account`'s organisation role: its credentials, or the error.
pub async fn assume(
    stack: &Stack,
    account: &str,
) -> Result<aws_sdk_s3::config::Credentials, String> {
    assume_at(&stack.aws_endpoint, account).await
}

/// [`assume`] against an AWS endpoint, as the hub (the stack's dummy credentials).
async fn assume_at(
    endpoint: &str,
    account: &str,
) -> Result<aws_sdk_s3::config::Credentials, String> {
    let hub = aws_config::defaults(aws_config::BehaviorVersion::latest())
        .http_client(flowlogs_forwarder::aws_http::client())
        .endpoint_url(endpoint)
        .region(aws_config::Region::new(REGION))
        .credentials_provider(aws_sdk_s3::config::Credentials::new(
            "test", "test", None, None, "devstack",
        ))
        .load()
        .await;
    let sts = aws_sdk_sts::Client::new(&hub);
    let out = sts
        .assume_role()
        .role_arn(role_arn(account))
        .role_session_name("flowlogs-tests")
        .send()
        .await
        .map_err(|e| {
            use aws_sdk_sts::error::ProvideErrorMetadata as _;
            let service = e.as_service_error();
            format!(
                "{}: {}",
                service.and_then(|s| s.code()).unwrap_or("no code"),
                service
                    .and_then(|s| s.message())
                    .map(str::to_string)
                    .unwrap_or_else(|| format!("{e:?}"))
            )
        })?;
    let c = out.credentials().expect("AssumeRole gives credentials");
    Ok(aws_sdk_s3::config::Credentials::new(
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
        None,
        "org-member",
    ))
}

/// The key a flow log of `account` in `region` delivers to (`AWSLogs/<account>/vpcflowlogs/
/// <region>/YYYY/MM/DD/<account>_vpcflowlogs_<region>_<flow log id>_<time>_<hash>.log.gz`).
pub fn flow_log_key(account: &str, region: &str, flow_log_id: &str) -> String {
    format!(
        "AWSLogs/{account}/vpcflowlogs/{region}/2026/12/01/{account}_vpcflowlogs_{region}_{flow_log_id}_20261201T1000Z_5e1f2a3b.log.gz"
    )
}

/// Two records of `account` in the default format, as its flow log writes them.
pub fn flow_log_records(account: &str) -> String {
    format!(
        "version account-id interface-id srcaddr dstaddr srcport dstport protocol packets bytes start end action log-status\n\
         2 {account} eni-0aa1b2c3d4e5f6071 10.20.0.5 10.20.0.6 49152 443 6 10 840 1764583200 1764583260 ACCEPT OK\n\
         2 {account} eni-0aa1b2c3d4e5f6071 198.51.100.7 10.20.0.6 51234 22 6 3 180 1764583200 1764583260 REJECT OK\n"
    )
}

/// Puts a delivered flow-log object of `account` in `region` into the hub's `bucket`, as the
/// delivery service would (gzip, the account's prefix and records); its key.
pub async fn put_flow_log_object(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    account: &str,
    region: &str,
    flow_log_id: &str,
) -> String {
    let key = flow_log_key(account, region, flow_log_id);
    s3.put_object()
        .bucket(bucket)
        .key(&key)
        .body(gzip(flow_log_records(account).as_bytes()).into())
        .send()
        .await
        .unwrap_or_else(|e| panic!("PutObject {key}: {e:?}"));
    key
}
