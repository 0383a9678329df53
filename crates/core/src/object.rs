//! What the object store answers, as data: a HEAD's metadata, a listing's objects, a body read
//! whole, and why a store could not answer.
//!
//! These are the facts the pure core judges (classification, history, reports); the store
//! trait that produces them, and its S3 and local implementations, sit in the shell above.

use std::fmt;

use chrono::{DateTime, Utc};

/// What a HEAD found for a key that exists.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ObjectMeta {
    pub last_modified: DateTime<Utc>,
    /// The object's size in bytes (S3's Content-Length, a file's length), when the store
    /// says. The content checks read it (`min_size_bytes`, `size_drop_below`);
    /// `history.json` reports it per cycle.
    pub size: Option<u64>,
    /// A digest of the object's ETag, when the store says (S3's HEAD and LIST do; a local
    /// file has none): `require_new_content` compares it with the previous cycle's.
    pub etag: Option<ContentTag>,
}

/// An object's ETag held as 8 bytes: FNV-1a (64 bits) of the ETag's text without its quotes,
/// never zero (so `Option<ContentTag>` is 8 bytes too). Two different ETags share a tag with
/// odds of one in 2^64; the ledger keeps tags, not ETags (docs/outputs.md#ledgerjson).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ContentTag(std::num::NonZeroU64);

impl ContentTag {
    /// The tag of an ETag as S3 writes it (`"9b2cf535f27731c974343645a3985328"`, quoted or
    /// not; a multipart upload's `"…-3"` alike).
    pub fn of_etag(etag: &str) -> ContentTag {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for byte in etag.trim_matches('"').bytes() {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
        }
        ContentTag::from_bits(hash)
    }

    /// A tag as the ledger wrote it (zero, which no tag is, reads as 1).
    pub fn from_bits(bits: u64) -> ContentTag {
        ContentTag(std::num::NonZeroU64::new(bits).unwrap_or(std::num::NonZeroU64::MIN))
    }

    pub fn bits(self) -> u64 {
        self.0.get()
    }
}

/// One object a listing found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    pub key: String,
    pub meta: ObjectMeta,
}

/// One page of a listing, in key order; `continuation` is set when more pages follow.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ListPage {
    pub objects: Vec<ListedObject>,
    pub continuation: Option<String>,
}

/// An object read whole (the registry), with its ETag when the store has one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FetchedObject {
    pub body: Vec<u8>,
    pub etag: Option<String>,
}

/// Why a store could not answer. Each variant's message is written for an operator.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum StoreError {
    #[error(
        "access denied (HTTP 403) for s3://{bucket}/{key}: S3 answers 403 instead of 404 for a \
         missing key when the role lacks s3:ListBucket on the bucket"
    )]
    AccessDenied { bucket: String, key: String },
    /// A 403 on a write: no ListBucket story here, the role lacks the write permission.
    #[error("access denied (HTTP 403) writing s3://{bucket}/{key}: the role needs {action} there")]
    WriteDenied {
        bucket: String,
        key: String,
        /// The IAM action the write needs (`s3:PutObject`, `s3:DeleteObject`).
        action: &'static str,
    },
    /// A 403 on ListObjectsV2: the role may HEAD but not list.
    #[error(
        "access denied (HTTP 403) listing s3://{bucket}/{prefix}: the role needs s3:ListBucket \
         on the bucket"
    )]
    ListDenied { bucket: String, prefix: String },
    #[error("bucket {bucket} does not exist")]
    NoSuchBucket { bucket: String },
    #[error("s3://{bucket}/{key} not found")]
    NotFound { bucket: String, key: String },
    #[error("throttled by S3 (HTTP {status}) after retries")]
    Throttled { status: u16 },
    #[error("S3 server error (HTTP {status}) after retries")]
    Server { status: u16 },
    #[error("timed out after {seconds:.1}s waiting for the store")]
    Timeout { seconds: f64 },
    #[error("could not connect to the store: {0}")]
    Connection(String),
    #[error("not probed: the invocation deadline was near")]
    Deadline,
    /// A local file the store was writing or reading for us failed (a body staged on disk:
    /// the temp dir full or unwritable); nothing is known of the object itself.
    #[error("{0}")]
    LocalFile(String),
    #[error("{0}")]
    Other(String),
}

/// What a prefix listing (the shell's `store::listing::list_prefix`) read.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PrefixListing {
    /// Every object under the prefix when `complete`, in key order; otherwise the first pages'.
    pub objects: Vec<ListedObject>,
    /// LIST requests made.
    pub pages: u32,
    /// False when the cap stopped the listing before its last page.
    pub complete: bool,
}

/// What a conditional write requires of the object at its key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WriteCondition<'a> {
    /// No object there (S3's `If-None-Match: *`).
    Absent,
    /// The object there still has this ETag (S3's `If-Match`).
    Matches(&'a str),
}

/// `s3://bucket/key`, for messages.
pub struct S3Url<'a>(pub &'a str, pub &'a str);

impl fmt::Display for S3Url<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "s3://{}/{}", self.0, self.1)
    }
}
