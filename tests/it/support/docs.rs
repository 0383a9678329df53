//! The docs' examples as data: fenced blocks of the repository's markdown, the `$ command`
//! examples in them with the output they show, the matcher that compares shown output with
//! real output (with trycmd's elisions), and the rewrite that re-blesses a page.
//!
//! Conventions (CONTRIBUTING.md, "Docs that are tested"):
//! - a fenced block whose first line starts with `$ ` is an example: each `$ ` line is a
//!   command (a line ending in `\` continues it), the lines up to the next `$ ` line are the
//!   output it prints (stdout and stderr together, as a terminal shows them);
//! - in shown output, a line `...` stands for any number of lines, and `[..]` within a line
//!   for any text on that line: the reader sees that something was left out;
//! - an HTML comment `<!-- docs-test: WORDS -->` on the line before a block's fence says how
//!   the harness treats it: `skip REASON` (not run, and why), `moto` (run against moto's
//!   server, not the demo store), `invalid` (a registry example that must fail `validate`),
//!   `keys SOURCE [at PATH] [maps PATH,...]` (a JSON example compared by its keys with a real
//!   output), `fragment` (a registry excerpt, not a whole registry);
//! - `DOCS_BLESS=1` rewrites the shown output of every example that does not match with what
//!   the command printed, keeping the elisions that still match.

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The repository's root: the nearest directory up from this crate's that holds
/// `Cargo.lock` (the crate's own today; the workspace's once the crate is one of several).
pub fn root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").exists() && dir.join("README.md").exists())
        .unwrap_or(manifest)
        .to_path_buf()
}

/// Every markdown file of the repository that git tracks or that is new beside them, as
/// paths relative to the root, sorted. `target/`, `fuzz/corpus` and hidden folders are left
/// out.
pub fn markdown_files() -> Vec<PathBuf> {
    fn walk(dir: &Path, rel: &Path, found: &mut Vec<PathBuf>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name();
            let name = name.to_string_lossy();
            if name.starts_with('.') || name == "target" || name == "corpus" {
                continue;
            }
            let path = entry.path();
            let rel = rel.join(&*name);
            if path.is_dir() {
                walk(&path, &rel, found);
            } else if name.ends_with(".md") {
                found.push(rel);
            }
        }
    }
    let mut found = Vec::new();
    walk(&root(), Path::new(""), &mut found);
    found.sort();
    found
}

/// The pages whose examples run: the README and docs/.
pub fn example_pages() -> Vec<PathBuf> {
    markdown_files()
        .into_iter()
        .filter(|p| p == Path::new("README.md") || p.starts_with("docs"))
        .collect()
}

/// One fenced block of a markdown file.
#[derive(Debug, Clone)]
pub struct Block {
    /// The file, relative to the root.
    pub file: PathBuf,
    /// The fence's info string (`console`, `json`, `yaml`, or empty).
    pub info: String,
    /// 0-based index of the block's first content line in the file.
    pub first_line: usize,
    pub lines: Vec<String>,
    /// The words of a `<!-- docs-test: ... -->` comment on the line before the fence.
    pub directive: Option<String>,
}

impl Block {
    /// `file:line` of the fence, 1-based, for messages.
    pub fn at(&self) -> String {
        format!("{}:{}", self.file.display(), self.first_line)
    }

    pub fn text(&self) -> String {
        let mut text = self.lines.join("\n");
        text.push('\n');
        text
    }

    /// True when the block is a `$ command` example.
    pub fn is_example(&self) -> bool {
        self.lines.first().is_some_and(|l| l.starts_with("$ "))
    }

    /// The directive's first word (`skip`, `moto`, `keys`, ...).
    pub fn directive_word(&self) -> Option<&str> {
        self.directive
            .as_deref()
            .and_then(|d| d.split_whitespace().next())
    }
}

const DIRECTIVE: &str = "<!-- docs-test:";

/// The fenced blocks of `file` (relative to the root).
pub fn blocks(file: &Path) -> Vec<Block> {
    let text = std::fs::read_to_string(root().join(file))
        .unwrap_or_else(|e| panic!("read {}: {e}", file.display()));
    parse_blocks(file, &text)
}

pub fn parse_blocks(file: &Path, text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut found = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i].trim_start();
        if let Some(info) = line.strip_prefix("```") {
            let indent = lines[i].len() - line.len();
            let directive = (i > 0)
                .then(|| lines[i - 1].trim())
                .and_then(|prev| prev.strip_prefix(DIRECTIVE))
                .and_then(|rest| rest.strip_suffix("-->"))
                .map(|d| d.trim().to_string());
            let mut body = Vec::new();
            let mut j = i + 1;
            while j < lines.len() && !lines[j].trim_start().starts_with("```") {
                let l = lines[j];
                let cut = indent.min(l.len() - l.trim_start().len());
                body.push(&l[cut..]);
                j += 1;
            }
            found.push(Block {
                file: file.to_path_buf(),
                info: info.trim().to_string(),
                first_line: i + 1,
                lines: body.into_iter().map(str::to_string).collect(),
                directive,
            });
            i = j + 1;
        } else {
            i += 1;
        }
    }
    found
}

