//! The ledger's entries by artifact id: a `Vec` kept sorted by id and searched by binary
//! search. A map of a million entries costs its nodes or buckets on top of the entries (a
//! `BTreeMap` ~1.5x, a hash map up to 2x while it grows); a sorted `Vec` costs the entries
//! alone, is already in the file's order (id order, byte order) and is read in that order.

use std::ops::Index;

use super::LedgerEntry;

/// Entries by artifact id, in id order, each id once.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct LedgerEntries {
    sorted: Vec<(Box<str>, LedgerEntry)>,
}

impl LedgerEntries {
    /// Entries in any order; a repeated id keeps the last one given (as a map's insert would).
    pub fn from_unsorted(mut entries: Vec<(Box<str>, LedgerEntry)>) -> LedgerEntries {
        if !entries.windows(2).all(|pair| pair[0].0 < pair[1].0) {
            entries.sort_by(|a, b| a.0.cmp(&b.0)); // stable: repeats stay in the order given
            entries.dedup_by(|later, kept| {
                let repeated = later.0 == kept.0;
                if repeated {
                    std::mem::swap(later, kept);
                }
                repeated
            });
        }
        entries.shrink_to_fit();
        LedgerEntries { sorted: entries }
    }

    pub fn len(&self) -> usize {
        self.sorted.len()
    }

    pub fn is_empty(&self) -> bool {
        self.sorted.is_empty()
    }

    fn position(&self, id: &str) -> Result<usize, usize> {
        self.sorted.binary_search_by(|(held, _)| (**held).cmp(id))
    }

    pub fn get(&self, id: &str) -> Option<&LedgerEntry> {
        self.position(id).ok().map(|at| &self.sorted[at].1)
    }

    pub fn get_mut(&mut self, id: &str) -> Option<&mut LedgerEntry> {
        self.position(id).ok().map(|at| &mut self.sorted[at].1)
    }

    pub fn contains_key(&self, id: &str) -> bool {
        self.position(id).is_ok()
    }

    /// Sets the entry of `id`. Shifts the entries after it: for one entry at a time (tests,
    /// tools); a pass adds its new entries at once, in one sort.
    pub fn insert(&mut self, id: &str, entry: LedgerEntry) {
        match self.position(id) {
            Ok(at) => self.sorted[at].1 = entry,
            Err(at) => self.sorted.insert(at, (id.into(), entry)),
        }
    }

    /// Keeps the entries whose id `keep` accepts.
    pub fn retain(&mut self, mut keep: impl FnMut(&str) -> bool) {
        self.sorted.retain(|(id, _)| keep(id));
    }

    /// Adds entries for ids not held yet (`new`: in id order, each id once), in one sort.
    pub(super) fn add_new(&mut self, new: Vec<(Box<str>, LedgerEntry)>) {
        if new.is_empty() {
            return;
        }
        if self.sorted.is_empty() {
            self.sorted = new; // a first pass: already in id order, no second copy
            return;
        }
        self.sorted.reserve_exact(new.len());
        self.sorted.extend(new);
        // Two sorted runs; unstable is in place (no scratch) and ids are unique.
        self.sorted.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    }

    /// The ids in id order.
    pub fn keys(&self) -> impl ExactSizeIterator<Item = &str> {
        self.sorted.iter().map(|(id, _)| &**id)
    }

    /// The entries in id order.
    pub fn iter(&self) -> impl ExactSizeIterator<Item = (&str, &LedgerEntry)> {
        self.sorted.iter().map(|(id, entry)| (&**id, entry))
    }
}

impl Index<&str> for LedgerEntries {
    type Output = LedgerEntry;

    fn index(&self, id: &str) -> &LedgerEntry {
        self.get(id)
            .unwrap_or_else(|| panic!("the ledger has no entry for {id}"))
    }
}
