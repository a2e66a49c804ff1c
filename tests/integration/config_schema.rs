//! `flowlogs schema` and `flowlogs completions`, run as a user would: the schema the binary prints
//! is the one committed for editors, and every shell gets a script that knows the subcommands.
//! (The schema's agreement with the checker is tested beside the schema, in src/config/schema.rs.)

use std::process::{Command, Output};

fn flowlogs(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_flowlogs"))
        .args(args)
        .output()
        .expect("run flowlogs")
}

fn stdout(out: &Output) -> String {
    assert!(
        out.status.success(),
        "flowlogs failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).expect("UTF-8 output")
}

#[test]
fn schema_prints_the_committed_json_schema() {
    let printed = stdout(&flowlogs(&["schema"]));
    let committed = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("templates/flowlogs.schema.json"),
    )
    .unwrap();
    assert_eq!(
        printed, committed,
        "templates/flowlogs.schema.json is stale: run `flowlogs schema > templates/flowlogs.schema.json`"
    );
    let schema: serde_json::Value = serde_json::from_str(&printed).expect("the schema is JSON");
    assert_eq!(
        schema["$schema"],
        "https://json-schema.org/draft/2020-12/schema"
    );
    for key in [
        "version", "stack", "region", "flow_log", "bucket", "delivery",
    ] {
        assert!(
            schema["properties"].get(key).is_some(),
            "no `{key}` in the schema"
        );
    }
}

#[test]
fn completions_for_every_shell_know_the_subcommands() {
    for shell in ["bash", "zsh", "fish", "powershell"] {
        let script = stdout(&flowlogs(&["completions", shell]));
        for word in [
            "init",
            "plan",
            "setup",
            "verify",
            "status",
            "teardown",
            "completions",
            "schema",
            // The global option, as each shell spells a long option.
            if shell == "fish" {
                "-l config"
            } else {
                "--config"
            },
        ] {
            assert!(
                script.contains(word),
                "the {shell} script does not mention `{word}`"
            );
        }
    }
    let out = flowlogs(&["completions", "tcsh"]);
    assert_eq!(
        out.status.code(),
        Some(2),
        "an unknown shell is a usage error"
    );
    assert!(String::from_utf8_lossy(&out.stderr).contains("bash"));
}
