//! Reading `ledger.json` for the history scan: only each planned artifact's current cycle and
//! the sets' counts (`freshness_core::ledger::current`), parsed as the file streams from a
//! temporary file (into memory when the temp dir cannot serve), so neither the body (~186 MB
//! at a million artifacts) nor the pass's whole ledger is held during the scan.

use serde::de::DeserializeSeed;

use super::current::{CurrentCycles, CurrentCyclesSeed};
use crate::store::{ObjectStore, S3Url, StoreError};

/// The current cycles of the `planned` artifacts (`place` gives one's place by id) as the
/// last pass left them; `None` when there is no ledger, or none this build can read (said in
/// the function's log: the scan then probes what the ledger would have answered).
pub async fn read_current<S: ObjectStore>(
    store: &S,
    bucket: &str,
    key: &str,
    planned: usize,
    place: impl Fn(&str) -> Option<usize>,
) -> Option<CurrentCycles> {
    let seed = CurrentCyclesSeed { planned, place };
    let parsed = match tempfile::NamedTempFile::new() {
        Ok(staged) => match store.get_to_file(bucket, key, staged.path()).await {
            Ok(_) => std::fs::File::open(staged.path())
                .map_err(|e| StoreError::LocalFile(e.to_string()))
                .map(|file| {
                    let file = std::io::BufReader::with_capacity(256 * 1024, file);
                    seed.deserialize(&mut serde_json::Deserializer::from_reader(file))
                }),
            Err(e) => Err(e),
        },
        Err(_) => (store.get(bucket, key).await)
            .map(|o| seed.deserialize(&mut serde_json::Deserializer::from_slice(&o.body))),
    };
    let why = match parsed {
        Ok(Ok(read)) if read.is_current_version() => return Some(read),
        Err(StoreError::NotFound { .. }) => return None,
        Ok(Ok(read)) => format!("it has version {}", read.version),
        Ok(Err(e)) => format!("it is unreadable: {e}"),
        Err(e) => format!("it could not be read: {e}"),
    };
    tracing::warn!(
        message = "the history scan reads no ledger",
        ledger = %S3Url(bucket, key),
        reason = %why
    );
    None
}
