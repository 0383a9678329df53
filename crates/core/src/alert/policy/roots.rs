//! Which alerting upstream each alerting row is folded under (docs/alerts.md#dependencies):
//! the topmost alerting ancestor through `depends_on`, found in one walk over the graph.
//!
//! Its own module because it is the policy's one walk over the whole `depends_on` graph, and
//! a chain of millions of artifacts (issue 27) must cost little more than the rows: it walks
//! the pass's own graph ([`DependsOn`], `u32` nodes in compressed rows) with a few `u32`
//! arrays, and builds no graph of its own.

use super::links::{DependsOn, NONE, node_index};
use crate::report::ResultRow;

/// For each row, the index of the row it is folded under (its alerting root), or [`NONE`]:
/// from an artifact, the nearest alerting upstream (fewest steps; on a tie, the first in
/// `depends_on` order, as a breadth-first search meets them), then that one's nearest, and
/// so on; the last one reached is the root (never the row itself). `alerting` says which rows
/// alert (an id is alerting when one of its rows is). Linear in the artifacts and their
/// dependencies, however long the chains. The registry has no cycles (checked at load); a
/// cycle here would only end a walk early. A node the pass has no row for (a `--only` pass)
/// is walked through.
pub fn alerting_roots(
    graph: &DependsOn,
    rows: &[ResultRow],
    alerting: impl Fn(&ResultRow) -> bool,
) -> Vec<u32> {
    // The node of each row, and the first row of each node that is one.
    let row_node: Vec<u32> = rows
        .iter()
        .map(|r| graph.find(&r.artifact_id).unwrap_or(NONE))
        .collect();
    let mut node_row: Vec<u32> = vec![NONE; graph.len()];
    let mut is_alerting: Vec<bool> = vec![false; graph.len()];
    for (i, (row, &node)) in rows.iter().zip(&row_node).enumerate() {
        let Some(node) = (node != NONE).then_some(node as usize) else {
            continue;
        };
        if node_row[node] == NONE {
            node_row[node] = node_index(i);
        }
        is_alerting[node] |= alerting(row);
    }
    let root = roots(graph, &is_alerting);
    row_node
        .iter()
        .map(|&node| match root.get(node as usize) {
            None | Some(&NONE) => NONE,
            Some(&up) => node_row[up as usize],
        })
        .collect()
}

/// Each node's root: its nearest alerting ancestor's root, or that ancestor when it has
/// none ([`NONE`] when it has no alerting ancestor).
fn roots(graph: &DependsOn, alerting: &[bool]) -> Vec<u32> {
    let (nearest, finished) = nearest_alerting(graph, alerting);
    let mut root: Vec<u32> = vec![NONE; graph.len()];
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
fn nearest_alerting(graph: &DependsOn, alerting: &[bool]) -> (Vec<(u32, u32)>, Vec<u32>) {
    let n = graph.len();
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
            if let Some(&up) = graph.ups(node).get(*next as usize) {
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
            nearest[node] = graph
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
