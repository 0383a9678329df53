//! The pins file: which files are producers, what a write site looks like, and how many
//! write sites each producer file is known to have.
//!
//! ```yaml
//! include: ["*.py"]                              # globs of producer files
//! exempt: ["tests/"]                             # path prefixes never scanned
//! patterns: ['\b(?:put_object|upload_file)\(']   # one match = one write site
//! files:
//!   pipelines/signals.py: 2
//! ```
//!
//! Parsing compiles the globs and regexes at once, so a [`Pins`] is always usable and every
//! mistake (unknown key, wrong type, invalid regex, a count that is not a whole number) is
//! reported with its line before anything is scanned.

use std::collections::BTreeMap;

use globset::{GlobBuilder, GlobSet, GlobSetBuilder};
use regex::bytes::{Regex, RegexBuilder};

use super::InputError;
use freshness_core::text::did_you_mean;
use freshness_core::text::one_line;
use freshness_core::yaml::{self, Node, ScalarKind};

/// Producer files when the pins file has no `include`.
pub const DEFAULT_INCLUDE: &[&str] = &["*.py"];

/// Write sites when the pins file has no `patterns`: a boto3 `put_object(` or `upload_file(`
/// call. The `(` keeps a mention of the name in prose or a docstring from counting.
pub const DEFAULT_PATTERNS: &[&str] = &[r"\b(?:put_object|upload_file)\("];

/// The top-level keys a pins file may have.
pub const KEYS: &[&str] = &["include", "exempt", "patterns", "files"];

/// A setting as written in the pins file, with its line (`None` for a built-in default).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Written {
    pub text: String,
    pub line: Option<usize>,
}

/// One pinned file: its expected number of write sites and the line of its entry.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pin {
    pub sites: usize,
    pub line: usize,
}

/// A parsed, valid pins file.
#[derive(Debug, Clone)]
pub struct Pins {
    pub include: Vec<Written>,
    pub exempt: Vec<Written>,
    pub patterns: Vec<Written>,
    /// Pinned files by repo-relative path, sorted.
    pub files: BTreeMap<String, Pin>,
    /// Which files are producers.
    pub scope: Scope,
    /// What a write site is.
    pub counter: SiteCounter,
    /// The top-level keys as written, with their lines, for `--update` to edit the text.
    pub(crate) key_lines: Vec<(String, usize)>,
}

/// Why a tracked file is not a producer file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum OutOfScope {
    /// Under this `exempt` prefix.
    Exempt(String),
    /// Matched by no `include` glob.
    NotIncluded,
}

/// Decides which repo-relative paths are producer files: matched by an `include` glob and not
/// under an `exempt` prefix.
#[derive(Debug, Clone)]
pub struct Scope {
    include: GlobSet,
    exempt: Vec<String>,
}

impl Scope {
    /// `Ok(())` for a producer file, otherwise why not.
    pub fn classify(&self, path: &str) -> Result<(), OutOfScope> {
        if let Some(prefix) = self.exempt.iter().find(|p| path.starts_with(p.as_str())) {
            return Err(OutOfScope::Exempt(prefix.clone()));
        }
        if self.include.is_match(path) {
            Ok(())
        } else {
            Err(OutOfScope::NotIncluded)
        }
    }

    pub fn contains(&self, path: &str) -> bool {
        self.classify(path).is_ok()
    }
}

/// Counts write sites in a file's bytes: the non-overlapping matches of all `patterns` taken
/// together (one alternation), so a call that two patterns both match counts once.
#[derive(Debug, Clone)]
pub struct SiteCounter {
    regex: Regex,
}

impl SiteCounter {
    pub fn count(&self, content: &[u8]) -> usize {
        self.regex
            .find_iter(content)
            .filter(|m| !m.is_empty())
            .count()
    }
}

