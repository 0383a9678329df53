//! The producer-side coverage guard (`freshness-monitor coverage`, docs/coverage.md).
//!
//! The registry only protects artifacts someone registered. This guard runs in a producer
//! repository's CI and turns "code gained an S3 write" into a failed build until an operator
//! decides: register the artifact (or grandfather the path) and pin the new count. It counts
//! write call sites per git-tracked producer file and compares them with a pins file:
//!
//! - [`pins`]: the pins file (`include`, `exempt`, `patterns`, `files`), parsed with line numbers
//!   into compiled matchers, so that every later step works on valid input;
//! - [`git`]: the tracked files of the work tree (`git ls-files`), never untracked scratch;
//! - [`scan`]: the per-file site counts, read in parallel;
//! - [`report`]: the pure comparison of pins and counts into the three failure classes;
//! - [`update`]: the rewritten pins file for `--update`, keeping the operator's comments;
//! - [`grandfathered`]: which registry `grandfathered_paths` entry covers a file, to show a
//!   decision already taken.

pub mod git;
pub mod grandfathered;
pub mod pins;
pub mod scan;
pub mod report;
pub mod update;

use std::fmt;

pub use grandfathered::GrandfatheredPath;
pub use pins::Pins;
pub use report::{Report, compare};

/// A problem with an input file (the pins file or the registry), with the line it is on when
/// there is one. The caller prefixes the file name: `PINS.yaml:7: ...`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub struct InputError {
    pub line: Option<usize>,
    pub message: String,
}

impl InputError {
    pub(crate) fn at(line: usize, message: impl Into<String>) -> InputError {
        InputError {
            line: Some(line),
            message: message.into(),
        }
    }

    /// The error as `FILE:LINE: message` (or `FILE: message` without a line).
    pub fn in_file(&self, file: &str) -> String {
        match self.line {
            Some(line) => format!("{file}:{line}: {}", self.message),
            None => format!("{file}: {}", self.message),
        }
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.line {
            Some(line) => write!(f, "line {line}: {}", self.message),
            None => f.write_str(&self.message),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_name_file_and_line() {
        let e = InputError::at(7, "boom");
        assert_eq!(e.in_file("pins.yaml"), "pins.yaml:7: boom");
        assert_eq!(e.to_string(), "line 7: boom");
    }
}
