//! Writes a synthetic VPC (or transit gateway) flow log file, deterministic for a seed (the benchmarks' data).
//!
//! ```text
//! cargo run --release -p flowlogs-forwarder --example gen_flowlogs -- \
//!     OUT [--records N] [--format default|all|tgw|FIELD,FIELD,...] [--seed S] [--nodata-every K]
//! ```
//!
//! `--format default`: the 14 version-2 fields (the AWS default format); `all`: every field of
//! versions 2 to 8; `tgw`: the 36 fields of a transit gateway flow log (AWS's default for them). The output is gzip when OUT ends in `.gz`. Defaults: 1000 records, seed 1,
//! no NODATA/SKIPDATA records.

// The bench names its cached files with `Options::cache_name`; this command does not.
#[allow(dead_code)]
mod generate;
#[cfg(test)]
mod generate_tests;

use generate::Options;
use std::path::PathBuf;

const USAGE: &str =
    "usage: gen_flowlogs OUT [--records N] [--format default|all|tgw|FIELD,FIELD,...] \
                     [--seed S] [--nodata-every K]";

fn main() -> anyhow::Result<()> {
    let (out, options) =
        parse_args(std::env::args().skip(1)).map_err(|e| anyhow::anyhow!("{e}\n{USAGE}"))?;
    generate::write_file(&out, &options)
        .map_err(|e| anyhow::anyhow!("writing {}: {e}", out.display()))?;
    eprintln!("wrote {} records to {}", options.records, out.display());
    Ok(())
}

fn parse_args(args: impl IntoIterator<Item = String>) -> Result<(PathBuf, Options), String> {
    let mut out = None;
    let mut options = Options {
        records: 1000,
        fields: Options::fields_of("default")?,
        seed: 1,
        nodata_every: 0,
    };
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or_else(|| format!("{name} needs a value"));
        let number = |name: &str, v: String| {
            v.parse::<u64>()
                .map_err(|_| format!("{name} takes a whole number, not `{v}`"))
        };
        match arg.as_str() {
            "--records" => options.records = number("--records", value("--records")?)?,
            "--seed" => options.seed = number("--seed", value("--seed")?)?,
            "--nodata-every" => {
                options.nodata_every = number("--nodata-every", value("--nodata-every")?)?
            }
            "--format" => options.fields = Options::fields_of(&value("--format")?)?,
            "-h" | "--help" => return Err("help".into()),
            flag if flag.starts_with("--") => return Err(format!("unknown option {flag}")),
            path if out.is_none() => out = Some(PathBuf::from(path)),
            extra => return Err(format!("one output path only (also got `{extra}`)")),
        }
    }
    Ok((out.ok_or("the output path is missing")?, options))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(line: &str) -> Result<(PathBuf, Options), String> {
        parse_args(line.split_whitespace().map(String::from))
    }

    #[test]
    fn options_are_read_like_the_python_generators() {
        let (out, o) =
            args("/tmp/x.log.gz --records 5 --format all --seed 9 --nodata-every 3").unwrap();
        assert_eq!(out, PathBuf::from("/tmp/x.log.gz"));
        assert_eq!(
            (o.records, o.seed, o.nodata_every, o.fields.len()),
            (5, 9, 3, 40)
        );
        let (_, o) = args("out.log").unwrap();
        assert_eq!(
            (o.records, o.seed, o.nodata_every, o.fields.len()),
            (1000, 1, 0, 14)
        );
        let (_, o) = args("out.log --format srcaddr,dstaddr").unwrap();
        assert_eq!(
            o.fields.iter().map(|f| f.name).collect::<Vec<_>>(),
            ["srcaddr", "dstaddr"]
        );
    }

    #[test]
    fn bad_arguments_say_what_is_wrong() {
        assert!(args("--records 5")
            .unwrap_err()
            .contains("output path is missing"));
        assert!(args("o --records five")
            .unwrap_err()
            .contains("whole number"));
        assert!(args("o --records").unwrap_err().contains("needs a value"));
        assert!(args("o --format srcadr").unwrap_err().contains("srcadr"));
        assert!(args("o --colour").unwrap_err().contains("--colour"));
        assert!(args("o p").unwrap_err().contains("one output path"));
    }
}
