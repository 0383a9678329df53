//! Dedup markers: one alert per dedup key, however many passes (or monitors) see it.
//!
//! A marker is the JSON object `{dedup_key, first_published_at, last_published_at,
//! publish_count, message_preview}` at `{prefix}{first 16 hex of sha1(dedup_key)}.json`: the
//! place and shape the original Python monitor uses, so each honours the other's markers.
//!
//! The marker is also the lock. A pass *claims* a key by creating its marker with a
//! conditional write (`If-None-Match: *`) before sending: of two passes racing, exactly one
//! creates it and sends. A claim is written with `publish_count: 0`; after a delivery on at
//! least one channel it is rewritten with the count raised. A claim whose delivery failed on
//! every channel is *released* (deleted, or the previous marker restored) so the next pass
//! retries. A claim left with `publish_count: 0` by a pass that died is *taken over* after
//! [`ABANDONED_CLAIM_AFTER`], with `If-Match` on the ETag read, so again one pass wins.

use chrono::{DateTime, Duration, NaiveDateTime, Utc};
use serde::Serialize;
use sha1::{Digest, Sha1};

use crate::store::{FetchedObject, ObjectStore, StoreError};

/// A claim that never turned into a publish is considered abandoned after this long.
pub const ABANDONED_CLAIM_AFTER: Duration = Duration::minutes(15);

/// The marker's `message_preview` while a claim is in flight.
const CLAIM_PREVIEW: &str = "claimed by freshness-monitor; delivery in progress";

/// `{prefix}{first 16 hex of sha1(dedup_key)}.json`.
pub fn marker_key(prefix: &str, dedup_key: &str) -> String {
    let digest = Sha1::digest(dedup_key.as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("{prefix}{}.json", &hex[..16])
}

/// A marker as the original monitor writes it. Reading is lenient (fields may be missing,
/// times may be `...Z` or carry an offset or fractions); writing produces exactly the five
/// fields, times as `%Y-%m-%dT%H:%M:%SZ`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Marker {
    pub dedup_key: String,
    #[serde(serialize_with = "marker_time::serialize")]
    pub first_published_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "marker_time::serialize")]
    pub last_published_at: Option<DateTime<Utc>>,
    pub publish_count: u64,
    pub message_preview: Option<String>,
}

impl Marker {
    /// What the marker says about the alert's sending, for the pure reminder rule.
    pub fn sent_before(&self) -> crate::alert::digest::SentBefore {
        crate::alert::digest::SentBefore {
            first_published_at: self.first_published_at,
            publish_count: self.publish_count,
        }
    }

    /// Any JSON object is a marker: a field of an unexpected type reads as absent rather than
    /// making the whole marker unreadable (which would re-send what the other monitor sent).
    /// A count may be a number or a numeric string.
    pub fn parse(body: &[u8]) -> Result<Marker, String> {
        let value: serde_json::Value =
            serde_json::from_slice(body).map_err(|e| format!("not a dedup marker: {e}"))?;
        let object = value
            .as_object()
            .ok_or_else(|| "not a dedup marker: not a JSON object".to_string())?;
        let text = |name: &str| object.get(name).and_then(|v| v.as_str());
        let publish_count = match object.get("publish_count") {
            Some(serde_json::Value::Number(n)) => n
                .as_u64()
                .or_else(|| n.as_f64().filter(|f| *f >= 0.0).map(|f| f as u64))
                .unwrap_or(0),
            Some(serde_json::Value::String(s)) => s.trim().parse().unwrap_or(0),
            _ => 0,
        };
        Ok(Marker {
            dedup_key: text("dedup_key").unwrap_or_default().to_string(),
            first_published_at: text("first_published_at").and_then(parse_time),
            last_published_at: text("last_published_at").and_then(parse_time),
            publish_count,
            message_preview: text("message_preview").map(str::to_string),
        })
    }

