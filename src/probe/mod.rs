//! Probing many keys for few requests: a pure plan ([`plan`]) groups the keys a pass must
//! probe by bucket and common prefix and lists (ListObjectsV2) where one page answers for
//! more keys than it costs, and [`listed`] runs those listings. What a listing does not
//! answer is HEADed, one key at a time, as before.

mod keys;
pub mod listed;
pub mod plan;

use crate::store::ObjectStore;
pub use keys::ProbeKeys;
pub use listed::{ListedAnswer, ListingFigures};

/// How many listings run at once.
pub const LISTING_CONCURRENCY: usize = 16;

/// Plans the probes of `keys` (the canonical key of each artifact to probe, by position; none
/// for one that lists its own prefix or whose key could not be rendered) and runs the
/// listings: per position, the listing's answer when one covered its key (empty when nothing
/// was worth listing). `None` figures when nothing was worth listing.
pub async fn list_what_pays<S: ObjectStore>(
    store: &S,
    keys: &ProbeKeys<'_>,
    max_pages: u32,
    deadline: Option<tokio::time::Instant>,
) -> (Vec<Option<ListedAnswer>>, Option<ListingFigures>) {
    let planned = plan::plan(keys, max_pages);
    if planned.listings.is_empty() {
        return (Vec::new(), None);
    }
    let mut answers = vec![None; keys.len()];
    let figures = listed::run_listings(
        store,
        planned.listings,
        |i| keys.get(i).map_or("", |(_, key)| key),
        &mut answers,
        LISTING_CONCURRENCY,
        deadline,
    )
    .await;
    (answers, Some(figures))
}
