//! `coverage --update`: the pins file rewritten with the current counts.
//!
//! The operator's file is edited, not regenerated: only the `files:` block is replaced, so
//! `include`, `exempt`, `patterns` and every comment outside the block stay exactly as written.
//! Inside the block, a comment on a pin's line or on the lines just above it stays with that
//! pin as long as the file is pinned. Pins are sorted by path, so the output is stable: running
//! `--update` twice changes nothing the second time. Should the edit not read back as the
//! intended pins (an unusual layout, such as the whole file in flow style), the file is written
//! afresh from the parsed settings with the standard explanatory header instead.

use std::collections::BTreeMap;

use super::pins::{Pins, single_quoted};
use super::scan::SiteCounts;

/// The header of a pins file written from scratch: what each key means.
pub const HEADER: &str = "\
# Producer coverage pins, checked by `freshness-monitor coverage` in CI.
# include:  globs of the git-tracked files that may write to S3 (a glob without `/`
#           matches the file name in any directory)
# exempt:   path prefixes that are never scanned (tests, fixtures, vendored code)
# patterns: regexes; each match in a producer file is one S3 write site
# files:    write sites per producer file; every one is registered in ARTIFACT_REGISTRY.yaml
#           or under one of its grandfathered_paths. Rewritten by `--update`.
";

/// The pins `--update` writes: every producer file with at least one write site.
pub fn new_pins(counts: &SiteCounts) -> BTreeMap<String, usize> {
    counts
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(p, n)| (p.clone(), *n))
        .collect()
}

/// What `--update` changes, for the operator to review in the log.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PinChanges {
    pub added: Vec<(String, usize)>,
    pub removed: Vec<(String, usize)>,
    /// Path, old count, new count.
    pub changed: Vec<(String, usize, usize)>,
}

impl PinChanges {
    pub fn between(pins: &Pins, new: &BTreeMap<String, usize>) -> PinChanges {
        let mut changes = PinChanges::default();
        for (path, &n) in new {
            match pins.files.get(path) {
                None => changes.added.push((path.clone(), n)),
                Some(pin) if pin.sites != n => changes.changed.push((path.clone(), pin.sites, n)),
                Some(_) => {}
            }
        }
        for (path, pin) in &pins.files {
            if !new.contains_key(path) {
                changes.removed.push((path.clone(), pin.sites));
            }
        }
        changes
    }

    pub fn is_empty(&self) -> bool {
        self.added.is_empty() && self.removed.is_empty() && self.changed.is_empty()
    }

    /// One line per change: `pinned a.py: 2`, `unpinned b.py (was 1)`, `re-pinned c.py: 1 -> 3`.
    pub fn lines(&self) -> Vec<String> {
        let mut out = Vec::new();
        out.extend(self.added.iter().map(|(p, n)| format!("pinned {p}: {n}")));
        out.extend(
            self.removed
                .iter()
                .map(|(p, n)| format!("unpinned {p} (was {n})")),
        );
        out.extend(
            self.changed
                .iter()
                .map(|(p, old, new)| format!("re-pinned {p}: {old} -> {new}")),
        );
        out
    }
}

/// The new text of the pins file. `original` is its current text (`None` when it does not
/// exist yet); `pins` is that text parsed.
pub fn updated_text(original: Option<&str>, pins: &Pins, new: &BTreeMap<String, usize>) -> String {
    let Some(original) = original.filter(|t| !t.trim().is_empty()) else {
        return fresh_file(pins, new);
    };
    match edit_files_block(original, pins, new) {
        Some(text) if reads_back_as(&text, pins, new) => text,
        _ => fresh_file(pins, new),
    }
}

/// The whole file from the parsed settings: the header, the three settings, the pins.
pub fn fresh_file(pins: &Pins, new: &BTreeMap<String, usize>) -> String {
    let list = |items: &[super::pins::Written]| {
        let quoted: Vec<String> = items.iter().map(|w| single_quoted(&w.text)).collect();
        format!("[{}]", quoted.join(", "))
    };
    let mut out = String::from(HEADER);
    out += &format!("include: {}\n", list(&pins.include));
    out += &format!("exempt: {}\n", list(&pins.exempt));
    out += &format!("patterns: {}\n", list(&pins.patterns));
    out += &files_block("", "  ", "", new, &BTreeMap::new(), "\n");
    out
}

