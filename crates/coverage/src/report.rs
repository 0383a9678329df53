//! The comparison of pins with what the scan found, and how it reads.
//!
//! Pure: it takes the pins, the counts and the grandfathered paths and returns every failure
//! at once (an operator fixes a CI failure in one go, not one message per push). Each failure
//! carries the resolution an operator needs, in the text and in the JSON alike.

use serde::Serialize;
use serde_json::json;

use super::grandfathered::{self, GrandfatheredPath};
use super::pins::{OutOfScope, Pins};
use super::scan::SiteCounts;

/// Where the resolutions send the operator to register or retire an artifact.
pub const REGISTRY_NAME: &str = "ARTIFACT_REGISTRY.yaml";
const UPDATE: &str = "`freshness-monitor coverage --update`";

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Totals {
    /// Tracked files in scope (included, not exempt), with or without write sites.
    pub producer_files: usize,
    /// Producer files with at least one write site.
    pub files_with_sites: usize,
    /// Write sites in all producer files.
    pub sites: usize,
    pub pinned_files: usize,
    pub pinned_sites: usize,
}

/// A producer file with write sites and no pin.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unpinned {
    pub path: String,
    pub sites: usize,
    /// The registry entry it falls under, when `--registry` was given and one matches.
    pub grandfathered: Option<GrandfatheredPath>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StaleReason {
    /// Not tracked by git any more (removed or renamed), or deleted from the work tree.
    NotTracked,
    Exempt(String),
    NotIncluded,
    NoSites,
}

/// A pin whose file no longer has write sites that the guard sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StalePin {
    pub path: String,
    pub pinned: usize,
    pub pin_line: usize,
    pub reason: StaleReason,
}

/// A pinned file whose number of write sites changed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Drift {
    pub path: String,
    pub pinned: usize,
    pub found: usize,
    pub pin_line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Report {
    pub totals: Totals,
    pub unpinned: Vec<Unpinned>,
    pub stale: Vec<StalePin>,
    pub drift: Vec<Drift>,
    /// Whether unpinned files were looked up in a registry's `grandfathered_paths`.
    pub grandfathered_checked: bool,
}

/// Compares the pins with the counts. `is_tracked` says whether git tracks a path (to explain
/// a stale pin); `grandfathered` is `None` when no registry was given.
pub fn compare(
    pins: &Pins,
    counts: &SiteCounts,
    is_tracked: impl Fn(&str) -> bool,
    grandfathered: Option<&[GrandfatheredPath]>,
) -> Report {
    let mut unpinned = Vec::new();
    let mut drift = Vec::new();
    for (path, &found) in counts {
        match pins.files.get(path) {
            None if found > 0 => unpinned.push(Unpinned {
                path: path.clone(),
                sites: found,
                grandfathered: grandfathered
                    .and_then(|entries| grandfathered::covering(entries, path))
                    .cloned(),
            }),
            Some(pin) if found > 0 && found != pin.sites => drift.push(Drift {
                path: path.clone(),
                pinned: pin.sites,
                found,
                pin_line: pin.line,
            }),
            _ => {}
        }
    }
    let mut stale = Vec::new();
    for (path, pin) in &pins.files {
        let reason = match counts.get(path) {
            Some(0) => StaleReason::NoSites,
            Some(_) => continue,
            None if !is_tracked(path) => StaleReason::NotTracked,
            None => match pins.scope.classify(path) {
                Err(OutOfScope::Exempt(prefix)) => StaleReason::Exempt(prefix),
                Err(OutOfScope::NotIncluded) => StaleReason::NotIncluded,
                // In scope and tracked but not counted: deleted from the work tree.
                Ok(()) => StaleReason::NotTracked,
            },
        };
        stale.push(StalePin {
            path: path.clone(),
            pinned: pin.sites,
            pin_line: pin.line,
            reason,
        });
    }
    let totals = Totals {
        producer_files: counts.len(),
        files_with_sites: counts.values().filter(|&&n| n > 0).count(),
        sites: counts.values().sum(),
        pinned_files: pins.files.len(),
        pinned_sites: pins.files.values().map(|p| p.sites).sum(),
    };
    Report {
        totals,
        unpinned,
        stale,
        drift,
        grandfathered_checked: grandfathered.is_some(),
    }
}

fn sites(n: usize) -> String {
    if n == 1 {
        "1 S3 write site".to_string()
    } else {
        format!("{n} S3 write sites")
    }
}

impl Unpinned {
    /// What is wrong, without the resolution.
    pub fn problem(&self) -> String {
        format!(
            "unpinned producer file: {} has {} and no pin",
            self.path,
            sites(self.sites)
        )
    }

