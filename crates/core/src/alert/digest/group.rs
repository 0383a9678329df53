//! A digest's entries grouped by cause (docs/alerts.md#digest): each dependency root with the
//! downstream alerts folded under it, the groups by owner, worst severity first. One cause is
//! one entry, however many artifacts it took down.

use std::borrow::Cow;
use std::collections::HashMap;

use crate::alert::digest::PlannedAlert;
use crate::alert::digest::tail::Tail;
use crate::registry::Severity;

/// One cause: the root's alert (absent when the root alerted in an earlier pass or goes to
/// another channel) and the alerts folded under it.
#[derive(Debug)]
pub struct Group<'a> {
    /// The root's id (borrowed from its alerts: a million groups are no million copies).
    pub root_id: &'a str,
    pub root: Option<&'a PlannedAlert>,
    pub downstream: Vec<&'a PlannedAlert>,
}

impl<'a> Group<'a> {
    pub fn severity(&self) -> Severity {
        self.root
            .iter()
            .chain(self.downstream.iter())
            .map(|a| a.severity)
            .max()
            .unwrap_or(Severity::Warning)
    }

    pub fn owner(&self) -> &'a str {
        self.root
            .into_iter()
            .chain(self.downstream.iter().copied())
            .find_map(|a| a.owner.as_deref())
            .unwrap_or("unknown")
    }
}

/// The alerts as groups: by owner (the owner of the worst group first, then by name), within
/// an owner worst severity first, then in the order given.
pub fn group_alerts<'a>(alerts: &[&'a PlannedAlert]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    let mut index: HashMap<&'a str, usize> = HashMap::new();
    for alert in alerts {
        let root_id: &'a str = alert.folded_under.as_deref().unwrap_or(&alert.artifact_id);
        let i = *index.entry(root_id).or_insert_with(|| {
            groups.push(Group {
                root_id,
                root: None,
                downstream: Vec::new(),
            });
            groups.len() - 1
        });
        if alert.folded_under.is_some() {
            groups[i].downstream.push(alert);
        } else {
            groups[i].root = Some(alert);
        }
    }
    drop(index);
    let mut owner_worst: HashMap<&'a str, Severity> = HashMap::new();
    for g in &groups {
        let worst = owner_worst.entry(g.owner()).or_insert(g.severity());
        *worst = (*worst).max(g.severity());
    }
    let mut ordered: Vec<(usize, Group<'a>)> = groups.into_iter().enumerate().collect();
    ordered.sort_by(|(ia, a), (ib, b)| {
        let (oa, ob) = (a.owner(), b.owner());
        (
            std::cmp::Reverse(owner_worst[oa]),
            oa,
            std::cmp::Reverse(a.severity()),
            ia,
        )
            .cmp(&(
                std::cmp::Reverse(owner_worst[ob]),
                ob,
                std::cmp::Reverse(b.severity()),
                ib,
            ))
    });
    ordered.into_iter().map(|(_, g)| g).collect()
}

