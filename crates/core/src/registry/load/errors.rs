//! Where the loader's messages go: the [`Errors`] collector every part of the loader reports
//! into (errors and warnings, each with its file, line, artifact and field), and the located
//! [`Problem`]s a field's parser returns.

use std::collections::HashMap;
use std::sync::Arc;

use crate::registry::{RegistryError, ValidationError};
use crate::text::did_you_mean;
use crate::yaml::{MapEntry, Node};

/// Collects errors (and warnings: what is allowed but likely a mistake) for one file.
pub(super) struct Errors<'a> {
    pub file: &'a str,
    pub list: Vec<ValidationError>,
    pub warnings: Vec<ValidationError>,
}

impl<'a> Errors<'a> {
    pub fn new(file: &'a str) -> Self {
        Errors {
            file,
            list: Vec::new(),
            warnings: Vec::new(),
        }
    }

    fn located(
        &self,
        line: usize,
        artifact: Option<&str>,
        field: Option<&str>,
        message: String,
    ) -> ValidationError {
        ValidationError {
            file: self.file.into(),
            line,
            artifact: artifact.map(Arc::from),
            field: field.map(Arc::from),
            message: message.into(),
        }
    }

    pub fn at(
        &mut self,
        line: usize,
        artifact: Option<&str>,
        field: Option<&str>,
        message: String,
    ) {
        let error = self.located(line, artifact, field, message);
        self.list.push(error);
    }

    pub fn warn(&mut self, line: usize, field: &str, message: String) {
        let warning = self.located(line, None, Some(field), message);
        self.warnings.push(warning);
    }

    /// The errors so far, as the error of a registry that cannot be used.
    pub fn into_error(self) -> RegistryError {
        RegistryError { errors: self.list }
    }

    /// Reads `node` with `read`, reporting its message at the node's line as `field`.
    pub fn field_value<T>(
        &mut self,
        node: &Node,
        field: &str,
        read: impl FnOnce(&Node) -> Result<T, String>,
    ) -> Option<T> {
        read(node)
            .map_err(|message| self.at(node.line, None, Some(field), message))
            .ok()
    }

    /// The entries of a mapping by key, reporting unknown keys (with a suggestion) and
    /// duplicates. `prefix` qualifies field names in messages (`cadences.weekly.`).
    pub fn keys<'n>(
        &mut self,
        entries: &'n [MapEntry],
        known: &[&str],
        artifact: Option<&str>,
        prefix: &str,
    ) -> HashMap<&'n str, &'n Node> {
        let mut found: HashMap<&str, &Node> = HashMap::new();
        let mut lines: HashMap<&str, usize> = HashMap::new();
        for entry in entries {
            let field = format!("{prefix}{}", entry.key);
            if is_extension_key(&entry.key) {
                continue;
            }
            if !known.contains(&entry.key.as_str()) {
                let hint = match did_you_mean(&entry.key, known) {
                    Some(s) => format!("; did you mean `{s}`?"),
                    None => format!("; known fields: {}", known.join(", ")),
                };
                self.at(
                    entry.key_line,
                    artifact,
                    Some(&field),
                    format!("unknown field{hint}"),
                );
                continue;
            }
            if let Some(first) = lines.get(entry.key.as_str()) {
                self.at(
                    entry.key_line,
                    artifact,
                    Some(&field),
                    format!("duplicate key (first set at line {first})"),
                );
                continue;
            }
            lines.insert(&entry.key, entry.key_line);
            found.insert(&entry.key, &entry.value);
        }
        found
    }
}

/// An `x_` key: accepted anywhere, never validated (artifacts carry theirs into their row).
pub(super) fn is_extension_key(key: &str) -> bool {
    key.starts_with("x_")
}

/// One problem with a field's value, located: at a line, under a path inside the field
/// (`[1].timezone`) when the value is a structure, or at the value itself.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Problem {
    pub line: usize,
    /// Appended to the field's name in the message; empty for the value as a whole.
    pub path: String,
    pub message: String,
}

/// What a field parser's error becomes: a message about the whole value (at its line), or
/// problems it located itself.
pub(super) trait Located {
    fn located(self, node: &Node) -> Vec<Problem>;
}

impl Located for String {
    fn located(self, node: &Node) -> Vec<Problem> {
        vec![Problem {
            line: node.line,
            path: String::new(),
            message: self,
        }]
    }
}

impl Located for Vec<Problem> {
    fn located(self, _: &Node) -> Vec<Problem> {
        self
    }
}
