//! Minimal protobuf writers for the few message shapes a log record needs.

#[inline]
pub fn varint(out: &mut Vec<u8>, mut v: u64) {
    while v >= 0x80 {
        out.push((v as u8) | 0x80);
        v >>= 7;
    }
    out.push(v as u8);
}

#[inline]
pub fn varint_len(v: u64) -> usize {
    // 1 byte per 7 bits, at least one.
    (64 - (v | 1).leading_zeros() as usize).div_ceil(7)
}

#[inline]
pub fn key(out: &mut Vec<u8>, tag: u32, wire_type: u8) {
    varint(out, ((tag as u64) << 3) | wire_type as u64);
}

#[inline]
pub fn fixed64(out: &mut Vec<u8>, tag: u32, v: u64) {
    key(out, tag, 1);
    out.extend_from_slice(&v.to_le_bytes());
}

#[inline]
pub fn bytes(out: &mut Vec<u8>, tag: u32, b: &[u8]) {
    key(out, tag, 2);
    varint(out, b.len() as u64);
    out.extend_from_slice(b);
}

#[inline]
fn len_field_len(tag: u32, inner: usize) -> usize {
    varint_len((tag as u64) << 3) + varint_len(inner as u64) + inner
}

/// An `AnyValue { string_value }` message in field `tag`.
#[inline]
pub fn any_string_field(out: &mut Vec<u8>, tag: u32, s: &str) {
    key(out, tag, 2);
    varint(out, len_field_len(1, s.len()) as u64);
    bytes(out, 1, s.as_bytes());
}

/// An attribute key, encoded once: `KeyValue.key` (field 1) and the tag of
/// `KeyValue.value` (field 2), the bytes every attribute under this key starts with.
#[derive(Debug, Clone)]
pub struct AttrKey {
    /// The encoded key, padded with zeros to at least [`KEY_ROOM`] bytes.
    padded: Box<[u8]>,
    len: usize,
}

/// Keys up to this size (all the catalogue's) are copied as a block of this fixed size
/// and the copy then cut to length: a fixed-size copy is a few moves, where a copy of
/// a size known only at run time is a call, and every record has a dozen keys or more.
const KEY_ROOM: usize = 48;

impl AttrKey {
    pub fn new(k: &str) -> AttrKey {
        let mut b = Vec::with_capacity(k.len().max(KEY_ROOM));
        bytes(&mut b, 1, k.as_bytes());
        key(&mut b, 2, 2);
        let len = b.len();
        b.resize(len.max(KEY_ROOM), 0);
        AttrKey {
            padded: b.into(),
            len,
        }
    }

    #[inline]
    fn write_to(&self, out: &mut Vec<u8>) {
        match <&[u8; KEY_ROOM]>::try_from(&self.padded[..]) {
            Ok(block) => {
                let end = out.len() + self.len;
                out.extend_from_slice(block);
                out.truncate(end);
            }
            Err(_) => out.extend_from_slice(&self.padded[..self.len]),
        }
    }
}

/// A `KeyValue` whose value (an encoded `AnyValue`) is `any` bytes long, as field 6
/// (attributes) of a `LogRecord`, up to the value.
#[inline]
fn attr_head(out: &mut Vec<u8>, k: &AttrKey, any: usize) {
    let kv = k.len + varint_len(any as u64) + any;
    key(out, 6, 2);
    varint(out, kv as u64);
    k.write_to(out);
    varint(out, any as u64);
}

/// A `KeyValue` with a string value, as field 6 (attributes) of a `LogRecord`.
#[inline]
pub fn attr_str(out: &mut Vec<u8>, k: &AttrKey, v: &str) {
    attr_head(out, k, len_field_len(1, v.len()));
    bytes(out, 1, v.as_bytes());
}

/// A `KeyValue` with an int value, as field 6 (attributes) of a `LogRecord`.
#[inline]
pub fn attr_int(out: &mut Vec<u8>, k: &AttrKey, v: i64) {
    attr_head(out, k, 1 + varint_len(v as u64));
    key(out, 3, 0); // AnyValue.int_value
    varint(out, v as u64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varint_len_matches_prost() {
        for v in [0u64, 1, 127, 128, 16383, 16384, u32::MAX as u64, u64::MAX] {
            assert_eq!(varint_len(v), prost::encoding::encoded_len_varint(v), "{v}");
        }
    }
}
