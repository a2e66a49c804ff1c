//! `flowlogs.yaml` for a test, built rather than hand-written: a stack in lambda or firehose mode
//! with the settings a test changes, written to the stack's directory with the environment its
//! `${env:NAME}` references need.
//!
//! ```ignore
//! let cfg = StackConfig::lambda("life", &vpc, &stack.otlp_endpoint)
//!     .flow_log("format", "all")
//!     .header("x-api-key", "${env:LIFE_KEY}")
//!     .env("LIFE_KEY", "s3cret-key")
//!     .write(stack.dir());
//! assert_exit(&cfg.setup(&stack), 0);
//! let plan = cfg.run(&stack, &["plan", "--detailed-exitcode"]);
//! ```

use std::path::{Path, PathBuf};
use std::process::Output;

use serde::Serialize;
use serde_yaml::{Mapping, Value};

use super::{Stack, REGION};

/// A `flowlogs.yaml` under construction. Keys keep the order they were set in.
#[derive(Debug, Clone)]
pub struct StackConfig {
    doc: Mapping,
    env: Vec<(String, String)>,
}

impl StackConfig {
    /// Flow logs of `vpc` delivered by the forwarder Lambda to the OTLP `endpoint`.
    pub fn lambda(stack: &str, vpc: &str, endpoint: &str) -> StackConfig {
        StackConfig::new(stack, vpc).otlp("endpoint", endpoint)
    }

    /// Flow logs of `vpc` delivered by a Firehose stream to `url`, the access key from `${env:KEY_VAR}`.
    pub fn firehose(stack: &str, vpc: &str, url: &str, key_var: &str) -> StackConfig {
        StackConfig::new(stack, vpc)
            .set("delivery.mode", "firehose")
            .set("delivery.firehose.url", url)
            .set(
                "delivery.firehose.access_key",
                format!("${{env:{key_var}}}"),
            )
    }

    fn new(stack: &str, vpc: &str) -> StackConfig {
        StackConfig {
            doc: Mapping::new(),
            env: Vec::new(),
        }
        .set("version", 1)
        .set("stack", stack)
        .set("region", REGION)
        .set("flow_log.resources.vpc_ids", [vpc])
    }

    /// Sets the value at a dotted path (`flow_log.format`), making the mappings on the way.
    pub fn set(mut self, path: &str, value: impl Serialize) -> StackConfig {
        let value = serde_yaml::to_value(value).expect("a YAML value");
        let mut keys: Vec<&str> = path.split('.').collect();
        let last = keys.pop().expect("a non-empty path");
        let mut map = &mut self.doc;
        for key in keys {
            let entry = map
                .entry(Value::from(key))
                .or_insert_with(|| Value::Mapping(Mapping::new()));
            map = entry
                .as_mapping_mut()
                .unwrap_or_else(|| panic!("{path}: {key} is not a mapping"));
        }
        map.insert(Value::from(last), value);
        self
    }

    /// Removes the key at a dotted path (and a mapping it leaves empty).
    pub fn without(mut self, path: &str) -> StackConfig {
        fn remove(map: &mut Mapping, keys: &[&str]) {
            let Some((first, rest)) = keys.split_first() else {
                return;
            };
            if rest.is_empty() {
                map.remove(*first);
                return;
            }
            if let Some(inner) = map.get_mut(*first).and_then(Value::as_mapping_mut) {
                remove(inner, rest);
                if inner.is_empty() {
                    map.remove(*first);
                }
            }
        }
        let keys: Vec<&str> = path.split('.').collect();
        remove(&mut self.doc, &keys);
        self
    }

    /// Sets the value at a dotted path from YAML text (`"{ memory_mb: 256, timeout_s: 60 }"`).
    pub fn set_yaml(self, path: &str, yaml: &str) -> StackConfig {
        let value: Value =
            serde_yaml::from_str(yaml).unwrap_or_else(|e| panic!("{path}: not YAML ({e}): {yaml}"));
        self.set(path, value)
    }

    /// `flow_log.<key>`.
    pub fn flow_log(self, key: &str, value: impl Serialize) -> StackConfig {
        self.set(&format!("flow_log.{key}"), value)
    }

    /// `flow_log.format` (`all`, `default` or a `${field}` list).
    pub fn format(self, format: &str) -> StackConfig {
        self.flow_log("format", format)
    }

    /// Hive-compatible, per-hour partitions (`flow_log.hive_compatible_partitions`,
    /// `flow_log.per_hour_partition`).
    pub fn hourly_hive(self) -> StackConfig {
        self.flow_log("hive_compatible_partitions", true)
            .flow_log("per_hour_partition", true)
    }

    /// `bucket.<key>`.
    pub fn bucket(self, key: &str, value: impl Serialize) -> StackConfig {
        self.set(&format!("bucket.{key}"), value)
    }

    /// An existing bucket the stack adopts (`bucket: { name, create: false }`).
    pub fn existing_bucket(self, name: &str) -> StackConfig {
        self.bucket("name", name).bucket("create", false)
    }

