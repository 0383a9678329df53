//! The probe plan (pure): which keys one ListObjectsV2 listing answers, and which get a HEAD.
//!
//! Keys are grouped by bucket and directory (the key up to its last `/`), and each group is
//! listed under the longest prefix its keys share. A LIST page costs what 12.5 HEADs cost and
//! returns up to 1,000 keys, so a group is listed only when even its largest allowed listing
//! costs no more than the HEADs it replaces: at most `n / 12.5` pages for `n` keys, and never
//! more than the cap. A group of 12 keys or fewer, or one whose directory holds more pages
//! than that, is HEADed (the executor falls back to HEADs for whatever a capped listing did
//! not reach: it never guesses from part of a listing).

/// What a LIST page costs, in HEADs (S3 Standard: $0.005 vs $0.0004 per 1,000).
pub const LIST_COST_IN_HEADS: f64 = 12.5;

/// The smallest group worth a listing: 13 HEADs cost more than one LIST page.
pub const MIN_KEYS_PER_LISTING: usize = 13;

/// One listing: a prefix of a bucket, at most `max_pages` pages, answering for `members`
/// (indices into the planned keys, in key order).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlannedListing {
    pub bucket: String,
    pub prefix: String,
    pub max_pages: u32,
    pub members: Vec<usize>,
}

/// The plan: listings, and the keys HEADed (indices into the planned keys, in input order).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProbePlan {
    pub listings: Vec<PlannedListing>,
    pub heads: Vec<usize>,
}

impl ProbePlan {
    /// The requests the plan makes when every listing needs one page and nothing falls back:
    /// `(LIST, HEAD)`.
    pub fn least_requests(&self) -> (usize, usize) {
        (self.listings.len(), self.heads.len())
    }

    /// The most the plan can cost, in HEADs: every listing reading all its pages, then
    /// falling back to HEADs for all its keys.
    pub fn worst_cost_in_heads(&self) -> f64 {
        let listings: f64 = self
            .listings
            .iter()
            .map(|l| f64::from(l.max_pages) * LIST_COST_IN_HEADS + l.members.len() as f64)
            .sum();
        listings + self.heads.len() as f64
    }
}

/// The keys a plan is made from, by position: `(bucket, key)`, or `None` where a position
/// has no key to probe (it is then neither listed nor HEADed by the plan).
pub trait PlanKeys {
    fn positions(&self) -> usize;
    fn key(&self, position: usize) -> Option<(&str, &str)>;
}

impl PlanKeys for [(&str, &str)] {
    fn positions(&self) -> usize {
        self.len()
    }

    fn key(&self, position: usize) -> Option<(&str, &str)> {
        self.get(position).copied()
    }
}

impl PlanKeys for super::keys::ProbeKeys<'_> {
    fn positions(&self) -> usize {
        self.len()
    }

    fn key(&self, position: usize) -> Option<(&str, &str)> {
        self.get(position)
    }
}

/// Plans the probes of `keys` (`(bucket, key)`), listing no prefix for more than `max_pages`
/// pages (0: no listing at all). Listings' members and HEADs are positions in `keys`.
pub fn plan<K: PlanKeys + ?Sized>(keys: &K, max_pages: u32) -> ProbePlan {
    let at = |i: usize| keys.key(i).expect("only positions with a key are planned");
    let mut order: Vec<usize> = (0..keys.positions())
        .filter(|i| keys.key(*i).is_some())
        .collect();
    order.sort_unstable_by(|a, b| at(*a).cmp(&at(*b)));
    let mut plan = ProbePlan::default();
    let mut start = 0;
    while start < order.len() {
        let group_of = |i: usize| (at(i).0, directory(at(i).1));
        let group = group_of(order[start]);
        let end = start
            + order[start..]
                .iter()
                .take_while(|i| group_of(**i) == group)
                .count();
        let members = &order[start..end];
        match affordable_pages(members.len(), max_pages) {
            0 => plan.heads.extend_from_slice(members),
            pages => plan.listings.push(PlannedListing {
                bucket: group.0.to_string(),
                prefix: common_prefix(at(members[0]).1, at(members[members.len() - 1]).1)
                    .to_string(),
                max_pages: pages,
                members: members.to_vec(),
            }),
        }
        start = end;
    }
    plan.heads.sort_unstable();
    plan
}

