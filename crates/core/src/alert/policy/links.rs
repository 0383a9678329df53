//! The registry's `depends_on` links as a pass keeps them for the alert policy: a graph of
//! `u32` node indices in compressed rows over the ids met (the linking artifacts, then the
//! upstreams they name), each id the registry's own (shared, never copied).
//!
//! Its own module because a pass holds it beside its rows for the whole pass, and a chain of
//! millions of artifacts (issue 27) must cost little more than the rows: ~30 bytes per node
//! (the id's pointer, its slot in the lookup table, its row start and its links), where a
//! map of ids to boxed lists cost ~65. The folding walk ([`super::roots`]) runs on it as it
//! is.

use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use crate::registry::{ArtifactId, Registry};

/// No node: an id the graph does not know.
pub(super) const NONE: u32 = u32::MAX;

pub(super) fn node_index(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 artifacts in a registry")
}

/// The `depends_on` graph: node `n` is `ids[n]`, its upstream nodes
/// `targets[starts[n]..starts[n + 1]]`, in `depends_on` order. Empty when no artifact has a
/// link.
#[derive(Debug, Clone, Default)]
pub struct DependsOn {
    ids: Vec<ArtifactId>,
    index: HashTable<u32>,
    hasher: RandomState,
    starts: Vec<u32>,
    targets: Vec<u32>,
}

impl DependsOn {
    /// The links of the registry's valid artifacts.
    pub fn of(registry: &Registry) -> DependsOn {
        DependsOn::from_links(
            registry
                .valid_artifacts()
                .map(|s| (&s.id, s.depends_on()))
                .filter(|(_, ups)| !ups.is_empty()),
        )
    }

    /// The graph of `links` (an artifact and its upstreams; a later entry for the same
    /// artifact replaces an earlier one, as in a map).
    pub fn from_links<'a>(
        links: impl IntoIterator<Item = (&'a ArtifactId, &'a [ArtifactId])>,
    ) -> DependsOn {
        let mut graph = DependsOn::default();
        // Each node's upstream ids while the rows are built (the linking artifacts first).
        let mut ups_of: Vec<&[ArtifactId]> = Vec::new();
        for (id, ups) in links {
            let n = graph.node(id) as usize;
            ups_of.resize(graph.ids.len(), &[]);
            ups_of[n] = ups;
        }
        if graph.ids.is_empty() {
            return graph;
        }
        let mut n = 0;
        while n < graph.ids.len() {
            graph.starts.push(node_index(graph.targets.len()));
            for up in ups_of.get(n).copied().unwrap_or_default() {
                let up = graph.node(up);
                graph.targets.push(up);
            }
            n += 1;
        }
        graph.starts.push(node_index(graph.targets.len()));
        graph.ids.shrink_to_fit();
        graph.targets.shrink_to_fit();
        graph
    }

    /// The node of `id`, added when new.
    fn node(&mut self, id: &ArtifactId) -> u32 {
        if let Some(n) = self.find(id.as_str()) {
            return n;
        }
        let n = node_index(self.ids.len());
        self.ids.push(id.clone());
        let (ids, hasher) = (&self.ids, &self.hasher);
        self.index
            .insert_unique(hasher.hash_one(id.as_str()), n, |&m| {
                hasher.hash_one(ids[m as usize].as_str())
            });
        n
    }

    /// The node of `id`, when the graph has it.
    pub(super) fn find(&self, id: &str) -> Option<u32> {
        let ids = &self.ids;
        self.index
            .find(self.hasher.hash_one(id), |&n| {
                ids[n as usize].as_str() == id
            })
            .copied()
    }

    pub fn is_empty(&self) -> bool {
        self.ids.is_empty()
    }

    /// How many nodes: the linking artifacts and the upstreams they name.
    pub(super) fn len(&self) -> usize {
        self.ids.len()
    }

    /// Node `node`'s upstream nodes.
    pub(super) fn ups(&self, node: usize) -> &[u32] {
        &self.targets[self.starts[node] as usize..self.starts[node + 1] as usize]
    }

    /// The upstream ids `id` names in its `depends_on` (none for an id without links).
    pub fn upstreams_of<'g>(&'g self, id: &str) -> impl Iterator<Item = &'g ArtifactId> + 'g {
        let ups = self.find(id).map_or(&[][..], |n| self.ups(n as usize));
        ups.iter().map(|&up| &self.ids[up as usize])
    }
}

/// Two graphs are equal when they link the same ids the same way (the lookup table follows).
impl PartialEq for DependsOn {
    fn eq(&self, other: &DependsOn) -> bool {
        self.ids == other.ids && self.starts == other.starts && self.targets == other.targets
    }
}
