//! Checking `depends_on:` across artifacts once every entry is read: each id must name
//! another artifact of the registry, and no chain may come back to where it started. A bad
//! `depends_on` makes only the artifacts concerned invalid.
//!
//! Its own module because it is the one check over the whole registry at once, and it must
//! stay cheap at the registry's limit (millions of artifacts in one chain or one ring, issue
//! 27): the graph is entry indices (`u32`) in compressed rows, ids are looked up through a
//! table of entry indices (the ids are read from the entries, never copied), a cycle is found
//! once (Tarjan's algorithm, iterative) and its members but the first share one error (located
//! at each as it is reported: [`InvalidArtifact::errors_located_here`]), and each resolved
//! link then shares its target's id instead of keeping a copy.

use std::hash::{BuildHasher, RandomState};
use std::sync::Arc;

use hashbrown::HashTable;

use crate::registry::{ArtifactId, InvalidArtifact, RegistryEntry, ValidationError};
use crate::text::did_you_mean;

/// How many unknown `depends_on` ids get a did-you-mean: each hint compares the id with every
/// artifact's, so a registry full of unknown ids must not cost ids × artifacts comparisons.
const HINTED_UNKNOWN_IDS: usize = 20;

/// Past this many members a cycle's text shows its first [`CYCLE_SHOWN`] and a count.
const CYCLE_LISTED_IN_FULL: usize = 30;
const CYCLE_SHOWN: usize = 24;

/// No entry: an id that names no artifact, an unvisited node, an entry on no cycle.
const NONE: u32 = u32::MAX;

/// Checks every artifact's `depends_on` against the others (see the module doc). An artifact
/// with a bad `depends_on` becomes invalid (and reports why); the rest are untouched.
pub(super) fn check_dependencies(file: &str, entries: &mut [RegistryEntry]) {
    let has_dependencies = |e: &RegistryEntry| matches!(e, RegistryEntry::Valid(spec) if !spec.depends_on().is_empty());
    if !entries.iter().any(has_dependencies) {
        // Nothing to check, and no index of every id to build for it.
        return;
    }
    let graph = DependencyGraph::of(entries, &IdIndex::of(entries));
    let references = reference_problems(entries, &graph);
    let cycles = Cycles::of(entries, &graph);
    let mut shared = SharedTexts::new(file);
    let pointers = cycles.pointer_errors(&shared);
    let mut references = references.into_iter().peekable();
    for (i, entry) in entries.iter_mut().enumerate() {
        let mut messages: Vec<Arc<str>> = Vec::new();
        while let Some((_, message)) = references.next_if(|(at, _)| *at as usize == i) {
            messages.push(message.into());
        }
        match (messages.is_empty(), cycles.message_of(i)) {
            // A member pointing at its cycle's first, and nothing else wrong: the cycle's
            // one shared error.
            (true, Some(CycleMessage::Pointer(n))) => {
                let errors = Arc::clone(&pointers[n]);
                make_invalid(entry, &mut shared, Errors::LocatedHere(errors));
            }
            (_, message) => {
                messages.extend(message.map(|m| cycles.text(m)));
                if !messages.is_empty() {
                    make_invalid(entry, &mut shared, Errors::Own(messages));
                }
            }
        }
    }
    share_target_ids(entries, &graph);
}

/// What every artifact made invalid here shares: the file's name, the field's, and the
/// built-in cadences' names (a ring of millions holds each once).
struct SharedTexts {
    file: Arc<str>,
    field: Arc<str>,
    cadences: Vec<Arc<str>>,
}

impl SharedTexts {
    fn new(file: &str) -> SharedTexts {
        SharedTexts {
            file: Arc::from(file),
            field: Arc::from("depends_on"),
            cadences: Vec::new(),
        }
    }

    /// An error on the field `depends_on` saying `message`, `at` an entry's line and id, or
    /// nowhere (a shared error, located at each entry as it is reported).
    fn error(&self, message: Arc<str>, at: Option<(usize, &Arc<str>)>) -> ValidationError {
        ValidationError {
            file: Arc::clone(&self.file),
            line: at.map_or(0, |(line, _)| line),
            artifact: at.map(|(_, id)| Arc::clone(id)),
            field: Some(Arc::clone(&self.field)),
            message,
        }
    }

    /// `name`, shared with every other entry of that cadence made invalid here.
    fn cadence(&mut self, name: &str) -> Arc<str> {
        if let Some(known) = self.cadences.iter().find(|c| ***c == *name) {
            return Arc::clone(known);
        }
        let name: Arc<str> = Arc::from(name);
        // Few cadences in a registry; a bound keeps a registry of many from searching long.
        if self.cadences.len() < 64 {
            self.cadences.push(Arc::clone(&name));
        }
        name
    }
}

