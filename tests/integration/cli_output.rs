//! The command line's output when the reader goes away: `flowlogs completions bash | head -3`
//! and the like exit quietly, as ripgrep does, instead of panicking on the closed pipe.

use std::process::{Command, Stdio};

/// Runs `flowlogs ARGS` with stdout a pipe whose reading end is closed before the first write.
fn run_with_closed_stdout(args: &[&str]) -> std::process::Output {
    let mut child = Command::new(env!("CARGO_BIN_EXE_flowlogs"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run flowlogs");
    drop(child.stdout.take());
    child.wait_with_output().expect("wait for flowlogs")
}

#[test]
fn a_closed_stdout_ends_each_printing_command_quietly() {
    for args in [
        &["completions", "bash"][..],
        &["completions", "zsh"],
        &["schema"],
        &["--help"],
        &["--version"],
    ] {
        let out = run_with_closed_stdout(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(
            out.status.success(),
            "flowlogs {args:?} with its output closed exited {:?}: {stderr}",
            out.status.code()
        );
        assert!(
            stderr.trim().is_empty(),
            "flowlogs {args:?} with its output closed wrote to stderr: {stderr}"
        );
    }
}
