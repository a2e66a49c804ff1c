//! The forwarder's own environment variables, beside the standard `OTEL_*` ones: named once here
//! for the function, which reads them, and the deployer, which writes them.

/// What each record's body holds: `line`, `summary` (the default) or `none`.
pub const BODY: &str = "FLOWLOGS_OTLP_BODY";
/// `delivery.filter`, as JSON (see [`crate::filter`]).
pub const FILTER: &str = crate::filter::ENV;
