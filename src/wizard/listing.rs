//! The wizard's read-only view of the account: VPCs (Name tag, CIDR, existing flow logs),
//! buckets and the account id. Errors come back explained, with the fix, so that the flow can
//! show them and let the user type ids by hand instead.

use std::collections::BTreeMap;
use std::fmt;

use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use flowlogs_aws_lite::ec2::Filter;

use crate::aws::{error_code, Clients};
use crate::resources::notification::NotificationEntry;

/// A VPC as the wizard lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct VpcInfo {
    pub id: String,
    pub name: Option<String>,
    pub cidr: String,
    pub is_default: bool,
    /// Ids of the flow logs that already log this VPC.
    pub flow_logs: Vec<String>,
}

impl VpcInfo {
    /// One line of the multi-select: `vpc-0abc  10.0.0.0/16  prod  (flow log fl-1 exists)`.
    pub fn label(&self) -> String {
        let mut label = format!("{:<21} {:<18}", self.id, self.cidr);
        match &self.name {
            Some(name) => label.push_str(name),
            None => label.push_str("(no Name tag)"),
        }
        if self.is_default {
            label.push_str(" [default VPC]");
        }
        match self.flow_logs.as_slice() {
            [] => {}
            [one] => label.push_str(&format!("  (already logged by {one})")),
            many => label.push_str(&format!("  (already logged by {} flow logs)", many.len())),
        }
        label
    }
}

/// A listing that failed: what was being done, what went wrong and how to fix it.
#[derive(Debug, Clone, PartialEq)]
pub struct ListError {
    pub action: String,
    pub problem: String,
    pub fix: String,
}

impl fmt::Display for ListError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "could not {}: {}\n  fix: {}",
            self.action, self.problem, self.fix
        )
    }
}

/// What the flow needs from the account; the real one is `AwsAccount`.
pub trait Account {
    /// The account id, when the credentials work.
    async fn account_id(&self) -> Option<String>;
    async fn vpcs(&self) -> Result<Vec<VpcInfo>, ListError>;
    async fn buckets(&self) -> Result<Vec<String>, ListError>;
    /// The notification entries of an existing bucket (none when they cannot be read: the
    /// wizard only uses them to offer the EventBridge trigger).
    async fn notifications(&self, _bucket: &str) -> Vec<NotificationEntry> {
        Vec::new()
    }
    /// The organisation these credentials may list (the management account or a delegated
    /// administrator); `None` otherwise.
    async fn organisation(&self) -> Option<OrgInfo> {
        None
    }
}

/// An organisation the caller can list: its id and its ACTIVE accounts.
#[derive(Debug, Clone, PartialEq)]
pub struct OrgInfo {
    pub id: String,
    pub accounts: Vec<String>,
}

/// The account behind the standard credential chain (and `AWS_ENDPOINT_URL`, if set).
pub struct AwsAccount {
    clients: Clients,
    organizations: aws_sdk_organizations::Client,
}

impl AwsAccount {
    pub fn new(clients: Clients, organizations: aws_sdk_organizations::Client) -> AwsAccount {
        AwsAccount {
            clients,
            organizations,
        }
    }
}

impl Account for AwsAccount {
    async fn account_id(&self) -> Option<String> {
        self.clients.account_id().await.ok()
    }

    /// DescribeOrganization and ListAccounts both answer only to the management account or a
    /// delegated administrator; any refusal means no organisation to offer.
    async fn organisation(&self) -> Option<OrgInfo> {
        let (id, accounts) = tokio::join!(
            crate::fleet::org::organization_id(&self.organizations),
            crate::fleet::org::active_accounts(&self.organizations)
        );
        Some(OrgInfo {
            id: id.ok()?,
            accounts: accounts.ok()?,
        })
    }

    async fn vpcs(&self) -> Result<Vec<VpcInfo>, ListError> {
        let ec2 = &self.clients.ec2;
        let mut vpcs: Vec<VpcInfo> = ec2
            .describe_vpcs(&[])
            .await
            .map_err(|e| explain(&e, "list the VPCs", "ec2:DescribeVpcs"))?
            .into_iter()
            .map(|vpc| VpcInfo {
                name: vpc
                    .tag("Name")
                    .filter(|v| !v.is_empty())
                    .map(str::to_string),
                id: vpc.id,
                cidr: vpc.cidr_block.unwrap_or_default(),
                is_default: vpc.is_default,
                flow_logs: Vec::new(),
            })
            .collect();
        if vpcs.is_empty() {
            return Ok(vpcs);
        }
        let mut logged: BTreeMap<String, Vec<String>> = BTreeMap::new();
        let ids: Vec<String> = vpcs.iter().map(|v| v.id.clone()).collect();
        // DescribeFlowLogs takes up to 200 values per filter.
        for chunk in ids.chunks(200) {
            let flow_logs = ec2
                .describe_flow_logs(&[], &[Filter::new("resource-id", chunk)])
                .await
                .map_err(|e| {
                    explain(
                        &e,
                        "check which VPCs already have flow logs",
                        "ec2:DescribeFlowLogs",
                    )
                })?;
            for fl in flow_logs {
                if !fl.resource_id.is_empty() && !fl.id.is_empty() {
                    logged.entry(fl.resource_id).or_default().push(fl.id);
                }
            }
        }
        for vpc in &mut vpcs {
            vpc.flow_logs = logged.remove(&vpc.id).unwrap_or_default();
        }
        vpcs.sort_by(|a, b| a.id.cmp(&b.id));
        Ok(vpcs)
    }

