//! The line parser: a header line names the fields, every following line is one record.
//!
//! Values are borrowed from the line; the parser keeps its scratch buffers between lines, so
//! parsing a record allocates nothing. A malformed line (wrong number of fields, a bad number,
//! not UTF-8) is an error for that line only: [`Reader`] counts it, logs the first few with
//! their line numbers, and goes on.
//!
//! One job per file: `header` names the columns of a file, `line` splits and types one
//! line against them, and `reader` streams a file's lines through the line parser.

mod header;
mod line;
mod reader;

pub use header::{Column, Header};
pub use line::{LineError, LineParser, Record, Value};
pub use reader::{Reader, Rest, Source, LOGGED_BAD_LINES};
