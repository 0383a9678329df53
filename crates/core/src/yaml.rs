//! A YAML document as a small tree whose nodes remember their line.
//!
//! The registry's validation errors must name the line of the offending field, which a plain
//! `serde` deserializer cannot do once parsing has succeeded. This module drives `yaml-rust2`'s
//! event parser itself and builds a tree of [`Node`]s carrying their 1-based line, with the
//! guards an operator-edited file needs: one document only, a nesting limit, a budget on alias
//! expansion (no "billion laughs"), and YAML merge keys (`<<: *defaults`) as PyYAML reads them,
//! so registries written for the original Python monitor load unchanged.

use std::collections::HashMap;
use std::fmt;

use yaml_rust2::parser::{Event, Parser};
use yaml_rust2::scanner::TScalarStyle;

use crate::text::quote_short;

/// Containers nested deeper than this are refused: no registry needs it, and it keeps every
/// recursive walk over the tree (including `Drop`) far from the stack's limit.
pub const MAX_DEPTH: usize = 64;

/// How many nodes alias expansion may create in one document.
pub const MAX_ALIAS_NODES: usize = 100_000;

/// One node of the tree and the line (1-based) where it starts.
#[derive(Debug, Clone, PartialEq)]
pub struct Node {
    pub line: usize,
    pub value: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A scalar as written; `plain` is false for quoted and block scalars, which are always
    /// strings, while a plain scalar may read as null, a boolean or a number.
    Scalar {
        text: String,
        plain: bool,
    },
    Seq(Vec<Node>),
    Map(Vec<MapEntry>),
}

/// One `key: value` pair of a mapping. Duplicate keys are kept (in order) so that the
/// validator can report them instead of the parser silently keeping one.
#[derive(Debug, Clone, PartialEq)]
pub struct MapEntry {
    pub key: String,
    pub key_line: usize,
    pub value: Node,
}

/// Why a text could not be read as one YAML document.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct YamlError {
    pub line: usize,
    pub message: String,
}

/// What a plain scalar reads as, for type checks and messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScalarKind {
    Null,
    Bool(bool),
    Int(i64),
    Float,
    Str,
}

impl Node {
    pub fn as_map(&self) -> Option<&[MapEntry]> {
        match &self.value {
            Value::Map(entries) => Some(entries),
            _ => None,
        }
    }

    pub fn as_seq(&self) -> Option<&[Node]> {
        match &self.value {
            Value::Seq(items) => Some(items),
            _ => None,
        }
    }

    /// The text of a scalar, whatever it reads as.
    pub fn as_scalar(&self) -> Option<&str> {
        match &self.value {
            Value::Scalar { text, .. } => Some(text),
            _ => None,
        }
    }

    pub fn scalar_kind(&self) -> Option<ScalarKind> {
        match &self.value {
            Value::Scalar { text, plain } => Some(if *plain {
                plain_kind(text)
            } else {
                ScalarKind::Str
            }),
            _ => None,
        }
    }

    pub fn is_null(&self) -> bool {
        self.scalar_kind() == Some(ScalarKind::Null)
    }

    /// A short description of what the node is, for "expected X, found Y" messages.
    pub fn describe(&self) -> String {
        match &self.value {
            Value::Seq(_) => "a list".to_string(),
            Value::Map(_) => "a mapping".to_string(),
            Value::Scalar { text, .. } => match self.scalar_kind() {
                Some(ScalarKind::Null) => "nothing (null)".to_string(),
                Some(ScalarKind::Bool(b)) => format!("the boolean {b}"),
                Some(ScalarKind::Int(i)) => format!("the number {i}"),
                Some(ScalarKind::Float) => format!("the number {text}"),
                _ => format!("the text {}", quote_short(text)),
            },
        }
    }
}

fn plain_kind(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => ScalarKind::Null,
        "true" | "True" | "TRUE" => ScalarKind::Bool(true),
        "false" | "False" | "FALSE" => ScalarKind::Bool(false),
        _ => {
            if let Ok(i) = text.parse::<i64>() {
                ScalarKind::Int(i)
            } else if looks_like_float(text) {
                ScalarKind::Float
            } else {
                ScalarKind::Str
            }
        }
    }
}