/// What an entry made invalid here is told.
enum Errors {
    /// Its own messages on its `depends_on`, located at it.
    Own(Vec<Arc<str>>),
    /// Its cycle's shared error, located at it when reported.
    LocatedHere(Arc<[ValidationError]>),
}

/// Turns a valid entry into an invalid one with `errors` on its `depends_on`, keeping the
/// spec's own id, bucket, owner and key template (moved, not copied).
fn make_invalid(entry: &mut RegistryEntry, shared: &mut SharedTexts, errors: Errors) {
    let RegistryEntry::Valid(spec) = entry else {
        return;
    };
    let id = spec.id.shared();
    let line = spec.line();
    let (errors, errors_located_here) = match errors {
        Errors::Own(messages) => {
            let at = Some((line, &id));
            (
                messages.into_iter().map(|m| shared.error(m, at)).collect(),
                false,
            )
        }
        Errors::LocatedHere(errors) => (errors, true),
    };
    let invalid = InvalidArtifact {
        label: id,
        line,
        errors,
        errors_located_here,
        owner_repo: Some(Arc::clone(&spec.owner_repo)),
        severity: Some(spec.severity),
        cadence: Some(shared.cadence(spec.cadence.name())),
        s3_bucket: Some(Arc::clone(&spec.s3_bucket)),
        s3_key_template: None,
        carried: spec.carried().cloned(),
    };
    let RegistryEntry::Valid(spec) = std::mem::replace(entry, RegistryEntry::Invalid(invalid))
    else {
        unreachable!("the entry was valid above");
    };
    if let RegistryEntry::Invalid(invalid) = entry {
        invalid.s3_key_template = Some(spec.s3_key_template.into_source());
    }
}

/// Every link of a valid artifact points at its target's own id (the same bytes, shared):
/// the registry keeps one copy of each id however many artifacts depend on it.
fn share_target_ids(entries: &mut [RegistryEntry], graph: &DependencyGraph) {
    for i in 0..entries.len() {
        let RegistryEntry::Valid(spec) = &entries[i] else {
            continue;
        };
        if spec.depends_on().is_empty() {
            continue;
        }
        let shared: Box<[ArtifactId]> = spec
            .depends_on()
            .iter()
            .zip(graph.links(i))
            .map(|(dep, &target)| match entries.get(target as usize) {
                Some(RegistryEntry::Valid(up)) => up.id.clone(),
                _ => dep.clone(),
            })
            .collect();
        if let RegistryEntry::Valid(spec) = &mut entries[i] {
            spec.set_depends_on(shared);
        }
    }
}

/// Ids that name the artifact itself or no artifact of the registry, by entry (in file
/// order), each with its message.
fn reference_problems(entries: &[RegistryEntry], graph: &DependencyGraph) -> Vec<(u32, String)> {
    let mut bad = Vec::new();
    let mut known: Option<Vec<&str>> = None;
    let mut hinted = 0;
    for (i, entry) in entries.iter().enumerate() {
        let RegistryEntry::Valid(spec) = entry else {
            continue;
        };
        for (dep, &target) in spec.depends_on().iter().zip(graph.links(i)) {
            let message = if dep == &spec.id {
                "depends on itself".to_string()
            } else if target == NONE {
                let hint = (hinted < HINTED_UNKNOWN_IDS)
                    .then(|| {
                        hinted += 1;
                        let known = known
                            .get_or_insert_with(|| entries.iter().map(|e| e.label()).collect());
                        did_you_mean(dep.as_str(), known)
                    })
                    .flatten()
                    .map(|s| format!("; did you mean `{s}`?"))
                    .unwrap_or_default();
                format!("`{dep}` is not an artifact of this registry{hint}")
            } else {
                continue;
            };
            bad.push((entry_index(i), message));
        }
    }
    bad
}

fn entry_index(i: usize) -> u32 {
    u32::try_from(i).expect("fewer than 2^32 entries in a registry")
}

/// The entries' labels, looked up by id: a table of entry indices whose ids are read from the
/// entries themselves (4 bytes per entry, not a map of ids). A label defined twice finds its
/// last entry.
struct IdIndex {
    table: HashTable<u32>,
    hasher: RandomState,
}