/// Comments that travel with a pin: full-line comments just above it, and one at its end.
#[derive(Debug, Default)]
struct PinComments {
    above: Vec<String>,
    inline: Option<String>,
}

fn edit_files_block(original: &str, pins: &Pins, new: &BTreeMap<String, usize>) -> Option<String> {
    let newline = if original.contains("\r\n") {
        "\r\n"
    } else {
        "\n"
    };
    let lines: Vec<&str> = original.split_inclusive('\n').collect();
    let Some(files_line) = pins
        .key_lines
        .iter()
        .find(|(k, _)| k == "files")
        .map(|(_, l)| *l)
    else {
        // No `files:` yet: add the block at the end.
        let mut out = original.to_string();
        if !out.ends_with('\n') {
            out += newline;
        }
        out += &files_block("", "  ", "", new, &BTreeMap::new(), newline);
        return Some(out);
    };

    let start = files_line - 1;
    let key_text = lines.get(start)?;
    let body = key_text.trim_start();
    let indent = &key_text[..key_text.len() - body.len()];
    let after_key = body.strip_prefix("files")?;
    if !after_key.trim_start().starts_with(':') {
        return None; // a quoted key or some other layout: write the file afresh
    }
    if pins
        .key_lines
        .iter()
        .any(|(k, l)| k != "files" && *l == files_line)
    {
        return None; // the whole mapping on one line
    }

    let end = files_block_end(&lines, pins, files_line, indent.len());
    let (comments, entry_indent) = pin_comments(&lines, pins, files_line, end)?;
    let entry_indent = entry_indent.unwrap_or_else(|| format!("{indent}  "));
    let key_comment = inline_comment(key_text)
        .map(|c| format!("  {c}"))
        .unwrap_or_default();

    let mut out: String = lines[..start].concat();
    out += &files_block(indent, &entry_indent, &key_comment, new, &comments, newline);
    out += &lines[end..].concat();
    Some(out)
}

/// Where the `files:` block ends: at the next top-level key, less the comments and blank
/// lines just before that key (or at the end of the file), which belong to what follows.
fn files_block_end(lines: &[&str], pins: &Pins, files_line: usize, key_indent: usize) -> usize {
    let start = files_line - 1;
    let next_key = pins
        .key_lines
        .iter()
        .map(|(_, l)| *l)
        .filter(|l| *l > files_line)
        .min();
    let mut end = next_key
        .map(|l| l - 1)
        .unwrap_or(lines.len())
        .min(lines.len());
    while end > start + 1 {
        let line = lines[end - 1];
        let trimmed = line.trim_start();
        let line_indent = line.len() - trimmed.len();
        if trimmed.trim().is_empty() || (trimmed.starts_with('#') && line_indent <= key_indent) {
            end -= 1;
        } else {
            break;
        }
    }
    end
}

/// The comments each pin carries (full-line comments just above it, one at its end) and the
/// indentation of the block's entries, if any entry has its own line.
fn pin_comments(
    lines: &[&str],
    pins: &Pins,
    files_line: usize,
    end: usize,
) -> Option<(BTreeMap<String, PinComments>, Option<String>)> {
    let start = files_line - 1;
    let mut comments: BTreeMap<String, PinComments> = BTreeMap::new();
    let mut entry_indent: Option<String> = None;
    for (path, pin) in &pins.files {
        if pin.line == files_line || pin.line > end {
            continue; // flow style on the key's line: nothing to carry
        }
        let line = lines.get(pin.line - 1)?;
        let trimmed = line.trim_start();
        entry_indent.get_or_insert_with(|| line[..line.len() - trimmed.len()].to_string());
        let mut above = Vec::new();
        let mut i = pin.line - 1;
        while i > start + 1 && lines[i - 1].trim_start().starts_with('#') {
            above.push(lines[i - 1].trim().to_string());
            i -= 1;
        }
        above.reverse();
        comments.insert(
            path.clone(),
            PinComments {
                above,
                inline: inline_comment(line),
            },
        );
    }
    Some((comments, entry_indent))
}

