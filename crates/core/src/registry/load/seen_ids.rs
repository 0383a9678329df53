//! The artifact ids read so far, to report a duplicate with the line of the first: a table of
//! entry indices whose ids are read from the entries themselves, so a million ids are not held
//! a second time while the registry loads (8 bytes per id, not a map of ids; issue 17).

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use crate::registry::RegistryEntry;

/// The ids of the entries read so far (see the module doc).
pub(super) struct SeenIds {
    table: HashTable<FirstDefinition>,
    hasher: RandomState,
}

/// Where an id was first defined: its entry (whose label is the id) and the line of its
/// `artifact_id`.
#[derive(Debug, Clone, Copy)]
struct FirstDefinition {
    entry: u32,
    line: u32,
}

impl SeenIds {
    pub fn with_capacity(ids: usize) -> SeenIds {
        SeenIds {
            table: HashTable::with_capacity(ids),
            hasher: RandomState::new(),
        }
    }

    /// The line where `id` was first defined, if it was; `entries` are those read so far.
    pub fn first_line(&self, id: &str, entries: &[RegistryEntry]) -> Option<usize> {
        Some(self.find(id, entries)?.line as usize)
    }

    /// The entry that first defined `id`, if one did; `entries` are those read so far.
    pub fn first_entry(&self, id: &str, entries: &[RegistryEntry]) -> Option<usize> {
        Some(self.find(id, entries)?.entry as usize)
    }

    /// The id's definition; the entry being read, inserted already but not among `entries`
    /// yet, is never found.
    fn find(&self, id: &str, entries: &[RegistryEntry]) -> Option<&FirstDefinition> {
        let hash = self.hasher.hash_one(id);
        self.table.find(hash, |first| {
            (entries.get(first.entry as usize)).is_some_and(|e| e.label() == id)
        })
    }

    /// Records `id` as defined by the entry at `index` (the next one after `entries`), at
    /// `line`. The entry's label must be `id`.
    pub fn insert(&mut self, id: &str, index: usize, line: usize, entries: &[RegistryEntry]) {
        let first = FirstDefinition {
            entry: u32::try_from(index).expect("fewer than 2^32 entries in a registry"),
            line: u32::try_from(line).expect("fewer than 2^32 lines in a registry"),
        };
        let hasher = &self.hasher;
        let hash = hasher.hash_one(id);
        self.table
            .insert_unique(hash, first, |seen| hasher.hash_one(label(entries, seen)));
    }
}

fn label<'e>(entries: &'e [RegistryEntry], first: &FirstDefinition) -> &'e str {
    entries[first.entry as usize].label()
}