impl IdIndex {
    fn of(entries: &[RegistryEntry]) -> IdIndex {
        let hasher = RandomState::new();
        let mut table: HashTable<u32> = HashTable::with_capacity(entries.len());
        let label = |i: &u32| entries[*i as usize].label();
        for (i, entry) in entries.iter().enumerate() {
            let id = entry.label();
            let hash = hasher.hash_one(id);
            match table.find_mut(hash, |seen| label(seen) == id) {
                Some(seen) => *seen = entry_index(i),
                None => {
                    table.insert_unique(hash, entry_index(i), |seen| hasher.hash_one(label(seen)));
                }
            }
        }
        IdIndex { table, hasher }
    }

    /// The entry labelled `id`, or [`NONE`].
    fn find(&self, id: &str, entries: &[RegistryEntry]) -> u32 {
        let hash = self.hasher.hash_one(id);
        self.table
            .find(hash, |&i| entries[i as usize].label() == id)
            .copied()
            .unwrap_or(NONE)
    }
}

/// Each valid artifact's links, by entry index, in compressed rows (one vector of targets for
/// the whole registry), in `depends_on` order; an id that names no entry is [`NONE`].
struct DependencyGraph {
    /// Node `n`'s links are `targets[starts[n]..starts[n + 1]]`.
    starts: Vec<u32>,
    targets: Vec<u32>,
}

impl DependencyGraph {
    fn of(entries: &[RegistryEntry], index: &IdIndex) -> DependencyGraph {
        let mut starts = Vec::with_capacity(entries.len() + 1);
        let mut targets = Vec::new();
        for entry in entries {
            starts.push(entry_index(targets.len()));
            if let RegistryEntry::Valid(spec) = entry {
                let deps = spec.depends_on().iter();
                targets.extend(deps.map(|d| index.find(d.as_str(), entries)));
            }
        }
        starts.push(entry_index(targets.len()));
        targets.shrink_to_fit();
        DependencyGraph { starts, targets }
    }

    /// Node `node`'s links as written, [`NONE`] for an unknown id.
    fn links(&self, node: usize) -> &[u32] {
        &self.targets[self.starts[node] as usize..self.starts[node + 1] as usize]
    }

    /// Node `node`'s dependencies on other entries (unknown ids and itself left out).
    fn deps(&self, node: usize) -> impl Iterator<Item = usize> + '_ {
        self.links(node)
            .iter()
            .filter(move |&&d| d != NONE && d as usize != node)
            .map(|&d| d as usize)
    }

    fn len(&self) -> usize {
        self.starts.len() - 1
    }

    /// The strongly connected components of more than one member (every artifact on a
    /// cycle), each in file order: Tarjan's algorithm, iterative so that a chain of a
    /// million artifacts needs no deep stack.
    fn cycle_groups(&self) -> Vec<Vec<u32>> {
        let mut walk = Tarjan::new(self.len());
        let mut groups = Vec::new();
        for root in 0..self.len() {
            if walk.order[root] != NONE || self.deps(root).next().is_none() {
                continue;
            }
            // Each call: the node and how many of its links were followed.
            let mut calls: Vec<(u32, u32)> = Vec::new();
            walk.visit(root, &mut calls);
            while let Some(&mut (v, ref mut edge)) = calls.last_mut() {
                let v = v as usize;
                if let Some(&w) = self.links(v).get(*edge as usize) {
                    *edge += 1;
                    let w = w as usize;
                    if w == NONE as usize || w == v {
                        continue;
                    }
                    if walk.order[w] == NONE {
                        walk.visit(w, &mut calls);
                    } else if walk.on_stack[w] {
                        walk.low[v] = walk.low[v].min(walk.order[w]);
                    }
                    continue;
                }
                calls.pop();
                if let Some(&(parent, _)) = calls.last() {
                    let parent = parent as usize;
                    walk.low[parent] = walk.low[parent].min(walk.low[v]);
                }
                if let Some(members) = walk.component_of(v).filter(|m| m.len() > 1) {
                    groups.push(members);
                }
            }
        }
        groups
    }

    /// A shortest cycle from `start` back to itself inside `members` (a strongly connected
    /// component, sorted), as nodes ending with `start` again: breadth-first, linear in the
    /// component's edges.
    fn cycle_through(&self, start: usize, members: &[u32]) -> Vec<u32> {
        let position = |n: usize| members.binary_search(&entry_index(n)).ok();
        // Each member's parent on the search (by position in `members`), or NONE.
        let mut parent: Vec<u32> = vec![NONE; members.len()];
        if let Some(p) = position(start) {
            parent[p] = entry_index(start);
        }
        let mut queue = std::collections::VecDeque::from([start]);
        while let Some(node) = queue.pop_front() {
            for dep in self.deps(node) {
                if dep == start {
                    let mut path = vec![entry_index(start), entry_index(node)];
                    let mut at = node;
                    while at != start {
                        at = position(at).map_or(start, |p| parent[p] as usize);
                        path.push(entry_index(at));
                    }
                    path.reverse();
                    return path;
                }
                if let Some(p) = position(dep).filter(|&p| parent[p] == NONE) {
                    parent[p] = entry_index(node);
                    queue.push_back(dep);
                }
            }
        }
        // Unreachable for a strongly connected component; the members in file order say
        // enough.
        members
            .iter()
            .copied()
            .chain([entry_index(start)])
            .collect()
    }
}

