//! Probing many keys for few requests: a pure plan ([`plan`]) groups the keys a pass must
//! probe by bucket and common prefix and lists (ListObjectsV2) where one page answers for
//! more keys than it costs, and [`listed`] runs those listings, with whatever the caller sends
//! beside them (the pass's foreseen recovery-key HEADs: one round trip, not two). What a
//! listing does not answer is HEADed, one key at a time, as before.

mod keys;
pub mod listed;
pub mod plan;

use crate::store::ObjectStore;
pub use keys::ProbeKeys;
pub use listed::{ListedAnswer, ListingFigures};
pub use plan::PlannedListing;

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
    let nothing = |_: &[PlannedListing]| async {};
    let (answers, figures, ()) =
        list_what_pays_beside(store, keys, max_pages, deadline, nothing).await;
    (answers, figures)
}

/// [`list_what_pays`], with the requests `beside` makes sent together with the listings:
/// `beside` is given the planned listings (their members are the positions they answer for)
/// before they run, so a caller can send what those positions will need after their answer
/// without waiting for it (the pass's recovery-key HEADs: docs/lambda.md#round-trips).
pub async fn list_what_pays_beside<S, F, B>(
    store: &S,
    keys: &ProbeKeys<'_>,
    max_pages: u32,
    deadline: Option<tokio::time::Instant>,
    beside: F,
) -> (Vec<Option<ListedAnswer>>, Option<ListingFigures>, B::Output)
where
    S: ObjectStore,
    F: FnOnce(&[PlannedListing]) -> B,
    B: Future,
{
    let planned = plan::plan(keys, max_pages);
    let beside = beside(&planned.listings);
    if planned.listings.is_empty() {
        return (Vec::new(), None, beside.await);
    }
    let mut answers = vec![None; keys.len()];
    let listings = listed::run_listings(
        store,
        planned.listings,
        |i| keys.get(i).map_or("", |(_, key)| key),
        &mut answers,
        LISTING_CONCURRENCY,
        deadline,
    );
    let (figures, besides) = tokio::join!(listings, beside);
    (answers, Some(figures), besides)
}
