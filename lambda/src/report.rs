//! The report of one invocation: returned by the handler as JSON, logged, and read by the
//! deployer's verify.

use serde::{Deserialize, Serialize};

/// What one invocation did.
#[derive(Serialize, Deserialize, Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Objects read (skipped ones, such as zero-byte objects, are not counted).
    pub objects: u64,
    /// Records parsed from the objects.
    pub records: u64,
    /// Records the endpoint accepted.
    pub forwarded: u64,
    /// Records the endpoint refused in a partial-success response.
    pub rejected: u64,
    /// Malformed lines that were counted and skipped.
    pub skipped_lines: u64,
    /// Export requests that succeeded.
    pub batches: u64,
    /// Export attempts that were retried.
    pub retries: u64,
    pub millis: u64,
}

impl Report {
    /// Adds another report's counts to this one (milliseconds excluded).
    pub fn add(&mut self, other: &Report) {
        self.objects += other.objects;
        self.records += other.records;
        self.forwarded += other.forwarded;
        self.rejected += other.rejected;
        self.skipped_lines += other.skipped_lines;
        self.batches += other.batches;
        self.retries += other.retries;
    }
}
