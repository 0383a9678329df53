//! Reading the history's compacted log back: the packed form this build writes, the log's
//! records that the first builds wrote, and packed objects that are bad in part.

use std::io::Write;

use chrono::{DateTime, Utc};

use super::compacted::COMPACTED;
use super::read::{ReadLog, read_log};
use super::{KnownBy, LogIndex, Outcome};
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
    let reading = super::read::Reading {
        wanted: &|_: &str, _| true,
        planned: 0,
        place: |_: &str| None,
        run_records: 0,
    };
    let now = at("2026-12-04T00:00:00Z");
    read_log(&store, ("results", PREFIX), since, 4, now, reading).await
}

/// The records of `ids` (the plan, in order) as a scan takes them in step, and the warnings.
fn take_in_step(mut log: ReadLog, ids: &[&str]) -> (LogIndex, Vec<String>) {
    let mut index = LogIndex::default();
    let position = |id: &str| ids.iter().position(|x| *x == id);
    for (at, id) in ids.iter().enumerate() {
        log.take_artifact(id, at, position, &mut index);
    }
    log.finish_compacted(position, true);
    (index, log.warnings)
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
    let through = log.through.clone();
    let (index, warnings) = take_in_step(log, &["a"]);
    assert!(warnings.is_empty(), "{warnings:?}");
    assert_eq!(index.records, 2);
    let landed = index.get("a", at("2026-12-01T10:00:00Z")).unwrap();
    assert_eq!(landed.outcome, Outcome::OnTime);
    assert_eq!(
        landed.landed_at.unwrap().to_utc(),
        at("2026-12-01T10:05:00Z")
    );
    assert_eq!(landed.key_fingerprint, 7);
    let missed = index.get("a", at("2026-11-30T10:00:00Z")).unwrap();
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
        through.as_deref(),
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
    let (index, warnings) = take_in_step(log, &["a", "b", "c"]);
    assert_eq!(index.records, 2, "a's landing and c's");
    assert!(index.get("c", at("2026-12-01T10:00:00Z")).is_some());
    let warnings = warnings.join("\n");
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
    let (index, warnings) = take_in_step(log, &["a", "b", "c"]);
    assert!(
        warnings
            .iter()
            .any(|w| w.contains("not a whole gzip stream")),
        "{warnings:?}"
    );
    assert!(
        index.get("a", at("2026-12-01T10:00:00Z")).is_some(),
        "what came before the cut is kept"
    );
}

/// A compacted log of one line per id (`id` landed on time at [`TICK`], or twice the same id
/// with different landings for a repeat), in the order given.
fn compacted_of(ids: &[&str]) -> Vec<u8> {
    let mut text =
        "{\"history_outcomes\":2,\"through\":null,\"written_at\":\"2026-12-03T00:00:00Z\"}\n"
            .to_string();
    for (i, id) in ids.iter().enumerate() {
        let landed = LANDED + i as u32;
        text.push_str(&format!(
            "{{\"id\":\"{id}\",\"c\":[[{TICK},{landed},{LOOKED},0,7]]}}\n"
        ));
    }
    gzip(&text)
}

/// Which of `ids` the in-step reading found, with the landing it kept (seconds after
/// [`LANDED`]), and its warnings, reading ahead at most `read_ahead` records.
async fn found(log: &[&str], plan: &[&str], read_ahead: usize) -> (Vec<Option<i64>>, String) {
    let mut read = read(compacted_of(log)).await;
    read.compacted = read.compacted.map(|c| c.with_read_ahead(read_ahead));
    let (index, warnings) = take_in_step(read, plan);
    let landed_at = at("2026-12-01T10:05:00Z");
    let landings = (plan.iter())
        .map(|id| index.get(id, at("2026-12-01T10:00:00Z")))
        .map(|r| r.map(|r| (r.landed_at.unwrap().to_utc() - landed_at).num_seconds()))
        .collect();
    (landings, warnings.join("\n"))
}

#[tokio::test]
async fn in_registry_order_every_line_is_found_with_nothing_read_ahead() {
    let (landings, warnings) = found(&["a", "b", "c"], &["a", "b", "c"], 0).await;
    assert_eq!(landings, [Some(0), Some(1), Some(2)]);
    assert!(warnings.is_empty(), "{warnings}");
}

#[tokio::test]
async fn a_new_artifact_reads_ahead_and_the_next_ones_find_their_lines_there() {
    // "new" has no line: looking for it reads b and c ahead (within the bound).
    let (landings, warnings) = found(&["a", "b", "c"], &["a", "new", "b", "c"], 10).await;
    assert_eq!(landings, [Some(0), None, Some(1), Some(2)]);
    assert!(warnings.is_empty(), "{warnings}");
    // With nothing to read ahead, "new" stops at b's line, which b then finds.
    let (landings, warnings) = found(&["a", "b", "c"], &["a", "new", "b", "c"], 0).await;
    assert_eq!(landings, [Some(0), None, Some(1), Some(2)]);
    assert!(warnings.is_empty(), "{warnings}");
}

#[tokio::test]
async fn lines_out_of_order_are_found_within_the_read_ahead_and_probed_past_it() {
    // The registry moved c to the front: within the bound every line is found.
    let (landings, warnings) = found(&["a", "b", "c"], &["c", "a", "b"], 10).await;
    assert_eq!(landings, [Some(2), Some(0), Some(1)]);
    assert!(warnings.is_empty(), "{warnings}");
    // Past it, c stops reading at a's line; its own line comes after c was judged: dropped
    // and named, c's cycles probed (no record), a and b found.
    let (landings, warnings) = found(&["a", "b", "c"], &["c", "a", "b"], 0).await;
    assert_eq!(landings, [None, Some(0), Some(1)]);
    assert!(
        warnings.contains("history_outcomes.ndjson.gz: 1 line(s) of artifacts already judged"),
        "{warnings}"
    );
}

#[tokio::test]
async fn lines_of_artifacts_no_longer_planned_are_dropped_without_a_warning() {
    let (landings, warnings) = found(&["a", "gone", "b"], &["a", "b"], 0).await;
    assert_eq!(landings, [Some(0), Some(2)]);
    assert!(warnings.is_empty(), "{warnings}");
}

#[tokio::test]
async fn a_repeated_line_read_ahead_collapses_and_one_after_its_artifact_is_named() {
    // Both of b's lines are read ahead while looking for "new": the earlier landing wins, as
    // in the whole index.
    let (landings, warnings) = found(&["a", "b", "b"], &["new", "a", "b"], 10).await;
    assert_eq!(landings, [None, Some(0), Some(1)]);
    assert!(warnings.is_empty(), "{warnings}");
    // A repeat read after its artifact was judged is dropped and named.
    let (landings, warnings) = found(&["a", "b", "a"], &["a", "b"], 10).await;
    assert_eq!(landings, [Some(0), Some(1)]);
    assert!(
        warnings.contains("1 line(s) of artifacts already judged"),
        "{warnings}"
    );
}