impl Pins {
    /// The pins of a file that does not exist yet: built-in defaults, nothing pinned.
    pub fn defaults() -> Pins {
        let defaults = |list: &[&str]| -> Vec<Written> {
            list.iter()
                .map(|t| Written {
                    text: t.to_string(),
                    line: None,
                })
                .collect()
        };
        let include = defaults(DEFAULT_INCLUDE);
        let patterns = defaults(DEFAULT_PATTERNS);
        Pins {
            scope: compile_scope(&include, &[]).expect("default globs compile"),
            counter: compile_counter(&patterns).expect("default patterns compile"),
            include,
            exempt: Vec::new(),
            patterns,
            files: BTreeMap::new(),
            key_lines: Vec::new(),
        }
    }

    /// Parses and compiles a pins file's text. An empty file (or one with only comments)
    /// is the defaults with nothing pinned.
    pub fn parse(text: &str) -> Result<Pins, InputError> {
        let root = yaml::parse_document(text).map_err(|e| InputError::at(e.line, e.message))?;
        let Some(root) = root else {
            return Ok(Pins::defaults());
        };
        let Some(entries) = root.as_map() else {
            return Err(InputError::at(
                root.line,
                format!(
                    "a pins file is a mapping with the keys {}; found {}",
                    KEYS.join(", "),
                    root.describe()
                ),
            ));
        };

        let mut include = None;
        let mut exempt = None;
        let mut patterns = None;
        let mut files = None;
        let mut key_lines: Vec<(String, usize)> = Vec::new();
        for entry in entries {
            if let Some((_, first)) = key_lines.iter().find(|(k, _)| *k == entry.key) {
                return Err(InputError::at(
                    entry.key_line,
                    format!(
                        "key `{}` appears twice (first on line {first}); keep one",
                        entry.key
                    ),
                ));
            }
            key_lines.push((entry.key.clone(), entry.key_line));
            let value = &entry.value;
            match entry.key.as_str() {
                "include" => include = text_list("include", value, "glob")?,
                "exempt" => exempt = text_list("exempt", value, "path prefix")?,
                "patterns" => patterns = text_list("patterns", value, "regex")?,
                "files" => files = Some(pinned_files(value)?),
                other => {
                    let hint = match did_you_mean(other, KEYS) {
                        Some(k) => format!("did you mean `{k}`?"),
                        None => format!("the keys are {}", KEYS.join(", ")),
                    };
                    return Err(InputError::at(
                        entry.key_line,
                        format!("unknown key `{other}` in the pins file; {hint}"),
                    ));
                }
            }
        }

        let defaults = Pins::defaults();
        let include = include.unwrap_or(defaults.include);
        let exempt = exempt.unwrap_or_default();
        let patterns = patterns.unwrap_or(defaults.patterns);
        check_not_empty("include", &include, &key_lines)?;
        check_not_empty("patterns", &patterns, &key_lines)?;
        for prefix in &exempt {
            check_relative_path("exempt", prefix)?;
        }
        Ok(Pins {
            scope: compile_scope(&include, &exempt)?,
            counter: compile_counter(&patterns)?,
            include,
            exempt,
            patterns,
            files: files.unwrap_or_default(),
            key_lines,
        })
    }
}

/// A list of non-empty text items; `None` when the key holds null (as if absent).
fn text_list(key: &str, node: &Node, item: &str) -> Result<Option<Vec<Written>>, InputError> {
    if node.is_null() {
        return Ok(None);
    }
    let Some(items) = node.as_seq() else {
        let hint = match node.as_scalar() {
            Some(text) => format!(" (write a list: {key}: [{}])", single_quoted(text)),
            None => String::new(),
        };
        return Err(InputError::at(
            node.line,
            format!(
                "`{key}` must be a list of {item}s; found {}{hint}",
                node.describe()
            ),
        ));
    };
    let mut out = Vec::with_capacity(items.len());
    for (i, element) in items.iter().enumerate() {
        let text = match element.as_scalar() {
            Some(text) if !element.is_null() => text,
            _ => {
                return Err(InputError::at(
                    element.line,
                    format!(
                        "`{key}[{i}]` must be a {item} (text); found {}",
                        element.describe()
                    ),
                ));
            }
        };
        if text.trim().is_empty() {
            return Err(InputError::at(
                element.line,
                format!("`{key}[{i}]` is empty; remove it or write a {item}"),
            ));
        }
        out.push(Written {
            text: text.to_string(),
            line: Some(element.line),
        });
    }
    Ok(Some(out))
}

