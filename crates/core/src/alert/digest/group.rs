//! A digest's entries grouped by cause (docs/alerts.md#digest): each dependency root with the
//! downstream alerts folded under it, the groups by owner, worst severity first. One cause is
//! one entry, however many artifacts it took down.

use std::collections::HashMap;

use crate::alert::digest::PlannedAlert;
use crate::registry::Severity;

/// One cause: the root's alert (absent when the root alerted in an earlier pass or goes to
/// another channel) and the alerts folded under it.
#[derive(Debug)]
pub struct Group<'a> {
    /// The root's id.
    pub root_id: String,
    pub root: Option<&'a PlannedAlert>,
    pub downstream: Vec<&'a PlannedAlert>,
}

impl Group<'_> {
    pub fn severity(&self) -> Severity {
        self.root
            .iter()
            .chain(self.downstream.iter())
            .map(|a| a.severity)
            .max()
            .unwrap_or(Severity::Warning)
    }

    pub fn owner(&self) -> &str {
        self.root
            .iter()
            .chain(self.downstream.iter())
            .find_map(|a| a.owner.as_deref())
            .unwrap_or("unknown")
    }
}

/// The alerts as groups: by owner (the owner of the worst group first, then by name), within
/// an owner worst severity first, then in the order given.
pub fn group_alerts<'a>(alerts: &[&'a PlannedAlert]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    let mut index: HashMap<String, usize> = HashMap::new();
    for alert in alerts {
        let root_id = alert
            .folded_under
            .clone()
            .unwrap_or_else(|| alert.artifact_id.clone());
        let i = *index.entry(root_id.clone()).or_insert_with(|| {
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
    let mut owner_worst: HashMap<String, Severity> = HashMap::new();
    for g in &groups {
        let worst = owner_worst
            .entry(g.owner().to_string())
            .or_insert(g.severity());
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
pub fn render_groups(groups: &[Group<'_>]) -> String {
    let mut body = String::new();
    let mut owner: Option<&str> = None;
    for group in groups {
        if owner != Some(group.owner()) {
            owner = Some(group.owner());
            body.push_str(&format!("\n== owner: {} ==\n", group.owner()));
        }
        body.push('\n');
        match group.root {
            Some(root) => {
                body.push_str(&root.text);
                body.push('\n');
                if !group.downstream.is_empty() {
                    body.push_str(&downstream_line(&group.downstream));
                }
            }
            None => {
                // The root is not in this digest: its downstream alerts are told in full.
                for alert in &group.downstream {
                    body.push_str(&alert.text);
                    body.push_str(&format!(
                        "\n  upstream: {} is alerting too (depends_on)\n",
                        group.root_id
                    ));
                }
            }
        }
    }
    body
}

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
            artifact_id: id.to_string(),
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
}
