//! One module per AWS resource: what it looks like in AWS (observe), how it should change (a pure
//! plan over desired and observed), and the write calls that change it.

pub mod bucket;
pub mod flow_log;
pub mod function;
pub mod notification;
pub mod role;
pub mod stream;
