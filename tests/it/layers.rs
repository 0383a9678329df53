//! The architecture, checked: no two modules import each other (directly or around a circle)
//! and no top-level module imports from one declared after it in its crate's `lib.rs`, which
//! lists the modules bottom up. The crate boundary keeps the core pure (it cannot name a
//! shell type); this test keeps the layers inside each crate. It reads the sources as text:
//! `use` declarations and inline `crate::`/`super::` paths, test modules left out (a test may
//! reach anywhere in its crate).
//!
//! A child module using its parent's items, or a parent its children's, is not a circle: that
//! is how a Rust module owns its parts. Everything else is compared at the level where two
//! modules part: `alert::digest` importing `alert::policy::never_written` is an edge between
//! the siblings `digest` and `policy`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// A crate's modules (path → file) and its top-level modules in `lib.rs` order.
struct CrateSources {
    name: &'static str,
    modules: BTreeMap<Vec<String>, PathBuf>,
    layer_order: Vec<String>,
}

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The module path of a file under `src`: `alert/policy/mod.rs` is `alert::policy`.
fn module_path(src: &Path, file: &Path) -> Vec<String> {
    let relative = file.strip_prefix(src).unwrap().with_extension("");
    let mut parts: Vec<String> = relative
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(
        parts.last().map(String::as_str),
        Some("mod" | "lib" | "main")
    ) {
        parts.pop();
    }
    parts
}

fn is_test_file(file: &Path) -> bool {
    let stem = file.file_stem().unwrap().to_string_lossy();
    stem == "tests" || stem.ends_with("_tests")
}

/// A library crate's sources (`skip`: files and folders of another crate beside it).
fn library(name: &'static str, src: &str, skip: &[&str]) -> CrateSources {
    let src = repo().join(src);
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    let modules = files
        .into_iter()
        .filter(|f| !is_test_file(f))
        .filter(|f| !skip.iter().any(|s| f.starts_with(src.join(s))))
        .map(|f| (module_path(&src, &f), f))
        .collect();
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let layer_order = lib
        .lines()
        .filter_map(|l| l.strip_prefix("pub mod ")?.strip_suffix(';'))
        .map(str::to_string)
        .collect();
    CrateSources {
        name,
        modules,
        layer_order,
    }
}

/// The code of a file without its inline test module and its comments.
fn code_of(file: &Path) -> String {
    let text = std::fs::read_to_string(file).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests {") {
        Some(at) => &text[..at],
        None => &text[..],
    };
    without_comments(text)
}

