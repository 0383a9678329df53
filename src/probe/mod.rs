//! Probing many keys for few requests: a pure plan ([`plan`]) groups the keys a pass must
//! probe by bucket and common prefix and lists (ListObjectsV2) where one page answers for
//! more keys than it costs, and [`listed`] runs those listings. What a listing does not
//! answer is HEADed, one key at a time, as before.

pub mod listed;
pub mod plan;

use crate::store::ObjectStore;
pub use listed::{ListedAnswer, ListingFigures};

/// How many listings run at once.
pub const LISTING_CONCURRENCY: usize = 16;

/// Plans the probes of `keys` (`(bucket, canonical key)` per artifact to probe, `None` for one
/// whose key could not be rendered) and runs the listings: per artifact, the listing's answer
/// when one covered its key. `None` figures when nothing was worth listing.
pub async fn list_what_pays<S: ObjectStore>(
    store: &S,
    keys: &[Option<(&str, String)>],
    max_pages: u32,
    deadline: Option<tokio::time::Instant>,
) -> (Vec<Option<ListedAnswer>>, Option<ListingFigures>) {
    let mut answers = vec![None; keys.len()];
    let rendered: Vec<usize> = (0..keys.len()).filter(|i| keys[*i].is_some()).collect();
    let pairs: Vec<(&str, &str)> = rendered
        .iter()
        .filter_map(|i| keys[*i].as_ref().map(|(b, k)| (*b, k.as_str())))
        .collect();
    let planned = plan::plan(&pairs, max_pages);
    if planned.listings.is_empty() {
        return (answers, None);
    }
    let mut by_pair = vec![None; pairs.len()];
    let figures = listed::run_listings(
        store,
        planned.listings,
        |i| pairs[i].1,
        &mut by_pair,
        LISTING_CONCURRENCY,
        deadline,
    )
    .await;
    for (pair, answer) in by_pair.into_iter().enumerate() {
        answers[rendered[pair]] = answer;
    }
    (answers, Some(figures))
}
