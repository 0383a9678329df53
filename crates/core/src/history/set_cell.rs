//! One past cycle of a set (`partitions:`, docs/classification.md#sets), judged from one
//! listing of its keys' common prefix: how many of its keys were written since the tick
//! (complete, or partial with the fraction) and whether that counts as landed, by the rule a
//! pass applies (`min_complete`, else every key). Landed, its LastModified is the newest
//! key's, so on time means the set was complete enough by its due time.

use std::collections::HashMap;

use chrono::{DateTime, Utc};

use super::cell::{CellOutcome, Landed};
use crate::classify::{SetKeys, minutes_past};
use crate::object::{ListedObject, ObjectMeta};
use crate::outcome_log::SetCycle;
use crate::registry::ArtifactSpec;

/// The cycle that ticked at `tick`, due at `due`, of `spec`'s set of `keys`, from the
/// objects a complete listing of their prefix found.
pub fn judge_set_cycle(
    spec: &ArtifactSpec,
    keys: &SetKeys,
    listed: &[ListedObject],
    tick: DateTime<Utc>,
    due: DateTime<Utc>,
) -> (CellOutcome, SetCycle) {
    let found: HashMap<&str, &ObjectMeta> =
        listed.iter().map(|o| (o.key.as_str(), &o.meta)).collect();
    let written: Vec<DateTime<Utc>> = (keys.keys.iter())
        .filter_map(|(_, key)| found.get(key.as_str()))
        .map(|meta| meta.last_modified)
        .filter(|at| *at >= tick)
        .collect();
    let count = |n: usize| u32::try_from(n).unwrap_or(u32::MAX);
    let set = SetCycle {
        total: count(keys.keys.len()),
        written: count(written.len()),
    };
    (judge_counts(spec, set, written.into_iter().max(), due), set)
}

/// Landed when `set` is complete enough (its newest key's LastModified `newest`), else a gap.
pub fn judge_counts(
    spec: &ArtifactSpec,
    set: SetCycle,
    newest: Option<DateTime<Utc>>,
    due: DateTime<Utc>,
) -> CellOutcome {
    let needed = spec.min_complete().copied().unwrap_or(1.0);
    let enough = f64::from(set.written) >= needed * f64::from(set.total);
    match newest {
        Some(last_modified) if enough => CellOutcome::Landed(Landed {
            meta: ObjectMeta {
                last_modified,
                size: None,
                etag: None,
            },
            on_time: last_modified <= due,
            minutes_late: minutes_past(last_modified, due),
            recovery_substituted: false,
        }),
        _ => CellOutcome::Absent { seen: None },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::set_keys;
    use crate::registry::{RegistryEntry, parse_registry};

    fn at(t: &str) -> DateTime<Utc> {
        t.parse().unwrap()
    }

    fn registry(min_complete: &str) -> crate::registry::Registry {
        let text = format!(
            "schema_version: 1\ndefaults:\n  s3_bucket: bkt\n  severity: critical\n  \
             created_at: 2020-01-01\n  sla_minutes_after_cron: 60\n  owner_repo: o\n\
             artifacts:\n  - artifact_id: s\n    s3_key_template: p/{{date}}/{{partition}}.csv\n    \
             cadence: weekday_sf\n    partitions: [a, b, c, d]\n{min_complete}"
        );
        parse_registry("r.yaml", text.as_bytes()).unwrap()
    }

    fn listed(keys: &[(&str, &str)]) -> Vec<ListedObject> {
        (keys.iter())
            .map(|(key, t)| ListedObject {
                key: key.to_string(),
                meta: ObjectMeta {
                    last_modified: at(t),
                    size: Some(1),
                    etag: None,
                },
            })
            .collect()
    }

    #[test]
    fn a_set_cycle_is_complete_partial_or_a_gap_by_its_written_keys() {
        let tick = at("2026-12-01T13:00:00Z");
        let due = at("2026-12-01T14:00:00Z");
        let (on, late, old) = (
            "2026-12-01T13:30:00Z",
            "2026-12-01T15:10:00Z",
            "2026-11-30T13:30:00Z",
        );
        let all = |t: &str| -> Vec<(String, String)> {
            ["a", "b", "c", "d"]
                .iter()
                .map(|v| (format!("p/2026-12-01/{v}.csv"), t.to_string()))
                .collect()
        };
        let some = |ts: [&str; 3]| -> Vec<(String, String)> {
            ["a", "b", "c"]
                .iter()
                .zip(ts)
                .map(|(v, t)| (format!("p/2026-12-01/{v}.csv"), t.to_string()))
                .collect()
        };
        let landed = |on_time: bool, minutes_late: i64, t: &str| {
            CellOutcome::Landed(Landed {
                meta: ObjectMeta {
                    last_modified: at(t),
                    size: None,
                    etag: None,
                },
                on_time,
                minutes_late,
                recovery_substituted: false,
            })
        };
        let gap = CellOutcome::Absent { seen: None };
        // (min_complete, objects listed, the cell, written of 4)
        let cases = vec![
            ("", all(on), landed(true, 0, on), 4),
            ("", some([on, on, late]), gap.clone(), 3),
            (
                "    min_complete: 0.75\n",
                some([on, on, late]),
                landed(false, 70, late),
                3,
            ),
            (
                "    min_complete: 0.75\n",
                some([on, on, old]),
                gap.clone(),
                2,
            ),
            ("", vec![], gap.clone(), 0),
        ];
        for (min_complete, objects, cell, written) in cases {
            let registry = registry(min_complete);
            let RegistryEntry::Valid(spec) = &registry.entries[0] else {
                panic!("{:?}", registry.entries[0])
            };
            let cycle = spec
                .cadence
                .cycle_at(at("2026-12-01T15:00:00Z"), &registry.calendar)
                .unwrap();
            let keys = set_keys(spec, &cycle).unwrap();
            let objects: Vec<(&str, &str)> = objects
                .iter()
                .map(|(k, t)| (k.as_str(), t.as_str()))
                .collect();
            let (got, set) = judge_set_cycle(spec, &keys, &listed(&objects), tick, due);
            assert_eq!(got, cell, "{min_complete} {objects:?}");
            assert_eq!((set.total, set.written), (4, written), "{objects:?}");
            assert_eq!(set.complete(), written == 4);
        }
        assert_eq!(
            SetCycle {
                total: 3,
                written: 2
            }
            .fraction(),
            0.6667
        );
        assert_eq!(
            SetCycle {
                total: 0,
                written: 0
            }
            .fraction(),
            1.0
        );
    }
}