fn looks_like_float(text: &str) -> bool {
    let t = text.trim_start_matches(['-', '+']);
    matches!(t, ".inf" | ".Inf" | ".INF" | ".nan" | ".NaN" | ".NAN")
        || (t.starts_with(|c: char| c.is_ascii_digit() || c == '.') && t.parse::<f64>().is_ok())
}

/// A container being built while its events arrive.
enum Open {
    Seq {
        line: usize,
        anchor: usize,
        items: Vec<Node>,
    },
    Map {
        line: usize,
        anchor: usize,
        entries: Vec<MapEntry>,
        pending_key: Option<(String, usize)>,
    },
}

/// Parses `text` as exactly one YAML document. `Ok(None)` means the text holds no document
/// at all (empty, or only comments).
pub fn parse_document(text: &str) -> Result<Option<Node>, YamlError> {
    parse_document_with(text, &mut |_, item| Some(item))
}

/// Like [`parse_document`], handing each finished item of the top-level `artifacts:` list to
/// `take_item` as soon as it is complete, with the top-level entries finished before it. The
/// item stays in the tree when `take_item` gives it back (`Some`) and is left out when it
/// takes it (`None`): a registry's loader reads items one at a time, so a 100,000-artifact
/// file never has its whole tree in memory.
pub fn parse_document_with(
    text: &str,
    take_item: &mut dyn FnMut(&[MapEntry], Node) -> Option<Node>,
) -> Result<Option<Node>, YamlError> {
    // A byte-order mark (as some Windows editors write) is not part of the first key.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let mut parser = Parser::new_from_str(text);
    let mut tree = TreeBuilder {
        text,
        line_starts: None,
        take_item,
        stack: Vec::new(),
        anchors: HashMap::new(),
        alias_nodes: 0,
        root: None,
        documents: 0,
    };
    loop {
        let (event, mark) = parser.next_token().map_err(|e| YamlError {
            line: e.marker().line().max(1),
            message: syntax_error_message(e.info()),
        })?;
        if matches!(event, Event::StreamEnd) {
            break;
        }
        if let Some((node, anchor)) = tree.event(event, mark.line().max(1))? {
            tree.place(node, anchor)?;
        }
    }
    Ok(tree.root)
}

/// The tree as the parser's events build it.
struct TreeBuilder<'t> {
    text: &'t str,
    /// Where each line of `text` starts, indexed when an empty list item needs it.
    line_starts: Option<Vec<usize>>,
    take_item: &'t mut dyn FnMut(&[MapEntry], Node) -> Option<Node>,
    /// The containers still open, outermost first.
    stack: Vec<Open>,
    anchors: HashMap<usize, Node>,
    /// Nodes created by alias expansion so far, against [`MAX_ALIAS_NODES`].
    alias_nodes: usize,
    root: Option<Node>,
    documents: usize,
}

