//! `x_` extension keys: registries written for neighbouring tools carry keys of their own.
//! They are accepted anywhere and never validated; an artifact's own are kept, as JSON, for
//! its result row's `extensions`.

use serde_json::{Map, Number, Value};

use super::errors::is_extension_key;
use crate::yaml::{self, MapEntry, Node, ScalarKind};

/// The `x_` keys of one artifact entry as a JSON object, `None` when it has none. A key set
/// twice keeps its last value.
pub(super) fn extensions(entries: &[MapEntry]) -> Option<Value> {
    let object: Map<String, Value> = entries
        .iter()
        .filter(|e| is_extension_key(&e.key))
        .map(|e| (e.key.clone(), json(&e.value)))
        .collect();
    (!object.is_empty()).then_some(Value::Object(object))
}

/// A YAML node as JSON: plain scalars as what they read as (null, boolean, number), all
/// else as text.
fn json(node: &Node) -> Value {
    match &node.value {
        yaml::Value::Seq(items) => Value::Array(items.iter().map(json).collect()),
        yaml::Value::Map(entries) => Value::Object(
            entries
                .iter()
                .map(|e| (e.key.clone(), json(&e.value)))
                .collect(),
        ),
        yaml::Value::Scalar { text, .. } => match node.scalar_kind() {
            Some(ScalarKind::Null) => Value::Null,
            Some(ScalarKind::Bool(b)) => Value::Bool(b),
            Some(ScalarKind::Int(i)) => Value::Number(i.into()),
            Some(ScalarKind::Float) => text
                .parse::<f64>()
                .ok()
                .and_then(Number::from_f64)
                .map_or_else(|| Value::String(text.clone()), Value::Number),
            _ => Value::String(text.clone()),
        },
    }
}