    /// `delivery.otlp.<key>`.
    pub fn otlp(self, key: &str, value: impl Serialize) -> StackConfig {
        self.set(&format!("delivery.otlp.{key}"), value)
    }

    /// An OTLP header (`delivery.otlp.headers.<name>`); `${env:NAME}` for a secret one.
    pub fn header(self, name: &str, value: &str) -> StackConfig {
        self.set(&format!("delivery.otlp.headers.{name}"), value)
    }

    /// `delivery.lambda.<key>` from YAML text.
    pub fn lambda_setting(self, key: &str, yaml: &str) -> StackConfig {
        self.set_yaml(&format!("delivery.lambda.{key}"), yaml)
    }

    /// `delivery.firehose.<key>`.
    pub fn firehose_setting(self, key: &str, value: impl Serialize) -> StackConfig {
        self.set(&format!("delivery.firehose.{key}"), value)
    }

    /// The Athena table and its queries (`athena: {}`).
    pub fn athena(self) -> StackConfig {
        self.set("athena", Mapping::new())
    }

    /// An environment variable every run of this config gets (what its `${env:NAME}` reads).
    pub fn env(mut self, name: &str, value: &str) -> StackConfig {
        self.env.push((name.to_string(), value.to_string()));
        self
    }

    /// The YAML text.
    pub fn yaml(&self) -> String {
        serde_yaml::to_string(&self.doc).expect("YAML of a mapping")
    }

    /// Writes `dir/flowlogs.yaml`.
    pub fn write(&self, dir: &Path) -> ConfigFile {
        self.write_as(dir, "flowlogs.yaml")
    }

    /// Writes `dir/name` (a test with several configs side by side).
    pub fn write_as(&self, dir: &Path, name: &str) -> ConfigFile {
        let path = dir.join(name);
        std::fs::write(&path, self.yaml()).unwrap();
        ConfigFile {
            path,
            env: self.env.clone(),
        }
    }
}

/// A written config: its path (it derefs to it) and the environment its runs get.
#[derive(Debug, Clone)]
pub struct ConfigFile {
    pub path: PathBuf,
    env: Vec<(String, String)>,
}

impl std::ops::Deref for ConfigFile {
    type Target = Path;
    fn deref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<Path> for ConfigFile {
    fn as_ref(&self) -> &Path {
        &self.path
    }
}

impl AsRef<std::ffi::OsStr> for ConfigFile {
    fn as_ref(&self) -> &std::ffi::OsStr {
        self.path.as_os_str()
    }
}

impl ConfigFile {
    /// `flowlogs ARGS -c CONFIG` against `stack`, with the config's environment.
    pub fn run(&self, stack: &Stack, args: &[&str]) -> Output {
        self.run_with(stack, args, &[])
    }

    /// `run` with more environment (which wins over the config's).
    pub fn run_with(&self, stack: &Stack, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut all: Vec<(&str, &str)> = self
            .env
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        all.extend_from_slice(env);
        stack.run(&self.path, args, &all)
    }

    /// `flowlogs setup --yes --no-verify --forwarder-zip ZIP`: a setup with a given forwarder
    /// and no delivery check, its output for the caller to judge.
    pub fn setup_zip(&self, stack: &Stack, zip: impl AsRef<Path>) -> Output {
        let zip = zip.as_ref().to_str().expect("a UTF-8 path");
        self.run(
            stack,
            &["setup", "--yes", "--no-verify", "--forwarder-zip", zip],
        )
    }

    /// `flowlogs plan --detailed-exitcode --forwarder-zip ZIP` (exit 0: in sync, 2: changes).
    pub fn plan_zip(&self, stack: &Stack, zip: impl AsRef<Path>) -> Output {
        let zip = zip.as_ref().to_str().expect("a UTF-8 path");
        self.run(
            stack,
            &["plan", "--detailed-exitcode", "--forwarder-zip", zip],
        )
    }

    /// `flowlogs setup --yes ARGS`, which must succeed.
    pub fn setup(&self, stack: &Stack, args: &[&str]) -> Output {
        let mut all = vec!["setup", "--yes"];
        all.extend_from_slice(args);
        let out = self.run(stack, &all);
        super::assert_exit(&out, 0);
        out
    }
}

#[test]
fn the_builder_writes_the_yaml_a_user_would() {
    let yaml = StackConfig::lambda("life", "vpc-1", "http://127.0.0.1:4318")
        .format("${version} ${srcaddr}")
        .header("x-api-key", "${env:KEY}")
        .lambda_setting("memory_mb", "256")
        .bucket("retention_days", 30)
        .without("bucket.retention_days")
        .athena()
        .yaml();
    assert_eq!(
        yaml,
        "version: 1\nstack: life\nregion: us-east-1\nflow_log:\n  resources:\n    vpc_ids:\n    - vpc-1\n  format: ${version} ${srcaddr}\ndelivery:\n  otlp:\n    endpoint: http://127.0.0.1:4318\n    headers:\n      x-api-key: ${env:KEY}\n  lambda:\n    memory_mb: 256\nathena: {}\n"
    );
}