impl TreeBuilder<'_> {
    /// The node `event` (at `line`) finishes, if any, with its anchor id (0: none).
    fn event(&mut self, event: Event, line: usize) -> Result<Option<(Node, usize)>, YamlError> {
        match event {
            Event::StreamStart | Event::StreamEnd | Event::Nothing | Event::DocumentEnd => Ok(None),
            Event::DocumentStart => {
                self.documents += 1;
                if self.documents > 1 {
                    return Err(YamlError {
                        line,
                        message: "expected one YAML document, found a second one (`---`)"
                            .to_string(),
                    });
                }
                Ok(None)
            }
            Event::Scalar(text, style, anchor, _tag) => {
                let plain = matches!(style, TScalarStyle::Plain);
                let value = Value::Scalar { text, plain };
                Ok(Some((Node { line, value }, anchor)))
            }
            Event::Alias(id) => self.alias(id, line).map(|node| Some((node, 0))),
            Event::SequenceStart(anchor, _) => self.open(
                Open::Seq {
                    line,
                    anchor,
                    items: Vec::new(),
                },
                line,
            ),
            Event::MappingStart(anchor, _) => self.open(
                Open::Map {
                    line,
                    anchor,
                    entries: Vec::new(),
                    pending_key: None,
                },
                line,
            ),
            Event::SequenceEnd | Event::MappingEnd => self.close(),
        }
    }

    /// A copy of the anchored node, within the document's alias budget.
    fn alias(&mut self, id: usize, line: usize) -> Result<Node, YamlError> {
        let Some(target) = self.anchors.get(&id) else {
            return Err(YamlError {
                line,
                message: "alias refers to an anchor that is not defined before it".to_string(),
            });
        };
        self.alias_nodes += count_nodes(target);
        if self.alias_nodes > MAX_ALIAS_NODES {
            return Err(YamlError {
                line,
                message: format!(
                    "aliases expand to more than {MAX_ALIAS_NODES} nodes; \
                     refusing to expand them (nested anchors and aliases?)"
                ),
            });
        }
        let mut copy = target.clone();
        copy.line = line;
        Ok(copy)
    }

    fn open(&mut self, container: Open, line: usize) -> Result<Option<(Node, usize)>, YamlError> {
        if self.stack.len() >= MAX_DEPTH {
            return Err(YamlError {
                line,
                message: format!("nesting deeper than {MAX_DEPTH} levels"),
            });
        }
        self.stack.push(container);
        Ok(None)
    }

    /// The container that ends, as a node.
    fn close(&mut self) -> Result<Option<(Node, usize)>, YamlError> {
        Ok(match self.stack.pop() {
            Some(Open::Seq {
                line,
                anchor,
                items,
            }) => Some((
                Node {
                    line,
                    value: Value::Seq(items),
                },
                anchor,
            )),
            Some(Open::Map {
                line,
                anchor,
                entries,
                ..
            }) => Some((
                Node {
                    line,
                    value: Value::Map(apply_merge_keys(entries)?),
                },
                anchor,
            )),
            None => None,
        })
    }

    /// Puts a finished node where it belongs: the root, a list, or a mapping as its pending
    /// key or that key's value. An item of the top-level `artifacts:` list is offered to
    /// `take_item` first.
    fn place(&mut self, mut node: Node, anchor: usize) -> Result<(), YamlError> {
        if let Some(Open::Seq { line: seq_line, .. }) = self.stack.last()
            && is_empty_plain(&node)
            && let Some(line) = self.dash_line(node.line, *seq_line)
        {
            node.line = line;
        }
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
        let node = match self.stack.as_mut_slice() {
            [
                Open::Map {
                    entries: top,
                    pending_key: Some((key, _)),
                    ..
                },
                Open::Seq { .. },
            ] if key == "artifacts" => (self.take_item)(top, node),
            _ => Some(node),
        };
        let Some(node) = node else { return Ok(()) };
        match self.stack.last_mut() {
            None => self.root = Some(node),
            Some(Open::Seq { items, .. }) => items.push(node),
            Some(Open::Map {
                entries,
                pending_key,
                ..
            }) => place_in_map(entries, pending_key, node)?,
        }
        Ok(())
    }
}

impl TreeBuilder<'_> {
    /// The line of the `-` of an empty list item (`-` and nothing on its line), which the
    /// parser reports where the next token is: the nearest line above that one, and not above
    /// the list's first item, holding only a `-` indicator (and perhaps a comment).
    fn dash_line(&mut self, reported: usize, seq_line: usize) -> Option<usize> {
        let text = self.text;
        let starts = self.line_starts.get_or_insert_with(|| {
            std::iter::once(0)
                .chain(text.match_indices('\n').map(|(i, _)| i + 1))
                .collect()
        });
        (seq_line..reported).rev().find(|&line| {
            let start = starts.get(line - 1).copied().unwrap_or(text.len());
            let end = starts.get(line).map_or(text.len(), |&next| next - 1);
            let after_dash = text[start..end].trim_start_matches(' ').strip_prefix('-');
            after_dash.is_some_and(|rest| {
                rest.chars()
                    .next()
                    .is_none_or(|c| c.is_whitespace() || c == '#')
            })
        })
    }
}

