//! Reading a registry file into a [`Registry`], finding every error in one run.
//!
//! Errors in the shared sections (`schema_version`, `defaults`, `calendar`, `calendars`, `cadences`,
//! `grandfathered_paths`, the shape of `artifacts`) make the registry unusable; errors inside
//! one artifact entry make only that artifact invalid. Every message names the file, the line,
//! the artifact and the field.
//!
//! This file is the order of reading; each concern has its own file: [`sections`] (the shared
//! sections and the error collector), [`calendars`] (the `calendars:` section), [`context`] (what an entry needs from the rest of the
//! file), [`fields`] (the artifact field table), [`artifact`] (one entry), [`stream`] (entries
//! read while the YAML streams in) and [`values`] (one scalar as a typed value).

mod artifact;
mod calendars;
mod context;
mod dependencies;
mod errors;
mod extensions;
mod fields;
mod limits;
mod partitions;
mod policy;
mod producers;
mod refs;
mod sections;
mod seen_ids;
mod shared;
mod stream;
mod values;

pub use fields::{CarriedFields, SpecFields};
pub use partitions::partitions_from_lines;

use super::{Registry, RegistryEntry, RegistryError, ValidationError};
use crate::calendar::TradingCalendar;
use crate::yaml::{Node, YamlError};
use context::ArtifactContext;
use errors::Errors;
use sections::{check_schema_version, near_misses, parse_grandfathered};
use stream::StreamedArtifacts;

/// Registries larger than this are refused before parsing: a million artifacts fit in about
/// 120 MB (the benchmark generator's terse entries) to 250 MB (entries like
/// docs/migration.md's), and a file far beyond that is a mistake, not a registry.
pub const MAX_REGISTRY_BYTES: usize = 256 * 1024 * 1024;

const TOP_LEVEL_KEYS: &[&str] = &[
    "schema_version",
    "defaults",
    "calendar",
    "calendars",
    "cadences",
    "grandfathered_paths",
    "alert_policy",
    "silences",
    "artifacts",
];

pub(super) fn too_large_message(bytes: u64) -> String {
    format!(
        "registry is {:.1} MB; the limit is {} MiB (is this the right file?)",
        bytes as f64 / 1_000_000.0,
        MAX_REGISTRY_BYTES / (1024 * 1024)
    )
}

/// Parses a registry from its bytes. `file` names it in messages (a path or `s3://` URL).
pub fn parse_registry(file: &str, bytes: &[u8]) -> Result<Registry, RegistryError> {
    let text = registry_text(file, bytes)?;
    let (parsed, mut streamed) = stream::parse(file, text);
    let root = document_root(file, parsed)?;
    let mut errors = Errors::new(file);
    let Some(top) = root.as_map() else {
        errors.at(
            root.line,
            None,
            None,
            format!(
                "expected a mapping with `artifacts:` at the top, found {}",
                root.describe()
            ),
        );
        return Err(errors.into_error());
    };

    let sections = errors.keys(top, TOP_LEVEL_KEYS, None, "");
    check_schema_version(&sections, &mut errors);
    let grandfathered_paths = sections
        .get("grandfathered_paths")
        .map(|node| parse_grandfathered(node, &mut errors))
        .unwrap_or_default();
    let context = match streamed.take_context(&mut errors) {
        Some(context) => context,
        None => ArtifactContext::read(&sections, &mut errors),
    };
    // A misspelled `artifacts:` key was reported with its did-you-mean already.
    let misspelled = near_misses(top, TOP_LEVEL_KEYS).contains(&"artifacts");
    let mut entries = match sections.get("artifacts") {
        None if misspelled => Vec::new(),
        None => {
            errors.at(
                root.line,
                None,
                Some("artifacts"),
                "missing: the registry must list its artifacts under `artifacts:`".to_string(),
            );
            Vec::new()
        }
        Some(node) => read_artifacts(node, streamed, &context, &mut errors),
    };

    dependencies::check_dependencies(file, &mut entries);
    let mut alert_policy = crate::registry::policy::AlertPolicy::default();
    if let Some(node) = sections.get("alert_policy") {
        policy::parse_alert_policy(node, &mut alert_policy, &mut errors);
    }
    if let Some(node) = sections.get("silences") {
        alert_policy.silences = policy::parse_silences(node, &context.cadences, &mut errors);
    }
    // The list was sized by a count of `artifact_id:` (or grew by doubling); a pass keeps it
    // for its whole length.
    entries.shrink_to_fit();
    let registry = Registry {
        file: file.to_string(),
        entries,
        calendar: TradingCalendar::clone(context.calendars.calendars.nyse()),
        calendars: context.calendars.calendars,
        user_cadences: context.cadences.user,
        grandfathered_paths,
        alert_policy,
        warnings: errors.warnings,
    };
    if !errors.list.is_empty() {
        let mut all = errors.list;
        all.extend(registry.artifact_errors());
        all.sort_by_key(|e| e.line);
        return Err(RegistryError { errors: all });
    }
    Ok(registry)
}

/// The file as text, or why it cannot be a registry at all.
fn registry_text<'b>(file: &str, bytes: &'b [u8]) -> Result<&'b str, RegistryError> {
    if bytes.len() > MAX_REGISTRY_BYTES {
        return Err(whole_file(file, 0, too_large_message(bytes.len() as u64)));
    }
    std::str::from_utf8(bytes).map_err(|e| {
        let line = 1 + bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count();
        whole_file(file, line, "not UTF-8 text".to_string())
    })
}

/// The document's root node, or why there is none.
fn document_root(
    file: &str,
    parsed: Result<Option<Node>, YamlError>,
) -> Result<Node, RegistryError> {
    match parsed {
        Ok(Some(root)) => Ok(root),
        Ok(None) => Err(whole_file(
            file,
            0,
            "registry is empty; expected a mapping with `artifacts:`".to_string(),
        )),
        Err(e) => Err(whole_file(file, e.line, e.message)),
    }
}

fn whole_file(file: &str, line: usize, message: String) -> RegistryError {
    RegistryError {
        errors: vec![ValidationError {
            file: file.into(),
            line,
            artifact: None,
            field: None,
            message: message.into(),
        }],
    }
}

/// The `artifacts:` list: the entries streamed while parsing, then any left in the tree.
fn read_artifacts(
    node: &Node,
    streamed: StreamedArtifacts<'_>,
    context: &ArtifactContext,
    errors: &mut Errors<'_>,
) -> Vec<RegistryEntry> {
    if node.is_null() {
        return Vec::new();
    }
    match node.as_seq() {
        Some(items) => streamed.finish(items, context),
        None => {
            errors.at(
                node.line,
                None,
                Some("artifacts"),
                format!("expected a list of artifacts, found {}", node.describe()),
            );
            Vec::new()
        }
    }
}