fn without_comments(text: &str) -> String {
    text.lines()
        .map(|line| match line.find("//") {
            Some(at) => &line[..at],
            None => line,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// `a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`.
fn expand_use(path: &str) -> Vec<String> {
    let Some(open) = path.find('{') else {
        return vec![path.to_string()];
    };
    let (prefix, body) = (&path[..open], &path[open + 1..path.len() - 1]);
    let (mut parts, mut depth, mut current) = (Vec::new(), 0, String::new());
    for ch in body.chars() {
        match ch {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(std::mem::take(&mut current));
                continue;
            }
            _ => {}
        }
        current.push(ch);
    }
    parts.push(current);
    parts
        .iter()
        .filter(|p| !p.is_empty())
        .flat_map(|p| expand_use(&format!("{prefix}{p}")))
        .collect()
}

/// Every `crate::…` and `super::…` path the code names.
fn named_paths(code: &str) -> Vec<String> {
    let mut paths = Vec::new();
    for statement in code.split(';') {
        if let Some(at) = statement.find("use ") {
            let path: String = statement[at + 4..]
                .chars()
                .filter(|c| !c.is_whitespace())
                .collect();
            paths.extend(expand_use(&path));
        }
    }
    let bytes = code.as_bytes();
    for start in ["crate::", "super::"] {
        for (at, _) in code.match_indices(start) {
            let before = at.checked_sub(1).map(|i| bytes[i] as char);
            if before.is_some_and(|c| c.is_alphanumeric() || c == '_' || c == ':') {
                continue;
            }
            let end = code[at..]
                .find(|c: char| !(c.is_alphanumeric() || c == '_' || c == ':'))
                .map_or(code.len(), |e| at + e);
            paths.push(code[at..end].to_string());
        }
    }
    paths
}

/// The module a path names, as the longest prefix that is a module of the crate.
fn resolve(
    modules: &BTreeMap<Vec<String>, PathBuf>,
    from: &[String],
    path: &str,
) -> Option<Vec<String>> {
    let path = path.split(" as ").next().unwrap();
    let mut parts = path.split("::").filter(|p| !p.is_empty());
    let mut base: Vec<String> = match parts.next()? {
        "crate" => Vec::new(),
        "super" => from[..from.len().saturating_sub(1)].to_vec(),
        _ => return None,
    };
    let mut rest: Vec<&str> = parts.collect();
    while rest.first() == Some(&"super") {
        base.pop();
        rest.remove(0);
    }
    base.extend(rest.iter().map(|s| s.to_string()));
    (0..=base.len())
        .rev()
        .map(|n| base[..n].to_vec())
        .find(|candidate| modules.contains_key(candidate))
}

/// Edges between sibling modules, by parent: `parent → (child → children it imports)`.
type SiblingGraphs = BTreeMap<Vec<String>, BTreeMap<String, BTreeSet<String>>>;

fn sibling_graphs(sources: &CrateSources) -> SiblingGraphs {
    let mut graphs = SiblingGraphs::new();
    for (from, file) in &sources.modules {
        for path in named_paths(&code_of(file)) {
            let Some(to) = resolve(&sources.modules, from, &path) else {
                continue;
            };
            let common = from.iter().zip(&to).take_while(|(a, b)| a == b).count();
            if common == from.len() || common == to.len() {
                continue;
            }
            graphs
                .entry(from[..common].to_vec())
                .or_default()
                .entry(from[common].clone())
                .or_default()
                .insert(to[common].clone());
        }
    }
    graphs
}

/// The circles of a graph, each as its members (Tarjan's strongly connected components).
fn circles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'g> {
        graph: &'g BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'g str, (usize, usize)>,
        stack: Vec<&'g str>,
        found: Vec<Vec<String>>,
    }
    fn visit<'g>(walk: &mut Walk<'g>, node: &'g str) {
        let n = walk.index.len();
        walk.index.insert(node, (n, n));
        walk.stack.push(node);
        for next in walk.graph.get(node).into_iter().flatten() {
            match walk.index.get(next.as_str()) {
                None => {
                    visit(walk, next);
                    let low = walk.index[next.as_str()].1;
                    let entry = walk.index.get_mut(node).unwrap();
                    entry.1 = entry.1.min(low);
                }
                Some(&(i, _)) if walk.stack.contains(&next.as_str()) => {
                    let entry = walk.index.get_mut(node).unwrap();
                    entry.1 = entry.1.min(i);
                }
                Some(_) => {}
            }
        }
        let (i, low) = walk.index[node];
        if i == low {
            let at = walk.stack.iter().rposition(|m| *m == node).unwrap();
            let members: Vec<String> = walk.stack.drain(at..).map(str::to_string).collect();
            if members.len() > 1 {
                walk.found.push(members);
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        stack: Vec::new(),
        found: Vec::new(),
    };
    let nodes: BTreeSet<&str> = graph
        .iter()
        .flat_map(|(k, v)| std::iter::once(k.as_str()).chain(v.iter().map(String::as_str)))
        .collect();
    for node in nodes {
        if !walk.index.contains_key(node) {
            visit(&mut walk, node);
        }
    }
    walk.found
}

fn crates() -> Vec<CrateSources> {
    vec![
        library("freshness-core", "crates/core/src", &[]),
        library("freshness-coverage", "crates/coverage/src", &[]),
        library("freshness-monitor (lib)", "src", &["main.rs", "cli"]),
    ]
}

#[test]
fn no_two_modules_import_each_other_in_any_crate() {
    let mut problems = Vec::new();
    for sources in crates() {
        assert!(
            sources.modules.len() > 5,
            "{}: no sources read",
            sources.name
        );
        for (parent, graph) in sibling_graphs(&sources) {
            for members in circles(&graph) {
                problems.push(format!(
                    "{}: a circle among the children of `{}`: {}",
                    sources.name,
                    if parent.is_empty() {
                        "crate".to_string()
                    } else {
                        parent.join("::")
                    },
                    members.join(" → ")
                ));
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

#[test]
fn top_level_modules_import_only_those_listed_before_them_in_lib_rs() {
    let mut problems = Vec::new();
    for sources in crates() {
        assert!(
            sources.layer_order.len() > 3,
            "{}: lib.rs lists no modules",
            sources.name
        );
        let rank: BTreeMap<&str, usize> = sources
            .layer_order
            .iter()
            .enumerate()
            .map(|(i, m)| (m.as_str(), i))
            .collect();
        let graphs = sibling_graphs(&sources);
        for (from, imports) in graphs.get(&Vec::new()).into_iter().flatten() {
            for to in imports {
                if let (Some(a), Some(b)) = (rank.get(from.as_str()), rank.get(to.as_str()))
                    && b > a
                {
                    problems.push(format!(
                        "{}: `{from}` imports `{to}`, which lib.rs lists above it",
                        sources.name
                    ));
                }
            }
        }
    }
    assert!(problems.is_empty(), "{}", problems.join("\n"));
}

/// The checker itself finds a circle and an upward import when there is one.
#[test]
fn the_checker_sees_a_circle_and_ignores_parent_and_child() {
    let graph: BTreeMap<String, BTreeSet<String>> = [
        ("a", vec!["b"]),
        ("b", vec!["c"]),
        ("c", vec!["a"]),
        ("d", vec!["a"]),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v.into_iter().map(str::to_string).collect()))
    .collect();
    let found = circles(&graph);
    assert_eq!(found.len(), 1);
    let mut members = found[0].clone();
    members.sort();
    assert_eq!(members, ["a", "b", "c"]);
    let code = without_comments("use crate::x::{y::Z, w};\nlet v = super::q::R;\n// crate::gone");
    let paths = named_paths(&code);
    for named in ["crate::x::y::Z", "crate::x::w", "super::q::R"] {
        assert!(paths.iter().any(|p| p == named), "{named} in {paths:?}");
    }
    assert!(!paths.iter().any(|p| p.contains("gone")), "{paths:?}");
}

/// The core's dependency closure (from Cargo.lock) holds neither tokio nor an AWS SDK crate.
#[test]
fn the_core_depends_on_no_runtime_and_no_aws_sdk() {
    let lock = std::fs::read_to_string(repo().join("Cargo.lock")).unwrap();
    let mut dependencies: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for package in lock.split("[[package]]").skip(1) {
        let name = package
            .lines()
            .find_map(|l| l.strip_prefix("name = \""))
            .map(|n| n.trim_end_matches('"').to_string())
            .unwrap();
        let deps = package
            .split("dependencies = [")
            .nth(1)
            .map(|d| d.split(']').next().unwrap())
            .unwrap_or("")
            .lines()
            .filter_map(|l| l.trim().strip_prefix('"'))
            .map(|d| d.split([' ', '"']).next().unwrap().to_string())
            .collect();
        dependencies.insert(name, deps);
    }
    let mut closure = BTreeSet::new();
    let mut todo = vec!["freshness-core".to_string()];
    while let Some(name) = todo.pop() {
        if closure.insert(name.clone()) {
            todo.extend(dependencies.get(&name).cloned().unwrap_or_default());
        }
    }
    assert!(
        closure.contains("chrono"),
        "the lock file was read: {closure:?}"
    );
    let forbidden: Vec<&String> = closure
        .iter()
        .filter(|n| n.starts_with("tokio") || n.starts_with("aws-") || *n == "lambda_runtime")
        .collect();
    assert!(forbidden.is_empty(), "the core pulls in {forbidden:?}");
}