fn check_not_empty(
    key: &str,
    list: &[Written],
    key_lines: &[(String, usize)],
) -> Result<(), InputError> {
    if list.is_empty() {
        let line = key_lines
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, l)| *l)
            .unwrap_or(1);
        return Err(InputError::at(
            line,
            format!(
                "`{key}` is an empty list, so nothing would ever be counted; \
                 give at least one or remove the key for the default"
            ),
        ));
    }
    Ok(())
}

/// Paths in the pins file are relative to the repository root, as `git ls-files` prints them.
fn check_relative_path(key: &str, written: &Written) -> Result<(), InputError> {
    let text = &written.text;
    let problem = if text.starts_with('/') {
        Some("starts with `/`")
    } else if text.starts_with("./") {
        Some("starts with `./`")
    } else if text.contains('\\') {
        Some("contains `\\` (git paths use `/`)")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(InputError::at(
            written.line.unwrap_or(1),
            format!(
                "`{key}` entry {} {problem}; write it relative to the repository root, \
                 as `git ls-files` prints paths (e.g. `tests/`)",
                freshness_core::text::quote_short(text)
            ),
        )),
        None => Ok(()),
    }
}

fn pinned_files(node: &Node) -> Result<BTreeMap<String, Pin>, InputError> {
    let mut files = BTreeMap::new();
    if node.is_null() {
        return Ok(files);
    }
    let Some(entries) = node.as_map() else {
        return Err(InputError::at(
            node.line,
            format!(
                "`files` must be a mapping of path to number of write sites \
                 (`pipelines/signals.py: 2`); found {}",
                node.describe()
            ),
        ));
    };
    for entry in entries {
        let path = &entry.key;
        let written = Written {
            text: path.clone(),
            line: Some(entry.key_line),
        };
        if path.trim().is_empty() {
            return Err(InputError::at(entry.key_line, "`files` has an empty path"));
        }
        check_relative_path("files", &written)?;
        if let Some(Pin { line, .. }) = files.get(path) {
            return Err(InputError::at(
                entry.key_line,
                format!("`files`: {path} is pinned twice (first on line {line}); keep one"),
            ));
        }
        let sites = match entry.value.scalar_kind() {
            Some(ScalarKind::Int(n)) if n >= 1 => n as usize,
            Some(ScalarKind::Int(n)) => {
                return Err(InputError::at(
                    entry.value.line,
                    format!(
                        "`files`: {path}: {n} is not a pin; a pinned file has at least one \
                         write site (remove the entry if it has none)"
                    ),
                ));
            }
            _ => {
                return Err(InputError::at(
                    entry.value.line,
                    format!(
                        "`files`: {path}: expected a whole number of write sites, found {}",
                        entry.value.describe()
                    ),
                ));
            }
        };
        files.insert(
            path.clone(),
            Pin {
                sites,
                line: entry.key_line,
            },
        );
    }
    Ok(files)
}

/// Include globs follow `.gitignore`: a glob without `/` matches the file name in any
/// directory (`*.py`); one with `/` matches the whole path from the repository root (a leading
/// `/` changes nothing), where `*` stays within one directory and `**` crosses them
/// (`pipelines/**/*.py`); one ending with `/` takes everything under that directory.
fn compile_scope(include: &[Written], exempt: &[Written]) -> Result<Scope, InputError> {
    let mut set = GlobSetBuilder::new();
    for (i, glob) in include.iter().enumerate() {
        let anchored = glob.text.contains('/');
        let mut full = glob.text.trim_start_matches('/').to_string();
        if full.ends_with('/') {
            full.push_str("**"); // a directory: everything under it
        }
        if !anchored {
            full = format!("**/{full}");
        }
        let compiled = GlobBuilder::new(&full)
            .literal_separator(true)
            .build()
            .map_err(|e| {
                InputError::at(
                    glob.line.unwrap_or(1),
                    format!(
                        "`include[{i}]` {} is not a valid glob: {}",
                        freshness_core::text::quote_short(&glob.text),
                        e.kind()
                    ),
                )
            })?;
        set.add(compiled);
    }
    let include = set
        .build()
        .map_err(|e| InputError::at(1, format!("the include globs cannot be combined: {e}")))?;
    Ok(Scope {
        include,
        exempt: exempt.iter().map(|w| w.text.clone()).collect(),
    })
}