/// Tarjan's bookkeeping: each node's visit order and lowest reachable order, and the stack of
/// nodes whose component is not closed yet.
struct Tarjan {
    order: Vec<u32>,
    low: Vec<u32>,
    on_stack: Vec<bool>,
    stack: Vec<u32>,
    next: u32,
}

impl Tarjan {
    fn new(n: usize) -> Tarjan {
        Tarjan {
            order: vec![NONE; n],
            low: vec![0; n],
            on_stack: vec![false; n],
            stack: Vec::new(),
            next: 0,
        }
    }

    fn visit(&mut self, v: usize, calls: &mut Vec<(u32, u32)>) {
        (self.order[v], self.low[v], self.on_stack[v]) = (self.next, self.next, true);
        self.next += 1;
        self.stack.push(entry_index(v));
        calls.push((entry_index(v), 0));
    }

    /// When `v`, done, roots a component: its members in file order, off the stack.
    fn component_of(&mut self, v: usize) -> Option<Vec<u32>> {
        if self.low[v] != self.order[v] {
            return None;
        }
        let at = self
            .stack
            .iter()
            .rposition(|&m| m as usize == v)
            .unwrap_or(0);
        let mut members: Vec<u32> = self.stack.drain(at..).collect();
        members
            .iter()
            .for_each(|&m| self.on_stack[m as usize] = false);
        members.sort_unstable();
        Some(members)
    }
}

/// Which message a member of cycle `n` gets.
#[derive(Clone, Copy)]
enum CycleMessage {
    /// The first member's: the cycle told.
    Told(usize),
    /// The others': a pointer to the first.
    Pointer(usize),
}

/// Every cycle, told once at its first artifact (in file order); the other artifacts on it
/// point there, all with one shared message.
struct Cycles {
    /// Each entry's cycle (an index into `told`/`pointer`), or [`NONE`]; empty when there is
    /// no cycle.
    cycle_of: Vec<u32>,
    /// Each cycle's first member and its message there.
    told: Vec<(u32, Arc<str>)>,
    /// Each cycle's message for its other members.
    pointer: Vec<Arc<str>>,
}

impl Cycles {
    fn of(entries: &[RegistryEntry], graph: &DependencyGraph) -> Cycles {
        let mut cycles = Cycles {
            cycle_of: Vec::new(),
            told: Vec::new(),
            pointer: Vec::new(),
        };
        for members in graph.cycle_groups() {
            if cycles.cycle_of.is_empty() {
                cycles.cycle_of = vec![NONE; entries.len()];
            }
            let first = members[0] as usize;
            let cycle = graph.cycle_through(first, &members);
            let told = format!("dependency cycle: {}", cycle_text(&cycle, entries));
            let first_id = entries[first].label();
            let line = match &entries[first] {
                RegistryEntry::Valid(spec) => spec.line(),
                RegistryEntry::Invalid(bad) => bad.line,
            };
            let pointer = format!(
                "on a dependency cycle with `{first_id}` (reported at artifact {first_id}, line \
                 {line}; {} artifacts in all)",
                members.len()
            );
            let n = entry_index(cycles.told.len());
            members
                .iter()
                .for_each(|&m| cycles.cycle_of[m as usize] = n);
            cycles.told.push((members[0], told.into()));
            cycles.pointer.push(pointer.into());
        }
        cycles
    }

    /// Which message entry `i` gets if it is on a cycle.
    fn message_of(&self, i: usize) -> Option<CycleMessage> {
        let n = *self.cycle_of.get(i).filter(|&&n| n != NONE)? as usize;
        Some(if self.told[n].0 as usize == i {
            CycleMessage::Told(n)
        } else {
            CycleMessage::Pointer(n)
        })
    }

    fn text(&self, message: CycleMessage) -> Arc<str> {
        Arc::clone(match message {
            CycleMessage::Told(n) => &self.told[n].1,
            CycleMessage::Pointer(n) => &self.pointer[n],
        })
    }

    /// Each cycle's pointer as the one error all its other members share, located nowhere.
    fn pointer_errors(&self, shared: &SharedTexts) -> Vec<Arc<[ValidationError]>> {
        let error = |message: &Arc<str>| Arc::from([shared.error(Arc::clone(message), None)]);
        self.pointer.iter().map(error).collect()
    }
}

