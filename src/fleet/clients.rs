//! The AWS clients of each target: in the hub's own account its own credentials, in a member
//! account the configured role assumed through STS (`AssumeRoleProvider` over the base
//! credentials, with the external id when set, session `flowlogs-<stack>`). The provider of an
//! account is shared by its regions and sits behind the SDK's identity cache, which renews the
//! credentials before they expire, so a long run keeps working.

use std::collections::BTreeMap;

use aws_config::{Region, SdkConfig};
use aws_sdk_sts::config::SharedCredentialsProvider;

use super::{Target, TargetFailure};
use crate::aws::Clients;
use crate::config::TargetRole;

/// What every target's clients are made from.
pub struct Connector {
    base: SdkConfig,
    hub_account: String,
    /// Per member account: the role's ARN and its credentials.
    roles: BTreeMap<String, (String, SharedCredentialsProvider)>,
}

/// One target's clients, and the role they act as.
#[derive(Clone)]
pub struct TargetClients {
    pub target: Target,
    pub clients: Clients,
    /// `None` in the hub's own account.
    pub role_arn: Option<String>,
}

/// The role session's name: CloudTrail in the member account shows it.
pub fn session_name(stack: &str) -> String {
    format!("flowlogs-{stack}")
}

impl Connector {
    /// A provider per member account among `targets` (no AWS call yet: the role is assumed on the
    /// first request, see `connect`).
    #[allow(clippy::too_many_arguments)]
    pub async fn new(
        base: &SdkConfig,
        hub_account: &str,
        partition: &str,
        stack: &str,
        role: &TargetRole,
        external_id: Option<&str>,
        targets: &[Target],
    ) -> Connector {
        let mut roles = BTreeMap::new();
        for target in targets {
            if target.account == hub_account || roles.contains_key(&target.account) {
                continue;
            }
            let arn = role.arn(partition, &target.account);
            let mut builder = aws_config::sts::AssumeRoleProvider::builder(&arn)
                .session_name(session_name(stack))
                .configure(base);
            if let Some(id) = external_id {
                builder = builder.external_id(id);
            }
            let provider = builder.build().await;
            roles.insert(
                target.account.clone(),
                (arn, SharedCredentialsProvider::new(provider)),
            );
        }
        Connector {
            base: base.clone(),
            hub_account: hub_account.to_string(),
            roles,
        }
    }
}

/// How a run reaches its targets: `Connector` against AWS; in-process tests hand out clients that
/// answer from canned responses (and still go through `checked`).
#[allow(async_fn_in_trait)] // used inside this crate only
pub trait Connect {
    async fn connect(&self, target: &Target) -> Result<TargetClients, TargetFailure>;
}

impl Connect for Connector {
    /// The target's clients, once its credentials are known to work (see `checked`).
    async fn connect(&self, target: &Target) -> Result<TargetClients, TargetFailure> {
        let mut config = self
            .base
            .to_builder()
            .region(Region::new(target.region.clone()));
        let role_arn = match self.roles.get(&target.account) {
            Some((arn, provider)) => {
                config = config.credentials_provider(provider.clone());
                Some(arn.clone())
            }
            None => None,
        };
        let clients = Clients::new(&config.build());
        let connected = TargetClients {
            target: target.clone(),
            clients,
            role_arn,
        };
        checked(connected, &self.hub_account).await
    }
}

/// The target's clients when they act in its account: sts:GetCallerIdentity with an assumed
/// role's credentials assumes the role, so a role that cannot be assumed (missing, not trusting
/// the hub, another external id) is this target's failure, named before any other call.
pub async fn checked(
    connected: TargetClients,
    hub_account: &str,
) -> Result<TargetClients, TargetFailure> {
    let target = connected.target.clone();
    let Some(arn) = connected.role_arn.clone() else {
        return Ok(connected);
    };
    match connected.clients.sts.get_caller_identity().send().await {
            Ok(me) if me.account() == Some(target.account.as_str()) => Ok(connected),
            Ok(me) => Err(connected.failure(
                "sts:AssumeRole",
                format!(
                    "the role's credentials act in account {}, not {}",
                    me.account().unwrap_or("?"),
                    target.account
                ),
                "check `targets.role`: its ARN must name the member account (`{account}`)",
            )),
            Err(e) => Err(connected.failure(
                "sts:AssumeRole",
                format!("{:#}", anyhow::Error::new(e)),
                &format!(
                    "let the caller assume {arn}: the role must exist in account {} and trust account {hub_account} (with `sts:ExternalId` when `targets.external_id` is set), and the caller needs sts:AssumeRole on it; or leave the account out with `targets.exclude_accounts`",
                    target.account
                ),
            )),
    }
}

impl TargetClients {
    /// This target's failure of `action`.
    pub fn failure(&self, action: &str, error: impl Into<String>, fix: &str) -> TargetFailure {
        TargetFailure {
            account: self.target.account.clone(),
            region: self.target.region.clone(),
            role: self.role_arn.clone(),
            action: action.to_string(),
            error: error.into(),
            fix: fix.to_string(),
        }
    }
}