    pub fn to_json(&self) -> Vec<u8> {
        serde_json::to_vec_pretty(self).expect("a marker always serializes")
    }

    /// The latest time the marker records.
    fn last_seen(&self) -> Option<DateTime<Utc>> {
        self.last_published_at.or(self.first_published_at)
    }
}

mod marker_time {
    use super::*;
    use serde::Serializer;

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&t.format("%Y-%m-%dT%H:%M:%SZ").to_string()),
            None => s.serialize_none(),
        }
    }
}

/// `2026-05-30T12:00:00Z`, `2026-05-30T12:00:00.123456+00:00`, or a naive time (UTC).
fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .ok()
        .or_else(|| {
            NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
                .ok()
                .map(|t| t.and_utc())
        })
}

/// How often one key may alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Repeat {
    /// Once, ever (the key carries the cycle, so: once per cycle).
    Never,
    /// Again once this long has passed since the last publish (registry errors: hourly).
    After(Duration),
}

/// A key this pass holds: it may send, then must [`DedupStore::publish`] or
/// [`DedupStore::release`].
#[derive(Debug, Clone, PartialEq)]
pub struct Claim {
    pub dedup_key: String,
    pub marker_key: String,
    /// The published marker this claim replaced (a repeat), restored on release.
    previous: Option<Marker>,
    /// Whether an abandoned or unreadable claim was taken over.
    pub took_over: bool,
}

/// What claiming a key came to.
#[derive(Debug, Clone, PartialEq)]
pub enum ClaimOutcome {
    /// This pass holds the key and sends.
    Claimed(Claim),
    /// Already alerted (or being alerted by another pass): nothing to send.
    Held(Marker),
    /// The store could not say: dedup is unavailable for this key.
    Failed(StoreError),
}

/// The markers of one bucket and prefix, over any object store.
pub struct DedupStore<'a, S> {
    store: &'a S,
    bucket: String,
    prefix: String,
}

impl<'a, S: ObjectStore> DedupStore<'a, S> {
    /// `prefix` is used as given (the settings make it end with `/`).
    pub fn new(store: &'a S, bucket: impl Into<String>, prefix: impl Into<String>) -> Self {
        DedupStore {
            store,
            bucket: bucket.into(),
            prefix: prefix.into(),
        }
    }

    pub fn bucket(&self) -> &str {
        &self.bucket
    }

    pub fn marker_key(&self, dedup_key: &str) -> String {
        marker_key(&self.prefix, dedup_key)
    }

    /// Claims `dedup_key` at `now`: creates its marker, or takes over one that is abandoned
    /// (or, with [`Repeat::After`], one whose last publish is old enough).
    pub async fn claim(&self, dedup_key: &str, now: DateTime<Utc>, repeat: Repeat) -> ClaimOutcome {
        let key = self.marker_key(dedup_key);
        let claim_body = Marker {
            dedup_key: dedup_key.to_string(),
            first_published_at: Some(now),
            last_published_at: Some(now),
            publish_count: 0,
            message_preview: Some(CLAIM_PREVIEW.to_string()),
        };
        // Twice at most: a marker deleted between our create and our read is claimable again.
        for _ in 0..2 {
            match self
                .store
                .put_if_absent(&self.bucket, &key, claim_body.to_json(), "application/json")
                .await
            {
                Ok(true) => {
                    return ClaimOutcome::Claimed(Claim {
                        dedup_key: dedup_key.to_string(),
                        marker_key: key,
                        previous: None,
                        took_over: false,
                    });
                }
                Ok(false) => {}
                Err(e) => return ClaimOutcome::Failed(e),
            }
            let existing = match self.store.get(&self.bucket, &key).await {
                Ok(object) => object,
                Err(StoreError::NotFound { .. }) => continue,
                Err(e) => return ClaimOutcome::Failed(e),
            };
            return self
                .claim_existing(&key, claim_body, existing, now, repeat)
                .await;
        }
        ClaimOutcome::Failed(StoreError::Other(format!(
            "the marker {key} kept appearing and vanishing; giving up on deduplicating it"
        )))
    }