/// A node finished inside a mapping: its next key, or the value of the key before it.
fn place_in_map(
    entries: &mut Vec<MapEntry>,
    pending_key: &mut Option<(String, usize)>,
    node: Node,
) -> Result<(), YamlError> {
    let Some((key, key_line)) = pending_key.take() else {
        let Value::Scalar { text, .. } = &node.value else {
            return Err(YamlError {
                line: node.line,
                message: "a mapping key must be plain text, not a list or mapping".to_string(),
            });
        };
        *pending_key = Some((text.clone(), node.line));
        return Ok(());
    };
    let mut value = node;
    // An empty value (`key:` and nothing) is reported by the parser where the next token
    // starts, lines later; it stands on its key's line.
    if is_empty_plain(&value) {
        value.line = key_line;
    }
    entries.push(MapEntry {
        key,
        key_line,
        value,
    });
    Ok(())
}

fn is_empty_plain(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar { text, plain: true } if text.is_empty())
}

/// The parser's words, made plainer where an operator would not recognise the cause.
fn syntax_error_message(info: &str) -> String {
    if info.contains("unknown anchor") {
        // yaml-rust2 resolves aliases itself and refuses `*name` before any `&name`.
        return "not valid YAML: an alias (`*name`) refers to an anchor (`&name`) that is not \
                defined before it"
            .to_string();
    }
    format!("not valid YAML: {info}")
}

fn count_nodes(node: &Node) -> usize {
    1 + match &node.value {
        Value::Scalar { .. } => 0,
        Value::Seq(items) => items.iter().map(count_nodes).sum(),
        Value::Map(entries) => entries.iter().map(|e| 1 + count_nodes(&e.value)).sum(),
    }
}

/// Resolves `<<` entries the way PyYAML does: the merged mappings' keys are added unless the
/// mapping sets them itself; a list of mappings merges in order, earlier ones winning.
fn apply_merge_keys(entries: Vec<MapEntry>) -> Result<Vec<MapEntry>, YamlError> {
    if !entries.iter().any(|e| e.key == "<<") {
        return Ok(entries);
    }
    let (merges, mut own): (Vec<MapEntry>, Vec<MapEntry>) =
        entries.into_iter().partition(|e| e.key == "<<");
    for merge in merges {
        let sources: Vec<Node> = match merge.value.value {
            Value::Map(_) => vec![merge.value],
            Value::Seq(items) => items,
            Value::Scalar { .. } => {
                return Err(YamlError {
                    line: merge.key_line,
                    message: "`<<` (merge key) must be given a mapping or a list of mappings"
                        .to_string(),
                });
            }
        };
        for source in sources {
            let Value::Map(source_entries) = source.value else {
                return Err(YamlError {
                    line: source.line,
                    message: "`<<` (merge key) must be given a mapping or a list of mappings"
                        .to_string(),
                });
            };
            for entry in source_entries {
                if !own.iter().any(|e| e.key == entry.key) {
                    own.push(entry);
                }
            }
        }
    }
    Ok(own)
}

