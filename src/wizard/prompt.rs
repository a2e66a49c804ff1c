//! The wizard's terminal, in one place: dialoguer's select, multi-select, sort and confirm, and a
//! small text input of our own (dialoguer's ignores Esc). The question flow sees only the `Ask`
//! trait; Esc or Ctrl-C at any prompt comes back as a `Cancelled` error.

use std::fmt;
use std::io;

use anyhow::Result;
use console::{measure_text_width, Key, Term};
use dialoguer::theme::{ColorfulTheme, Theme};

/// The user pressed Esc or Ctrl-C: nothing is written, the exit code is 130.
#[derive(Debug)]
pub struct Cancelled;

impl fmt::Display for Cancelled {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("cancelled")
    }
}

impl std::error::Error for Cancelled {}

/// A text question.
pub struct Text<'a> {
    pub prompt: &'a str,
    /// Taken when the user just presses Enter.
    pub default: Option<String>,
    /// Whether an empty answer (with no default) is acceptable.
    pub allow_empty: bool,
    pub check: &'a dyn Fn(&str) -> Result<(), String>,
}

/// The questions the flow can ask. Every method returns `Cancelled` on Esc or Ctrl-C.
pub trait Ask {
    fn text(&mut self, q: &Text) -> Result<String>;
    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize>;
    /// Indices of the checked items, in item order.
    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        checked: &[bool],
    ) -> Result<Vec<usize>>;
    /// A permutation of `0..items.len()`.
    fn sort(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>>;
    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool>;
    /// A line of information between questions.
    fn say(&mut self, line: &str);
}

/// The real terminal (stderr), with dialoguer's colourful theme.
pub struct Terminal {
    term: Term,
    theme: ColorfulTheme,
}

impl Terminal {
    pub fn new() -> Terminal {
        Terminal {
            term: Term::stderr(),
            theme: ColorfulTheme::default(),
        }
    }

    /// Puts the terminal back as it was (dialoguer hides the cursor while a list is shown).
    pub fn restore(&self) {
        let _ = self.term.show_cursor();
    }
}

/// dialoguer's result: `None` (Esc, q) and an interrupted read (Ctrl-C) are both a cancel.
fn answered<T>(result: dialoguer::Result<Option<T>>) -> Result<T> {
    match result {
        Ok(Some(value)) => Ok(value),
        Ok(None) => Err(Cancelled.into()),
        Err(dialoguer::Error::IO(e)) if e.kind() == io::ErrorKind::Interrupted => {
            Err(Cancelled.into())
        }
        Err(e) => Err(anyhow::Error::new(e).context("reading the answer from the terminal")),
    }
}

impl Ask for Terminal {
    fn text(&mut self, q: &Text) -> Result<String> {
        loop {
            let mut prompt = String::new();
            self.theme
                .format_input_prompt(&mut prompt, q.prompt, q.default.as_deref())?;
            let typed = self.read_line(&prompt)?;
            let value = match (typed.trim(), &q.default) {
                ("", Some(default)) => default.clone(),
                (typed, _) => typed.to_string(),
            };
            let verdict = if value.is_empty() && q.allow_empty {
                Ok(())
            } else if value.is_empty() {
                Err("an answer is needed".to_string())
            } else {
                (q.check)(&value)
            };
            match verdict {
                Ok(()) => {
                    let mut done = String::new();
                    self.theme
                        .format_input_prompt_selection(&mut done, q.prompt, &value)?;
                    self.term.write_line(&done)?;
                    return Ok(value);
                }
                Err(problem) => {
                    let mut line = String::new();
                    self.theme.format_error(&mut line, &problem)?;
                    self.term.write_line(&line)?;
                }
            }
        }
    }

    fn select(&mut self, prompt: &str, items: &[String], default: usize) -> Result<usize> {
        answered(
            dialoguer::Select::with_theme(&self.theme)
                .with_prompt(prompt)
                .items(items)
                .default(default)
                .interact_on_opt(&self.term),
        )
    }

    fn multi_select(
        &mut self,
        prompt: &str,
        items: &[String],
        checked: &[bool],
    ) -> Result<Vec<usize>> {
        answered(
            dialoguer::MultiSelect::with_theme(&self.theme)
                .with_prompt(prompt)
                .items(items)
                .defaults(checked)
                .interact_on_opt(&self.term),
        )
    }

    fn sort(&mut self, prompt: &str, items: &[String]) -> Result<Vec<usize>> {
        answered(
            dialoguer::Sort::with_theme(&self.theme)
                .with_prompt(prompt)
                .items(items)
                .interact_on_opt(&self.term),
        )
    }

    fn confirm(&mut self, prompt: &str, default: bool) -> Result<bool> {
        answered(
            dialoguer::Confirm::with_theme(&self.theme)
                .with_prompt(prompt)
                .default(default)
                .interact_on_opt(&self.term),
        )
    }

    fn say(&mut self, line: &str) {
        let _ = self.term.write_line(line);
    }
}

impl Terminal {
    /// Reads one line after `prompt`, redrawing it on every key so that wrapped lines and
    /// backspace stay right. Esc and Ctrl-C cancel (Ctrl-C is read as a key, not a signal).
    fn read_line(&self, prompt: &str) -> Result<String> {
        let mut chars: Vec<char> = Vec::new();
        let mut rows = self.draw(prompt, &chars, 0)?;
        loop {
            match self.term.read_key_raw()? {
                Key::Enter => break,
                Key::Escape | Key::CtrlC => {
                    self.term.write_line("")?;
                    return Err(Cancelled.into());
                }
                Key::Backspace => {
                    chars.pop();
                }
                Key::Char(c) if !c.is_control() => chars.push(c),
                _ => continue,
            }
            rows = self.draw(prompt, &chars, rows)?;
        }
        self.clear_rows(rows)?;
        Ok(chars.into_iter().collect())
    }

    /// Clears the `rows` rows drawn last, then writes the prompt and the text typed so far;
    /// returns the rows now used.
    fn draw(&self, prompt: &str, chars: &[char], rows: usize) -> Result<usize> {
        self.clear_rows(rows)?;
        let text: String = chars.iter().collect();
        self.term.write_str(prompt)?;
        self.term.write_str(&text)?;
        self.term.flush()?;
        let width = usize::from(self.term.size().1).max(1);
        let used = measure_text_width(prompt) + measure_text_width(&text);
        Ok(used.saturating_sub(1) / width + 1)
    }

    fn clear_rows(&self, rows: usize) -> Result<()> {
        if rows == 0 {
            return Ok(());
        }
        self.term.clear_line()?;
        for _ in 1..rows {
            self.term.move_cursor_up(1)?;
            self.term.clear_line()?;
        }
        Ok(())
    }
}
