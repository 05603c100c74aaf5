//! Logs through `tracing` to stdout: text by default (journald adds time and unit), JSON as a
//! switch. `RUST_LOG` wins over the configured level.
//!
//! Values from Aircall (an event name, a contact's name inside an error) reach log lines. In
//! text logs a newline in one would forge a second line and an escape sequence would drive the
//! reader's terminal, so every control character inside a line is written escaped (`\n`,
//! `\x1b`). JSON logs are escaped by JSON itself.

use std::io::{IsTerminal, Write};

use tracing_subscriber::fmt::MakeWriter;
use tracing_subscriber::EnvFilter;

use crate::config::LogFormat;

pub fn init(format: LogFormat, level: &str) {
    let filter = EnvFilter::try_from_default_env()
        .or_else(|_| EnvFilter::try_new(level))
        .unwrap_or_else(|_| EnvFilter::new("info"));
    // Colours only for a person at a terminal; elsewhere an escape byte can only be injected.
    let ansi = std::io::stdout().is_terminal();
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(ansi)
        .with_writer(SafeStdout { ansi });
    // A second init (tests, demo) keeps the first subscriber.
    let _ = match format {
        LogFormat::Json => builder.json().try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// Stdout, with control characters inside a line escaped.
#[derive(Clone, Copy)]
struct SafeStdout {
    /// Let ESC through: the formatter's own colours use it.
    ansi: bool,
}

impl<'a> MakeWriter<'a> for SafeStdout {
    type Writer = SafeWriter<std::io::Stdout>;

    fn make_writer(&'a self) -> Self::Writer {
        SafeWriter {
            inner: std::io::stdout(),
            ansi: self.ansi,
        }
    }
}

/// The formatter hands over one whole event per `write` (its line and final newline), so a
/// newline before the last byte came from a value.
pub struct SafeWriter<W> {
    inner: W,
    ansi: bool,
}

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        let (body, end) = match buf.split_last() {
            Some((b'\n', body)) => (body, &b"\n"[..]),
            _ => (buf, &b""[..]),
        };
        let mut out = Vec::with_capacity(buf.len() + 8);
        escape_controls(body, self.ansi, &mut out);
        out.extend_from_slice(end);
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.inner.flush()
    }
}

/// Control bytes (C0 and DEL; ESC too unless `keep_esc`) as `\n`, `\r`, `\t` or `\xNN`.
pub fn escape_controls(text: &[u8], keep_esc: bool, out: &mut Vec<u8>) {
    for &b in text {
        match b {
            b'\n' => out.extend_from_slice(b"\\n"),
            b'\r' => out.extend_from_slice(b"\\r"),
            b'\t' => out.push(b'\t'),
            0x1b if keep_esc => out.push(b),
            0..=0x1f | 0x7f => out.extend_from_slice(format!("\\x{b:02x}").as_bytes()),
            _ => out.push(b),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_forged_line_and_an_escape_sequence_stay_inside_one_line() {
        let mut w = SafeWriter {
            inner: Vec::new(),
            ansi: false,
        };
        w.write_all(b"INFO contact=Eve\nERROR fake line \x1b[31mred\x1b[0m\n")
            .unwrap();
        let text = String::from_utf8(w.inner).unwrap();
        assert_eq!(
            text,
            "INFO contact=Eve\\nERROR fake line \\x1b[31mred\\x1b[0m\n"
        );
        assert_eq!(text.lines().count(), 1);
    }
}