    pub fn resolution(&self, grandfathered_checked: bool) -> String {
        match &self.grandfathered {
            Some(entry) => format!(
                "it is under the grandfathered path {} (registry line {}: {:?}), so the decision \
                 is taken: run {UPDATE} to pin it",
                entry.path, entry.line, entry.reason
            ),
            None => {
                let not_grandfathered = if grandfathered_checked {
                    "it is under no grandfathered path; "
                } else {
                    ""
                };
                format!(
                    "{not_grandfathered}register the artifact in {REGISTRY_NAME} or grandfather \
                     the path, then run {UPDATE}"
                )
            }
        }
    }
}

impl StalePin {
    pub fn problem(&self, pins_name: &str) -> String {
        let why = match &self.reason {
            StaleReason::NotTracked => "is no longer tracked by git".to_string(),
            StaleReason::Exempt(prefix) => format!("is now under the exempt prefix {prefix}"),
            StaleReason::NotIncluded => "no longer matches any include glob".to_string(),
            StaleReason::NoSites => "has no S3 write sites left".to_string(),
        };
        format!(
            "stale pin: {} ({} pinned at {}:{}) {why}",
            self.path,
            sites(self.pinned),
            pins_name,
            self.pin_line
        )
    }

    pub fn resolution(&self) -> String {
        format!(
            "if the artifact it wrote is retired, remove it from {REGISTRY_NAME}; \
             then run {UPDATE} to drop the pin"
        )
    }

    fn reason_code(&self) -> &'static str {
        match self.reason {
            StaleReason::NotTracked => "not_tracked",
            StaleReason::Exempt(_) => "exempt",
            StaleReason::NotIncluded => "not_included",
            StaleReason::NoSites => "no_sites",
        }
    }
}

impl Drift {
    pub fn problem(&self, pins_name: &str) -> String {
        format!(
            "count drift: {} has {}, pinned at {} ({}:{})",
            self.path,
            sites(self.found),
            self.pinned,
            pins_name,
            self.pin_line
        )
    }

    pub fn resolution(&self) -> String {
        if self.found > self.pinned {
            format!(
                "register the artifact of each new write in {REGISTRY_NAME} or grandfather the \
                 path, then run {UPDATE}"
            )
        } else {
            format!(
                "if an artifact is no longer written, retire it in {REGISTRY_NAME}; then run \
                 {UPDATE}"
            )
        }
    }
}

impl Report {
    pub fn is_ok(&self) -> bool {
        self.unpinned.is_empty() && self.stale.is_empty() && self.drift.is_empty()
    }

    pub fn failures(&self) -> usize {
        self.unpinned.len() + self.stale.len() + self.drift.len()
    }

    /// The summary line that ends the human output.
    pub fn summary(&self) -> String {
        let t = &self.totals;
        let scanned = format!(
            "{} producer file{} scanned, {} with write sites, {}",
            t.producer_files,
            freshness_core::text::plural(t.producer_files),
            t.files_with_sites,
            sites(t.sites)
        );
        if self.is_ok() {
            format!(
                "coverage ok: {} pinned file{} match; {scanned}",
                t.pinned_files,
                freshness_core::text::plural(t.pinned_files)
            )
        } else {
            format!(
                "coverage failed: {} problem{} ({} unpinned, {} stale, {} drift); {scanned}",
                self.failures(),
                freshness_core::text::plural(self.failures()),
                self.unpinned.len(),
                self.stale.len(),
                self.drift.len()
            )
        }
    }

    /// One line per failure (problem, then resolution), then the summary line.
    pub fn to_text(&self, pins_name: &str) -> String {
        let mut out = String::new();
        for u in &self.unpinned {
            out += &format!(
                "{}; {}\n",
                u.problem(),
                u.resolution(self.grandfathered_checked)
            );
        }
        for s in &self.stale {
            out += &format!("{}; {}\n", s.problem(pins_name), s.resolution());
        }
        for d in &self.drift {
            out += &format!("{}; {}\n", d.problem(pins_name), d.resolution());
        }
        out += &self.summary();
        out.push('\n');
        out
    }

