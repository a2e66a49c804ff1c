//! Writes a text flow log in the Parquet layout VPC Flow Logs delivers (columns named with
//! underscores, typed as the catalogue says, Snappy-compressed), for tests, benchmarks and
//! canaries that need a Parquet object.

use crate::format::FieldType;
use crate::parse::{Reader, Value};
use parquet::basic::Compression;
use parquet::data_type::{ByteArray, ByteArrayType, Int32Type, Int64Type};
use parquet::file::properties::WriterProperties;
use parquet::file::writer::SerializedFileWriter;
use parquet::schema::parser::parse_message_type;
use std::io;
use std::sync::Arc;

enum Col {
    Int(Vec<i32>, Vec<i16>),
    Long(Vec<i64>, Vec<i16>),
    Str(Vec<ByteArray>, Vec<i16>),
}

/// Converts a (plain) text flow log; malformed lines are left out.
pub fn text_to_parquet(text: &[u8]) -> io::Result<Vec<u8>> {
    let err = |e: parquet::errors::ParquetError| io::Error::other(e);
    let mut reader = Reader::new(text, "convert");
    let mut cols: Vec<Col> = Vec::new();
    let mut schema = String::new();
    while let Some(rec) = reader.next_record()? {
        if cols.is_empty() {
            schema.push_str("message flow_log {\n");
            for c in rec.header().columns() {
                let name = c.name.replace('-', "_");
                let (ty, col) = match c.field.map(|f| f.kind) {
                    Some(FieldType::Int) => ("int32", Col::Int(vec![], vec![])),
                    Some(FieldType::Long) => ("int64", Col::Long(vec![], vec![])),
                    _ => ("binary", Col::Str(vec![], vec![])),
                };
                let utf8 = if ty == "binary" { " (UTF8)" } else { "" };
                schema.push_str(&format!("  optional {ty} {name}{utf8};\n"));
                cols.push(col);
            }
            schema.push('}');
        }
        for (i, col) in cols.iter_mut().enumerate() {
            let v = rec.get(i);
            match (col, v) {
                (Col::Int(vals, defs), Some(Value::Int(x))) => {
                    vals.push(x as i32);
                    defs.push(1)
                }
                (Col::Long(vals, defs), Some(Value::Int(x))) => {
                    vals.push(x);
                    defs.push(1)
                }
                (Col::Str(vals, defs), Some(Value::Str(s))) => {
                    vals.push(ByteArray::from(s));
                    defs.push(1)
                }
                (Col::Int(_, defs) | Col::Long(_, defs) | Col::Str(_, defs), _) => defs.push(0),
            }
        }
    }
    if cols.is_empty() {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            "no records to convert",
        ));
    }
    let schema = Arc::new(parse_message_type(&schema).map_err(err)?);
    let props = Arc::new(
        WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build(),
    );
    let mut out = Vec::new();
    let mut writer = SerializedFileWriter::new(&mut out, schema, props).map_err(err)?;
    let mut rg = writer.next_row_group().map_err(err)?;
    let mut i = 0;
    while let Some(mut cw) = rg.next_column().map_err(err)? {
        match &cols[i] {
            Col::Int(v, d) => cw.typed::<Int32Type>().write_batch(v, Some(d), None),
            Col::Long(v, d) => cw.typed::<Int64Type>().write_batch(v, Some(d), None),
            Col::Str(v, d) => cw.typed::<ByteArrayType>().write_batch(v, Some(d), None),
        }
        .map_err(err)?;
        cw.close().map_err(err)?;
        i += 1;
    }
    rg.close().map_err(err)?;
    writer.close().map_err(err)?;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::export::{request::Body, ExportConfig};
    use crate::otlp::ObjectInfo;
    use crate::pipeline::{self, Sink};
    use opentelemetry_proto::tonic::collector::logs::v1::ExportLogsServiceRequest;
    use prost::Message;
    use std::io::{Read, Write};

    fn records(body: &Body) -> Vec<opentelemetry_proto::tonic::logs::v1::LogRecord> {
        let mut plain = Vec::new();
        flate2::read::GzDecoder::new(&body.bytes[..])
            .read_to_end(&mut plain)
            .unwrap();
        let req = ExportLogsServiceRequest::decode(&plain[..]).unwrap();
        req.resource_logs
            .into_iter()
            .flat_map(|r| r.scope_logs)
            .flat_map(|s| s.log_records)
            .collect()
    }

    #[test]
    fn parquet_forwards_like_text() {
        for name in [
            "default-v2.log",
            "all-fields-v8.log",
            "custom-v5.log",
            "tgw-all-fields-v6.log",
        ] {
            let text = std::fs::read(format!(
                "{}/tests/fixtures/{name}",
                env!("CARGO_MANIFEST_DIR")
            ))
            .unwrap();
            let pq = text_to_parquet(&text).unwrap();
            let mut file = tempfile::tempfile().unwrap();
            file.write_all(&pq).unwrap();
            use std::io::Seek;
            file.rewind().unwrap();

            let config = ExportConfig::from_lookup(|_| None).unwrap();
            let object = Arc::new(ObjectInfo::new("b", "k", None));
            let mut from_text = Vec::new();
            let mut from_parquet = Vec::new();
            let mut emit = |b: Body| {
                from_text.push(b);
                true
            };
            let mut sink = Sink {
                config: &config,
                emit: &mut emit,
                stop: &|| false,
            };
            pipeline::forward_text(&text[..], &object, 5, &mut sink).unwrap();
            let mut emit = |b: Body| {
                from_parquet.push(b);
                true
            };
            let mut sink = Sink {
                config: &config,
                emit: &mut emit,
                stop: &|| false,
            };
            let stats = pipeline::forward_parquet(file, &object, 5, &mut sink).unwrap();
            assert_eq!(stats.skipped_lines, 0, "{name}");
            let a: Vec<_> = from_text.iter().flat_map(records).collect();
            let b: Vec<_> = from_parquet.iter().flat_map(records).collect();
            assert_eq!(a.len() as u64, stats.records, "{name}");
            assert_eq!(a, b, "{name}");
        }
    }
}
