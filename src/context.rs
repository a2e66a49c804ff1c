//! What every command needs: the checked config, the AWS clients, the account and region, the names.

use anyhow::{Context as _, Result};

use crate::aws::{self, Clients};
use crate::cli::{CodeArgs, Global};
use crate::config::{self, Config};
use crate::desired::{self, Desired, Names};
use crate::fleet::{
    self,
    resolve::Fleet,
    targets::{Hub, Narrow},
};
use crate::package::CodeSource;
use crate::planner::{self, Observed};

pub struct Context {
    pub config: Config,
    /// The loaded SDK config: member accounts' clients are made from it.
    pub sdk: aws_config::SdkConfig,
    /// `--accounts` / `--regions`.
    pub narrow: Narrow,
    pub clients: Clients,
    pub account: String,
    pub region: String,
    pub names: Names,
    /// The targets and how to reach them, once `with_fleet` has read them (`None` without a fleet).
    pub fleet: Option<Fleet>,
}

impl Context {
    /// Validates the config before any AWS call, then connects.
    pub async fn load(global: &Global) -> Result<Context> {
        let config = config::load(&global.config)?;
        let region = global.region.clone().or_else(|| config.region.clone());
        let sdk = aws::sdk_config(global.profile.as_deref(), region.as_deref()).await?;
        let clients = Clients::new(&sdk);
        let account = clients.account_id().await?;
        let region = clients.region.clone();
        let names = Names::new(&config, &account, &region)?;
        Ok(Context {
            config,
            sdk,
            narrow: Narrow {
                accounts: global.accounts.clone(),
                regions: global.regions.clone(),
            },
            clients,
            account,
            region,
            names,
            fleet: None,
        })
    }

    /// The context with its fleet's targets resolved (Organizations is asked in organisation and
    /// OU mode): the commands that plan, show or check the stack need them.
    pub async fn with_fleet(mut self) -> Result<Context> {
        self.fleet = fleet::resolve::resolve(
            &self.sdk,
            &self.config,
            &Hub {
                account: &self.account,
                region: &self.region,
            },
            &self.names.partition,
            &self.narrow,
        )
        .await?;
        Ok(self)
    }

    /// The desired stack; with targets, its bucket, notification and forwarder open to every
    /// target account's flow logs, and its Athena table reading every target's folder.
    pub fn desired(&self, code: &CodeSource) -> Result<Desired> {
        let mut built = desired::build_for(&self.config, &self.account, &self.region, &|a| {
            code.wanted(a)
        })?;
        if let Some(origins) = self.fleet.as_ref().and_then(|f| f.origins.as_ref()) {
            built.athena = desired::athena::build_with(&self.config, &built.names, Some(origins));
        }
        Ok(match self.fleet.as_ref().and_then(|f| f.sources.as_ref()) {
            Some(sources) => desired::fleet::scoped(built, &self.config, sources),
            None => built,
        })
    }

    /// The hub's resources. With a fleet its flow logs are the fleet's (`fleet::run`), not the
    /// hub planner's, which then makes none, and deletes only ours left in the hub when the hub
    /// is no longer a target (a stack that listed `vpc_ids` before `targets:`).
    pub async fn observe(&self) -> Result<Observed> {
        let mut observed = planner::observe(
            &self.clients,
            &self.names,
            &self.config.flow_log.all_resource_ids(),
        )
        .await
        .context("reading the stack's resources from AWS")?;
        if fleet::targets::fleet_mode(&self.config) {
            let origins = self.fleet.as_ref().and_then(|f| f.origins.as_ref());
            let hub = Hub {
                account: &self.account,
                region: &self.region,
            };
            fleet::targets::hub_flow_logs(&mut observed.flow_logs, &self.names, origins, &hub);
        }
        Ok(observed)
    }
}

/// The code `args` choose; with none (status, verify, teardown take none), the forwarder this
/// flowlogs carries, if any.
pub fn code_source(args: &CodeArgs) -> Result<CodeSource> {
    CodeSource::new(
        args.forwarder_zip.clone(),
        args.forwarder_from_source,
        args.forwarder_source.clone(),
    )
}
