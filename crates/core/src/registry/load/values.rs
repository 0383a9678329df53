//! Reading one YAML scalar as the type a field needs: text, non-empty text, a whole number,
//! a boolean, a date. Each returns the message that ends up after `field X: `, so every field
//! of every section words the same mistake the same way.

use chrono::NaiveDate;

use crate::text::{did_you_mean, quote_short};
use crate::yaml::{self, Node, ScalarKind};

pub(super) fn string_value(node: &Node) -> Result<&str, String> {
    match (node.scalar_kind(), node.as_scalar()) {
        (Some(ScalarKind::Str), Some(text)) => Ok(text),
        _ => Err(format!("expected text, found {}", node.describe())),
    }
}

pub(super) fn non_empty_string(node: &Node) -> Result<&str, String> {
    let text = string_value(node)?;
    if text.trim().is_empty() {
        return Err("must not be empty".to_string());
    }
    Ok(text)
}

/// A whole number from `min` to `max`. Digits beyond any integer type are "too large" as well,
/// not a number of the wrong kind.
pub(super) fn whole_number(node: &Node, min: i64, max: Bound) -> Result<u32, String> {
    let too_large = |n: &dyn std::fmt::Display| {
        let why = max.why.map(|why| format!(", {why}")).unwrap_or_default();
        format!("{n} is too large (at most {}{why})", max.value)
    };
    match node.scalar_kind() {
        Some(ScalarKind::Int(n)) if n < min => Err(format!("must be >= {min}, found {n}")),
        Some(ScalarKind::Int(n)) => match u32::try_from(n) {
            Ok(n) if n <= max.value => Ok(n),
            _ => Err(too_large(&n)),
        },
        Some(ScalarKind::Float) if is_plain(node) && is_integer_literal(node) => {
            let text = node.as_scalar().unwrap_or_default();
            if text.starts_with('-') {
                Err(format!("must be >= {min}, found {text}"))
            } else {
                Err(too_large(&text))
            }
        }
        _ => Err(format!(
            "expected a whole number >= {min}, found {}",
            node.describe()
        )),
    }
}

/// The largest value a whole-number field accepts, and why when it is not the type's limit.
#[derive(Debug, Clone, Copy)]
pub(super) struct Bound {
    pub value: u32,
    pub why: Option<&'static str>,
}

impl Bound {
    /// As large as the field's type holds.
    pub const TYPE: Bound = Bound {
        value: u32::MAX,
        why: None,
    };
}

/// Digits with an optional sign: a YAML integer, whatever its size.
fn is_integer_literal(node: &Node) -> bool {
    let text = node.as_scalar().unwrap_or_default();
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())
}

/// `true`/`false`, and the YAML 1.1 words PyYAML also reads as booleans (`yes`, `no`, `on`,
/// `off`), so registries written for the original Python monitor load unchanged.
pub(super) fn boolean(node: &Node) -> Result<bool, String> {
    match (node.scalar_kind(), node.as_scalar()) {
        (Some(ScalarKind::Bool(b)), _) => Ok(b),
        (Some(ScalarKind::Str), Some(text)) if is_plain(node) => match text {
            "yes" | "Yes" | "YES" | "on" | "On" | "ON" => Ok(true),
            "no" | "No" | "NO" | "off" | "Off" | "OFF" => Ok(false),
            _ => Err(format!("expected true or false, found {}", node.describe())),
        },
        _ => Err(format!("expected true or false, found {}", node.describe())),
    }
}

fn is_plain(node: &Node) -> bool {
    matches!(node.value, yaml::Value::Scalar { plain: true, .. })
}

pub(super) fn parse_date(node: &Node) -> Result<NaiveDate, String> {
    let text = match (node.scalar_kind(), node.as_scalar()) {
        (Some(ScalarKind::Str), Some(text)) => text,
        _ => {
            return Err(format!(
                "expected a date YYYY-MM-DD, found {}",
                node.describe()
            ));
        }
    };
    NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .map_err(|_| format!("expected a date YYYY-MM-DD, found {}", quote_short(text)))
}

/// The message for a time zone that is not an IANA name, with a did-you-mean.
pub(super) fn unknown_time_zone_message(text: &str) -> String {
    let names: Vec<&str> = chrono_tz::TZ_VARIANTS.iter().map(|tz| tz.name()).collect();
    match did_you_mean(text, &names) {
        Some(name) => format!(
            "unknown time zone {}; did you mean `{name}`?",
            quote_short(text)
        ),
        None => {
            format!(
                "unknown time zone {}; use an IANA name such as America/New_York or UTC",
                quote_short(text)
            )
        }
    }
}