    async fn buckets(&self) -> Result<Vec<String>, ListError> {
        let mut names = Vec::new();
        let mut pages = self.clients.s3.list_buckets().into_paginator().send();
        while let Some(page) = pages.next().await {
            let page =
                page.map_err(|e| explain(&e, "list the account's buckets", "s3:ListAllMyBuckets"))?;
            names.extend(
                page.buckets()
                    .iter()
                    .filter_map(|b| b.name().map(str::to_string)),
            );
        }
        names.sort();
        Ok(names)
    }

    async fn notifications(&self, bucket: &str) -> Vec<NotificationEntry> {
        crate::resources::notification::observe(&self.clients, bucket)
            .await
            .unwrap_or_default()
    }
}

/// Turns an SDK error into what the user can do about it.
pub fn explain<E, R>(err: &SdkError<E, R>, action: &str, permission: &str) -> ListError
where
    E: ProvideErrorMetadata + std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let code = error_code(err);
    let (problem, fix) = match code {
        Some("UnauthorizedOperation" | "AccessDenied" | "AccessDeniedException") => (
            format!("these credentials are not allowed to call {permission}"),
            format!("ask for {permission}, or use a profile that has it (--profile); meanwhile type the ids by hand"),
        ),
        Some(
            "AuthFailure" | "InvalidClientTokenId" | "UnrecognizedClientException"
            | "SignatureDoesNotMatch" | "InvalidAccessKeyId",
        ) => (
            "AWS does not recognise these credentials".to_string(),
            "check AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, or the profile (`aws configure list`); pass --profile to pick another".to_string(),
        ),
        Some("ExpiredToken" | "ExpiredTokenException" | "RequestExpired") => (
            "the credentials have expired".to_string(),
            "refresh them (`aws sso login`, or a new session) and run `flowlogs init` again".to_string(),
        ),
        Some("OptInRequired") => (
            "the account is not opted in to this region".to_string(),
            "enable the region in the account settings, or pick another region".to_string(),
        ),
        Some(other) => (
            format!(
                "AWS answered {other}: {}",
                err.as_service_error()
                    .and_then(|e| e.message())
                    .unwrap_or("no message")
            ),
            "check the region and the credentials; meanwhile type the ids by hand".to_string(),
        ),
        None if is_missing_credentials(err) => (
            "no AWS credentials were found".to_string(),
            "run `aws configure` or `aws sso login`, set AWS_PROFILE or pass --profile, or export AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_string(),
        ),
        None => (
            format!("AWS could not be reached ({})", chain(err)),
            "check the network and the region; meanwhile type the ids by hand".to_string(),
        ),
    };
    ListError {
        action: format!("{action} ({permission})"),
        problem,
        fix,
    }
}

/// The SDK tells a missing credential only through its error text (no typed accessor on the
/// dispatch failure); this is the one place that reads it.
fn is_missing_credentials<E, R>(err: &SdkError<E, R>) -> bool
where
    E: std::error::Error + 'static,
    R: fmt::Debug + 'static,
{
    let text = chain(err).to_ascii_lowercase();
    text.contains("credentials") && !matches!(err, SdkError::ServiceError(_))
}

/// The error and its causes on one line.
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts = vec![err.to_string()];
    let mut source = err.source();
    while let Some(cause) = source {
        let text = cause.to_string();
        if !parts.contains(&text) {
            parts.push(text);
        }
        source = cause.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use flowlogs_aws_lite::ec2::Ec2Error;

    use super::*;

    fn service_error(code: &str) -> SdkError<Ec2Error, ()> {
        SdkError::service_error(Ec2Error::new(code, "You are not authorized"), ())
    }

    #[test]
    fn access_denied_names_the_permission_and_the_way_out() {
        for code in ["UnauthorizedOperation", "AccessDenied"] {
            let e = explain(&service_error(code), "list the VPCs", "ec2:DescribeVpcs");
            assert!(
                e.problem.contains("not allowed to call ec2:DescribeVpcs"),
                "{e}"
            );
            assert!(e.fix.contains("type the ids by hand"), "{e}");
        }
    }

    #[test]
    fn bad_expired_and_missing_credentials_say_what_to_do() {
        let e = explain(&service_error("AuthFailure"), "list", "ec2:DescribeVpcs");
        assert!(e.problem.contains("does not recognise"), "{e}");
        let e = explain(&service_error("ExpiredToken"), "list", "ec2:DescribeVpcs");
        assert!(e.fix.contains("aws sso login"), "{e}");
        let missing: SdkError<Ec2Error, ()> = SdkError::construction_failure(
            "an error occurred while loading credentials: no providers in chain provided credentials",
        );
        let e = explain(&missing, "list", "ec2:DescribeVpcs");
        assert_eq!(e.problem, "no AWS credentials were found");
        assert!(
            e.fix.contains("aws configure") && e.fix.contains("--profile"),
            "{e}"
        );
        let other = explain(&service_error("Throttling"), "list", "ec2:DescribeVpcs");
        assert!(other.problem.contains("Throttling"), "{other}");
    }

    #[test]
    fn vpc_labels_show_name_cidr_and_existing_flow_logs() {
        let mut vpc = VpcInfo {
            id: "vpc-0abc".into(),
            name: Some("prod".into()),
            cidr: "10.0.0.0/16".into(),
            is_default: false,
            flow_logs: vec![],
        };
        let label = vpc.label();
        assert!(label.starts_with("vpc-0abc"));
        assert!(label.contains("10.0.0.0/16") && label.contains("prod"));
        assert!(!label.contains("already"));
        vpc.flow_logs = vec!["fl-123".into()];
        vpc.name = None;
        vpc.is_default = true;
        let label = vpc.label();
        assert!(label.contains("(already logged by fl-123)"), "{label}");
        assert!(label.contains("(no Name tag)") && label.contains("[default VPC]"));
    }
}
