//! The Glue table over the transit gateway flow logs' folder (`<table>_tgw`), when the config
//! logs transit gateways: the same resource as the VPC table (`glue_table`: ours by its
//! `flowlogs:stack` property, replaced on a format change, updated in place otherwise, its
//! definition only dropped), read and planned under its own name and kind.

use anyhow::Result;

use super::glue_table::{self, ObservedTable, Op};
use super::{Apply, Observe, Resource, Teardown};
use crate::desired::athena::DesiredGlueTable;
use crate::desired::{Desired, Names};
use crate::plan::Kind;

type Plan = crate::plan::Plan<Op>;

pub struct TgwGlueTable;

impl Resource for TgwGlueTable {
    const KIND: Kind = Kind::TgwGlueTable;
    type Desired = DesiredGlueTable;
    type Observed = Option<ObservedTable>;
    type Op = Op;

    fn desired(stack: &Desired) -> Option<&DesiredGlueTable> {
        stack.athena.as_ref().and_then(|a| a.tgw_table.as_ref())
    }

    async fn observe(cx: &Observe<'_>) -> Result<Option<ObservedTable>> {
        let athena = &cx.names.athena;
        // Looked for also without transit gateways in the config: one an earlier config made goes.
        let read = glue_table::observe_table(cx.clients, &athena.database, &athena.tgw_table).await;
        if athena.configured && cx.names.tgw_log_key_prefix.is_some() {
            read
        } else {
            Ok(read.unwrap_or_default())
        }
    }

    fn plan(names: &Names, desired: &DesiredGlueTable, observed: &Option<ObservedTable>) -> Plan {
        relabel(glue_table::plan(names, desired, observed.as_ref()))
    }

    fn plan_teardown(cx: Teardown<'_>, observed: &Option<ObservedTable>) -> Plan {
        relabel(glue_table::plan_teardown(cx.names, observed.as_ref()))
    }

    async fn apply(cx: &Apply<'_>, op: &Op) -> Result<()> {
        <glue_table::GlueTable as Resource>::apply(cx, op).await
    }
}

/// The VPC table's plan, under this table's kind.
fn relabel(mut plan: Plan) -> Plan {
    for step in &mut plan.steps {
        step.kind = Kind::TgwGlueTable;
    }
    for conflict in &mut plan.conflicts {
        conflict.kind = Kind::TgwGlueTable;
    }
    for kept in &mut plan.in_sync {
        kept.kind = Kind::TgwGlueTable;
    }
    plan
}
