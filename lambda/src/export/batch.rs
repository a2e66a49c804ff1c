//! Groups encoded log records by resource (object, account, region) into batches capped by
//! their encoded size.
//!
//! A batch keeps its records in one buffer, in the order they were read, and remembers which
//! group each run of records belongs to: memory per batch is its size cap however many groups
//! it has, and the buffer is reused for a later batch once this one is encoded.

use crate::otlp::{wire, ObjectInfo, ResourceKey};
use std::sync::Arc;

/// One resource's records within a batch.
#[derive(Debug, Clone)]
pub struct Group {
    pub object: Arc<ObjectInfo>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// `aws.vpc.flow.log.version` of its records.
    pub version: Option<i64>,
    /// Size of its records, framed as field 2 (`log_records`) of a `ScopeLogs`.
    pub len: usize,
    pub count: u64,
}

/// Records ready to be sent in one export request.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub groups: Vec<Group>,
    /// Every record, framed as field 2 (`log_records`) of a `ScopeLogs`, in the order read.
    framed: Vec<u8>,
    /// Runs of consecutive records of one group: (index in `groups`, end offset in `framed`).
    runs: Vec<(usize, usize)>,
    pub records: u64,
    /// Encoded size of the records (without the per-resource framing).
    pub bytes: usize,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }

    /// The framed records of `groups[group]`, in the order they were read, as a few slices
    /// (one when the batch has a single group).
    pub fn pieces(&self, group: usize) -> impl Iterator<Item = &[u8]> {
        let mut start = 0;
        self.runs.iter().filter_map(move |&(g, end)| {
            let piece = &self.framed[start..end];
            start = end;
            (g == group).then_some(piece)
        })
    }

    /// Empties the batch, keeping its buffers.
    fn clear(&mut self) {
        self.groups.clear();
        self.framed.clear();
        self.runs.clear();
        self.records = 0;
        self.bytes = 0;
    }
}

/// Bytes of framing (resource, scope) counted per group, above its records.
const GROUP_OVERHEAD: usize = 512;

/// Fills batches; hands one back when the next record would not fit.
pub struct Batcher {
    max_bytes: usize,
    current: Batch,
    /// An emptied batch, whose buffers the next batch reuses.
    spare: Option<Batch>,
}

impl Batcher {
    pub fn new(max_bytes: usize) -> Batcher {
        Batcher {
            max_bytes,
            current: Batch::default(),
            spare: None,
        }
    }

    /// Takes back a batch that has been encoded, so that a later batch reuses its buffers
    /// instead of allocating (and the allocator does not creep up over a large object).
    pub fn recycle(&mut self, mut batch: Batch) {
        batch.clear();
        self.spare = Some(batch);
    }

    /// Adds one encoded `LogRecord` (as written by [`crate::otlp::Mapper::encode`]). Returns
    /// the full batch to send if this record did not fit in it; the record then starts the
    /// next batch. A single record larger than the cap goes alone in its batch.
    pub fn push(
        &mut self,
        object: &Arc<ObjectInfo>,
        key: ResourceKey<'_>,
        record: &[u8],
    ) -> Option<Batch> {
        let account = key.account.or(object.account.as_deref());
        let region = key.region.or(object.region.as_deref());
        let framed = 1 + wire::varint_len(record.len() as u64) + record.len();
        let find = |batch: &Batch| {
            batch.groups.iter().position(|g| {
                Arc::ptr_eq(&g.object, object)
                    && g.account.as_deref() == account
                    && g.region.as_deref() == region
                    && g.version == key.version
            })
        };
        let mut pos = find(&self.current);
        let added = framed + if pos.is_none() { GROUP_OVERHEAD } else { 0 };
        let full = if !self.current.is_empty() && self.current.bytes + added > self.max_bytes {
            pos = None;
            let next = self.spare.take().unwrap_or_default();
            Some(std::mem::replace(&mut self.current, next))
        } else {
            None
        };
        let batch = &mut self.current;
        let index = pos.unwrap_or_else(|| {
            batch.bytes += GROUP_OVERHEAD;
            batch.groups.push(Group {
                object: Arc::clone(object),
                account: account.map(str::to_string),
                region: region.map(str::to_string),
                version: key.version,
                len: 0,
                count: 0,
            });
            batch.groups.len() - 1
        });
        wire::bytes(&mut batch.framed, 2, record);
        let end = batch.framed.len();
        match batch.runs.last_mut() {
            Some((g, run_end)) if *g == index => *run_end = end,
            _ => batch.runs.push((index, end)),
        }
        let group = &mut batch.groups[index];
        group.len += framed;
        group.count += 1;
        batch.records += 1;
        batch.bytes += framed;
        full
    }

