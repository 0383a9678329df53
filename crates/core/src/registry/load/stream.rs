//! Artifact entries read one at a time while the YAML is parsed
//! ([`yaml::parse_document_with`]), so a big registry's tree never exists whole: at 100,000
//! artifacts the tree alone was ~70 MB.
//!
//! The sections the entries depend on are read from the top-level entries that came before
//! `artifacts:` (where every registry puts them); when the finished tree shows otherwise, the
//! file is read again the plain way, as a small registry always could be.

use std::collections::HashMap;

use super::artifact::{ReadSoFar, read_artifact};
use super::context::{ARTIFACT_CONTEXT_SECTIONS, ArtifactContext};
use super::errors::Errors;
use super::seen_ids::SeenIds;
use crate::registry::{RegistryEntry, ValidationError};
use crate::yaml::{self, MapEntry, Node, YamlError};

pub(super) struct StreamedArtifacts<'f> {
    file: &'f str,
    /// The context and the errors and warnings found reading it, once the first item
    /// arrived.
    context: Option<(ArtifactContext, Vec<ValidationError>, Vec<ValidationError>)>,
    /// The lines of the context sections' keys the context was read from.
    context_lines: Vec<usize>,
    entries: Vec<RegistryEntry>,
    ids: SeenIds,
}

/// Parses `text`, reading the artifact entries as they stream in when the file allows it.
pub(super) fn parse<'f>(
    file: &'f str,
    text: &str,
) -> (Result<Option<Node>, YamlError>, StreamedArtifacts<'f>) {
    let mut streamed = StreamedArtifacts::new(file, expected_entries(text));
    let parsed = yaml::parse_document_with(text, &mut |top, item| {
        streamed.take(top, item);
        None
    });
    if let Ok(Some(root)) = &parsed
        && !streamed.is_consistent_with(root)
    {
        // A section the artifacts depend on came after `artifacts:` (or `artifacts:` came
        // twice): read the whole tree first.
        return (
            yaml::parse_document(text),
            StreamedArtifacts::new(file, expected_entries(text)),
        );
    }
    (parsed, streamed)
}

/// About how many entries the file lists, to size the list (and the id map) once: a
/// million-entry list grown by doubling would have its old and new buffers alive at once,
/// and end up to twice as long as needed. Every entry names its `artifact_id:` (a few other
/// places may too); an entry written otherwise only makes the list grow as it would have.
fn expected_entries(text: &str) -> usize {
    text.matches("artifact_id:").count()
}

impl<'f> StreamedArtifacts<'f> {
    fn new(file: &'f str, expected_entries: usize) -> Self {
        StreamedArtifacts {
            file,
            context: None,
            context_lines: Vec::new(),
            entries: Vec::with_capacity(expected_entries),
            ids: SeenIds::with_capacity(expected_entries),
        }
    }

    fn take(&mut self, top: &[MapEntry], item: Node) {
        let file = self.file;
        if self.context.is_none() {
            self.context_lines = context_lines(top);
        }
        let (context, ..) = self.context.get_or_insert_with(|| {
            let mut sections: HashMap<&str, &Node> = HashMap::new();
            for entry in top {
                if ARTIFACT_CONTEXT_SECTIONS.contains(&entry.key.as_str()) {
                    sections.entry(&entry.key).or_insert(&entry.value);
                }
            }
            let mut errors = Errors::new(file);
            let context = ArtifactContext::read(&sections, &mut errors);
            (context, errors.list, errors.warnings)
        });
        let before = ReadSoFar {
            entries: &self.entries,
            ids: &mut self.ids,
        };
        let entry = read_artifact(&item, before, context, file);
        self.entries.push(entry);
    }

    /// Whether the streamed entries are what reading the finished tree gives: one
    /// `artifacts:` list, and no context section after it.
    fn is_consistent_with(&self, root: &Node) -> bool {
        if self.context.is_none() {
            return true;
        }
        let Some(top) = root.as_map() else {
            return false;
        };
        top.iter().filter(|e| e.key == "artifacts").count() == 1
            && context_lines(top) == self.context_lines
    }

    /// The context read while streaming, its errors and warnings added to `errors`; `None`
    /// when no item streamed.
    pub fn take_context(&mut self, errors: &mut Errors<'_>) -> Option<ArtifactContext> {
        let (context, section_errors, section_warnings) = self.context.take()?;
        errors.list.extend(section_errors);
        errors.warnings.extend(section_warnings);
        Some(context)
    }

    /// Every entry: those streamed while parsing, then `items` (the ones left in the tree).
    pub fn finish(self, items: &[Node], context: &ArtifactContext) -> Vec<RegistryEntry> {
        let file = self.file;
        let mut entries = self.entries;
        let mut ids = self.ids;
        for item in items {
            let before = ReadSoFar {
                entries: &entries,
                ids: &mut ids,
            };
            let entry = read_artifact(item, before, context, file);
            entries.push(entry);
        }
        entries
    }
}

fn context_lines(top: &[MapEntry]) -> Vec<usize> {
    top.iter()
        .filter(|e| ARTIFACT_CONTEXT_SECTIONS.contains(&e.key.as_str()))
        .map(|e| e.key_line)
        .collect()
}
