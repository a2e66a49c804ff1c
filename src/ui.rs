//! The terminal, in one place: progress lines (a spinner on a terminal, plain lines elsewhere) and
//! confirmation prompts. The core gets a `Progress` and a "may I ask" answer, never a terminal.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

#[derive(Clone)]
pub struct Progress {
    tty: bool,
    quiet: bool,
}

impl Progress {
    /// Progress on stderr: spinners when stderr is a terminal.
    pub fn stderr() -> Progress {
        Progress {
            tty: std::io::stderr().is_terminal(),
            quiet: false,
        }
    }

    /// Prints nothing (unit tests).
    #[cfg(test)]
    pub fn quiet() -> Progress {
        Progress {
            tty: false,
            quiet: true,
        }
    }

    pub fn line(&self, text: &str) {
        if !self.quiet {
            eprintln!("{text}");
        }
    }

    /// A detail under the current step: a wait, a retry, a count.
    pub fn detail(&self, text: &str) {
        self.line(&format!("    {text}"));
    }

    /// Starts a long wait; the returned spinner shows elapsed time on a terminal and says when it is done.
    pub fn spinner(&self, text: &str) -> Spinner {
        if self.quiet {
            return Spinner {
                bar: None,
                text: text.into(),
                started: Instant::now(),
                quiet: true,
            };
        }
        if self.tty {
            let bar = ProgressBar::new_spinner();
            bar.set_style(
                ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
                    .unwrap_or_else(|_| ProgressStyle::default_spinner()),
            );
            bar.set_message(text.to_string());
            bar.enable_steady_tick(Duration::from_millis(120));
            return Spinner {
                bar: Some(bar),
                text: text.into(),
                started: Instant::now(),
                quiet: false,
            };
        }
        eprintln!("{text} ...");
        Spinner {
            bar: None,
            text: text.into(),
            started: Instant::now(),
            quiet: false,
        }
    }
}

pub struct Spinner {
    bar: Option<ProgressBar>,
    text: String,
    started: Instant,
    quiet: bool,
}

impl Spinner {
    pub fn finish(self, outcome: &str) {
        let line = format!(
            "{} {} ({:.1}s)",
            outcome,
            self.text,
            self.started.elapsed().as_secs_f64()
        );
        match &self.bar {
            Some(bar) => bar.finish_and_clear(),
            None if self.quiet => return,
            None => {}
        }
        eprintln!("{line}");
    }
}

/// A count over `total` items for a long run (replay, backfill): on a terminal a bar with the
/// count, the rate, the ETA and a message; elsewhere plain lines on stderr, one per `PLAIN_EVERY`
/// items and one at the end, so a CI log shows progress without a line per item.
pub struct Bar {
    bar: ProgressBar,
    total: u64,
    unit: String,
}

/// Items between two plain progress lines when there is no terminal.
const PLAIN_EVERY: u64 = 50;

impl Bar {
    pub fn new(total: u64, unit: &str) -> Bar {
        let bar = if std::io::stderr().is_terminal() {
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template(&format!(
                    "{{bar:30}} {{pos}}/{{len}} {unit} ({{per_sec}}, ETA {{eta}}) {{msg}}"
                ))
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
            );
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        } else {
            ProgressBar::hidden()
        };
        Bar {
            bar,
            total,
            unit: unit.to_string(),
        }
    }

    /// A line above the bar (or a plain line).
    pub fn println(&self, line: impl Into<String>) {
        let line = line.into();
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// One more item done; `message` says where the run stands.
    pub fn inc(&self, message: String) {
        self.bar.inc(1);
        let done = self.bar.position();
        if self.bar.is_hidden() {
            if done.is_multiple_of(PLAIN_EVERY) || done == self.total {
                eprintln!("{done}/{} {}: {message}", self.total, self.unit);
            }
        } else {
            self.bar.set_message(message);
        }
    }

    pub fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

/// Writes to stdout. A closed stdout (`flowlogs status | head -3`) is not an error and not a panic
/// (what `print!` does): the rest of the output is dropped, the work goes on, and the exit code
/// still says how it went.
pub fn out(text: impl std::fmt::Display) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    if let Err(e) = write!(stdout, "{text}").and_then(|()| stdout.flush()) {
        if e.kind() != std::io::ErrorKind::BrokenPipe {
            eprintln!("warning: cannot write to stdout: {e}");
        }
    }
}

/// `out` with a line end.
pub fn outln(text: impl std::fmt::Display) {
    out(format_args!("{text}\n"));
}

/// Whether we may ask the user something: stdin and stderr both a terminal.
pub fn can_prompt() -> bool {
    std::io::stdin().is_terminal() && std::io::stderr().is_terminal()
}

/// Asks a yes/no question on the terminal; `Ok(false)` when the user says no or presses Esc.
pub fn confirm(question: &str) -> anyhow::Result<bool> {
    let answer = dialoguer::Confirm::new()
        .with_prompt(question)
        .default(false)
        .interact_opt()?;
    Ok(answer.unwrap_or(false))
}