/// The digest's entries: an owner heading per owner, each group's root entry, and its folded
/// downstream alerts in one line ("3 downstream artifacts alerting because of it: ...").
/// Past [`ENTRIES_NAMED`] entries the rest are counted per owner and state, not told
/// ([`Tail`]): a pass where a million artifacts alert each on its own sends a digest
/// of a few kilobytes, not hundreds of megabytes over thousands of messages.
///
/// `entry` gives an alert's entry text: it is asked only for the entries told, so a caller
/// that has not written every alert's text (`check`) writes at most [`ENTRIES_NAMED`].
pub fn render_groups<'a>(
    groups: &[Group<'a>],
    entry: &dyn Fn(&'a PlannedAlert) -> Cow<'a, str>,
) -> String {
    let mut body = String::new();
    let mut owner: Option<&str> = None;
    let mut named = 0;
    let mut tail = Tail::default();
    for group in groups {
        if named >= ENTRIES_NAMED {
            for alert in group.root.iter().chain(group.downstream.iter()) {
                tail.count(group.owner(), alert);
            }
            continue;
        }
        if owner != Some(group.owner()) {
            owner = Some(group.owner());
            body.push_str(&format!("\n== owner: {} ==\n", group.owner()));
        }
        body.push('\n');
        match group.root {
            Some(root) => {
                named += 1;
                body.push_str(&entry(root));
                body.push('\n');
                if !group.downstream.is_empty() {
                    body.push_str(&downstream_line(&group.downstream));
                }
            }
            None => {
                // The root is not in this digest: its downstream alerts are told in full.
                for alert in &group.downstream {
                    if named >= ENTRIES_NAMED {
                        tail.count(group.owner(), alert);
                        continue;
                    }
                    named += 1;
                    body.push_str(&entry(alert));
                    body.push_str(&format!(
                        "\n  upstream: {} is alerting too (depends_on)\n",
                        group.root_id
                    ));
                }
            }
        }
    }
    body.push_str(&tail.render());
    body
}

/// At most this many entries (a root with its folded line, or an alert told on its own) are
/// told in full in one digest; the alerts past them are counted ([`Tail`]).
pub const ENTRIES_NAMED: usize = 50;

/// At most this many downstream artifacts are named on a root's line; the rest are counted.
/// A root that took a million artifacts down is one cause: its digest entry stays one short
/// line, not a megabyte of ids split over many messages.
pub const DOWNSTREAM_NAMED: usize = 20;

fn downstream_line(downstream: &[&PlannedAlert]) -> String {
    let n = downstream.len();
    let mut listed: Vec<String> = downstream
        .iter()
        .take(DOWNSTREAM_NAMED)
        .map(|a| format!("{} ({}, {})", a.artifact_id, a.state, a.severity))
        .collect();
    if n > DOWNSTREAM_NAMED {
        listed.push(format!("and {} more", n - DOWNSTREAM_NAMED));
    }
    format!(
        "  {n} downstream artifact{} alerting because of it: {}\n",
        crate::text::plural(n),
        listed.join(", ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::classify::State;

    fn alert(id: &str) -> PlannedAlert {
        PlannedAlert {
            artifact_id: id.into(),
            state: State::Missing,
            severity: Severity::Warning,
            ..crate::alert::digest::registry_error_alert()
        }
    }

    #[test]
    fn a_root_names_its_first_downstream_artifacts_and_counts_the_rest() {
        let few: Vec<PlannedAlert> = (0..3).map(|i| alert(&format!("d{i}"))).collect();
        let refs: Vec<&PlannedAlert> = few.iter().collect();
        assert_eq!(
            downstream_line(&refs),
            "  3 downstream artifacts alerting because of it: d0 (missing, warning), \
             d1 (missing, warning), d2 (missing, warning)\n"
        );
        let many: Vec<PlannedAlert> = (0..100_000).map(|i| alert(&format!("d{i}"))).collect();
        let refs: Vec<&PlannedAlert> = many.iter().collect();
        let line = downstream_line(&refs);
        assert!(line.starts_with("  100000 downstream artifacts alerting because of it: d0 "));
        assert!(
            line.ends_with(", d19 (missing, warning), and 99980 more\n"),
            "{line}"
        );
        assert!(line.len() < 1_000, "one short line: {} bytes", line.len());
    }

    fn owned(id: &str, owner: &str, state: State) -> PlannedAlert {
        PlannedAlert {
            owner: Some(owner.into()),
            state,
            text: format!("[WARNING] {id} {state}"),
            ..alert(id)
        }
    }

    fn render(alerts: &[PlannedAlert]) -> String {
        let refs: Vec<&PlannedAlert> = alerts.iter().collect();
        render_groups(&group_alerts(&refs), &|a| Cow::Borrowed(&a.text))
    }

    #[test]
    fn past_the_entries_told_the_alerts_are_counted_per_owner_and_state() {
        // 100,000 separate alerts: 60,000 of team-a (missing, then stale), 40,000 of team-b.
        let alerts: Vec<PlannedAlert> = (0..100_000)
            .map(|i| match i {
                0..50_000 => owned(&format!("a{i}"), "team-a", State::Missing),
                50_000..60_000 => owned(&format!("a{i}"), "team-a", State::Stale),
                _ => owned(&format!("b{i}"), "team-b", State::ProbeFailed),
            })
            .collect();
        let body = render(&alerts);
        assert!(body.contains("[WARNING] a49 missing\n"), "{body}");
        assert!(
            !body.contains("[WARNING] a50 "),
            "only 50 entries told: {body}"
        );
        assert!(
            body.ends_with(
                "\n… and 99950 more alerting artifacts not told here, by owner (each is a row \
                 of check_results.json and of the status page):\n  \
                 team-a: 49950 missing, 10000 stale\n  team-b: 40000 probe_failed\n"
            ),
            "{}",
            &body[body.len() - 400..]
        );
        assert!(body.len() < 5_000, "a short digest: {} bytes", body.len());
    }

    #[test]
    fn past_twenty_owners_the_others_are_summed() {
        let alerts: Vec<PlannedAlert> = (0..1_000)
            .map(|i| {
                owned(
                    &format!("x{i:04}"),
                    &format!("team{:03}", i / 10),
                    State::Missing,
                )
            })
            .collect();
        let body = render(&alerts);
        // Entries 0..50 are told: teams 000 to 004; the tail names teams 005 to 024.
        assert!(body.contains("\n  team005: 10 missing\n"), "{body}");
        assert!(body.contains("\n  team024: 10 missing\n"), "{body}");
        assert!(!body.contains("team025"), "{body}");
        assert!(
            body.ends_with("\n  and 75 more owners: 750 artifacts\n"),
            "{body}"
        );
    }

    #[test]
    fn a_digest_within_the_entries_told_has_no_tail() {
        let alerts: Vec<PlannedAlert> = (0..ENTRIES_NAMED)
            .map(|i| owned(&format!("a{i}"), "team-a", State::Missing))
            .collect();
        let body = render(&alerts);
        assert!(body.contains(&format!("[WARNING] a{} missing", ENTRIES_NAMED - 1)));
        assert!(!body.contains("not told here"), "{body}");
    }
}