/// One `$ command` of an example and the output shown under it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The command as a shell reads it (continuation lines joined).
    pub command: String,
    /// 0-based index, within the block, of the first output line.
    pub output_start: usize,
    /// The output shown (may hold `...` lines and `[..]`).
    pub expected: Vec<String>,
}

/// The commands of an example block, in order.
pub fn steps(block: &Block) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut i = 0;
    let lines = &block.lines;
    while i < lines.len() {
        let Some(first) = lines[i].strip_prefix("$ ") else {
            i += 1;
            continue;
        };
        let mut command = first.to_string();
        while command.ends_with('\\') && i + 1 < lines.len() {
            command.pop();
            i += 1;
            command.push_str(lines[i].trim_start_matches("> "));
        }
        i += 1;
        let start = i;
        while i < lines.len() && !lines[i].starts_with("$ ") {
            i += 1;
        }
        let mut expected: Vec<String> = lines[start..i].to_vec();
        while expected.last().is_some_and(|l| l.trim().is_empty()) {
            expected.pop();
        }
        steps.push(Step {
            command,
            output_start: start,
            expected,
        });
    }
    steps
}

/// Does `line` match the shown `pattern`, where `[..]` stands for any text?
pub fn line_matches(pattern: &str, line: &str) -> bool {
    let pattern = pattern.trim_end();
    let line = line.trim_end();
    let parts: Vec<&str> = pattern.split("[..]").collect();
    if parts.len() == 1 {
        return pattern == line;
    }
    let (first, last) = (parts[0], parts[parts.len() - 1]);
    if !line.starts_with(first) || line.len() < first.len() + last.len() {
        return false;
    }
    let mut rest = &line[first.len()..];
    for part in &parts[1..parts.len() - 1] {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.ends_with(last)
}

fn is_elision(line: &str) -> bool {
    line.trim() == "..."
}

/// Does the actual output match the shown lines (`...` lines match any number of lines)?
pub fn output_matches(expected: &[String], actual: &[String]) -> bool {
    match expected.split_first() {
        None => actual.is_empty(),
        Some((first, rest)) if is_elision(first) => {
            (0..=actual.len()).any(|skip| output_matches(rest, &actual[skip..]))
        }
        Some((first, rest)) => {
            !actual.is_empty()
                && line_matches(first, &actual[0])
                && output_matches(rest, &actual[1..])
        }
    }
}

/// The shown output re-blessed from `actual`: lines that still match are kept as shown
/// (their `[..]` included), `...` lines are kept where the line after them can still be found,
/// and everything else becomes what the command printed.
pub fn bless(expected: &[String], actual: &[String]) -> Vec<String> {
    let mut out = Vec::new();
    let (mut i, mut j) = (0, 0);
    while i < expected.len() {
        if is_elision(&expected[i]) {
            if i + 1 == expected.len() {
                out.push(expected[i].clone());
                j = actual.len();
                i += 1;
                continue;
            }
            // The next shown line that can still be found after this point.
            let found = (i + 1..expected.len())
                .filter(|&k| !is_elision(&expected[k]))
                .find_map(|k| {
                    (j..actual.len())
                        .find(|&p| line_matches(&expected[k], &actual[p]))
                        .map(|p| (k, p))
                });
            match found {
                // Kept even when it stands for no line here: the page may mean lines that
                // only a reader sees (cargo's progress on a first build).
                Some((k, p)) if k == i + 1 => {
                    out.push(expected[i].clone());
                    j = p;
                    i += 1;
                }
                // Lines the page showed after the elision changed: show what is printed up
                // to the next line that still matches, so the change is on the page.
                Some((k, p)) => {
                    out.extend(actual[j..p].iter().cloned());
                    j = p;
                    i = k;
                }
                None => {
                    out.extend(actual[j..].iter().cloned());
                    return out;
                }
            }
            continue;
        }
        if j < actual.len() {
            if line_matches(&expected[i], &actual[j]) {
                out.push(expected[i].clone());
            } else {
                out.push(actual[j].clone());
            }
            j += 1;
        }
        i += 1;
    }
    out.extend(actual[j.min(actual.len())..].iter().cloned());
    // Where the page's elisions no longer line up with the output, the output as printed: a
    // blessed page always matches; the reviewer puts back what should be elided.
    if output_matches(&out, actual) {
        out
    } else {
        actual.to_vec()
    }
}

/// Lines of output as a page shows them: trailing spaces and trailing empty lines dropped.
pub fn output_lines(text: &str) -> Vec<String> {
    let mut lines: Vec<String> = text.lines().map(|l| l.trim_end().to_string()).collect();
    while lines.last().is_some_and(|l| l.is_empty()) {
        lines.pop();
    }
    lines
}

/// True when `DOCS_BLESS` asks the harness to rewrite shown output.
pub fn blessing() -> bool {
    std::env::var("DOCS_BLESS").is_ok_and(|v| !v.is_empty() && v != "0")
}

/// Replaces, in `file`, the lines `[start, start + len)` (0-based) of each edit with its new
/// lines; edits must not overlap.
pub fn rewrite(file: &Path, mut edits: Vec<(usize, usize, Vec<String>)>) {
    if edits.is_empty() {
        return;
    }
    let path = root().join(file);
    let text = std::fs::read_to_string(&path).unwrap();
    let mut lines: Vec<String> = text.lines().map(str::to_string).collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    for (start, len, new) in edits {
        lines.splice(start..start + len, new);
    }
    let mut out = lines.join("\n");
    out.push('\n');
    std::fs::write(&path, out).unwrap();
}

/// A difference report: the shown lines and the printed ones.
pub fn diff_report(expected: &[String], actual: &[String]) -> String {
    let mut report = String::from("--- shown\n");
    for l in expected {
        report.push_str(&format!("  {l}\n"));
    }
    report.push_str("--- printed\n");
    for l in actual {
        report.push_str(&format!("  {l}\n"));
    }
    report
}

/// Where a JSON example's keys differ from the real document's: every path the example lacks
/// or invents. `maps` are the paths whose keys are data (artifact ids, cadences), compared by
/// their values only. Paths read `a.b`, `a[]` (elements of an array), `a.*` (values of a map).
pub fn key_differences(example: &Value, real: &Value, maps: &[String]) -> Vec<String> {
    let mut found = Vec::new();
    compare_keys(example, real, "", maps, &mut found);
    let mut seen = std::collections::HashSet::new();
    found.retain(|f| seen.insert(f.clone()));
    found
}

fn join(path: &str, key: &str) -> String {
    if path.is_empty() {
        key.to_string()
    } else {
        format!("{path}.{key}")
    }
}

fn compare_keys(
    example: &Value,
    real: &Value,
    path: &str,
    maps: &[String],
    found: &mut Vec<String>,
) {
    match (example, real) {
        (Value::Object(ex), Value::Object(re)) if maps.iter().any(|m| m == path) => {
            let Some(any) = re.values().next() else {
                return;
            };
            for (key, value) in ex {
                if key == "…" || key == "..." {
                    continue;
                }
                let other = re.get(key).unwrap_or(any);
                compare_keys(value, other, &join(path, "*"), maps, found);
            }
        }
        (Value::Object(ex), Value::Object(re)) => {
            for key in re.keys() {
                if !ex.contains_key(key) {
                    found.push(format!(
                        "{}: the real one has it, the example does not",
                        join(path, key)
                    ));
                }
            }
            for (key, value) in ex {
                match re.get(key) {
                    None => found.push(format!(
                        "{}: the example has it, the real one does not",
                        join(path, key)
                    )),
                    Some(other) => compare_keys(value, other, &join(path, key), maps, found),
                }
            }
        }
        (Value::Array(ex), Value::Array(re)) => {
            let objects: Vec<&serde_json::Map<String, Value>> =
                re.iter().filter_map(Value::as_object).collect();
            let path = format!("{path}[]");
            if objects.is_empty() {
                if let (Some(e), Some(r)) = (ex.first(), re.first()) {
                    compare_keys(e, r, &path, maps, found);
                }
                return;
            }
            // Keys every real element has must be in each example element; an example element
            // may not have a key no real element has. Values: the first real element with it.
            for element in ex.iter().filter_map(Value::as_object) {
                for key in objects[0].keys() {
                    if objects.iter().all(|o| o.contains_key(key)) && !element.contains_key(key) {
                        found.push(format!(
                            "{}: the real one has it, the example does not",
                            join(&path, key)
                        ));
                    }
                }
                for (key, value) in element {
                    let other = objects
                        .iter()
                        .filter_map(|o| o.get(key))
                        .find(|v| !v.is_null())
                        .or_else(|| objects.iter().find_map(|o| o.get(key)));
                    match other {
                        None => found.push(format!(
                            "{}: the example has it, the real one does not",
                            join(&path, key)
                        )),
                        Some(other) => compare_keys(value, other, &join(&path, key), maps, found),
                    }
                }
            }
        }
        _ => {}
    }
}

/// The value at `path` (`a.b`, `a[].b`: the first element that has the rest) in `value`.
pub fn at_path<'v>(value: &'v Value, path: &str) -> Option<&'v Value> {
    if path.is_empty() {
        return Some(value);
    }
    let (head, rest) = match path.split_once('.') {
        Some((h, r)) => (h, r),
        None => (path, ""),
    };
    // `a[k=v]`: the element of array `a` whose `k` is the string `v`.
    if let Some((key, filter)) = head.strip_suffix(']').and_then(|h| h.split_once('['))
        && let Some((field, want)) = filter.split_once('=')
    {
        let item = value
            .get(key)?
            .as_array()?
            .iter()
            .find(|item| item.get(field).and_then(Value::as_str) == Some(want))?;
        return at_path(item, rest);
    }
    if let Some(key) = head.strip_suffix("[]") {
        let items = value.get(key)?.as_array()?;
        return items
            .iter()
            .filter_map(|item| at_path(item, rest))
            .find(|v| !v.is_null());
    }
    at_path(value.get(head)?, rest)
}

