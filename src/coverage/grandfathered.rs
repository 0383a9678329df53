//! The registry's `grandfathered_paths`: producer paths an operator has already decided need
//! no registration (DESIGN §3), each with the reason.
//!
//! `coverage --registry` only needs this one list, so it reads it straight from the YAML tree
//! instead of loading (and validating) the whole registry: a producer repo's CI should not fail
//! on a registry problem that concerns some other artifact. The list is still checked strictly.

use super::{InputError, did_you_mean};
use crate::yaml::{self, Node};

/// One `{path, reason}` entry; a producer path falls under it when it starts with `path`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct GrandfatheredPath {
    pub path: String,
    pub reason: String,
    pub line: usize,
}

const ENTRY_KEYS: &[&str] = &["path", "reason"];

/// The `grandfathered_paths` of a registry's text (empty when the key is absent).
pub fn from_registry_text(text: &str) -> Result<Vec<GrandfatheredPath>, InputError> {
    let root = yaml::parse_document(text).map_err(|e| InputError::at(e.line, e.message))?;
    let Some(root) = root else {
        return Ok(Vec::new());
    };
    let Some(entries) = root.as_map() else {
        return Err(InputError::at(
            root.line,
            format!("a registry is a mapping; found {}", root.describe()),
        ));
    };
    let Some(list) = entries.iter().find(|e| e.key == "grandfathered_paths") else {
        return Ok(Vec::new());
    };
    if list.value.is_null() {
        return Ok(Vec::new());
    }
    let Some(items) = list.value.as_seq() else {
        return Err(InputError::at(
            list.value.line,
            format!(
                "`grandfathered_paths` must be a list of {{path, reason}}; found {}",
                list.value.describe()
            ),
        ));
    };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| entry(i, item))
        .collect()
}

fn entry(index: usize, item: &Node) -> Result<GrandfatheredPath, InputError> {
    let what = format!("`grandfathered_paths[{index}]`");
    let Some(fields) = item.as_map() else {
        return Err(InputError::at(
            item.line,
            format!("{what} must be a mapping {{path, reason}}; found {}", item.describe()),
        ));
    };
    let mut path = None;
    let mut reason = None;
    for field in fields {
        let text = || match field.value.as_scalar() {
            Some(text) if !field.value.is_null() && !text.trim().is_empty() => {
                Ok(text.to_string())
            }
            _ => Err(InputError::at(
                field.value.line,
                format!(
                    "{what}: field `{}` must be non-empty text; found {}",
                    field.key,
                    field.value.describe()
                ),
            )),
        };
        match field.key.as_str() {
            "path" => path = Some(text()?),
            "reason" => reason = Some(text()?),
            other => {
                let hint = did_you_mean(other, ENTRY_KEYS)
                    .map(|k| format!("; did you mean `{k}`?"))
                    .unwrap_or_else(|| "; the fields are path and reason".to_string());
                return Err(InputError::at(
                    field.key_line,
                    format!("{what}: unknown field `{other}`{hint}"),
                ));
            }
        }
    }
    let Some(path) = path else {
        return Err(InputError::at(item.line, format!("{what}: field `path` is missing")));
    };
    Ok(GrandfatheredPath {
        path,
        reason: reason.unwrap_or_default(),
        line: item.line,
    })
}

/// The entry `path` falls under; the longest prefix wins, as the most specific decision.
pub fn covering<'a>(entries: &'a [GrandfatheredPath], path: &str) -> Option<&'a GrandfatheredPath> {
    entries
        .iter()
        .filter(|e| path.starts_with(e.path.as_str()))
        .max_by_key(|e| e.path.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const REGISTRY: &str = "schema_version: 1\n\
        grandfathered_paths:\n\
        \x20 - {path: rag/pipelines/, reason: \"writes the RAG corpus bucket, not monitored\"}\n\
        \x20 - path: rag/\n\
        \x20   reason: scratch\n\
        artifacts: []\n";

    #[test]
    fn reads_the_entries_with_their_lines() {
        let entries = from_registry_text(REGISTRY).unwrap();
        assert_eq!(entries.len(), 2);
        assert_eq!(entries[0].path, "rag/pipelines/");
        assert_eq!(entries[0].line, 3);
        assert_eq!(entries[1].reason, "scratch");
        assert_eq!(entries[1].line, 4);
    }

    #[test]
    fn the_longest_prefix_wins() {
        let entries = from_registry_text(REGISTRY).unwrap();
        assert_eq!(covering(&entries, "rag/pipelines/x.py").unwrap().path, "rag/pipelines/");
        assert_eq!(covering(&entries, "rag/tools.py").unwrap().path, "rag/");
        assert!(covering(&entries, "pipelines/x.py").is_none());
    }

    #[test]
    fn absent_list_is_empty_and_bad_entries_are_refused() {
        assert!(from_registry_text("artifacts: []\n").unwrap().is_empty());
        assert!(from_registry_text("").unwrap().is_empty());
        let e = from_registry_text("grandfathered_paths:\n  - {pth: a/, reason: x}\n").unwrap_err();
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("did you mean `path`?"), "{e}");
        let e = from_registry_text("grandfathered_paths:\n  - {reason: x}\n").unwrap_err();
        assert!(e.message.contains("`path` is missing"), "{e}");
        let e = from_registry_text("grandfathered_paths: rag/\n").unwrap_err();
        assert!(e.message.contains("must be a list"), "{e}");
    }
}
