//! Running a plan's listings: each prefix is paged through (up to its cap), and every member
//! key the pages cover is answered (present with its LastModified, or absent). A listing in
//! key order covers every key up to its last one, so a key it does not hold there is absent;
//! keys beyond what a capped, failed or late listing reached get no answer and are HEADed.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream;

pub use crate::report::ListingFigures;

use super::plan::PlannedListing;
use crate::store::listing::MAX_KEYS_PER_PAGE;
use crate::store::{ListPage, ObjectMeta, ObjectStore, StoreError};

/// What a listing said about one key: `Some(meta)` present, `None` absent.
pub type ListedAnswer = Option<ObjectMeta>;

/// Runs `listings` (a few at a time), answering into `answers` (indexed like the planned
/// keys, whose text `key_of` gives). A bucket whose LIST answered 403 is not listed again in
/// the pass.
pub async fn run_listings<'k, S: ObjectStore>(
    store: &S,
    listings: Vec<PlannedListing>,
    key_of: impl Fn(usize) -> &'k str + Copy,
    answers: &mut [Option<ListedAnswer>],
    concurrency: usize,
    deadline: Option<tokio::time::Instant>,
) -> ListingFigures {
    let mut figures = ListingFigures::default();
    let denied: Arc<std::sync::Mutex<Vec<String>>> = Arc::default();
    let mut results = stream::iter(listings)
        .map(|listing| {
            let denied = denied.clone();
            async move {
                if denied
                    .lock()
                    .expect("not poisoned")
                    .contains(&listing.bucket)
                {
                    return (listing, ListingRun::default());
                }
                let run = run_one(store, &listing, key_of, deadline).await;
                if let Some(StoreError::ListDenied { bucket, .. }) = &run.error {
                    denied.lock().expect("not poisoned").push(bucket.clone());
                }
                (listing, run)
            }
        })
        .buffer_unordered(concurrency.max(1));
    while let Some((listing, run)) = results.next().await {
        figures.listings += 1;
        figures.pages += u64::from(run.pages);
        figures.answered += run.answered.len();
        figures.fell_back += listing.members.len() - run.answered.len();
        if let Some(error) = run.error {
            tracing::warn!(
                message = "a listing failed; its keys are HEADed instead",
                bucket = %listing.bucket,
                prefix = %listing.prefix,
                error = %error,
            );
            figures.error.get_or_insert(error.to_string());
        }
        for (member, answer) in run.answered {
            answers[member] = Some(answer);
        }
    }
    figures
}

/// What one listing answered.
#[derive(Default)]
struct ListingRun {
    pages: u32,
    answered: Vec<(usize, ListedAnswer)>,
    error: Option<StoreError>,
}

async fn run_one<'k, S: ObjectStore>(
    store: &S,
    listing: &PlannedListing,
    key_of: impl Fn(usize) -> &'k str,
    deadline: Option<tokio::time::Instant>,
) -> ListingRun {
    let mut run = ListingRun::default();
    let mut continuation: Option<String> = None;
    let mut next = 0;
    while run.pages < listing.max_pages && next < listing.members.len() {
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            break;
        }
        let page = match store
            .list_page(
                &listing.bucket,
                &listing.prefix,
                continuation.as_deref(),
                MAX_KEYS_PER_PAGE,
            )
            .await
        {
            Ok(page) => page,
            Err(error) => {
                run.error = Some(error);
                break;
            }
        };
        run.pages += 1;
        next = answer_page(&page, &listing.members[next..], &key_of, &mut run.answered) + next;
        match page.continuation {
            Some(token) => continuation = Some(token),
            None => break,
        }
    }
    run
}

/// Answers the members (in key order) that `page` covers; returns how many it covered. The
/// last page covers every remaining member; another covers those up to its last key.
fn answer_page<'k>(
    page: &ListPage,
    members: &[usize],
    key_of: &impl Fn(usize) -> &'k str,
    answered: &mut Vec<(usize, ListedAnswer)>,
) -> usize {
    let last_key = page.objects.last().map(|o| o.key.as_str());
    let mut objects = page.objects.iter().peekable();
    let mut covered = 0;
    for member in members {
        let key = key_of(*member);
        if page.continuation.is_some() && last_key.is_none_or(|last| key > last) {
            break;
        }
        while objects.next_if(|o| o.key.as_str() < key).is_some() {}
        let found = objects.peek().filter(|o| o.key == key).map(|o| o.meta);
        answered.push((*member, found));
        covered += 1;
    }
    covered
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::probe::plan::plan;
    use crate::store::counting::CountingStore;
    use crate::store::local::LocalDirStore;

    fn store_with(keys: &[String]) -> (tempfile::TempDir, LocalDirStore) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("b")).unwrap();
        for key in keys {
            let path = dir.path().join("b").join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        let store = LocalDirStore::new(dir.path());
        (dir, store)
    }

    async fn answer(
        store: &LocalDirStore,
        wanted: &[String],
        cap: u32,
    ) -> (Vec<Option<ListedAnswer>>, ListingFigures, u64) {
        let pairs: Vec<(&str, &str)> = wanted.iter().map(|k| ("b", k.as_str())).collect();
        let planned = plan(pairs.as_slice(), cap);
        let counting = CountingStore::new(store);
        let mut answers = vec![None; wanted.len()];
        let figures = run_listings(
            &counting,
            planned.listings,
            |i| wanted[i].as_str(),
            &mut answers,
            4,
            None,
        )
        .await;
        (answers, figures, counting.counts().list)
    }

    #[tokio::test]
    async fn one_listing_answers_present_and_absent_keys_alike() {
        let present: Vec<String> = (0..30).map(|i| format!("d/a{i:02}.json")).collect();
        let (_dir, store) = store_with(&present);
        let mut wanted = present[..20].to_vec();
        wanted.extend((40..50).map(|i| format!("d/a{i:02}.json")));
        let (answers, figures, lists) = answer(&store, &wanted, 10).await;
        assert_eq!(lists, 1);
        assert_eq!((figures.answered, figures.fell_back), (30, 0));
        assert!(answers[..20].iter().all(|a| matches!(a, Some(Some(_)))));
        assert!(answers[20..].iter().all(|a| matches!(a, Some(None))));
    }

    #[tokio::test]
    async fn a_listing_past_its_cap_answers_what_it_covered_and_leaves_the_rest_to_heads() {
        // 2,500 objects in the directory, 26 wanted at both ends: 2 pages affordable.
        let present: Vec<String> = (0..2500).map(|i| format!("d/a{i:05}.json")).collect();
        let (_dir, store) = store_with(&present);
        let wanted: Vec<String> = present[..13]
            .iter()
            .chain(&present[2487..])
            .cloned()
            .collect();
        let (answers, figures, lists) = answer(&store, &wanted, 10).await;
        assert_eq!(lists, 2, "the cap: 26 keys afford 2 pages");
        assert_eq!((figures.answered, figures.fell_back), (13, 13));
        assert!(answers[..13].iter().all(|a| matches!(a, Some(Some(_)))));
        assert!(answers[13..].iter().all(Option::is_none), "HEADed instead");
    }
}