fn files_block(
    indent: &str,
    entry_indent: &str,
    key_comment: &str,
    new: &BTreeMap<String, usize>,
    comments: &BTreeMap<String, PinComments>,
    newline: &str,
) -> String {
    if new.is_empty() {
        return format!("{indent}files: {{}}{key_comment}{newline}");
    }
    let mut out = format!("{indent}files:{key_comment}{newline}");
    for (path, n) in new {
        let carried = comments.get(path);
        for comment in carried.iter().flat_map(|c| &c.above) {
            out += &format!("{entry_indent}{comment}{newline}");
        }
        let inline = carried
            .and_then(|c| c.inline.as_deref())
            .map(|c| format!("  {c}"))
            .unwrap_or_default();
        out += &format!("{entry_indent}{}: {n}{inline}{newline}", yaml_key(path));
    }
    out
}

/// The comment at the end of a YAML line (`# ...`), if any: a `#` outside quotes and after
/// whitespace.
fn inline_comment(line: &str) -> Option<String> {
    let (mut single, mut double, mut escaped) = (false, false, false);
    let mut after_space = true;
    for (i, c) in line.char_indices() {
        if double {
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => double = false,
                _ => {}
            }
        } else if single {
            single = c != '\'';
        } else {
            match c {
                '\'' => single = true,
                '"' => double = true,
                '#' if after_space => return Some(line[i..].trim_end().to_string()),
                _ => {}
            }
        }
        after_space = c.is_whitespace();
    }
    None
}

/// A path as a YAML mapping key: plain when it can only read back as that text, otherwise
/// double-quoted (JSON's escapes are YAML's).
fn yaml_key(path: &str) -> String {
    let safe_chars = path
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "_./+@-".contains(c));
    let safe_start = path
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.');
    let lower = path.to_ascii_lowercase();
    let reads_as_other = path.parse::<f64>().is_ok()
        || path.parse::<i64>().is_ok()
        || matches!(
            lower.as_str(),
            "null" | "true" | "false" | "yes" | "no" | "on" | "off" | "y" | "n" | ".inf" | ".nan"
        )
        || lower.trim_start_matches(['+', '-', '.']).starts_with("inf") && lower.ends_with("inf");
    if safe_chars && safe_start && !reads_as_other {
        path.to_string()
    } else {
        serde_json::to_string(path).expect("a string serializes")
    }
}

