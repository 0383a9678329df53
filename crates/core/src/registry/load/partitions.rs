//! Reading `partitions:` (docs/registry.md#partitions): an inline list of values, or a
//! numeric range `{from: 1, to: 500}` (with `width: 3` for zero-padded `001`…`500`). Every
//! bad value is an error naming the field and the first offending value: a duplicate, an
//! empty one, a character S3 keys should not hold, more than [`MAX_PARTITIONS`] values.

use std::collections::HashSet;

use super::limits::bucket_name_problem;
use super::refs::Refs;
use crate::registry::partitions::{MAX_PARTITIONS, PartitionList, Partitions};
use crate::text::quote_short;
use crate::yaml::{Node, ScalarKind};

/// `partitions_from: s3://bucket/key`.
pub(super) fn partitions_from(node: &Node, _: &Refs<'_>) -> Result<PartitionList, String> {
    let text = match node.scalar_kind() {
        Some(ScalarKind::Str) => node.as_scalar().unwrap_or_default(),
        _ => {
            return Err(format!(
                "expected s3://bucket/key, found {}",
                node.describe()
            ));
        }
    };
    let parsed = text
        .strip_prefix("s3://")
        .and_then(|rest| rest.split_once('/'));
    match parsed {
        Some((bucket, key)) if !key.is_empty() => match bucket_name_problem(bucket) {
            Some(problem) => Err(problem),
            None => Ok(PartitionList {
                bucket: bucket.into(),
                key: key.into(),
            }),
        },
        _ => Err(format!(
            "expected s3://bucket/key (an object of one value a line), found {}",
            quote_short(text)
        )),
    }
}

/// A partition list object's body: one value a line (a final newline, and `\r\n`, allowed),
/// checked as an inline list is; an error names the line.
pub fn partitions_from_lines(body: &[u8]) -> Result<Partitions, String> {
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let text = text.strip_suffix('\n').unwrap_or(text);
    let values: Vec<Box<str>> = text
        .split('\n')
        .map(|line| line.strip_suffix('\r').unwrap_or(line).into())
        .collect();
    if values.len() > MAX_PARTITIONS {
        return Err(too_many(values.len() as u64));
    }
    checked(values)
        .map(Partitions::new)
        .map_err(|e| e.replacen("value ", "line ", 1))
}

/// `partitions:` as an inline list or a range.
pub(super) fn partitions(node: &Node, _: &Refs<'_>) -> Result<Partitions, String> {
    let values = match (node.as_seq(), node.as_map()) {
        (Some(items), _) => listed(items)?,
        (_, Some(_)) => ranged(node)?,
        _ => {
            return Err(format!(
                "expected a list of values such as [AAPL, MSFT] or a range such as \
                 {{from: 1, to: 500}}, found {}",
                node.describe()
            ));
        }
    };
    checked(values).map(Partitions::new)
}

fn listed(items: &[Node]) -> Result<Vec<Box<str>>, String> {
    if items.len() > MAX_PARTITIONS {
        return Err(too_many(items.len() as u64));
    }
    items
        .iter()
        .map(|item| match item.scalar_kind() {
            Some(ScalarKind::Str | ScalarKind::Int(_)) => {
                Ok(item.as_scalar().unwrap_or_default().into())
            }
            _ => Err(format!(
                "expected each value as text or a whole number, found {}",
                item.describe()
            )),
        })
        .collect()
}

/// `{from: N, to: M, width: W}`: the whole numbers from N to M, each padded with zeros to W
/// digits when `width` is given.
fn ranged(node: &Node) -> Result<Vec<Box<str>>, String> {
    let get = |key: &str| {
        let entries = node.as_map().unwrap_or_default();
        entries.iter().find(|e| e.key == key).map(|e| &e.value)
    };
    let number = |key: &str| -> Result<Option<i64>, String> {
        match get(key) {
            None => Ok(None),
            Some(value) => match value.scalar_kind() {
                Some(ScalarKind::Int(n)) if n >= 0 => Ok(Some(n)),
                _ => Err(format!(
                    "`{key}` of a range must be a whole number >= 0, found {}",
                    value.describe()
                )),
            },
        }
    };
    if let Some(entries) = node.as_map()
        && let Some(other) = entries
            .iter()
            .find(|e| !["from", "to", "width"].contains(&e.key.as_str()))
    {
        return Err(format!(
            "unknown key {} in a range; a range has `from`, `to` and optionally `width`",
            quote_short(&other.key)
        ));
    }
    let (Some(from), Some(to)) = (number("from")?, number("to")?) else {
        return Err("a range needs `from` and `to`, such as {from: 1, to: 500}".to_string());
    };
    if to < from {
        return Err(format!("the range ends ({to}) before it starts ({from})"));
    }
    let count = (to - from) as u64 + 1;
    if count > MAX_PARTITIONS as u64 {
        return Err(too_many(count));
    }
    let width = number("width")?.unwrap_or(0).min(20) as usize;
    Ok((from..=to)
        .map(|n| format!("{n:0width$}").into_boxed_str())
        .collect())
}