/// `a -> b -> c -> a`, the middle left out past [`CYCLE_LISTED_IN_FULL`] members:
/// `a -> b -> … (N more) -> a`. `cycle` (entry indices) ends with its first node again; only
/// the ids shown are looked up.
fn cycle_text(cycle: &[u32], entries: &[RegistryEntry]) -> String {
    let id = |&n: &u32| entries[n as usize].label();
    let members = cycle.len().saturating_sub(1);
    if members <= CYCLE_LISTED_IN_FULL {
        return cycle.iter().map(id).collect::<Vec<_>>().join(" -> ");
    }
    let shown = cycle[..CYCLE_SHOWN].iter().map(id).collect::<Vec<_>>();
    let last = id(&cycle[cycle.len() - 1]);
    format!(
        "{} -> … ({} more) -> {last}",
        shown.join(" -> "),
        members - CYCLE_SHOWN
    )
}

#[cfg(test)]
mod tests {
    use crate::registry::{RegistryEntry, parse_registry};

    #[test]
    fn the_members_of_a_cycle_but_the_first_share_one_error_located_at_each() {
        let mut text = String::from(
            "schema_version: 1\ndefaults:\n  s3_bucket: bench-bucket\n  cadence: weekday_sf\n  \
             severity: warning\n  owner_repo: o/r\n  created_at: 2026-01-05\n  \
             sla_minutes_after_cron: 60\nartifacts:\n",
        );
        for i in 0..5 {
            let up = if i == 0 { 4 } else { i - 1 };
            text.push_str(&format!(
                "  - {{artifact_id: a{i}, s3_key_template: \"a/{{date}}/a{i}\", depends_on: [a{up}]}}\n"
            ));
        }
        let registry = parse_registry("r.yaml", text.as_bytes()).unwrap();
        let members: Vec<_> = registry
            .entries
            .iter()
            .map(|e| match e {
                RegistryEntry::Invalid(bad) => bad,
                RegistryEntry::Valid(spec) => panic!("{} is on the cycle", spec.id),
            })
            .collect();
        assert!(!members[0].errors_located_here);
        assert!(
            members[0].errors[0]
                .message
                .starts_with("dependency cycle: a0 -> a4 -> ")
        );
        for m in &members[2..] {
            assert!(m.errors_located_here);
            assert!(std::sync::Arc::ptr_eq(&m.errors, &members[1].errors));
            assert!(std::sync::Arc::ptr_eq(
                &m.errors[0].file,
                &members[0].errors[0].file
            ));
        }
        let reported: Vec<String> = registry.artifact_errors().map(|e| e.to_string()).collect();
        assert_eq!(reported.len(), 5);
        assert_eq!(
            reported[3],
            "r.yaml:13: artifact a3: field depends_on: on a dependency cycle with `a0` \
             (reported at artifact a0, line 10; 5 artifacts in all)"
        );
        assert_eq!(
            members[4].reason(),
            "invalid registry entry: r.yaml:14: artifact a4: field depends_on: on a dependency \
             cycle with `a0` (reported at artifact a0, line 10; 5 artifacts in all)"
        );
    }

    #[test]
    fn a_member_with_another_bad_link_holds_its_own_errors() {
        let text = "schema_version: 1\ndefaults:\n  s3_bucket: bench-bucket\n  cadence: weekday_sf\n  \
             severity: warning\n  owner_repo: o/r\n  created_at: 2026-01-05\n  \
             sla_minutes_after_cron: 60\nartifacts:\n  \
             - {artifact_id: a, s3_key_template: \"a/{date}\", depends_on: [c]}\n  \
             - {artifact_id: b, s3_key_template: \"b/{date}\", depends_on: [a, nope]}\n  \
             - {artifact_id: c, s3_key_template: \"c/{date}\", depends_on: [b]}\n";
        let registry = parse_registry("r.yaml", text.as_bytes()).unwrap();
        let RegistryEntry::Invalid(b) = &registry.entries[1] else {
            panic!("b is on the cycle");
        };
        assert!(!b.errors_located_here);
        let reported: Vec<String> = b.errors().map(|e| e.to_string()).collect();
        assert_eq!(
            reported,
            [
                "r.yaml:11: artifact b: field depends_on: `nope` is not an artifact of this \
                 registry",
                "r.yaml:11: artifact b: field depends_on: on a dependency cycle with `a` \
                 (reported at artifact a, line 10; 3 artifacts in all)",
            ]
        );
    }
}