    /// The batch in progress, if it holds any record.
    pub fn finish(&mut self) -> Option<Batch> {
        let b = std::mem::take(&mut self.current);
        (!b.is_empty()).then_some(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn obj(key: &str) -> Arc<ObjectInfo> {
        Arc::new(ObjectInfo::new("b", key, Some("us-east-1")))
    }

    #[test]
    fn groups_by_object_account_and_region() {
        let (a, b) = (obj("a"), obj("b"));
        let mut batcher = Batcher::new(1 << 20);
        let k = |account| ResourceKey {
            account,
            region: None,
            version: None,
        };
        assert!(batcher.push(&a, k(Some("1")), b"x").is_none());
        assert!(batcher.push(&a, k(Some("2")), b"x").is_none());
        assert!(batcher.push(&a, k(Some("1")), b"x").is_none());
        assert!(batcher.push(&b, k(Some("1")), b"x").is_none());
        let batch = batcher.finish().unwrap();
        assert_eq!(batch.records, 4);
        let counts: Vec<_> = batch
            .groups
            .iter()
            .map(|g| (g.object.key.as_str(), g.account.as_deref(), g.count))
            .collect();
        assert_eq!(
            counts,
            [
                ("a", Some("1"), 2),
                ("a", Some("2"), 1),
                ("b", Some("1"), 1)
            ]
        );
        assert!(batch
            .groups
            .iter()
            .all(|g| g.region.as_deref() == Some("us-east-1")));
        assert!(batcher.finish().is_none());
    }

    #[test]
    fn caps_by_bytes_and_loses_nothing() {
        let o = obj("a");
        let mut batcher = Batcher::new(GROUP_OVERHEAD + 1000);
        let rec = [7u8; 98]; // 100 bytes framed
        let mut batches = Vec::new();
        for _ in 0..25 {
            batches.extend(batcher.push(
                &o,
                ResourceKey {
                    account: None,
                    region: None,
                    version: None,
                },
                &rec,
            ));
        }
        batches.extend(batcher.finish());
        assert_eq!(
            batches.iter().map(|b| b.records).collect::<Vec<_>>(),
            [10, 10, 5]
        );
        for b in &batches {
            assert!(b.bytes <= GROUP_OVERHEAD + 1000);
            assert_eq!(b.groups[0].len, b.records as usize * 100);
            assert_eq!(b.pieces(0).map(<[u8]>::len).sum::<usize>(), b.groups[0].len);
        }
    }

    #[test]
    fn oversized_record_goes_alone() {
        let o = obj("a");
        let mut batcher = Batcher::new(10);
        let k = ResourceKey {
            account: None,
            region: None,
            version: None,
        };
        assert!(batcher.push(&o, k, &[0; 50]).is_none());
        let first = batcher.push(&o, k, &[0; 50]).unwrap();
        assert_eq!(first.records, 1);
        assert_eq!(batcher.finish().unwrap().records, 1);
    }

    #[test]
    fn interleaved_groups_keep_their_records_in_order() {
        let o = obj("a");
        let k = |account| ResourceKey {
            account,
            region: None,
            version: None,
        };
        let mut batcher = Batcher::new(1 << 20);
        for (account, rec) in [
            ("1", b"a"),
            ("1", b"b"),
            ("2", b"c"),
            ("1", b"d"),
            ("2", b"e"),
        ] {
            assert!(batcher.push(&o, k(Some(account)), rec).is_none());
        }
        let batch = batcher.finish().unwrap();
        let records = |g| batch.pieces(g).flatten().copied().collect::<Vec<u8>>();
        assert_eq!(records(0), b"\x12\x01a\x12\x01b\x12\x01d");
        assert_eq!(records(1), b"\x12\x01c\x12\x01e");
        assert_eq!(batch.groups[0].len, 9);
        assert_eq!(batch.groups[1].count, 2);
    }

    #[test]
    fn a_recycled_batch_starts_empty_and_keeps_its_buffer() {
        let (a, b) = (obj("a"), obj("b"));
        let k = ResourceKey {
            account: None,
            region: None,
            version: None,
        };
        let mut batcher = Batcher::new(4000);
        batcher.push(&a, k, &[7; 3000]);
        let sent = batcher.push(&b, k, &[7; 3000]).unwrap();
        let reused = sent.framed.as_ptr();
        batcher.recycle(sent);
        let second = batcher.push(&a, k, b"\x08\x01").unwrap();
        assert_eq!(second.groups[0].object.key, "b");
        let next = batcher.finish().unwrap();
        assert_eq!((next.records, next.groups.len()), (1, 1));
        assert_eq!(next.groups[0].object.key, "a");
        assert_eq!(next.pieces(0).collect::<Vec<_>>(), [b"\x12\x02\x08\x01"]);
        assert_eq!(next.framed.as_ptr(), reused);
    }
}