    /// A marker exists: held, or taken over (conditionally on its ETag) when it is an
    /// abandoned claim, unreadable, or old enough to repeat.
    async fn claim_existing(
        &self,
        key: &str,
        mut claim_body: Marker,
        existing: FetchedObject,
        now: DateTime<Utc>,
        repeat: Repeat,
    ) -> ClaimOutcome {
        let parsed = Marker::parse(&existing.body);
        let (takeover, previous) = takeover_decision(&parsed, now, repeat);
        if !takeover {
            return ClaimOutcome::Held(parsed.expect("held markers parsed"));
        }
        let Some(etag) = existing.etag.as_deref() else {
            return ClaimOutcome::Failed(StoreError::Other(format!(
                "the store gave no ETag for {key}, so an abandoned claim cannot be taken over \
                 safely"
            )));
        };
        if let Some(prev) = &previous {
            claim_body.first_published_at = prev.first_published_at.or(Some(now));
            claim_body.publish_count = prev.publish_count;
        }
        let body = claim_body.to_json();
        match self
            .store
            .put_if_match(&self.bucket, key, etag, body, "application/json")
            .await
        {
            Ok(true) => ClaimOutcome::Claimed(Claim {
                dedup_key: claim_body.dedup_key,
                marker_key: key.to_string(),
                previous,
                took_over: true,
            }),
            // Another pass took it over first: it sends.
            Ok(false) => match self.store.get(&self.bucket, key).await {
                Ok(object) => match Marker::parse(&object.body) {
                    Ok(m) => ClaimOutcome::Held(m),
                    Err(e) => ClaimOutcome::Failed(StoreError::Other(e)),
                },
                Err(e) => ClaimOutcome::Failed(e),
            },
            Err(e) => ClaimOutcome::Failed(e),
        }
    }

    /// Records a delivery: the marker says published, with the count raised.
    pub async fn publish(
        &self,
        claim: &Claim,
        now: DateTime<Utc>,
        message_preview: &str,
    ) -> Result<(), StoreError> {
        let (first, count) = match &claim.previous {
            Some(prev) => (prev.first_published_at.unwrap_or(now), prev.publish_count),
            None => (now, 0),
        };
        let marker = Marker {
            dedup_key: claim.dedup_key.clone(),
            first_published_at: Some(first),
            last_published_at: Some(now),
            publish_count: count + 1,
            message_preview: Some(message_preview.to_string()),
        };
        self.store
            .put(
                &self.bucket,
                &claim.marker_key,
                marker.to_json(),
                "application/json",
            )
            .await
    }

    /// Gives a claim back after a delivery that reached no channel, so the next pass retries.
    pub async fn release(&self, claim: &Claim) -> Result<(), StoreError> {
        match &claim.previous {
            Some(prev) => {
                self.store
                    .put(
                        &self.bucket,
                        &claim.marker_key,
                        prev.to_json(),
                        "application/json",
                    )
                    .await
            }
            None => self.store.delete(&self.bucket, &claim.marker_key).await,
        }
    }

    /// Whether `dedup_key` was published (by either monitor): `Ok(false)` when there is no
    /// marker or only an unpublished claim.
    pub async fn was_published(&self, dedup_key: &str) -> Result<bool, StoreError> {
        let key = self.marker_key(dedup_key);
        match self.store.get(&self.bucket, &key).await {
            Ok(object) => Ok(Marker::parse(&object.body).is_ok_and(|m| m.publish_count > 0)),
            Err(StoreError::NotFound { .. }) => Ok(false),
            Err(e) => Err(e),
        }
    }
}

