//! The producer-side coverage guard (`freshness-monitor coverage`, DESIGN §11).
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
//! - [`grandfathered`]: the registry's `grandfathered_paths`, to show a decision already taken.

pub mod git;
pub mod grandfathered;
pub mod pins;
pub mod report;
pub mod scan;
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

/// The closest of `known` to `word`, when it is close enough to be a likely typo.
pub(crate) fn did_you_mean<'a>(word: &str, known: &[&'a str]) -> Option<&'a str> {
    known
        .iter()
        .map(|k| (edit_distance(word, k), *k))
        .filter(|(d, k)| *d <= (k.len() / 3).max(1) + 1 && *d < k.len())
        .min_by_key(|(d, _)| *d)
        .map(|(_, k)| k)
}

/// Levenshtein distance over characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut cur = vec![i + 1; b.len() + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitution = prev[j] + usize::from(ca != *cb);
            cur[j + 1] = substitution.min(prev[j + 1] + 1).min(cur[j] + 1);
        }
        prev = cur;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_misses_get_a_suggestion_and_far_words_do_not() {
        let known = ["include", "exempt", "patterns", "files"];
        assert_eq!(did_you_mean("patern", &known), Some("patterns"));
        assert_eq!(did_you_mean("exclude", &known), Some("include"));
        assert_eq!(did_you_mean("exempts", &known), Some("exempt"));
        assert_eq!(did_you_mean("file", &known), Some("files"));
        assert_eq!(did_you_mean("owner", &known), None);
    }

    #[test]
    fn errors_name_file_and_line() {
        let e = InputError::at(7, "boom");
        assert_eq!(e.in_file("pins.yaml"), "pins.yaml:7: boom");
        assert_eq!(e.to_string(), "line 7: boom");
    }
}