/// Each pattern is checked alone first (so an error names it), then all are joined into one
/// alternation. Patterns are multi-line: `^` and `$` match at line boundaries.
fn compile_counter(patterns: &[Written]) -> Result<SiteCounter, InputError> {
    let build = |text: &str| RegexBuilder::new(text).multi_line(true).build();
    for (i, pattern) in patterns.iter().enumerate() {
        let line = pattern.line.unwrap_or(1);
        let regex = build(&pattern.text).map_err(|e| {
            InputError::at(
                line,
                format!(
                    "`patterns[{i}]` {} is not a valid regex: {}",
                    freshness_core::text::quote_short(&pattern.text),
                    one_line(&e.to_string())
                ),
            )
        })?;
        if regex.is_match(b"") {
            return Err(InputError::at(
                line,
                format!(
                    "`patterns[{i}]` {} matches the empty text, so it would count write \
                     sites everywhere; make it match the call itself",
                    freshness_core::text::quote_short(&pattern.text)
                ),
            ));
        }
    }
    let joined = patterns
        .iter()
        .map(|p| format!("(?:{})", p.text))
        .collect::<Vec<_>>()
        .join("|");
    let regex = build(&joined).map_err(|e| {
        InputError::at(
            patterns.first().and_then(|p| p.line).unwrap_or(1),
            format!(
                "the patterns are valid alone but cannot be combined (the same capture \
                 group name twice?): {}",
                one_line(&e.to_string())
            ),
        )
    })?;
    Ok(SiteCounter { regex })
}

