//! What `setup` and `teardown` did to each step of their plan, as their outcomes report it.

use serde::Serialize;

use crate::plan::{Action, Kind};
use crate::planner::apply::Outcome;
use crate::planner::Plan;

/// How one step of the plan ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StepResult {
    Ok,
    Error,
    /// Not run: an earlier failure stopped its chain.
    Skipped,
}

/// One step of the plan and how it ended.
#[derive(Debug, Clone, Serialize)]
pub struct AppliedStep {
    pub kind: Kind,
    pub name: String,
    pub action: Action,
    pub result: StepResult,
    /// The error, when `result` is `error`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Every step of the plan in the plan's order, with what the applier did to it.
pub fn applied_steps(plan: &Plan, outcome: &Outcome) -> Vec<AppliedStep> {
    plan.steps
        .iter()
        .map(|step| {
            let ran = outcome
                .ran
                .iter()
                .find(|r| r.kind == step.kind && r.name == step.name && r.action == step.action);
            let (result, message) = match ran {
                Some(r) => match &r.error {
                    None => (StepResult::Ok, None),
                    Some(e) => (StepResult::Error, Some(e.clone())),
                },
                None => (StepResult::Skipped, None),
            };
            AppliedStep {
                kind: step.kind,
                name: step.name.clone(),
                action: step.action,
                result,
                message,
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planner::apply::Ran;

    #[test]
    fn each_step_is_ok_error_or_skipped_in_the_plans_order() {
        let mut plan = Plan::default();
        plan.step(Kind::Bucket, "b", Action::Create, vec![], vec![]);
        plan.step(Kind::Role, "r", Action::Create, vec![], vec![]);
        plan.step(Kind::Function, "f", Action::Create, vec![], vec![]);
        let outcome = Outcome {
            applied: 1,
            errors: vec!["iam role r: denied".into()],
            ran: vec![
                Ran {
                    kind: Kind::Role,
                    name: "r".into(),
                    action: Action::Create,
                    error: Some("denied".into()),
                },
                Ran {
                    kind: Kind::Bucket,
                    name: "b".into(),
                    action: Action::Create,
                    error: None,
                },
            ],
        };
        let steps = applied_steps(&plan, &outcome);
        let got: Vec<(&str, StepResult, Option<&str>)> = steps
            .iter()
            .map(|s| (s.name.as_str(), s.result, s.message.as_deref()))
            .collect();
        assert_eq!(
            got,
            vec![
                ("b", StepResult::Ok, None),
                ("r", StepResult::Error, Some("denied")),
                ("f", StepResult::Skipped, None),
            ]
        );
    }
}
