//! Which alerting upstream each alerting row is folded under (docs/alerts.md#dependencies):
//! the topmost alerting ancestor through `depends_on`, found in one walk over the graph.
//!
//! Its own module because it is the policy's one walk over the whole `depends_on` graph, and
//! a chain of millions of artifacts (issue 27) must cost little more than the rows: nodes are
//! `u32` indices in compressed rows, ids are looked up through a table of node indices whose
//! ids are borrowed (never copied), and the rows' own order numbers the first nodes.

use std::collections::HashMap;
use std::hash::{BuildHasher, RandomState};

use hashbrown::HashTable;

use crate::registry::ArtifactId;
use crate::report::ResultRow;

/// No node: an unvisited one, a node without an alerting ancestor.
const NONE: u32 = u32::MAX;

fn node_index(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 artifacts in a registry")
}

/// For each row, the index of the row it is folded under (its alerting root), or `None`:
/// from an artifact, the nearest alerting upstream (fewest steps; on a tie, the first in
/// `depends_on` order, as a breadth-first search meets them), then that one's nearest, and
/// so on; the last one reached is the root (never the row itself). `alerting` says which rows
/// alert (an id is alerting when one of its rows is). Linear in the artifacts and their
/// dependencies, however long the chains. The registry has no cycles (checked at load); a
/// cycle here would only end a walk early.
pub fn alerting_roots(
    depends_on: &HashMap<ArtifactId, Box<[ArtifactId]>>,
    rows: &[ResultRow],
    alerting: impl Fn(&ResultRow) -> bool,
) -> Vec<Option<usize>> {
    let mut graph = Graph::default();
    // The node of each row, and the first row of each node that is one.
    let row_node: Vec<u32> = rows.iter().map(|r| graph.node(&r.artifact_id)).collect();
    let mut node_row: Vec<u32> = vec![NONE; graph.ids.len()];
    let mut is_alerting: Vec<bool> = vec![false; graph.ids.len()];
    for (i, (row, &node)) in rows.iter().zip(&row_node).enumerate() {
        let node = node as usize;
        if node_row[node] == NONE {
            node_row[node] = node_index(i);
        }
        is_alerting[node] |= alerting(row);
    }
    graph.link(depends_on);
    is_alerting.resize(graph.ids.len(), false);
    let root = graph.roots(&is_alerting);
    drop(graph);
    row_node
        .iter()
        .map(|&node| match root[node as usize] {
            NONE => None,
            up => Some(node_row[up as usize] as usize),
        })
        .collect()
}

/// The `depends_on` graph over the ids met: node `n` is `ids[n]`, its upstream nodes
/// `targets[starts[n]..starts[n + 1]]`.
#[derive(Default)]
struct Graph<'a> {
    ids: Vec<&'a str>,
    index: HashTable<u32>,
    hasher: RandomState,
    starts: Vec<u32>,
    targets: Vec<u32>,
}

impl<'a> Graph<'a> {
    /// The node of `id`, added when new.
    fn node(&mut self, id: &'a str) -> u32 {
        let hash = self.hasher.hash_one(id);
        let ids = &self.ids;
        if let Some(&n) = self.index.find(hash, |&n| ids[n as usize] == id) {
            return n;
        }
        let n = node_index(self.ids.len());
        self.ids.push(id);
        let (ids, hasher) = (&self.ids, &self.hasher);
        self.index
            .insert_unique(hash, n, |&m| hasher.hash_one(ids[m as usize]));
        n
    }

    /// Every node's upstream nodes (adding the upstream ids met that are not rows: a
    /// `--only` pass still walks through them).
    fn link(&mut self, depends_on: &'a HashMap<ArtifactId, Box<[ArtifactId]>>) {
        let mut n = 0;
        while n < self.ids.len() {
            self.starts.push(node_index(self.targets.len()));
            for up in depends_on.get(self.ids[n]).into_iter().flatten() {
                let up = self.node(up.as_str());
                self.targets.push(up);
            }
            n += 1;
        }
        self.starts.push(node_index(self.targets.len()));
    }

    fn ups(&self, node: usize) -> &[u32] {
        &self.targets[self.starts[node] as usize..self.starts[node + 1] as usize]
    }

    /// Each node's root: its nearest alerting ancestor's root, or that ancestor when it has
    /// none ([`NONE`] when it has no alerting ancestor).
    fn roots(&self, alerting: &[bool]) -> Vec<u32> {
        let (nearest, finished) = self.nearest_alerting(alerting);
        let mut root: Vec<u32> = vec![NONE; self.ids.len()];
        // Post-order: a node's ancestors (so its nearest alerting one) are finished before it.
        for node in finished {
            let node = node as usize;
            root[node] = match nearest[node] {
                (_, NONE) => NONE,
                (_, up) if root[up as usize] == NONE => up,
                (_, up) => root[up as usize],
            };
        }
        root
    }

    /// Each node's nearest alerting ancestor with its distance (`(0, NONE)` when none), and
    /// the nodes in the post-order of the walk that found them: an iterative depth-first
    /// walk, each node computed once.
    fn nearest_alerting(&self, alerting: &[bool]) -> (Vec<(u32, u32)>, Vec<u32>) {
        let n = self.ids.len();
        // 0 unvisited, 1 on the walk, 2 done.
        let mut state = vec![0u8; n];
        let mut nearest: Vec<(u32, u32)> = vec![(0, NONE); n];
        let mut finished = Vec::with_capacity(n);
        for start in 0..n {
            if state[start] != 0 {
                continue;
            }
            let mut walk: Vec<(u32, u32)> = vec![(node_index(start), 0)];
            state[start] = 1;
            while let Some(&mut (node, ref mut next)) = walk.last_mut() {
                let node = node as usize;
                if let Some(&up) = self.ups(node).get(*next as usize) {
                    *next += 1;
                    if state[up as usize] == 0 {
                        state[up as usize] = 1;
                        walk.push((up, 0));
                    }
                    continue;
                }
                walk.pop();
                state[node] = 2;
                finished.push(node_index(node));
                nearest[node] = self
                    .ups(node)
                    .iter()
                    .map(|&up| up as usize)
                    .filter(|&up| state[up] == 2 && up != node)
                    .filter_map(|up| match (alerting[up], nearest[up]) {
                        (true, _) => Some((1, node_index(up))),
                        (false, (_, NONE)) => None,
                        (false, (steps, found)) => Some((steps + 1, found)),
                    })
                    // The first of the fewest steps, as `min_by_key` keeps the first minimum.
                    .min_by_key(|&(steps, _)| steps)
                    .unwrap_or((0, NONE));
            }
        }
        (nearest, finished)
    }
}