/// `'text'` as a YAML single-quoted scalar.
pub(crate) fn single_quoted(text: &str) -> String {
    format!("'{}'", text.replace('\'', "''"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn err(text: &str) -> InputError {
        Pins::parse(text).unwrap_err()
    }

    #[test]
    fn a_full_pins_file_parses() {
        let pins = Pins::parse(
            "# pins\ninclude: ['*.py', 'bin/*']\nexempt: [tests/]\n\
             patterns: ['\\bput_object\\(']\nfiles:\n  pipelines/signals.py: 2\n  a.py: 1\n",
        )
        .unwrap();
        assert_eq!(pins.include.len(), 2);
        assert_eq!(pins.exempt[0].text, "tests/");
        assert_eq!(
            pins.files["pipelines/signals.py"],
            Pin { sites: 2, line: 6 }
        );
        assert_eq!(
            pins.files.keys().collect::<Vec<_>>(),
            ["a.py", "pipelines/signals.py"]
        );
    }

    #[test]
    fn empty_file_and_absent_keys_mean_defaults_and_no_pins() {
        for text in ["", "# nothing yet\n", "files:\n", "files: {}\n"] {
            let pins = Pins::parse(text).unwrap();
            assert!(pins.files.is_empty(), "{text:?}");
            assert_eq!(pins.include[0].text, "*.py");
            assert_eq!(pins.patterns[0].text, DEFAULT_PATTERNS[0]);
        }
    }

    #[test]
    fn include_globs_follow_gitignore_rules() {
        let pins = Pins::parse(
            "include: ['*.py', 'jobs/*.sh', 'src/**/*.rs', '/top.sql', 'etl/']\n\
             exempt: [tests/, vendor]\n",
        )
        .unwrap();
        let scope = &pins.scope;
        assert!(scope.contains("a.py"));
        assert!(scope.contains("deep/down/a.py"));
        assert!(scope.contains("jobs/run.sh"));
        assert!(
            !scope.contains("jobs/x/run.sh"),
            "`*` stays in one directory"
        );
        assert!(
            !scope.contains("other/jobs/run.sh"),
            "a glob with `/` is anchored"
        );
        assert!(scope.contains("src/a/b/c.rs"));
        assert!(scope.contains("src/c.rs"));
        assert!(!scope.contains("a.pyc"));
        assert!(scope.contains("top.sql"));
        assert!(
            !scope.contains("sub/top.sql"),
            "a leading `/` anchors at the root"
        );
        assert!(
            scope.contains("etl/load/any.txt"),
            "a directory takes everything under it"
        );
        assert!(!scope.contains("old/etl/x.txt"));
        assert_eq!(
            scope.classify("tests/test_a.py"),
            Err(OutOfScope::Exempt("tests/".into()))
        );
        assert!(
            !scope.contains("vendored/x.py"),
            "exempt entries are plain prefixes"
        );
        assert_eq!(scope.classify("a.txt"), Err(OutOfScope::NotIncluded));
    }

    #[test]
    fn default_pattern_counts_calls_not_mentions() {
        let pins = Pins::defaults();
        let text = b"\"\"\"Uses put_object and upload_file under the hood.\"\"\"\n\
                     s3.put_object(Bucket=b, Key=k)\nclient.upload_file (x)\n\
                     client.upload_file(f, b, k)\nmy_put_object(x)\n";
        assert_eq!(pins.counter.count(text), 2);
    }

    #[test]
    fn overlapping_patterns_count_a_site_once() {
        let pins =
            Pins::parse("patterns: ['put_object\\(', 's3\\.put_object\\(', '^upload']\n").unwrap();
        assert_eq!(
            pins.counter
                .count(b"s3.put_object(a)\nx.put_object(b)\nupload()\n"),
            3
        );
    }

    #[test]
    fn unknown_keys_get_a_suggestion_and_their_line() {
        let e = err("include: ['*.py']\npatern: ['x']\n");
        assert_eq!(e.line, Some(2));
        assert!(e.message.contains("unknown key `patern`"), "{e}");
        assert!(e.message.contains("did you mean `patterns`?"), "{e}");
        let e = err("owner: me\n");
        assert!(e.message.contains("the keys are include, exempt"), "{e}");
    }

    #[test]
    fn bad_values_are_refused_with_their_line() {
        let cases: &[(&str, usize, &str)] = &[
            ("include: '*.py'\n", 1, "must be a list of globs"),
            ("include: []\n", 1, "empty list"),
            ("patterns: []\n", 1, "empty list"),
            (
                "exempt:\n  - tests/\n  - [x]\n",
                3,
                "`exempt[1]` must be a path prefix",
            ),
            ("exempt: ['']\n", 1, "is empty"),
            ("exempt: [/abs/]\n", 1, "starts with `/`"),
            ("exempt: [./tests/]\n", 1, "starts with `./`"),
            (
                "patterns:\n  - 'ok\\('\n  - 'put_object('\n",
                3,
                "`patterns[1]` \"put_object(\" is not a valid regex",
            ),
            ("patterns: ['x*']\n", 1, "matches the empty text"),
            ("include: ['a[b']\n", 1, "not a valid glob"),
            ("files: [a.py]\n", 1, "must be a mapping of path"),
            ("files:\n  a.py: two\n", 2, "expected a whole number"),
            ("files:\n  a.py: '2'\n", 2, "expected a whole number"),
            ("files:\n  a.py: 1.5\n", 2, "expected a whole number"),
            ("files:\n  a.py: 0\n", 2, "0 is not a pin"),
            ("files:\n  a.py: -1\n", 2, "-1 is not a pin"),
            (
                "files:\n  a.py: 1\n  a.py: 2\n",
                3,
                "pinned twice (first on line 2)",
            ),
            ("files:\n  ./a.py: 1\n", 2, "starts with `./`"),
            ("files: {}\nfiles: {}\n", 2, "appears twice"),
            ("- a\n- b\n", 1, "a pins file is a mapping"),
            ("files: {a: 1\n", 2, "not valid YAML"),
        ];
        for (text, line, needle) in cases {
            let e = err(text);
            assert!(e.message.contains(needle), "{text:?}: {e}");
            assert_eq!(e.line, Some(*line), "{text:?}: {e}");
        }
    }

    #[test]
    fn regex_errors_fit_on_one_line() {
        let e = err("patterns: ['(unclosed']\n");
        assert!(!e.message.contains('\n'), "{e}");
    }
}
