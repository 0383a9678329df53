//! An artifact's expected set (`partitions:`, docs/registry.md#partitions): the values its
//! `{partition}` takes, one key each, judged as ONE artifact (one row, one alert). Held as
//! one shared list of values, whatever form the registry wrote them in; or, with
//! `partitions_from:`, where a pass reads them (an S3 object, one value a line).

use std::sync::Arc;

/// The most values a set may have: a set is one artifact's row and one listing of its
/// prefix (10 pages of 1,000 keys per 10,000 values), not a registry of its own.
pub const MAX_PARTITIONS: usize = 100_000;

/// The most bytes of a partition list object (`partitions_from:`): [`MAX_PARTITIONS`] values
/// of up to ~40 bytes.
pub const MAX_LIST_BYTES: u64 = 4 * 1024 * 1024;

/// Where a set's values are read from: an S3 object, one value a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionList {
    pub bucket: Box<str>,
    pub key: Box<str>,
}

impl crate::registry::ArtifactSpec {
    /// An expected set: `partitions:` or `partitions_from:`.
    pub fn is_set(&self) -> bool {
        self.partitions().is_some() || self.partitions_from().is_some()
    }
}

/// The values of a set, in the registry's order (each once, none empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Partitions {
    values: Arc<[Box<str>]>,
}

impl Partitions {
    /// Values already checked by the loader (`registry/load/partitions.rs`).
    pub fn new(values: Vec<Box<str>>) -> Partitions {
        Partitions {
            values: values.into(),
        }
    }

    pub fn values(&self) -> &[Box<str>] {
        &self.values
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The longest value, in bytes (for the keys' length check).
    pub fn longest(&self) -> usize {
        self.values.iter().map(|v| v.len()).max().unwrap_or(0)
    }
}
