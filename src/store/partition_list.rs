//! Reading a set's values from an S3 object (`partitions_from: s3://bucket/key`, one value
//! a line): each pass asks the object's ETag (one HEAD) and reads it again (one GET) only
//! when it changed since this container last read it. A list that is missing, unreadable,
//! too big or holds a bad line makes that artifact alone `probe_failed`, with the reason.

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use crate::object::S3Url;
use crate::registry::partitions::{MAX_LIST_BYTES, PartitionList, Partitions};
use crate::registry::partitions_from_lines;
use crate::store::ObjectStore;

/// The lists this container read, by `(bucket, key)`, with the ETag they were read at.
type Lists = HashMap<(Box<str>, Box<str>), (String, Partitions)>;

fn lists() -> &'static Mutex<Lists> {
    static LISTS: OnceLock<Mutex<Lists>> = OnceLock::new();
    LISTS.get_or_init(Mutex::default)
}

/// The values in the list object, or why they could not be read (the row's reason).
pub async fn read<S: ObjectStore>(store: &S, list: &PartitionList) -> Result<Partitions, String> {
    let url = S3Url(&list.bucket, &list.key);
    let said = |what: String| format!("partitions_from {url}: {what}");
    let (meta, etag) = match store.head_etag(&list.bucket, &list.key).await {
        Ok(Some(found)) => found,
        Ok(None) => return Err(said("not found".into())),
        Err(e) => return Err(said(e.to_string())),
    };
    let id = (list.bucket.clone(), list.key.clone());
    if let Some(etag) = &etag
        && let Some((held, values)) = lists().lock().expect("not poisoned").get(&id)
        && held == etag
    {
        return Ok(values.clone());
    }
    if let Some(size) = meta.size.filter(|size| *size > MAX_LIST_BYTES) {
        return Err(said(format!(
            "{size} bytes; a partition list is at most {MAX_LIST_BYTES} bytes"
        )));
    }
    let fetched = (store.get(&list.bucket, &list.key).await).map_err(|e| said(e.to_string()))?;
    if fetched.body.len() as u64 > MAX_LIST_BYTES {
        return Err(said(format!(
            "{} bytes; a partition list is at most {MAX_LIST_BYTES} bytes",
            fetched.body.len()
        )));
    }
    let values = partitions_from_lines(&fetched.body).map_err(said)?;
    if let Some(etag) = fetched.etag {
        let mut held = lists().lock().expect("not poisoned");
        held.insert(id, (etag, values.clone()));
    }
    Ok(values)
}