    /// The machine-readable report: `ok`, `totals` and the three lists, each failure with
    /// its `message` and `resolution`.
    pub fn to_json(&self, pins_name: &str) -> serde_json::Value {
        json!({
            "ok": self.is_ok(),
            "pins": pins_name,
            "totals": self.totals,
            "unpinned": self.unpinned.iter().map(|u| json!({
                "path": u.path,
                "sites": u.sites,
                "grandfathered": u.grandfathered.as_ref().map(|g| json!({
                    "path": g.path,
                    "reason": g.reason,
                    "line": g.line,
                })),
                "message": u.problem(),
                "resolution": u.resolution(self.grandfathered_checked),
            })).collect::<Vec<_>>(),
            "stale": self.stale.iter().map(|s| json!({
                "path": s.path,
                "pinned": s.pinned,
                "pin_line": s.pin_line,
                "reason": s.reason_code(),
                "message": s.problem(pins_name),
                "resolution": s.resolution(),
            })).collect::<Vec<_>>(),
            "drift": self.drift.iter().map(|d| json!({
                "path": d.path,
                "pinned": d.pinned,
                "found": d.found,
                "pin_line": d.pin_line,
                "message": d.problem(pins_name),
                "resolution": d.resolution(),
            })).collect::<Vec<_>>(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn counts(items: &[(&str, usize)]) -> SiteCounts {
        items.iter().map(|(p, n)| (p.to_string(), *n)).collect()
    }

    #[test]
    fn matching_counts_are_ok() {
        let pins = Pins::parse("files:\n  a.py: 2\n  b.py: 1\n").unwrap();
        let report = compare(
            &pins,
            &counts(&[("a.py", 2), ("b.py", 1), ("c.py", 0)]),
            |_| true,
            None,
        );
        assert!(report.is_ok());
        assert_eq!(
            report.totals,
            Totals {
                producer_files: 3,
                files_with_sites: 2,
                sites: 3,
                pinned_files: 2,
                pinned_sites: 3
            }
        );
        assert!(
            report
                .summary()
                .starts_with("coverage ok: 2 pinned files match")
        );
    }

    #[test]
    fn every_failure_class_is_reported_together() {
        let pins = Pins::parse(
            "exempt: [tests/]\nfiles:\n  up.py: 1\n  down.py: 3\n  gone.py: 1\n  empty.py: 2\n  \
             tests/t.py: 1\n  notes.txt: 1\n  deleted.py: 1\n",
        )
        .unwrap();
        let found = counts(&[("up.py", 2), ("down.py", 1), ("empty.py", 0), ("new.py", 4)]);
        let tracked = ["tests/t.py", "notes.txt", "deleted.py"];
        let report = compare(&pins, &found, |p| tracked.contains(&p), None);
        assert_eq!(
            report.unpinned,
            vec![Unpinned {
                path: "new.py".into(),
                sites: 4,
                grandfathered: None
            }]
        );
        let stale: Vec<_> = report
            .stale
            .iter()
            .map(|s| (s.path.as_str(), &s.reason))
            .collect();
        assert_eq!(
            stale,
            vec![
                ("deleted.py", &StaleReason::NotTracked),
                ("empty.py", &StaleReason::NoSites),
                ("gone.py", &StaleReason::NotTracked),
                ("notes.txt", &StaleReason::NotIncluded),
                ("tests/t.py", &StaleReason::Exempt("tests/".into())),
            ]
        );
        let drift: Vec<_> = report
            .drift
            .iter()
            .map(|d| (d.path.as_str(), d.pinned, d.found))
            .collect();
        assert_eq!(drift, vec![("down.py", 3, 1), ("up.py", 1, 2)]);
        assert_eq!(report.failures(), 8);
        let text = report.to_text("pins.yaml");
        assert_eq!(text.lines().count(), 9);
        assert!(
            text.contains("count drift: up.py has 2 S3 write sites, pinned at 1 (pins.yaml:3)"),
            "{text}"
        );
        assert!(text.contains("stale pin: gone.py (1 S3 write site pinned at pins.yaml:5) is no longer tracked by git"), "{text}");
        assert!(text.ends_with("coverage failed: 8 problems (1 unpinned, 5 stale, 2 drift); 4 producer files scanned, 3 with write sites, 7 S3 write sites\n"), "{text}");
    }

    #[test]
    fn unpinned_files_name_their_grandfathered_path() {
        let pins = Pins::parse("").unwrap();
        let entries = vec![GrandfatheredPath {
            path: "rag/".into(),
            reason: "corpus bucket".into(),
            line: 9,
        }];
        let report = compare(
            &pins,
            &counts(&[("rag/a.py", 1), ("b.py", 1)]),
            |_| true,
            Some(&entries),
        );
        let text = report.to_text("pins.yaml");
        assert!(text.contains("rag/a.py has 1 S3 write site and no pin; it is under the grandfathered path rag/ (registry line 9: \"corpus bucket\"), so the decision is taken"), "{text}");
        assert!(
            text.contains(
                "b.py has 1 S3 write site and no pin; it is under no grandfathered path; register"
            ),
            "{text}"
        );
        let json = report.to_json("pins.yaml");
        assert!(json["unpinned"][0]["grandfathered"].is_null());
        assert_eq!(
            json["unpinned"][1]["grandfathered"]["reason"],
            "corpus bucket"
        );
    }
}