fn too_many(count: u64) -> String {
    format!(
        "{count} values; a set has at most {MAX_PARTITIONS} (split it into several artifacts \
         by a fixed part of the key)"
    )
}

/// No value empty, none twice, none with a character S3 keys should not hold.
fn checked(values: Vec<Box<str>>) -> Result<Vec<Box<str>>, String> {
    if values.is_empty() {
        return Err("the set is empty; list at least one value".to_string());
    }
    let mut seen: HashSet<&str> = HashSet::with_capacity(values.len());
    for (index, value) in values.iter().enumerate() {
        if value.trim().is_empty() {
            return Err(format!("value {} is empty", index + 1));
        }
        if let Some(bad) = value.chars().find(|c| is_unfit_for_a_key(*c)) {
            return Err(format!(
                "value {} ({}) holds {bad:?}, a character S3 keys should not hold",
                index + 1,
                quote_short(value)
            ));
        }
        if !seen.insert(value) {
            return Err(format!(
                "value {} ({}) is listed twice",
                index + 1,
                quote_short(value)
            ));
        }
    }
    Ok(values)
}

/// Control characters, and those AWS's key-naming guide says to avoid (`\ { } ^ % ` [ ] " <
/// > ~ # |`); `/` is refused too: a partition is one name, not a path.
fn is_unfit_for_a_key(c: char) -> bool {
    c.is_control() || "\\{}^%`[]\"<>~#|/".contains(c)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(yaml: &str) -> Result<Vec<String>, String> {
        let doc = crate::yaml::parse_document(&format!("p: {yaml}"))
            .unwrap()
            .unwrap();
        let node = &doc.as_map().unwrap()[0].value;
        let values = match (node.as_seq(), node.as_map()) {
            (Some(items), _) => listed(items)?,
            (_, Some(_)) => ranged(node)?,
            _ => return Err("neither".into()),
        };
        checked(values).map(|v| v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn a_list_object_is_one_value_a_line_and_a_bad_line_is_named() {
        let values = partitions_from_lines(b"AAPL\r\nMSFT\n").unwrap();
        assert_eq!(values.values(), [Box::from("AAPL"), Box::from("MSFT")]);
        let error = partitions_from_lines(b"AAPL\n\nMSFT\n").unwrap_err();
        assert_eq!(error, "line 2 is empty");
        let error = partitions_from_lines(b"A\nB\nA").unwrap_err();
        assert_eq!(error, "line 3 (\"A\") is listed twice");
        assert!(
            partitions_from_lines(b"\xff")
                .unwrap_err()
                .starts_with("not UTF-8")
        );
    }

    #[test]
    fn a_list_or_a_range_reads_as_its_values_and_every_bad_one_is_named() {
        assert_eq!(read("[AAPL, MSFT, 7]").unwrap(), ["AAPL", "MSFT", "7"]);
        assert_eq!(read("{from: 8, to: 11}").unwrap(), ["8", "9", "10", "11"]);
        assert_eq!(
            read("{from: 8, to: 10, width: 3}").unwrap(),
            ["008", "009", "010"]
        );
        let cases = [
            ("[AAPL, MSFT, AAPL]", "value 3 (\"AAPL\") is listed twice"),
            ("[AAPL, '']", "value 2 is empty"),
            ("[AAPL, 'a|b']", "value 2 (\"a|b\") holds '|'"),
            ("[a/b]", "holds '/'"),
            ("[]", "the set is empty"),
            ("[[1]]", "expected each value as text or a whole number"),
            (
                "{from: 1, to: 10000000}",
                "10000000 values; a set has at most 100000",
            ),
            (
                "{from: 5, to: 1}",
                "the range ends (1) before it starts (5)",
            ),
            ("{from: 1}", "a range needs `from` and `to`"),
            (
                "{from: 1, to: 3, step: 2}",
                "unknown key \"step\" in a range",
            ),
            (
                "{from: -1, to: 3}",
                "`from` of a range must be a whole number >= 0",
            ),
        ];
        for (yaml, said) in cases {
            let error = read(yaml).unwrap_err();
            assert!(error.contains(said), "{yaml}: {error}");
        }
    }
}
