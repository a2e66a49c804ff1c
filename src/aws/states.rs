//! Typed states. Where the SDK has an enum (Lambda `State`, `LastUpdateStatus`, Firehose
//! `DeliveryStreamStatus`) it is used as is; EC2 describes a flow log's status and delivery status
//! as plain strings, so they are parsed here once into enums.

use std::fmt;

use aws_sdk_lambda::types::{LastUpdateStatus, State};
use serde::{Serialize, Serializer};

/// A flow log's `FlowLogStatus`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FlowLogStatus {
    Active,
    Other(String),
}

impl FlowLogStatus {
    pub fn parse(text: &str) -> FlowLogStatus {
        match text {
            "ACTIVE" => FlowLogStatus::Active,
            other => FlowLogStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            FlowLogStatus::Active => "ACTIVE",
            FlowLogStatus::Other(s) => s,
        }
    }
}

/// A flow log's `DeliverLogsStatus`. `Unreported` when AWS gives none (the emulator, a new flow log).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DeliveryStatus {
    Success,
    Unreported,
    Other(String),
}

impl DeliveryStatus {
    pub fn parse(text: &str) -> DeliveryStatus {
        match text {
            "SUCCESS" => DeliveryStatus::Success,
            "" => DeliveryStatus::Unreported,
            other => DeliveryStatus::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DeliveryStatus::Success => "SUCCESS",
            DeliveryStatus::Unreported => "",
            DeliveryStatus::Other(s) => s,
        }
    }
}

macro_rules! as_text {
    ($($t:ty),*) => {$(
        impl fmt::Display for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
        impl Serialize for $t {
            fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }
    )*};
}
as_text!(FlowLogStatus, DeliveryStatus);

/// A Lambda function may take calls and changes: Active (or no state reported) and no update in
/// progress or failed.
pub fn function_ready(state: Option<&State>, update: Option<&LastUpdateStatus>) -> bool {
    matches!(state, None | Some(State::Active))
        && matches!(update, None | Some(LastUpdateStatus::Successful))
}

/// A Lambda function is busy: still being created, or an update is in progress.
pub fn function_busy(state: Option<&State>, update: Option<&LastUpdateStatus>) -> bool {
    state == Some(&State::Pending) || update == Some(&LastUpdateStatus::InProgress)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flow_log_states_parse_and_print_back() {
        assert_eq!(FlowLogStatus::parse("ACTIVE"), FlowLogStatus::Active);
        assert_eq!(FlowLogStatus::parse("DELETED").to_string(), "DELETED");
        assert_eq!(DeliveryStatus::parse("SUCCESS"), DeliveryStatus::Success);
        assert_eq!(DeliveryStatus::parse(""), DeliveryStatus::Unreported);
        assert_eq!(
            serde_json::to_value(DeliveryStatus::parse("FAILED")).unwrap(),
            "FAILED"
        );
    }

    #[test]
    fn a_function_is_ready_only_when_active_and_not_updating() {
        assert!(function_ready(
            Some(&State::Active),
            Some(&LastUpdateStatus::Successful)
        ));
        assert!(function_ready(Some(&State::Active), None));
        assert!(!function_ready(
            Some(&State::Active),
            Some(&LastUpdateStatus::InProgress)
        ));
        assert!(!function_ready(Some(&State::Pending), None));
        assert!(function_busy(Some(&State::Pending), None));
        assert!(!function_busy(Some(&State::Failed), None));
    }
}
