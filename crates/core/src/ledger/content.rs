//! What the ledger remembers for the content checks (docs/classification.md#content-checks):
//! per artifact that has one, the object seen in its latest cycle (size, ETag digest), the
//! ETag of the last earlier cycle and the sizes of the last five. Kept apart from
//! [`super::LedgerEntry`] so the artifacts without content checks (nearly all of a million)
//! pay nothing: one record, 112 bytes plus its id and its map node, only for an artifact with a check.
//!
//! In `ledger.json` it is the optional `content` object (docs/outputs.md#ledgerjson); a
//! ledger without it reads as remembering nothing, and an older reader ignores it.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

use crate::classify::{ContentMemory, ContentSeen, RecentSizes};
use crate::object::ContentTag;

/// The content records by artifact id.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ContentRecords(BTreeMap<Box<str>, ContentRecord>);

/// One artifact's content memory.
#[derive(Debug, Clone, PartialEq)]
pub struct ContentRecord {
    /// The cycle `seen` is about.
    pub cycle: Arc<str>,
    /// The object the latest probe in `cycle` saw written since the tick.
    pub seen: Option<ContentSeen>,
    /// The last earlier cycle whose object's ETag was seen, and its digest.
    pub previous: Option<(Arc<str>, ContentTag)>,
    /// The earlier cycles' sizes, newest first.
    pub sizes: RecentSizes,
}

impl ContentRecords {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn get(&self, id: &str) -> Option<&ContentRecord> {
        self.0.get(id)
    }

    /// Keeps the records whose id `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.0.retain(|id, _| keep(id));
    }

    /// Remembers what a probe of `id` in `cycle` saw; a new cycle first moves the previous
    /// cycle's object into the earlier cycles.
    pub fn observe(&mut self, id: &str, cycle: &Arc<str>, seen: ContentSeen) {
        let record = self.0.entry(id.into()).or_insert_with(|| ContentRecord {
            cycle: cycle.clone(),
            seen: None,
            previous: None,
            sizes: RecentSizes::default(),
        });
        if record.cycle != *cycle {
            *record = record.rolled_to(cycle.clone());
        }
        record.seen = Some(seen);
    }

    /// What the checks of `id` in `cycle` compare with: the cycles before `cycle`.
    pub fn memory(&self, id: &str, cycle: &str) -> ContentMemory<'_> {
        let Some(record) = self.0.get(id) else {
            return ContentMemory::default();
        };
        let held_previous = (record.previous.as_ref()).map(|(label, tag)| (&**label, *tag));
        let Some(seen) = record.seen.filter(|_| *record.cycle != *cycle) else {
            return ContentMemory {
                previous: held_previous,
                sizes: record.sizes,
            };
        };
        // `cycle` came after the record's: its object is the previous cycle's.
        ContentMemory {
            previous: (seen.etag)
                .map(|tag| (&*record.cycle, tag))
                .or(held_previous),
            sizes: seen
                .size
                .map_or(record.sizes, |size| record.sizes.pushed(size)),
        }
    }
}

impl ContentRecord {
    /// The record at the start of `cycle`: this one's object becomes the previous cycle's
    /// (as [`ContentRecords::memory`] reads it before).
    fn rolled_to(&self, cycle: Arc<str>) -> ContentRecord {
        let (mut previous, mut sizes) = (self.previous.clone(), self.sizes);
        if let Some(seen) = self.seen {
            if let Some(tag) = seen.etag {
                previous = Some((self.cycle.clone(), tag));
            }
            if let Some(size) = seen.size {
                sizes = sizes.pushed(size);
            }
        }
        ContentRecord {
            cycle,
            seen: None,
            previous,
            sizes,
        }
    }
}

/// One record in the file.
#[derive(Serialize, Deserialize)]
struct RecordJson {
    cycle: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    size: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    etag: Option<TagJson>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_cycle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    previous_etag: Option<TagJson>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    sizes: Vec<u64>,
}

/// A [`ContentTag`] as 16 hex digits.
struct TagJson(ContentTag);

impl Serialize for TagJson {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&format_args!("{:016x}", self.0.bits()))
    }
}