/// The pages a listing for `n` keys may read: as many as cost no more than `n` HEADs, at
/// most `cap`.
pub fn affordable_pages(n: usize, cap: u32) -> u32 {
    if n < MIN_KEYS_PER_LISTING {
        return 0;
    }
    let affordable = (n as f64 / LIST_COST_IN_HEADS).floor() as u64;
    affordable.min(u64::from(cap)) as u32
}

/// The key up to and including its last `/` (empty at the bucket's root).
fn directory(key: &str) -> &str {
    key.rfind('/').map_or("", |i| &key[..=i])
}

/// The longest prefix of `a` and `b` (whole characters).
fn common_prefix<'a>(a: &'a str, b: &str) -> &'a str {
    let mut end = 0;
    for ((i, x), y) in a.char_indices().zip(b.chars()) {
        if x != y {
            break;
        }
        end = i + x.len_utf8();
    }
    &a[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(prefix: &str, n: usize) -> Vec<String> {
        (0..n).map(|i| format!("{prefix}a{i:05}.json")).collect()
    }

    fn pairs<'a>(bucket: &'a str, keys: &'a [String]) -> Vec<(&'a str, &'a str)> {
        keys.iter().map(|k| (bucket, k.as_str())).collect()
    }

    #[test]
    fn a_directory_of_many_keys_is_one_listing_under_their_common_prefix() {
        let keys = keys("daily/2026/11/27/", 1000);
        let plan = plan(pairs("b", &keys).as_slice(), 10);
        assert_eq!(
            plan.least_requests(),
            (1, 0),
            "1 LIST instead of 1,000 HEADs"
        );
        let listing = &plan.listings[0];
        assert_eq!(listing.prefix, "daily/2026/11/27/a00");
        assert_eq!(
            listing.max_pages, 10,
            "80 pages would still pay; the cap says 10"
        );
        assert_eq!(listing.members.len(), 1000);
        assert!(plan.worst_cost_in_heads() <= 2.0 * 1000.0);
    }

    #[test]
    fn twelve_keys_are_cheaper_to_head_and_thirteen_to_list() {
        let twelve = keys("d/", 12);
        assert_eq!(
            plan(pairs("b", &twelve).as_slice(), 10).least_requests(),
            (0, 12)
        );
        let thirteen = keys("d/", 13);
        let listed = plan(pairs("b", &thirteen).as_slice(), 10);
        assert_eq!(listed.least_requests(), (1, 0));
        assert_eq!(listed.listings[0].max_pages, 1, "one page costs 12.5 HEADs");
        assert_eq!(affordable_pages(25, 10), 2);
        assert_eq!(affordable_pages(10_000, 3), 3);
    }

    #[test]
    fn keys_are_grouped_by_bucket_and_directory_and_heads_keep_input_order() {
        let mut all: Vec<(String, String)> = Vec::new();
        for k in keys("weekly/2026-11-21/", 20) {
            all.push(("b1".into(), k));
        }
        for k in keys("weekly/2026-11-21/", 20) {
            all.push(("b2".into(), k));
        }
        for i in 0..5 {
            all.push(("b1".into(), format!("recovery/a{i}/2026-11-21.json")));
        }
        let refs: Vec<(&str, &str)> = all.iter().map(|(b, k)| (b.as_str(), k.as_str())).collect();
        let plan = plan(refs.as_slice(), 10);
        assert_eq!(plan.least_requests(), (2, 5));
        assert_eq!(plan.heads, vec![40, 41, 42, 43, 44]);
        assert_eq!(plan.listings[0].bucket, "b1");
        assert_eq!(plan.listings[1].bucket, "b2");
        assert!(plan.listings.iter().all(|l| l.members.len() == 20));
    }

    #[test]
    fn a_cap_of_zero_lists_nothing() {
        let keys = keys("d/", 500);
        assert_eq!(
            plan(pairs("b", &keys).as_slice(), 0).least_requests(),
            (0, 500)
        );
    }

    #[test]
    fn common_prefixes_cut_at_characters() {
        assert_eq!(common_prefix("a/é1", "a/é2"), "a/é");
        assert_eq!(common_prefix("a/é", "a/è"), "a/");
        assert_eq!(directory("root.json"), "");
    }
}
