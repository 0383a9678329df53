//! The registry keys of issue 14 (producers as they really behave): a cadence's `dst:` rule,
//! a continuous artifact's `active_windows:` and `off_cycle:` tolerance.

use super::*;
use crate::cadence::Cadence;
use crate::cadence::cron::DstRule;

const FILE: &str = "ARTIFACT_REGISTRY.yaml";

const DEFAULTS: &str = "\
schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
  created_at: 2026-01-05
  sla_minutes_after_cron: 5
";

/// Every message of a registry, whether it loaded (artifact errors) or not.
fn messages(text: &str) -> Vec<String> {
    match parse_registry(FILE, text.as_bytes()) {
        Ok(registry) => registry.artifact_errors().map(|e| e.to_string()).collect(),
        Err(e) => e.errors.iter().map(|e| e.to_string()).collect(),
    }
}

fn valid(text: &str) -> Registry {
    let registry = parse_registry(FILE, text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    let errors: Vec<String> = registry.artifact_errors().map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "unexpected errors: {errors:#?}");
    registry
}

fn only_spec(registry: &Registry) -> &ArtifactSpec {
    registry
        .valid_artifacts()
        .next()
        .expect("one valid artifact")
}

#[test]
fn a_cadence_names_its_producers_dst_rule_and_cron_is_the_default() {
    let registry = valid(&format!(
        "{DEFAULTS}cadences:
  hourly: {{cron: \"30 * * * *\", timezone: America/New_York, dst: eventbridge}}
  nightly: {{cron: \"30 2 * * *\", timezone: America/New_York}}
artifacts:
  - {{artifact_id: a, s3_key_template: a.json, cadence: hourly}}
"
    ));
    let dst: Vec<(&str, DstRule)> = (registry.user_cadences.iter())
        .map(|c| (c.name.as_str(), c.dst))
        .collect();
    assert_eq!(
        dst,
        [("hourly", DstRule::EventBridge), ("nightly", DstRule::Cron)]
    );
    assert!(matches!(&only_spec(&registry).cadence, Cadence::User(u) if u.name == "hourly"));
}

#[test]
fn an_unknown_dst_rule_is_an_error_with_a_did_you_mean() {
    let text = format!(
        "{DEFAULTS}cadences:
  hourly: {{cron: \"30 * * * *\", dst: eventbrige}}
artifacts: []
"
    );
    assert_eq!(
        messages(&text),
        [
            "ARTIFACT_REGISTRY.yaml:9: field cadences.hourly.dst: unknown DST rule \"eventbrige\"; \
          did you mean `eventbridge`? `cron` (Debian cron's, the default) or `eventbridge` \
          (EventBridge Scheduler's)"
        ]
    );
}
