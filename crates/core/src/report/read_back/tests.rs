use super::*;
use crate::report::CheckResults;

fn t(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

/// A row of artifact `id` in the 2026-06-05 cycle: missing and alerting with a policy that
/// did something, or fresh.
fn row(id: &str, fresh: bool) -> ResultRow {
    let mut row = ResultRow::blank(
        id.into(),
        if fresh { State::Fresh } else { State::Missing },
        Reason::Derived,
    );
    *row.context_mut() = RowContext {
        owner_repo: Some("owner".into()),
        cadence: Some("weekday_sf".into()),
        cycle_label: Some("2026-06-05".into()),
        cycle_tick: Some(t("2026-06-05T06:00:00Z")),
        s3_bucket: Some("bkt".into()),
    };
    row.severity = Some(Severity::Warning);
    row.canonical_key = Some(format!("daily/2026-06-05/{id}.json").into());
    row.set_due_at(Some(t("2026-06-05T07:00:00Z")));
    match fresh {
        true => {
            row.set_last_modified(Some(t("2026-06-05T07:12:00Z")));
            row.set_last_probed_at(Some(t("2026-06-05T07:12:00Z")));
            row.set_reason(row.derived_reason().unwrap());
        }
        false => {
            row.alerting = true;
            row.sla_violated_by_minutes = 10;
            row.set_last_probed_at(Some(t("2026-06-05T07:10:00Z")));
            row.set_reason(row.derived_reason().unwrap());
            row.policy = Some(Box::new(RowPolicy {
                action: PolicyAction::Send,
                observe: false,
                effective_severity: Severity::Critical,
                missed_cycles: 2,
                escalated: true,
                never_written: false,
                silenced: None,
                acknowledged: Some(Box::new(AckNote {
                    by: "alice".into(),
                    note: Some("rerun".into()),
                    at: t("2026-06-05T07:05:00Z"),
                    until: "until resolved".into(),
                })),
                folded_under: None,
                channels: vec!["sns", "telegram"],
                rule: "escalated after 2 missed cycles; sent".into(),
            }));
        }
    }
    row
}

fn file(rows: &[ResultRow], pretty: bool) -> Vec<u8> {
    let doc = CheckResults {
        run_at: t("2026-06-05T07:10:00Z"),
        alerts_enabled: true,
        n_entries: rows.len(),
        results: rows,
    };
    match pretty {
        true => serde_json::to_vec_pretty(&doc).unwrap(),
        false => serde_json::to_vec(&doc).unwrap(),
    }
}

#[test]
fn a_replaced_row_gives_the_file_a_pass_would_have_written_byte_for_byte() {
    for pretty in [true, false] {
        let before = [row("a", false), row("b", false), row("c", true)];
        let mut doc = ResultsDoc::parse(&file(&before, pretty)).unwrap();
        let replaced =
            doc.replace_rows(&[row("b", true), row("c", true), row("new", true)], pretty);
        assert_eq!(
            replaced,
            Replaced {
                changed: 1,
                unchanged: 1,
                absent: 1
            }
        );
        let after = [row("a", false), row("b", true), row("c", true)];
        assert_eq!(
            String::from_utf8(doc.to_json(pretty)).unwrap(),
            String::from_utf8(file(&after, pretty)).unwrap(),
            "pretty: {pretty}"
        );
    }
}

#[test]
fn rows_read_back_write_the_same_json_and_take_the_registrys_carried_fields() {
    let mut own_key = row("d", false);
    own_key.set_dedup_key("freshness_d_daily".into());
    own_key.set_off_cycle_key(Some("daily/x.json".into()));
    // Folded under `a`: written with the fold's words, held (and read back) without them.
    let mut folded = row("e", false);
    folded.policy.as_mut().unwrap().folded_under = Some("a".into());
    let rows = [row("a", false), row("c", true), own_key, folded];
    let json = String::from_utf8(file(&rows, true)).unwrap();
    assert!(
        json.contains(
            "\"rule\": \"escalated after 2 missed cycles; sent; folded under a in the digest \
             (depends_on: its upstream alerts too)\""
        ),
        "{json}"
    );
    let doc = ResultsDoc::parse(json.as_bytes()).unwrap();
    let carried = Arc::new(CarriedFields {
        runbook_url: Some("https://runbooks/a".into()),
        ..CarriedFields::default()
    });
    let back = doc.rows(|id| (id == "a").then(|| carried.clone())).unwrap();
    assert_eq!(
        back[0].carried().unwrap().runbook_url.as_deref(),
        Some("https://runbooks/a")
    );
    let back = doc.rows(|_| None).unwrap();
    assert_eq!(back, rows, "every field the page reads, read back");
    assert!(matches!(back[1].reason, Reason::Derived));
}

#[test]
fn a_file_of_another_shape_is_an_error_naming_the_file_and_the_row() {
    let cases: [(&str, &str); 4] = [
        ("[]", "check_results.json is not in this version's shape"),
        (
            r#"{"run_at": "2026-06-05T07:10:00Z", "alerts_enabled": true, "rows": []}"#,
            "missing field `n_entries`",
        ),
        (
            r#"{"run_at": "2026-06-05T07:10:00Z", "alerts_enabled": true, "n_entries": 2,
                "results": [{"artifact_id": "a"}]}"#,
            "says n_entries 2 but holds 1 rows",
        ),
        (
            r#"{"run_at": "2026-06-05T07:10:00Z", "alerts_enabled": true, "n_entries": 1,
                "results": [{"id": "a"}]}"#,
            "check_results.json row 1: missing field `artifact_id`",
        ),
    ];
    for (body, expected) in cases {
        let error = ResultsDoc::parse(body.as_bytes()).unwrap_err();
        assert!(error.contains(expected), "{error}");
    }
    let no_state = r#"{"run_at": "2026-06-05T07:10:00Z", "alerts_enabled": true,
        "n_entries": 1, "results": [{"artifact_id": "a", "reason": "r"}]}"#;
    let error = ResultsDoc::parse(no_state.as_bytes())
        .unwrap()
        .rows(|_| None)
        .unwrap_err();
    assert!(
        error.starts_with("check_results.json row 1 (a): missing field `state`"),
        "{error}"
    );
}
