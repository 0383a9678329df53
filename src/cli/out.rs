//! Standard output for every subcommand. A reader that stops reading early (`check … | head
//! -1`) closes the pipe; from then on the output is dropped without a word and the command
//! runs to its end, exiting with the code it would have had. Rust ignores SIGPIPE, so a write
//! to the closed pipe fails with `BrokenPipe`, and `print!` would panic on it (exit 101).
//!
//! `print!` and `println!` in `src/cli/` are this module's (macros defined in `cli/mod.rs`
//! ahead of the subcommands' modules), and the subcommands that stream use [`stdout`]: one
//! place decides what a closed stdout means.

use std::io::{self, Write};
use std::sync::atomic::{AtomicBool, Ordering};

/// Set once a write found the reader gone: later writes are dropped at once.
static CLOSED: AtomicBool = AtomicBool::new(false);

/// Locked standard output that treats a closed pipe as the end of the output.
pub struct Stdout(io::StdoutLock<'static>);

/// Standard output for a subcommand's results.
pub fn stdout() -> Stdout {
    Stdout(io::stdout().lock())
}

impl Write for Stdout {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if CLOSED.load(Ordering::Relaxed) {
            return Ok(buf.len());
        }
        quiet(self.0.write(buf), buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if CLOSED.load(Ordering::Relaxed) {
            return Ok(());
        }
        quiet(self.0.flush(), ())
    }
}

/// `result`, or `done` as if it had worked when the reader has gone.
fn quiet<T>(result: io::Result<T>, done: T) -> io::Result<T> {
    match result {
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => {
            CLOSED.store(true, Ordering::Relaxed);
            Ok(done)
        }
        other => other,
    }
}

/// What `print!` does here: any other write error (a full disk behind a redirection) is
/// told on stderr and ends the process with exit code 1, as an error of the command would.
pub fn print(args: std::fmt::Arguments<'_>) {
    let mut out = stdout();
    if let Err(e) = out.write_fmt(args).and_then(|()| out.flush()) {
        eprintln!("error: writing to stdout: {e}");
        std::process::exit(1);
    }
}