/// The matcher and the re-blessing the docs tests stand on: an elision must match what it
/// stands for and nothing may match what a page does not show.
#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn docs_matcher_elisions_stand_for_lines_and_text_and_nothing_else() {
        let printed = lines("STATE  ARTIFACT\nfresh  a\nmissing  b\n\n2 artifacts at 12:00");
        assert!(output_matches(
            &lines("STATE  ARTIFACT\n...\n2 artifacts at [..]"),
            &printed
        ));
        assert!(output_matches(&lines("...\nmissing  b\n..."), &printed));
        assert!(output_matches(
            &lines("STATE  ARTIFACT\n...\n...\n2 artifacts at 12:00"),
            &printed
        ));
        // A changed line, a missing line, an extra line: each is a difference.
        assert!(!output_matches(
            &lines("STATE  ARTIFACT\nfresh  a\nmissing  c\n\n2 artifacts at [..]"),
            &printed
        ));
        assert!(!output_matches(
            &lines("STATE  ARTIFACT\nfresh  a\n\n2 artifacts at 12:00"),
            &printed
        ));
        assert!(!output_matches(
            &lines("STATE  ARTIFACT\nfresh  a\nmissing  b\n\n2 artifacts at 12:00\nmore"),
            &printed
        ));
        // `[..]` stays within its line and keeps both ends.
        assert!(line_matches("a [..] c [..]", "a b c d"));
        assert!(!line_matches("a [..] c", "a b d"));
        assert!(!line_matches("[..]x[..]x", "x"));
        assert!(!output_matches(&lines("STATE[..]"), &printed));
    }

    #[test]
    fn docs_bless_keeps_what_still_matches_and_takes_the_rest_from_the_output() {
        let shown = lines("header [..]\n...\nsummary: 2 fresh\n...");
        let printed = lines("header at 12:00\nrow 1\nrow 2\nsummary: 3 fresh\ndigest");
        let blessed = bless(&shown, &printed);
        assert!(output_matches(&blessed, &printed), "{blessed:?}");
        assert_eq!(blessed[0], "header [..]");
        assert!(
            blessed.contains(&"summary: 3 fresh".to_string()),
            "{blessed:?}"
        );
        // Nothing to do when the page is true: the same lines come back.
        let true_page = lines("header [..]\n...\nsummary: 3 fresh\n...");
        assert_eq!(bless(&true_page, &printed), true_page);
    }

    #[test]
    fn docs_json_keys_missing_and_invented_are_both_named() {
        let real = serde_json::json!({"a": 1, "rows": [{"x": 1, "y": 2}, {"x": 3}], "m": {"id1": {"k": 1}}});
        let example =
            serde_json::json!({"a": 1, "b": 2, "rows": [{"y": 2}], "m": {"other": {"k": 1}}});
        let found = key_differences(&example, &real, &["m".to_string()]);
        assert!(
            found.iter().any(|f| f.starts_with("b: the example has it")),
            "{found:?}"
        );
        assert!(
            found
                .iter()
                .any(|f| f.starts_with("rows[].x: the real one has it")),
            "{found:?}"
        );
        assert!(
            !found.iter().any(|f| f.contains("rows[].y")),
            "y is optional: {found:?}"
        );
        assert!(
            !found.iter().any(|f| f.contains("other")),
            "m's keys are data: {found:?}"
        );
        assert_eq!(found.len(), 2, "{found:?}");
    }
}
