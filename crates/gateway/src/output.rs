//! Terminal output: the only module (with `main.rs`) that prints. Commands build text and hand it
//! here; colour decisions are made once, from `--color`, `NO_COLOR` and whether each stream is a
//! terminal.
#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::io::{IsTerminal, Write};
use std::time::Duration;

use crate::cli::ColorChoice;

/// Where output goes and how it looks.
#[derive(Clone, Debug)]
pub struct Out {
    /// Colour on stdout.
    pub color_stdout: bool,
    /// Colour on stderr.
    pub color_stderr: bool,
    /// stderr is a terminal (spinners are shown only then).
    pub stderr_tty: bool,
}

impl Out {
    /// Decides colours: `always`/`never` win; `auto` colours a terminal unless `NO_COLOR` is set
    /// (to anything non-empty), as <https://no-color.org> asks.
    pub fn new(choice: ColorChoice, no_color: bool) -> Self {
        let stdout_tty = std::io::stdout().is_terminal();
        let stderr_tty = std::io::stderr().is_terminal();
        let decide = |tty: bool| match choice {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => tty && !no_color,
        };
        Out {
            color_stdout: decide(stdout_tty),
            color_stderr: decide(stderr_tty),
            stderr_tty,
        }
    }

    /// A line on stdout.
    pub fn line(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let written = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.write_all(b"\n"))
            .and_then(|()| stdout.flush());
        exit_if_reader_gone(written);
    }

    /// Text on stdout without a newline, flushed (streamed output).
    pub fn write(&self, text: &str) {
        let mut stdout = std::io::stdout().lock();
        let written = stdout
            .write_all(text.as_bytes())
            .and_then(|()| stdout.flush());
        exit_if_reader_gone(written);
    }

    /// A line on stderr.
    pub fn err_line(&self, text: &str) {
        eprintln!("{text}");
    }

    /// A warning on stderr (`warning: ...`, yellow when coloured).
    pub fn warn(&self, text: &str) {
        let label = Style::Yellow.paint("warning:", self.color_stderr);
        eprintln!("{label} {text}");
    }

    /// A hint on stderr (`hint: ...`).
    pub fn hint(&self, text: &str) {
        let label = Style::Cyan.paint("hint:", self.color_stderr);
        eprintln!("{label} {text}");
    }

    /// A spinner on stderr while `message` runs; hidden when stderr is not a terminal or when
    /// `quiet`. Dropping (or `finish`ing) the returned guard clears it.
    pub fn spinner(&self, message: &str, quiet: bool) -> Spinner {
        if quiet || !self.stderr_tty {
            return Spinner { bar: None };
        }
        let bar = indicatif::ProgressBar::new_spinner();
        bar.set_draw_target(indicatif::ProgressDrawTarget::stderr());
        bar.set_message(message.to_string());
        bar.enable_steady_tick(Duration::from_millis(80));
        Spinner { bar: Some(bar) }
    }
}

/// Ends the process quietly (exit 0) when stdout's reader has gone (`openclaw models list | head`),
/// as a Unix tool killed by SIGPIPE would, instead of `println!`'s panic; a streaming chat stops
/// there too rather than paying for tokens nobody reads. Other write errors are ignored.
fn exit_if_reader_gone(written: std::io::Result<()>) {
    if let Err(err) = written
        && err.kind() == std::io::ErrorKind::BrokenPipe
    {
        std::process::exit(0);
    }
}

/// A running spinner (see [`Out::spinner`]).
pub struct Spinner {
    bar: Option<indicatif::ProgressBar>,
}

impl Spinner {
    /// Clears the spinner.
    pub fn finish(self) {}
}

impl Drop for Spinner {
    fn drop(&mut self) {
        if let Some(bar) = self.bar.take() {
            bar.finish_and_clear();
        }
    }
}

/// ANSI styles, written by hand: six escape codes do not need a crate.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Style {
    /// Bold.
    Bold,
    /// Dim (thinking text).
    Dim,
    /// Green.
    Green,
    /// Yellow.
    Yellow,
    /// Red.
    Red,
    /// Cyan.
    Cyan,
    /// Magenta.
    Magenta,
}

impl Style {
    fn code(self) -> &'static str {
        match self {
            Style::Bold => "1",
            Style::Dim => "2",
            Style::Green => "32",
            Style::Yellow => "33",
            Style::Red => "31",
            Style::Cyan => "36",
            Style::Magenta => "35",
        }
    }

    /// `text` in this style when `on`, else unchanged.
    pub fn paint(self, text: &str, on: bool) -> String {
        if on && !text.is_empty() {
            format!("\x1b[{}m{text}\x1b[0m", self.code())
        } else {
            text.to_string()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paint_only_when_on() {
        assert_eq!(Style::Dim.paint("x", false), "x");
        assert_eq!(Style::Dim.paint("x", true), "\x1b[2mx\x1b[0m");
        assert_eq!(Style::Dim.paint("", true), "");
    }

    #[test]
    fn never_and_always_win_over_the_terminal() {
        let never = Out::new(ColorChoice::Never, false);
        assert!(!never.color_stdout && !never.color_stderr);
        let always = Out::new(ColorChoice::Always, true);
        assert!(always.color_stdout && always.color_stderr);
    }
}
