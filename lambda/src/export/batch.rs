//! Groups encoded log records by resource (object, account, region) into batches capped by
//! their encoded size.

use crate::otlp::{wire, ObjectInfo, ResourceKey};
use std::sync::Arc;

/// One resource's records within a batch.
#[derive(Debug, Clone)]
pub struct Group {
    pub object: Arc<ObjectInfo>,
    pub account: Option<String>,
    pub region: Option<String>,
    /// `LogRecord`s encoded as field 2 (`log_records`) of a `ScopeLogs`.
    pub records: Vec<u8>,
    pub count: u64,
}

/// Records ready to be sent in one export request.
#[derive(Debug, Clone, Default)]
pub struct Batch {
    pub groups: Vec<Group>,
    pub records: u64,
    /// Encoded size of the records (without the per-resource framing).
    pub bytes: usize,
}

impl Batch {
    pub fn is_empty(&self) -> bool {
        self.records == 0
    }
}

/// Bytes of framing (resource, scope) counted per group, above its records.
const GROUP_OVERHEAD: usize = 512;

/// Fills batches; hands one back when the next record would not fit.
pub struct Batcher {
    max_bytes: usize,
    current: Batch,
}

impl Batcher {
    pub fn new(max_bytes: usize) -> Batcher {
        Batcher {
            max_bytes,
            current: Batch::default(),
        }
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
        let pos = self.current.groups.iter().position(|g| {
            Arc::ptr_eq(&g.object, object)
                && g.account.as_deref() == account
                && g.region.as_deref() == region
        });
        let added = framed + if pos.is_none() { GROUP_OVERHEAD } else { 0 };
        let full = if !self.current.is_empty() && self.current.bytes + added > self.max_bytes {
            Some(std::mem::take(&mut self.current))
        } else {
            None
        };
        let pos = if full.is_some() { None } else { pos };
        let group = match pos {
            Some(i) => &mut self.current.groups[i],
            None => {
                self.current.bytes += GROUP_OVERHEAD;
                self.current.groups.push(Group {
                    object: Arc::clone(object),
                    account: account.map(str::to_string),
                    region: region.map(str::to_string),
                    records: Vec::with_capacity(self.max_bytes.min(1 << 16)),
                    count: 0,
                });
                self.current.groups.last_mut().expect("just pushed")
            }
        };
        wire::bytes(&mut group.records, 2, record);
        group.count += 1;
        self.current.records += 1;
        self.current.bytes += framed;
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
            assert_eq!(b.groups[0].records.len(), b.records as usize * 100);
        }
    }

    #[test]
    fn oversized_record_goes_alone() {
        let o = obj("a");
        let mut batcher = Batcher::new(10);
        let k = ResourceKey {
            account: None,
            region: None,
        };
        assert!(batcher.push(&o, k, &[0; 50]).is_none());
        let first = batcher.push(&o, k, &[0; 50]).unwrap();
        assert_eq!(first.records, 1);
        assert_eq!(batcher.finish().unwrap().records, 1);
    }
}
