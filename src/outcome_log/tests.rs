//! Reading the history's compacted log back: the packed form this build writes, the log's
//! records that the first builds wrote, and packed objects that are bad in part.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::compacted::COMPACTED;
use super::read::{ReadLog, read_log};
use super::{KnownBy, Outcome};
use crate::store::memory::MemoryStore;

const PREFIX: &str = "_freshness_monitor/";

fn at(text: &str) -> DateTime<Utc> {
    text.parse().unwrap()
}

fn gzip(text: &str) -> Vec<u8> {
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
    gz.write_all(text.as_bytes()).unwrap();
    gz.finish().unwrap()
}

async fn read(body: Vec<u8>) -> ReadLog {
    let store = MemoryStore::new();
    let key = format!("{PREFIX}{COMPACTED}");
    store.insert("results", &key, body, at("2026-12-04T00:00:00Z"));
    let since = at("2026-11-01T00:00:00Z").date_naive();
    read_log(
        &store,
        "results",
        PREFIX,
        since,
        4,
        at("2026-12-04T00:00:00Z"),
    )
    .await
}

/// 2026-12-01T10:00:00Z, 2026-12-01T10:05:00Z, 2026-12-02T00:00:00Z in Unix seconds.
const TICK: u32 = 1_796_119_200;
const LANDED: u32 = 1_796_119_500;
const LOOKED: u32 = 1_796_169_600;

#[tokio::test]
async fn a_packed_compacted_log_answers_its_cycles_and_says_where_it_stops() {
    let text = format!(
        "{{\"history_outcomes\":2,\"through\":\"{PREFIX}outcomes/date=2026-12-03/x.ndjson.gz\",\
         \"written_at\":\"2026-12-03T00:00:00Z\"}}\n\
         {{\"id\":\"a\",\"c\":[[{TICK},{LANDED},{LOOKED},0,7],[{},0,{LOOKED},{},8]]}}\n",
        TICK - 86_400,
        2 | (1 << 3) | (1 << 4)
    );
    let log = read(gzip(&text)).await;
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    assert_eq!(log.index.records, 2);
    let landed = log.index.get("a", at("2026-12-01T10:00:00Z")).unwrap();
    assert_eq!(landed.outcome, Outcome::OnTime);
    assert_eq!(
        landed.landed_at.unwrap().to_utc(),
        at("2026-12-01T10:05:00Z")
    );
    assert_eq!(landed.key_fingerprint, 7);
    let missed = log.index.get("a", at("2026-11-30T10:00:00Z")).unwrap();
    assert_eq!(
        (
            missed.outcome,
            missed.alerted,
            missed.known_by,
            missed.landed_at
        ),
        (Outcome::Missing, true, KnownBy::Recheck, None)
    );
    assert_eq!(
        log.through.as_deref(),
        Some("_freshness_monitor/outcomes/date=2026-12-03/x.ndjson.gz")
    );
}

#[tokio::test]
async fn a_compacted_log_of_the_first_format_is_still_read() {
    let record = r#"{"schema_version":1,"artifact_id":"a","cadence":"weekday_sf","cycle_label":"2026-12-01","tick":"2026-12-01T10:00:00Z","due_at":"2026-12-01T11:00:00Z","expected":true,"outcome":"late","landed_at":"2026-12-01T11:30:00Z","on_time":false,"minutes_late":30,"alerted":true,"known_by":"pass","s3_bucket":"data","s3_key":"a/2026-12-01.csv","recorded_at":"2026-12-02T00:00:00Z"}"#;
    let text = format!(
        "{{\"history_outcomes\":1,\"through\":null,\"written_at\":\"2026-12-03T00:00:00Z\"}}\n\
         {record}\n"
    );
    let log = read(gzip(&text)).await;
    assert!(log.warnings.is_empty(), "{:?}", log.warnings);
    let held = log.index.get("a", at("2026-12-01T10:00:00Z")).unwrap();
    assert_eq!((held.outcome, held.alerted), (Outcome::Late, true));
    assert_eq!(
        held.key_fingerprint,
        crate::ledger::probe_fingerprint("data", "a/2026-12-01.csv")
    );
}

#[tokio::test]
async fn bad_lines_cycles_from_the_future_and_a_cut_stream_are_named_and_the_rest_kept() {
    let future = 1_830_000_000u32; // 2027
    let text = format!(
        "{{\"history_outcomes\":2,\"through\":null,\"written_at\":\"2026-12-03T00:00:00Z\"}}\n\
         {{\"id\":\"a\",\"c\":[[{TICK},{LANDED},{LOOKED},0,7],[{future},0,{LOOKED},2,7]]}}\n\
         not json\n\
         {{\"id\":\"b\",\"c\":[[{TICK},0,{LOOKED},63,7]]}}\n\
         {{\"id\":\"c\",\"c\":[[{TICK},{LANDED},{LOOKED},0,9]]}}\n"
    );
    let log = read(gzip(&text)).await;
    assert_eq!(log.index.records, 2, "a's landing and c's");
    assert!(log.index.get("c", at("2026-12-01T10:00:00Z")).is_some());
    let warnings = log.warnings.join("\n");
    for expected in [
        "history_outcomes.ndjson.gz: 1 unreadable line(s), their artifacts' cycles probed \
         instead (line 3:",
        "1 cycle(s) with numbers this build does not write",
        "1 record(s) of cycles that had not ticked yet",
    ] {
        assert!(warnings.contains(expected), "{expected:?} in {warnings}");
    }

    let mut cut = gzip(&text);
    cut.truncate(cut.len() - 12);
    let log = read(cut).await;
    assert!(
        log.warnings
            .iter()
            .any(|w| w.contains("not a whole gzip stream")),
        "{:?}",
        log.warnings
    );
    assert!(
        log.index.get("a", at("2026-12-01T10:00:00Z")).is_some(),
        "what came before the cut is kept"
    );
}
