//! The header of a flow log file: the fields its lines carry, in their order, each matched
//! to the field catalogue (VPC and transit gateway fields alike: the header says which kind an
//! object is).

use crate::format::{self, Field, FieldType};

/// One column of the header: a catalogue field, or a name we do not know (kept as a string).
#[derive(Debug, Clone)]
pub struct Column {
    pub name: String,
    pub field: Option<&'static Field>,
}

impl Column {
    pub(super) fn kind(&self) -> FieldType {
        self.field.map_or(FieldType::String, |f| f.kind)
    }
}

/// The fields of a file, in the order its lines carry them.
#[derive(Debug, Clone)]
pub struct Header {
    pub(super) columns: Vec<Column>,
    /// Column of each catalogue field (by catalogue index), if the file has it.
    by_field: Vec<Option<usize>>,
    pub(super) numeric: Vec<bool>,
}

impl Header {
    /// Builds a header from field names as the header line or Parquet columns spell them.
    pub fn new<S: AsRef<str>>(names: impl IntoIterator<Item = S>) -> Header {
        let columns: Vec<Column> = names
            .into_iter()
            .map(|n| {
                let name = n.as_ref();
                Column {
                    name: name.to_string(),
                    field: format::lookup_any(name),
                }
            })
            .collect();
        let mut by_field = vec![None; format::catalogue().len()];
        for (i, c) in columns.iter().enumerate() {
            if let Some(f) = c.field {
                let slot = &mut by_field[field_index(f)];
                slot.get_or_insert(i);
            }
        }
        let numeric = columns
            .iter()
            .map(|c| matches!(c.kind(), FieldType::Int | FieldType::Long))
            .collect();
        Header {
            columns,
            by_field,
            numeric,
        }
    }

    /// Parses a header line (`version account-id ...`).
    pub fn parse(line: &str) -> Header {
        Header::new(line.split_ascii_whitespace())
    }

    /// The AWS default format, for files that come without a header line.
    pub fn default_format() -> Header {
        Header::new(format::DEFAULT_FIELDS)
    }

    pub fn columns(&self) -> &[Column] {
        &self.columns
    }

    /// The column that holds a catalogue field, looked up by its name.
    pub fn column_of(&self, name: &str) -> Option<usize> {
        format::lookup_any(name).and_then(|f| self.by_field[field_index(f)])
    }
}

fn field_index(f: &'static Field) -> usize {
    // Fields live in one static array, so the address gives the index.
    (f as *const Field as usize - format::catalogue().as_ptr() as usize)
        / std::mem::size_of::<Field>()
}
