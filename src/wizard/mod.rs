//! `flowlogs init`'s wizard: the draft raw config built from flags and answers and judged by the
//! config's own checker (`draft`), the file written from it (`render`, pure), the questions
//! (`flow`, over the `prompt::Ask` trait), the terminal (`prompt`, the only module that knows
//! dialoguer) and the read-only look at the account (`listing`).

pub mod draft;
pub mod flow;
pub mod listing;
pub mod prompt;
pub mod render;

pub use draft::Draft;
pub use render::render;
