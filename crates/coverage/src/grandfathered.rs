//! Which of the registry's `grandfathered_paths` (docs/coverage.md) a producer file falls under.
//!
//! A grandfathered path is a decision already taken: the files under it write somewhere that
//! needs no registration. `coverage --registry` names the entry (and its reason) next to an
//! unpinned file, so the operator only has to pin it rather than decide again.

pub use freshness_core::registry::GrandfatheredPath;

/// The entry `path` falls under (it starts with the entry's path); the longest prefix wins,
/// as the most specific decision.
pub fn covering<'a>(entries: &'a [GrandfatheredPath], path: &str) -> Option<&'a GrandfatheredPath> {
    entries
        .iter()
        .filter(|e| path.starts_with(e.path.as_str()))
        .max_by_key(|e| e.path.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn entry(path: &str, line: usize) -> GrandfatheredPath {
        GrandfatheredPath {
            path: path.to_string(),
            reason: format!("reason {line}"),
            line,
        }
    }

    #[test]
    fn the_longest_prefix_wins() {
        let entries = [entry("rag/", 3), entry("rag/pipelines/", 4)];
        assert_eq!(covering(&entries, "rag/pipelines/x.py").unwrap().line, 4);
        assert_eq!(covering(&entries, "rag/tools.py").unwrap().line, 3);
        assert!(covering(&entries, "pipelines/x.py").is_none());
        assert!(covering(&entries, "ra.py").is_none());
    }
}
