//! `flowlogs init`'s wizard: the answers (`answers`), the file written from them (`render`, pure),
//! the questions (`flow`, over the `prompt::Ask` trait), the terminal (`prompt`, the only module
//! that knows dialoguer) and the read-only look at the account (`listing`).

pub mod answers;
pub mod flow;
pub mod listing;
pub mod prompt;
pub mod render;

pub use answers::{Answers, Preset};
pub use render::render;
