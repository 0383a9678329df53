//! Where the registry is read from (a file, or a key in the object store) and reading it: one
//! code path for the Lambda, `run`, `check` and `explain`, so the size limit, the messages and
//! the ETag recorded in the heartbeat are the same whichever shell asked.

use std::fmt;
use std::path::PathBuf;
use std::str::FromStr;

use crate::registry::{self, Registry, RegistryError};
use crate::store::{ObjectStore, StoreError};

/// A registry's location: a path, or `s3://bucket/key` read through the pass's store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegistrySource {
    File(PathBuf),
    Store { bucket: String, key: String },
}

impl FromStr for RegistrySource {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.strip_prefix("s3://") {
            Some(rest) => match rest.split_once('/') {
                Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() => {
                    Ok(RegistrySource::Store {
                        bucket: bucket.to_string(),
                        key: key.to_string(),
                    })
                }
                _ => Err(format!("{s:?} is not of the form s3://bucket/key")),
            },
            None => Ok(RegistrySource::File(PathBuf::from(s))),
        }
    }
}

impl fmt::Display for RegistrySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RegistrySource::File(path) => write!(f, "{}", path.display()),
            RegistrySource::Store { bucket, key } => write!(f, "s3://{bucket}/{key}"),
        }
    }
}

/// A parsed registry and what identifies the version that was read.
#[derive(Debug, Clone)]
pub struct LoadedRegistry {
    pub registry: Registry,
    /// How messages name it: a path or an `s3://` URL.
    pub name: String,
    /// The object's ETag (`None` for a file).
    pub etag: Option<String>,
}

/// Why a registry cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum RegistryLoadError {
    /// The store could not hand the object over (not found, denied, unreachable).
    #[error("{url}: cannot read the registry: {source}")]
    Unreadable { url: String, source: StoreError },
    /// It was read (or the file could not be) and does not parse; every error is listed.
    #[error("{errors}")]
    Invalid {
        errors: RegistryError,
        etag: Option<String>,
    },
}

impl RegistryLoadError {
    /// The ETag of the broken version, when one was read: the heartbeat names it.
    pub fn etag(&self) -> Option<String> {
        match self {
            RegistryLoadError::Invalid { etag, .. } => etag.clone(),
            RegistryLoadError::Unreadable { .. } => None,
        }
    }
}

/// Reads and parses the registry at `source`.
pub async fn load<S: ObjectStore>(
    store: &S,
    source: &RegistrySource,
) -> Result<LoadedRegistry, RegistryLoadError> {
    let invalid = |errors, etag| RegistryLoadError::Invalid { errors, etag };
    match source {
        RegistrySource::File(path) => Ok(LoadedRegistry {
            registry: registry::load_file(path).map_err(|e| invalid(e, None))?,
            name: source.to_string(),
            etag: None,
        }),
        RegistrySource::Store { bucket, key } => {
            let name = source.to_string();
            let object =
                store
                    .get(bucket, key)
                    .await
                    .map_err(|source| RegistryLoadError::Unreadable {
                        url: name.clone(),
                        source,
                    })?;
            let registry = registry::parse_registry(&name, &object.body)
                .map_err(|e| invalid(e, object.etag.clone()))?;
            Ok(LoadedRegistry {
                registry,
                name,
                etag: object.etag,
            })
        }
    }
}
