//! Paging through a prefix with a cap.
//!
//! One ListObjectsV2 page (up to 1,000 keys) costs what 12.5 HEADs cost, so a listing is worth
//! it only for prefixes that hold few keys besides the ones wanted. A prefix that turns out to
//! hold more pages than the caller can afford is reported as incomplete rather than read to the
//! end: the caller falls back to HEADs or says so, and never guesses from part of a listing.

use super::{ObjectStore, PrefixListing, StoreError};

/// S3's largest page.
pub const MAX_KEYS_PER_PAGE: u16 = 1000;

/// Lists `prefix` in `bucket`, reading at most `max_pages` pages of `page_size` keys.
pub async fn list_prefix<S: ObjectStore>(
    store: &S,
    bucket: &str,
    prefix: &str,
    page_size: u16,
    max_pages: u32,
) -> Result<PrefixListing, StoreError> {
    let mut listing = PrefixListing::default();
    let mut continuation: Option<String> = None;
    while listing.pages < max_pages {
        let page = store
            .list_page(bucket, prefix, continuation.as_deref(), page_size)
            .await?;
        listing.pages += 1;
        listing.objects.extend(page.objects);
        match page.continuation {
            Some(next) => continuation = Some(next),
            None => {
                listing.complete = true;
                return Ok(listing);
            }
        }
    }
    Ok(listing)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::local::LocalDirStore;

    fn store_with(keys: &[&str]) -> (tempfile::TempDir, LocalDirStore) {
        let dir = tempfile::tempdir().unwrap();
        for key in keys {
            let path = dir.path().join("bucket").join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(path, b"x").unwrap();
        }
        let store = LocalDirStore::new(dir.path());
        (dir, store)
    }

    #[tokio::test]
    async fn a_listing_within_the_cap_is_complete_and_in_key_order() {
        let (_dir, store) = store_with(&["a/2.csv", "a/1.csv", "a/sub/3.csv", "b/4.csv"]);
        let listing = list_prefix(&store, "bucket", "a/", 2, 5).await.unwrap();
        let keys: Vec<_> = listing.objects.iter().map(|o| o.key.as_str()).collect();
        assert_eq!(keys, ["a/1.csv", "a/2.csv", "a/sub/3.csv"]);
        assert_eq!(listing.pages, 2);
        assert!(listing.complete);
    }

    #[tokio::test]
    async fn a_listing_past_the_cap_says_it_is_incomplete() {
        let (_dir, store) = store_with(&["p1", "p2", "p3", "p4", "p5"]);
        let listing = list_prefix(&store, "bucket", "p", 2, 2).await.unwrap();
        assert_eq!(listing.pages, 2);
        assert_eq!(listing.objects.len(), 4);
        assert!(!listing.complete);
    }

    #[tokio::test]
    async fn a_prefix_that_is_not_a_directory_boundary_lists_what_starts_with_it() {
        let (_dir, store) = store_with(&["data/2026-11-27.csv", "data/2026-11-28.csv", "dat"]);
        let listing = list_prefix(&store, "bucket", "data/2026-11-2", 1000, 1)
            .await
            .unwrap();
        assert_eq!(listing.objects.len(), 2);
        let empty = list_prefix(&store, "nobucket", "x", 1000, 1).await.unwrap();
        assert!(empty.complete && empty.objects.is_empty());
    }
}
