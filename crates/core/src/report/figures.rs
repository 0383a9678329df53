//! The figures a heartbeat reports about a pass's own work: the S3 requests it made by class,
//! what its listings answered, and what it did with the ledger. Data only: the store, the
//! prober and the ledger's I/O in the shell fill them in.

use serde::Serialize;

/// Passes a day at the deployed schedule (every 15 minutes).
pub const PASSES_PER_DAY: u64 = 96;

/// Requests per class, as S3 bills them. A request that failed still counts: S3 bills it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    pub head: u64,
    pub list: u64,
    pub get: u64,
    /// Every PUT, conditional or not.
    pub put: u64,
    pub delete: u64,
}

impl RequestCounts {
    /// All requests.
    pub fn total(&self) -> u64 {
        self.head + self.list + self.get + self.put + self.delete
    }

    /// What a day of passes like this one would make (96 passes).
    pub fn per_day(&self) -> u64 {
        self.total() * PASSES_PER_DAY
    }

    /// The counts with `other` added.
    pub fn plus(self, other: RequestCounts) -> RequestCounts {
        RequestCounts {
            head: self.head + other.head,
            list: self.list + other.list,
            get: self.get + other.get,
            put: self.put + other.put,
            delete: self.delete + other.delete,
        }
    }
}

/// `requests` in the heartbeat: the pass's counts and its projection at 96 passes a day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RequestFigures {
    #[serde(flatten)]
    pub counts: RequestCounts,
    pub total: u64,
    pub projected_per_day: u64,
}

impl From<RequestCounts> for RequestFigures {
    fn from(counts: RequestCounts) -> Self {
        RequestFigures {
            counts,
            total: counts.total(),
            projected_per_day: counts.per_day(),
        }
    }
}

/// What the listings of a pass did, for the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ListingFigures {
    /// Prefixes listed.
    pub listings: usize,
    /// LIST requests made.
    pub pages: u64,
    /// Keys a listing answered (no HEAD needed).
    pub answered: usize,
    /// Keys left to a HEAD: their listing was capped, failed or stopped at the deadline.
    pub fell_back: usize,
    /// The first LIST failure of the pass (a 403 names `s3:ListBucket`); its keys were HEADed.
    pub error: Option<String>,
}

/// What the pass did with the ledger, for the heartbeat.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct LedgerFigures {
    /// `updated`, `created`, `rebuilt` (the old one was unreadable or of another version),
    /// `merged` (another pass wrote first; ours was applied on top), `conflict` (still racing:
    /// left to the next pass) or `failed` (the store refused).
    pub status: &'static str,
    pub artifacts: usize,
    pub bytes: usize,
    /// Why it was rebuilt, or why the write failed.
    pub detail: Option<String>,
}

/// `deadline_passes` in the heartbeat: whether the pass keeps one EventBridge Scheduler
/// schedule at the next deadline (docs/lambda.md#deadline-passes), what it set, or why not.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DeadlinePassFigures {
    /// True when the schedule is configured and this pass could keep it (or had nothing to
    /// change); false when deadline passes are off: `reason` says why.
    pub enabled: bool,
    /// The schedule's name (`group/name`), when configured.
    pub schedule: Option<String>,
    /// `created`, `updated`, `unchanged` (already at that time: no call), `none` (nothing
    /// due within the horizon: left as it was), `failed` or `off`.
    pub action: &'static str,
    /// When the schedule runs the next deadline pass (RFC 3339), when one is set.
    pub next_pass_at: Option<String>,
    /// The artifact whose deadline that is, and its due time (RFC 3339).
    pub artifact_id: Option<String>,
    pub due_at: Option<String>,
    /// Why deadline passes are off or the schedule could not be set (the 15-minute passes go
    /// on either way).
    pub reason: Option<String>,
}