impl<'de> Deserialize<'de> for TagJson {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        u64::from_str_radix(&text, 16)
            .map(|bits| TagJson(ContentTag::from_bits(bits)))
            .map_err(serde::de::Error::custom)
    }
}

impl Serialize for ContentRecords {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.0.iter().map(|(id, r)| {
            let file = RecordJson {
                cycle: r.cycle.to_string(),
                size: r.seen.and_then(|seen| seen.size),
                etag: r.seen.and_then(|seen| seen.etag).map(TagJson),
                previous_cycle: r.previous.as_ref().map(|(label, _)| label.to_string()),
                previous_etag: r.previous.as_ref().map(|(_, tag)| TagJson(*tag)),
                sizes: r.sizes.as_slice().to_vec(),
            };
            (id, file)
        }))
    }
}

impl<'de> Deserialize<'de> for ContentRecords {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let file: BTreeMap<Box<str>, RecordJson> = BTreeMap::deserialize(d)?;
        let records = file.into_iter().map(|(id, r)| {
            let seen = (r.size.is_some() || r.etag.is_some()).then(|| ContentSeen {
                size: r.size,
                etag: r.etag.map(|t| t.0),
            });
            let previous = match (r.previous_cycle, r.previous_etag) {
                (Some(label), Some(tag)) => Some((Arc::from(label), tag.0)),
                _ => None,
            };
            let record = ContentRecord {
                cycle: Arc::from(r.cycle),
                seen,
                previous,
                sizes: RecentSizes::from_newest_first(&r.sizes),
            };
            (id, record)
        });
        Ok(ContentRecords(records.collect()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seen(size: u64, etag: &str) -> ContentSeen {
        ContentSeen {
            size: Some(size),
            etag: Some(ContentTag::of_etag(etag)),
        }
    }

    #[test]
    fn a_new_cycle_compares_with_the_previous_cycles_object_and_sizes() {
        let mut records = ContentRecords::default();
        let (d1, d2, d3) = (Arc::from("d1"), Arc::from("d2"), Arc::from("d3"));
        records.observe("a", &d1, seen(100, "e1"));
        // In its own cycle, nothing earlier is known.
        assert_eq!(records.memory("a", "d1"), ContentMemory::default());
        // The next cycle compares with d1's object before any probe of d2 is remembered.
        let memory = records.memory("a", "d2");
        assert_eq!(memory.previous, Some(("d1", ContentTag::of_etag("e1"))));
        assert_eq!(memory.sizes.as_slice(), [100]);
        records.observe("a", &d2, seen(200, "e2"));
        records.observe("a", &d2, seen(210, "e3")); // a rewrite in d2: the latest counts
        let memory = records.memory("a", "d3");
        assert_eq!(memory.previous, Some(("d2", ContentTag::of_etag("e3"))));
        assert_eq!(memory.sizes.as_slice(), [210, 100]);
        // d2's passes still compare with d1.
        assert_eq!(records.memory("a", "d2").previous.unwrap().0, "d1");
        records.observe("a", &d3, seen(1, "e3"));
        assert_eq!(records.memory("b", "d3"), ContentMemory::default());
    }

    #[test]
    fn the_records_read_back_as_written() {
        let mut records = ContentRecords::default();
        records.observe("a", &Arc::from("d1"), seen(100, "e1"));
        records.observe("a", &Arc::from("d2"), seen(200, "e2"));
        let json = serde_json::to_string(&records).unwrap();
        let tag = |e| format!("{:016x}", ContentTag::of_etag(e).bits());
        assert_eq!(
            json,
            format!(
                r#"{{"a":{{"cycle":"d2","size":200,"etag":"{}","previous_cycle":"d1","previous_etag":"{}","sizes":[100]}}}}"#,
                tag("e2"),
                tag("e1")
            )
        );
        let back: ContentRecords = serde_json::from_str(&json).unwrap();
        assert_eq!(back, records);
    }

    #[test]
    fn a_record_is_112_bytes() {
        assert_eq!(size_of::<ContentRecord>(), 112);
    }
}
