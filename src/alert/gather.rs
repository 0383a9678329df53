//! The alert policy's inputs that live in the store, gathered by the pass before the pure
//! policy (`alert::policy::decide`) runs: the acknowledgements under the results prefix, and
//! the listings that tell whether a missing artifact's template prefix was ever written. The
//! `ack` command writes and removes acknowledgements here too.

use std::collections::HashMap;

use futures_util::StreamExt;
use futures_util::stream;

use crate::alert::policy::ack::{Ack, AckRead, ack_key};
use crate::alert::policy::never_written::{
    NeverWritten, PrefixCheck, PrefixToList, distinct_prefixes, judge_listings,
};
use crate::report::files::ACKS;
use crate::store::listing::{MAX_KEYS_PER_PAGE, list_prefix};
use crate::store::{ObjectStore, S3Url, StoreError};

/// At most this many listing pages of acks are read (10,000 acks).
const MAX_ACK_PAGES: u32 = 10;

/// Lists and reads every ack under `results_prefix`. Never fails: what cannot be read is a
/// problem in the result and the rest is used.
pub async fn read_acks<S: ObjectStore>(store: &S, bucket: &str, results_prefix: &str) -> AckRead {
    let prefix = format!("{results_prefix}{ACKS}");
    let listing = match list_prefix(store, bucket, &prefix, MAX_KEYS_PER_PAGE, MAX_ACK_PAGES).await
    {
        Ok(listing) => listing,
        Err(e) => {
            return AckRead {
                acks: Vec::new(),
                problems: vec![format!(
                    "acknowledgements in {} could not be listed (ignored this pass): {e}",
                    S3Url(bucket, &prefix)
                )],
            };
        }
    };
    let mut read = AckRead::default();
    if !listing.complete {
        read.problems.push(format!(
            "more than {} acknowledgements in {}: only the first were read",
            u32::from(MAX_KEYS_PER_PAGE) * MAX_ACK_PAGES,
            S3Url(bucket, &prefix)
        ));
    }
    let fetched: Vec<Result<Ack, String>> = stream::iter(listing.objects)
        .filter(|o| std::future::ready(o.key.ends_with(".json")))
        .map(|o| async move { read_one(store, bucket, &o.key).await })
        .buffered(16)
        .collect()
        .await;
    for result in fetched {
        match result {
            Ok(ack) => read.acks.push(ack),
            Err(problem) => read.problems.push(problem),
        }
    }
    for problem in &read.problems {
        tracing::warn!(message = "acknowledgement ignored", problem = %problem);
    }
    read
}

async fn read_one<S: ObjectStore>(store: &S, bucket: &str, key: &str) -> Result<Ack, String> {
    let object = store
        .get(bucket, key)
        .await
        .map_err(|e| format!("{} could not be read (ignored): {e}", S3Url(bucket, key)))?;
    let ack: Ack = serde_json::from_slice(&object.body).map_err(|e| {
        format!(
            "{} is not an acknowledgement (ignored): {e}",
            S3Url(bucket, key)
        )
    })?;
    let expected = key
        .rsplit('/')
        .next()
        .and_then(|name| name.strip_suffix(".json"));
    if expected != Some(ack.artifact_id.as_str()) {
        return Err(format!(
            "{} names artifact `{}`, not the one its key names (ignored)",
            S3Url(bucket, key),
            ack.artifact_id
        ));
    }
    Ok(ack)
}

/// Writes `ack` (replacing any earlier ack of the same artifact).
pub async fn write_ack<S: ObjectStore>(
    store: &S,
    bucket: &str,
    results_prefix: &str,
    ack: &Ack,
) -> Result<String, StoreError> {
    let key = ack_key(results_prefix, &ack.artifact_id);
    store
        .put(bucket, &key, ack.to_json(), "application/json")
        .await?;
    Ok(key)
}

/// Removes `id`'s ack; `Ok(false)` when there was none.
pub async fn remove_ack<S: ObjectStore>(
    store: &S,
    bucket: &str,
    results_prefix: &str,
    id: &str,
) -> Result<bool, StoreError> {
    let key = ack_key(results_prefix, id);
    match store.head(bucket, &key).await {
        Ok(Some(_)) => {}
        Ok(None) | Err(StoreError::NotFound { .. }) => return Ok(false),
        Err(e) => return Err(e),
    }
    store.delete(bucket, &key).await?;
    Ok(true)
}

/// Lists each distinct prefix of `checks` once (one page of one key: anything there at
/// all?), at most `MAX_PREFIX_LISTINGS_PER_PASS` of them. A listing that fails (no
/// `s3:ListBucket`, a throttle) judges nothing: the artifact stays plain missing.
pub async fn check_prefixes<S: ObjectStore>(
    store: &S,
    known: HashMap<String, String>,
    checks: Vec<PrefixCheck>,
) -> NeverWritten {
    let listed: Vec<(PrefixToList, Option<bool>)> = stream::iter(distinct_prefixes(checks))
        .map(|place| async move {
            let any = match list_prefix(store, &place.bucket, &place.prefix, 1, 1).await {
                Ok(listing) => Some(!listing.objects.is_empty()),
                Err(e) => {
                    tracing::warn!(
                        message = "could not list a template's prefix; never-written not judged",
                        prefix = %S3Url(&place.bucket, &place.prefix),
                        error = %e,
                    );
                    None
                }
            };
            (place, any)
        })
        .buffer_unordered(16)
        .collect()
        .await;
    judge_listings(known, listed)
}