fn reads_back_as(text: &str, pins: &Pins, new: &BTreeMap<String, usize>) -> bool {
    let Ok(again) = Pins::parse(text) else {
        return false;
    };
    let texts =
        |list: &[super::pins::Written]| list.iter().map(|w| w.text.clone()).collect::<Vec<_>>();
    texts(&again.include) == texts(&pins.include)
        && texts(&again.exempt) == texts(&pins.exempt)
        && texts(&again.patterns) == texts(&pins.patterns)
        && again.files.len() == new.len()
        && again
            .files
            .iter()
            .all(|(p, pin)| new.get(p) == Some(&pin.sites))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn new(items: &[(&str, usize)]) -> BTreeMap<String, usize> {
        items.iter().map(|(p, n)| (p.to_string(), *n)).collect()
    }

    fn update(text: &str, items: &[(&str, usize)]) -> String {
        let pins = Pins::parse(text).unwrap();
        updated_text(Some(text), &pins, &new(items))
    }

    #[test]
    fn only_the_files_block_changes_and_comments_stay() {
        let text = "\
# what counts as a producer file and an S3 write site
include: [\"*.py\"]   # python only
files:   # managed by --update
  # the signal writer
  pipelines/signals.py: 2  # signals + manifest
  old.py: 1  # retired soon

# exempt tests: they write to moto
exempt: [\"tests/\"]
patterns: ['\\b(?:put_object|upload_file)\\(']
";
        let out = update(text, &[("pipelines/signals.py", 3), ("a.py", 1)]);
        assert_eq!(
            out,
            "\
# what counts as a producer file and an S3 write site
include: [\"*.py\"]   # python only
files:  # managed by --update
  a.py: 1
  # the signal writer
  pipelines/signals.py: 3  # signals + manifest

# exempt tests: they write to moto
exempt: [\"tests/\"]
patterns: ['\\b(?:put_object|upload_file)\\(']
"
        );
        assert_eq!(
            update(&out, &[("pipelines/signals.py", 3), ("a.py", 1)]),
            out,
            "stable"
        );
    }

    #[test]
    fn a_file_without_files_gets_the_block_appended() {
        let text = "# my pins\ninclude: ['*.go']\npatterns: ['\\.PutObject\\(']";
        let out = update(text, &[("cmd/main.go", 2)]);
        assert_eq!(
            out,
            "# my pins\ninclude: ['*.go']\npatterns: ['\\.PutObject\\(']\nfiles:\n  cmd/main.go: 2\n"
        );
        let out = update("files:\n  a.py: 1\n", &[]);
        assert_eq!(out, "files: {}\n");
    }

    #[test]
    fn a_new_file_is_written_with_the_header_and_defaults() {
        let out = updated_text(None, &Pins::defaults(), &new(&[("b.py", 1), ("a.py", 2)]));
        assert!(out.starts_with(HEADER));
        assert!(
            out.ends_with(
                "include: ['*.py']\nexempt: []\npatterns: ['\\b(?:put_object|upload_file)\\(']\n\
             files:\n  a.py: 2\n  b.py: 1\n"
            ),
            "{out}"
        );
        let pins = Pins::parse(&out).unwrap();
        assert_eq!(pins.files["a.py"].sites, 2);
    }

    #[test]
    fn flow_style_files_become_a_block_and_odd_layouts_are_rewritten() {
        let out = update("include: ['*.py']\nfiles: {a.py: 1}\n", &[("a.py", 2)]);
        assert_eq!(out, "include: ['*.py']\nfiles:\n  a.py: 2\n");
        let out = update("{include: ['*.py'], files: {a.py: 1}}\n", &[("a.py", 2)]);
        assert!(out.starts_with(HEADER), "{out}");
        assert_eq!(Pins::parse(&out).unwrap().files["a.py"].sites, 2);
    }

    #[test]
    fn odd_paths_are_quoted_so_they_read_back() {
        for path in [
            "123", "true", "null", "-x.py", "a b.py", "a: b.py", "a #b.py", "ü.py", "1e5", "'q'.py",
        ] {
            let out = update("files: {}\n", &[(path, 1)]);
            let pins = Pins::parse(&out).unwrap_or_else(|e| panic!("{path}: {e}\n{out}"));
            assert_eq!(pins.files.keys().collect::<Vec<_>>(), [path], "{out}");
        }
        assert_eq!(yaml_key("pipelines/signals.py"), "pipelines/signals.py");
    }

    #[test]
    fn inline_comments_ignore_hashes_in_quotes_and_words() {
        assert_eq!(inline_comment("a.py: 1 # x").as_deref(), Some("# x"));
        assert_eq!(inline_comment("\"a #b.py\": 1").as_deref(), None);
        assert_eq!(inline_comment("'a #b.py': 1  # c").as_deref(), Some("# c"));
        assert_eq!(inline_comment("a#b.py: 1").as_deref(), None);
    }

    #[test]
    fn changes_list_what_moved() {
        let pins = Pins::parse("files:\n  a.py: 1\n  b.py: 2\n").unwrap();
        let changes = PinChanges::between(&pins, &new(&[("b.py", 3), ("c.py", 1)]));
        assert_eq!(
            changes.lines(),
            [
                "pinned c.py: 1",
                "unpinned a.py (was 1)",
                "re-pinned b.py: 2 -> 3"
            ]
        );
    }
}
