//! `ledger.json`'s entries as the file writes them (docs/outputs.md#ledgerjson): the compact
//! [`LedgerEntry`] converted to and from its file form, byte for byte what the ledger wrote when
//! it held `DateTime`s and a `String` per cycle. Reading interns the cycle labels, so the
//! entries of one cycle share one label.

use std::collections::HashSet;
use std::fmt;
use std::sync::Arc;

use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{SerializeMap, Serializer};
use serde::{Deserialize, Serialize};

use super::{LedgerEntries, LedgerEntry, LedgerTime};
use crate::classify::State;

/// One entry in the file; `C` is the cycle label (`&str` writing, `String` reading).
#[derive(Serialize, Deserialize)]
struct EntryJson<C> {
    cycle: C,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    first_missing_at: Option<LedgerTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    fresh_at: Option<LedgerTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_modified: Option<LedgerTime>,
    #[serde(default, skip_serializing_if = "is_zero")]
    missed_cycles: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_alert_at: Option<LedgerTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_probe_at: Option<LedgerTime>,
    state: State,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    last_fresh_at: Option<LedgerTime>,
    #[serde(default, skip_serializing_if = "is_false")]
    written: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    never_written_since: Option<LedgerTime>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    probe_fingerprint: Option<u64>,
    #[serde(default, skip_serializing_if = "is_false")]
    alert_out: bool,
    #[serde(default, skip_serializing_if = "is_false")]
    resolved_out: bool,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn is_false(b: &bool) -> bool {
    !*b
}

impl<'a> From<&'a LedgerEntry> for EntryJson<&'a str> {
    fn from(e: &'a LedgerEntry) -> Self {
        EntryJson {
            cycle: &e.cycle,
            first_missing_at: e.first_missing_at,
            fresh_at: e.fresh_at,
            last_modified: e.last_modified,
            missed_cycles: e.missed_cycles,
            last_alert_at: e.last_alert_at,
            last_probe_at: e.last_probe_at,
            state: e.state,
            last_fresh_at: e.last_fresh_at,
            written: e.written,
            never_written_since: e.never_written_since,
            probe_fingerprint: e.probe_fingerprint(),
            alert_out: e.alert_out,
            resolved_out: e.resolved_out,
        }
    }
}

impl EntryJson<String> {
    fn into_entry(self, cycle: Arc<str>) -> LedgerEntry {
        let mut entry = LedgerEntry {
            first_missing_at: self.first_missing_at,
            fresh_at: self.fresh_at,
            last_modified: self.last_modified,
            missed_cycles: self.missed_cycles,
            last_alert_at: self.last_alert_at,
            last_probe_at: self.last_probe_at,
            last_fresh_at: self.last_fresh_at,
            written: self.written,
            never_written_since: self.never_written_since,
            alert_out: self.alert_out,
            resolved_out: self.resolved_out,
            ..LedgerEntry::new_cycle(cycle, self.state)
        };
        entry.set_probe_fingerprint(self.probe_fingerprint);
        entry
    }
}

impl Serialize for LedgerEntry {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        EntryJson::from(self).serialize(s)
    }
}

/// One entry on its own (its label not shared with any other).
impl<'de> Deserialize<'de> for LedgerEntry {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LedgerEntry, D::Error> {
        let json = EntryJson::<String>::deserialize(d)?;
        let cycle = Arc::from(json.cycle.as_str());
        Ok(json.into_entry(cycle))
    }
}

/// `{id: entry}` in id order.
impl Serialize for LedgerEntries {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.len()))?;
        for (id, entry) in self.iter() {
            map.serialize_entry(id, &EntryJson::from(entry))?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for LedgerEntries {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<LedgerEntries, D::Error> {
        d.deserialize_map(EntriesVisitor)
    }
}

struct EntriesVisitor;

impl<'de> Visitor<'de> for EntriesVisitor {
    type Value = LedgerEntries;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a map of artifact ids to ledger entries")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<LedgerEntries, A::Error> {
        let mut labels: HashSet<Arc<str>> = HashSet::new();
        let mut entries = Vec::with_capacity(map.size_hint().unwrap_or(0));
        while let Some((id, json)) = map.next_entry::<String, EntryJson<String>>()? {
            let cycle = intern_label(&mut labels, &json.cycle);
            entries.push((id.into_boxed_str(), json.into_entry(cycle)));
        }
        Ok(LedgerEntries::from_unsorted(entries))
    }
}

/// The one shared copy of a cycle label: a ledger's entries repeat a few labels, so both of
/// its readers (the pass's whole ledger here, the history's current cycles) keep each once.
pub(super) fn intern_label(labels: &mut HashSet<Arc<str>>, label: &str) -> Arc<str> {
    if let Some(shared) = labels.get(label) {
        return shared.clone();
    }
    let shared: Arc<str> = Arc::from(label);
    labels.insert(shared.clone());
    shared
}
