//! The loader on `partitions:` and the content checks: read per artifact and from
//! `defaults:`, and every bad value an error naming the artifact, the field and the value.

use super::*;

const HEAD: &str = "\
schema_version: 1
defaults:
  s3_bucket: research-bucket
  severity: warning
  owner_repo: data-platform
  created_at: 2026-01-05
  cadence: weekday_sf
  sla_minutes_after_cron: 60
  require_new_content: true
artifacts:
";

fn loaded(artifacts: &str) -> Registry {
    parse_registry("r.yaml", format!("{HEAD}{artifacts}").as_bytes()).expect("loads")
}

fn messages(artifacts: &str) -> Vec<String> {
    loaded(artifacts)
        .artifact_errors()
        .map(|e| e.to_string())
        .collect()
}

#[test]
fn a_set_and_its_content_checks_are_read_with_the_defaults() {
    let registry = loaded(
        "  - artifact_id: prices
    s3_key_template: \"p/{date}/{partition}.parquet\"
    partitions: [AAPL, MSFT]
    min_complete: 0.5
    min_size_bytes: 1024
    size_drop_below: 0.1
  - artifact_id: plain
    s3_key_template: \"q/{date}.json\"
    require_new_content: false
",
    );
    let errors: Vec<String> = registry.artifact_errors().map(|e| e.to_string()).collect();
    assert!(errors.is_empty(), "{errors:#?}");
    let specs: Vec<&ArtifactSpec> = registry.valid_artifacts().collect();
    let prices = specs[0];
    let values: Vec<&str> = (prices.partitions().unwrap().values().iter())
        .map(|v| &**v)
        .collect();
    assert_eq!(values, ["AAPL", "MSFT"]);
    assert_eq!(prices.min_complete(), Some(&0.5));
    assert_eq!(prices.min_size_bytes(), Some(&1024));
    assert_eq!(prices.size_drop_below(), Some(&0.1));
    assert_eq!(prices.require_new_content(), Some(&true), "from defaults:");
    assert_eq!(specs[1].require_new_content(), Some(&false), "its own wins");
    assert_eq!(specs[1].partitions(), None);
    assert!(prices.is_set() && !specs[1].is_set());
}

#[test]
fn every_bad_set_or_check_names_the_artifact_the_field_and_the_value() {
    let cases = [
        (
            "    s3_key_template: \"p/{partition}\"\n    partitions: [A, B, A]\n",
            "artifact a: field partitions: value 3 (\"A\") is listed twice",
        ),
        (
            "    s3_key_template: \"p/{partition}\"\n    partitions: {from: 1, to: 10000000}\n",
            "artifact a: field partitions: 10000000 values; a set has at most 100000",
        ),
        (
            "    s3_key_template: \"p/{date}\"\n    partitions: [A]\n",
            "artifact a: field s3_key_template: a set's key template must use {partition}",
        ),
        (
            "    s3_key_template: \"p/{partition}\"\n",
            "artifact a: field partitions: {partition} in the key template needs `partitions:`",
        ),
        (
            "    s3_key_template: \"p/{date}\"\n    min_complete: 0.9\n",
            "artifact a: field min_complete: only a set (partitions:) takes min_complete",
        ),
        (
            "    s3_key_template: \"p/{partition}\"\n    partitions: [A]\n    min_complete: 1.5\n",
            "artifact a: field min_complete: expected a fraction above 0 and at most 1",
        ),
        (
            "    s3_key_template: \"p/{partition}\"\n    partitions_from: lists/t.txt\n",
            "artifact a: field partitions_from: expected s3://bucket/key",
        ),
        (
            "    s3_key_template: \"p/{partition}\"\n    partitions: [A]\n    \
             partitions_from: s3://bkt/t.txt\n",
            "artifact a: field partitions_from: a set's values are either listed",
        ),
        (
            "    s3_key_template: \"p/{date}\"\n    size_drop_below: 2\n",
            "artifact a: field size_drop_below: expected a fraction between 0 and 1",
        ),
        (
            "    s3_key_template: \"p/{date}\"\n    min_size_bytes: 0\n",
            "artifact a: field min_size_bytes: expected a whole number of bytes >= 1",
        ),
    ];
    for (fields, said) in cases {
        let errors = messages(&format!("  - artifact_id: a\n{fields}"));
        assert!(
            errors.iter().any(|e| e.contains(said)),
            "{fields}: {errors:#?}"
        );
    }
}
