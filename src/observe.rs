//! Reads what AWS holds for a stack: read-only calls, independent resources concurrently.

use anyhow::Result;

use crate::aws::Clients;
use crate::desired::Names;
use crate::resources::bucket::{self, ObservedBucket};
use crate::resources::flow_log::{self, ObservedFlowLog};
use crate::resources::function::{self, ObservedFunction};
use crate::resources::notification::NotificationEntry;
use crate::resources::role::{self, ObservedRole};
use crate::resources::stream::{self, ObservedLogGroup, ObservedStream};

#[derive(Debug, Clone, Default)]
pub struct Observed {
    pub bucket: ObservedBucket,
    pub flow_logs: Vec<ObservedFlowLog>,
    pub role: Option<ObservedRole>,
    pub function: Option<ObservedFunction>,
    pub firehose_role: Option<ObservedRole>,
    pub stream: Option<ObservedStream>,
    pub stream_log_group: Option<ObservedLogGroup>,
}

impl Observed {
    pub fn notifications(&self) -> &[NotificationEntry] {
        self.bucket
            .state()
            .map(|s| s.notifications.as_slice())
            .unwrap_or_default()
    }
}

pub async fn observe(
    clients: &Clients,
    names: &Names,
    resource_ids: &[String],
) -> Result<Observed> {
    let (bucket, flow_logs, role, function, firehose_role, stream, stream_log_group) = tokio::try_join!(
        bucket::observe(clients, &names.bucket),
        flow_log::observe(clients, names, resource_ids),
        role::observe(clients, &names.role),
        function::observe(clients, &names.function),
        role::observe(clients, &names.firehose_role),
        stream::observe(clients, &names.stream),
        stream::observe_log_group(clients, &names.firehose_log_group),
    )?;
    Ok(Observed {
        bucket,
        flow_logs,
        role,
        function,
        firehose_role,
        stream,
        stream_log_group,
    })
}