/// Whether an existing marker may be taken over, and the published marker it replaces.
/// Unreadable: yes (a marker this monitor cannot interpret must not silence alerts); a claim
/// never published: once abandoned; a published one: only when it may repeat and is due.
fn takeover_decision(
    parsed: &Result<Marker, String>,
    now: DateTime<Utc>,
    repeat: Repeat,
) -> (bool, Option<Marker>) {
    match parsed {
        Err(_) => (true, None),
        Ok(m) if m.publish_count == 0 => (
            m.last_seen()
                .is_none_or(|t| now - t >= ABANDONED_CLAIM_AFTER),
            None,
        ),
        Ok(m) => match repeat {
            Repeat::Never => (false, None),
            Repeat::After(window) => (
                m.last_seen().is_none_or(|t| now - t >= window),
                Some(m.clone()),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::LocalDirStore;
    use chrono::TimeZone;

    fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 5, 30, 14, 0, 0).unwrap()
    }

    fn setup() -> (tempfile::TempDir, LocalDirStore) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("bucket")).unwrap();
        let store = LocalDirStore::new(dir.path());
        (dir, store)
    }

    fn read(dir: &tempfile::TempDir, key: &str) -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(dir.path().join("bucket").join(key)).unwrap())
            .unwrap()
    }

    #[test]
    fn marker_keys_are_the_original_monitors() {
        // sha1("freshness_pit_parity_2026-W22") = 4b0e8f…, as Python's hashlib computes it.
        let key = marker_key("_alerts/_dedup/", "freshness_pit_parity_2026-W22");
        let digest = Sha1::digest(b"freshness_pit_parity_2026-W22");
        let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(key, format!("_alerts/_dedup/{}.json", &hex[..16]));
        assert_eq!(
            marker_key("_alerts/_dedup/", "abc"),
            "_alerts/_dedup/a9993e364706816a.json",
            "sha1(abc) = a9993e364706816aba3e25717850c26c9cd0d89d"
        );
    }

    #[test]
    fn original_markers_parse_with_any_time_format_and_missing_fields() {
        let m = Marker::parse(
            br#"{"dedup_key":"k","first_published_at":"2026-05-30T12:00:00Z",
                 "last_published_at":"2026-05-30T12:30:00.123456+00:00","publish_count":2}"#,
        )
        .unwrap();
        assert_eq!(m.publish_count, 2);
        assert_eq!(m.message_preview, None);
        assert_eq!(
            m.last_published_at,
            Some(
                Utc.with_ymd_and_hms(2026, 5, 30, 12, 30, 0).unwrap()
                    + Duration::microseconds(123456)
            )
        );
        assert!(Marker::parse(b"not json").is_err());
        assert!(Marker::parse(b"[1]").is_err());
        let loose = Marker::parse(br#"{"publish_count":"3","last_published_at":5}"#).unwrap();
        assert_eq!(loose.publish_count, 3);
        assert_eq!(loose.last_published_at, None);
    }

    #[test]
    fn written_markers_have_exactly_the_original_shape() {
        let m = Marker {
            dedup_key: "k".into(),
            first_published_at: Some(now()),
            last_published_at: Some(now()),
            publish_count: 1,
            message_preview: Some("hi".into()),
        };
        let v: serde_json::Value = serde_json::from_slice(&m.to_json()).unwrap();
        assert_eq!(
            v,
            serde_json::json!({"dedup_key": "k", "first_published_at": "2026-05-30T14:00:00Z",
                "last_published_at": "2026-05-30T14:00:00Z", "publish_count": 1,
                "message_preview": "hi"})
        );
    }

    #[tokio::test]
    async fn the_first_claim_wins_and_the_second_is_held() {
        let (dir, store) = setup();
        let dedup = DedupStore::new(&store, "bucket", "_alerts/_dedup/");
        let ClaimOutcome::Claimed(claim) = dedup.claim("k", now(), Repeat::Never).await else {
            panic!("first claim")
        };
        assert!(matches!(
            dedup.claim("k", now(), Repeat::Never).await,
            ClaimOutcome::Held(m) if m.publish_count == 0
        ));
        dedup.publish(&claim, now(), "the message").await.unwrap();
        let v = read(&dir, &claim.marker_key);
        assert_eq!(v["publish_count"], 1);
        assert_eq!(v["message_preview"], "the message");
        assert!(dedup.was_published("k").await.unwrap());
        assert!(!dedup.was_published("other").await.unwrap());
        let later = now() + Duration::days(3);
        assert!(matches!(
            dedup.claim("k", later, Repeat::Never).await,
            ClaimOutcome::Held(_)
        ));
    }

    #[tokio::test]
    async fn a_released_claim_can_be_claimed_again() {
        let (_dir, store) = setup();
        let dedup = DedupStore::new(&store, "bucket", "p/");
        let ClaimOutcome::Claimed(claim) = dedup.claim("k", now(), Repeat::Never).await else {
            panic!()
        };
        dedup.release(&claim).await.unwrap();
        assert!(matches!(
            dedup.claim("k", now(), Repeat::Never).await,
            ClaimOutcome::Claimed(_)
        ));
    }

    #[tokio::test]
    async fn an_abandoned_claim_is_taken_over_after_15_minutes_only() {
        let (_dir, store) = setup();
        let dedup = DedupStore::new(&store, "bucket", "p/");
        assert!(matches!(
            dedup.claim("k", now(), Repeat::Never).await,
            ClaimOutcome::Claimed(_)
        ));
        let soon = now() + Duration::minutes(14);
        assert!(matches!(
            dedup.claim("k", soon, Repeat::Never).await,
            ClaimOutcome::Held(_)
        ));
        let late = now() + Duration::minutes(15);
        let ClaimOutcome::Claimed(claim) = dedup.claim("k", late, Repeat::Never).await else {
            panic!("takeover")
        };
        assert!(claim.took_over);
    }

    #[tokio::test]
    async fn an_unreadable_marker_does_not_silence_the_alert() {
        let (dir, store) = setup();
        let dedup = DedupStore::new(&store, "bucket", "p/");
        let key = dedup.marker_key("k");
        std::fs::create_dir_all(dir.path().join("bucket/p")).unwrap();
        std::fs::write(dir.path().join("bucket").join(&key), "garbage").unwrap();
        assert!(matches!(
            dedup.claim("k", now(), Repeat::Never).await,
            ClaimOutcome::Claimed(c) if c.took_over
        ));
    }

    #[tokio::test]
    async fn a_repeating_key_alerts_again_after_its_window_and_keeps_its_history() {
        let (dir, store) = setup();
        let dedup = DedupStore::new(&store, "bucket", "p/");
        let hourly = Repeat::After(Duration::hours(1));
        let ClaimOutcome::Claimed(c) = dedup.claim("r", now(), hourly).await else {
            panic!()
        };
        dedup.publish(&c, now(), "one").await.unwrap();
        let t1 = now() + Duration::minutes(45);
        assert!(matches!(
            dedup.claim("r", t1, hourly).await,
            ClaimOutcome::Held(_)
        ));
        let t2 = now() + Duration::minutes(60);
        let ClaimOutcome::Claimed(c2) = dedup.claim("r", t2, hourly).await else {
            panic!("after an hour")
        };
        dedup.release(&c2).await.unwrap();
        assert_eq!(
            read(&dir, &c2.marker_key)["publish_count"],
            1,
            "release restores"
        );
        let ClaimOutcome::Claimed(c3) = dedup.claim("r", t2, hourly).await else {
            panic!()
        };
        dedup.publish(&c3, t2, "two").await.unwrap();
        let v = read(&dir, &c3.marker_key);
        assert_eq!(v["publish_count"], 2);
        assert_eq!(v["first_published_at"], "2026-05-30T14:00:00Z");
        assert_eq!(v["last_published_at"], "2026-05-30T15:00:00Z");
    }
}