impl fmt::Display for ScalarKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ScalarKind::Null => "null",
            ScalarKind::Bool(_) => "boolean",
            ScalarKind::Int(_) => "whole number",
            ScalarKind::Float => "number",
            ScalarKind::Str => "text",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Node {
        parse_document(text).unwrap().unwrap()
    }

    #[test]
    fn nodes_carry_their_lines() {
        let root = parse("a: 1\nb:\n  - x\n  - y\n");
        let map = root.as_map().unwrap();
        assert_eq!(map[0].key, "a");
        assert_eq!(map[0].key_line, 1);
        assert_eq!(map[1].key_line, 2);
        let seq = map[1].value.as_seq().unwrap();
        assert_eq!(seq[1].line, 4);
    }

    #[test]
    fn plain_scalars_read_as_yaml_types_and_quoted_ones_as_text() {
        let root = parse("a: 12\nb: '12'\nc: true\nd: ~\ne: 1.5\nf: hello\n");
        let kinds: Vec<_> = root
            .as_map()
            .unwrap()
            .iter()
            .map(|e| e.value.scalar_kind().unwrap())
            .collect();
        assert_eq!(
            kinds,
            vec![
                ScalarKind::Int(12),
                ScalarKind::Str,
                ScalarKind::Bool(true),
                ScalarKind::Null,
                ScalarKind::Float,
                ScalarKind::Str
            ]
        );
    }

    #[test]
    fn merge_keys_fill_in_what_the_mapping_does_not_set() {
        let root = parse("base: &b {x: 1, y: 2}\nitem:\n  <<: *b\n  y: 3\n");
        let item = &root.as_map().unwrap()[1].value;
        let entries = item.as_map().unwrap();
        let get = |k: &str| {
            entries
                .iter()
                .find(|e| e.key == k)
                .unwrap()
                .value
                .as_scalar()
                .unwrap()
                .to_string()
        };
        assert_eq!(get("x"), "1");
        assert_eq!(get("y"), "3");
        assert_eq!(entries.len(), 2);
    }

    #[test]
    fn billion_laughs_is_refused_quickly() {
        let mut text = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..12 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        let err = parse_document(&text).unwrap_err();
        assert!(err.message.contains("aliases expand"), "{err}");
    }

    #[test]
    fn deep_nesting_is_refused() {
        let text = format!("{}{}", "[".repeat(100), "]".repeat(100));
        let err = parse_document(&text).unwrap_err();
        assert!(err.message.contains("nesting deeper than 64"), "{err}");
        // Far deeper input is stopped by the scanner itself, still as an error.
        let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
        assert!(parse_document(&text).is_err());
    }

    #[test]
    fn a_second_document_is_refused() {
        let err = parse_document("a: 1\n---\nb: 2\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert!(err.message.contains("one YAML document"));
    }

    #[test]
    fn an_empty_value_stands_on_its_keys_line() {
        let root = parse("a:\n\n# gap\nb: 1\nc:\n");
        let map = root.as_map().unwrap();
        assert_eq!((map[0].value.line, map[0].value.is_null()), (1, true));
        assert_eq!((map[2].value.line, map[2].value.is_null()), (5, true));
    }

    #[test]
    fn an_empty_list_item_stands_on_its_dash_s_line() {
        let root =
            parse("a:\n  -\n  - x: 1\n  -   # a comment\n\n  -\n  - y\nb:\n-\n- z\nc: [1, 2]\n");
        let map = root.as_map().unwrap();
        let lines = |i: usize| -> Vec<usize> {
            map[i]
                .value
                .as_seq()
                .unwrap()
                .iter()
                .map(|n| n.line)
                .collect()
        };
        assert_eq!(lines(0), vec![2, 3, 4, 6, 7]);
        assert_eq!(lines(1), vec![9, 10]);
        assert_eq!(lines(2), vec![11, 11]);
    }

    #[test]
    fn a_byte_order_mark_is_not_part_of_the_first_key() {
        let root = parse("\u{feff}schema_version: 1\n");
        assert_eq!(root.as_map().unwrap()[0].key, "schema_version");
    }

    #[test]
    fn empty_text_has_no_document() {
        assert_eq!(parse_document("").unwrap(), None);
        assert_eq!(parse_document("# only a comment\n").unwrap(), None);
    }

    #[test]
    fn an_undefined_alias_is_named_plainly() {
        let err = parse_document("a: 1\nb: *nowhere\n").unwrap_err();
        assert_eq!(err.line, 2);
        assert_eq!(
            err.message,
            "not valid YAML: an alias (`*name`) refers to an anchor (`&name`) that is not \
             defined before it"
        );
    }

    #[test]
    fn syntax_errors_name_their_line() {
        let err = parse_document("a: 1\nb: [1, 2\nc: 3\n").unwrap_err();
        assert!(err.line >= 2, "{err}");
        assert!(err.message.starts_with("not valid YAML"));
    }
}
