//! Writing an object too big to hold whole or to stage on disk: the history scan's
//! `history.json` is ~3.7 GB at a million artifacts, past both the function's 512 MB of memory
//! and its 512 MB of `/tmp`. The writer gathers bytes into parts of [`PART_BYTES`] and sends
//! each part as it fills (S3's multipart upload), so at most one part is held; an object
//! smaller than one part is one plain PUT, as before. A store that cannot upload in parts
//! (the local and in-memory stores) is given the whole body in one PUT at the end.
//!
//! A document whose opening is known only at the end (`history.json`'s head holds the scan's
//! totals) is written with its first part held back ([`PartWriter::holding_first_part`]):
//! parts 2, 3, … are sent as they fill and part 1, the head and the held bytes, last; S3
//! orders an object's parts by number, not by when they were sent.
//!
//! Nothing is visible at the key until the upload completes: a reader sees the previous
//! object or the whole new one. An upload that fails is aborted (its parts dropped).

use super::{ObjectStore, StoreError};

/// The size a part is sent at (S3's minimum is 5 MiB for every part but the last).
pub const PART_BYTES: usize = 8 * 1024 * 1024;

/// An object being written in parts.
pub struct PartWriter<'s, S> {
    store: &'s S,
    bucket: String,
    key: String,
    content_type: &'static str,
    part_bytes: usize,
    /// Bytes not sent yet.
    buffer: Vec<u8>,
    /// The upload's id and the sent parts' ETags, once a first part was sent.
    upload: Option<(String, Vec<String>)>,
    /// The store cannot upload in parts: everything is kept for one PUT at the end.
    whole: bool,
    /// The first full part is kept back, to be sent last as part 1 behind a head.
    hold_first: bool,
    held: Option<Vec<u8>>,
    written: u64,
}

/// What a finished writer wrote.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Written {
    pub bytes: u64,
    /// Parts sent; 0 when the object went in one PUT.
    pub parts: usize,
}

impl<'s, S: ObjectStore> PartWriter<'s, S> {
    pub fn new(store: &'s S, bucket: &str, key: &str, content_type: &'static str) -> Self {
        PartWriter {
            store,
            bucket: bucket.to_string(),
            key: key.to_string(),
            content_type,
            part_bytes: PART_BYTES,
            buffer: Vec::new(),
            upload: None,
            whole: false,
            hold_first: false,
            held: None,
            written: 0,
        }
    }

    /// Keeps the first full part back until [`PartWriter::finish_with`] sends it, behind the
    /// head it is given, as part 1 (at most two parts held).
    pub fn holding_first_part(self) -> Self {
        PartWriter {
            hold_first: true,
            ..self
        }
    }

    /// Parts of `bytes` instead of [`PART_BYTES`] (tests; S3 refuses parts under 5 MiB).
    pub fn with_part_bytes(self, bytes: usize) -> Self {
        PartWriter {
            part_bytes: bytes.max(1),
            ..self
        }
    }

    /// Where the next bytes go; [`PartWriter::send_full`] sends them once they fill a part.
    pub fn buffer(&mut self) -> &mut Vec<u8> {
        &mut self.buffer
    }

    /// Sends the buffered bytes as the next part when they fill one (starting the upload
    /// with the first). A failure aborts the upload.
    pub async fn send_full(&mut self) -> Result<(), StoreError> {
        if self.whole || self.buffer.len() < self.part_bytes {
            return Ok(());
        }
        if self.hold_first && self.held.is_none() {
            let held = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.part_bytes));
            self.held = Some(held);
            return Ok(());
        }
        if self.upload.is_none() {
            let started = self
                .store
                .start_upload(&self.bucket, &self.key, self.content_type);
            match started.await? {
                Some(id) => self.upload = Some((id, Vec::new())),
                None => {
                    self.whole = true;
                    return Ok(());
                }
            }
        }
        self.send_part().await
    }

    async fn send_part(&mut self) -> Result<(), StoreError> {
        let body = std::mem::replace(&mut self.buffer, Vec::with_capacity(self.part_bytes));
        let (_, etags) = self.upload.as_ref().expect("an upload was started");
        let number = etags.len() as i32 + 1 + i32::from(self.hold_first);
        let etag = self.send_numbered(number, body).await?;
        self.upload.as_mut().expect("started").1.push(etag);
        Ok(())
    }

    /// Sends `body` as part `number`; a failure aborts the upload.
    async fn send_numbered(&mut self, number: i32, body: Vec<u8>) -> Result<String, StoreError> {
        let (id, _) = self.upload.as_ref().expect("an upload was started");
        self.written += body.len() as u64;
        let sent = (self.store)
            .upload_part(&self.bucket, &self.key, id, number, body)
            .await;
        match sent {
            Ok(etag) => Ok(etag),
            Err(e) => {
                let id = id.clone();
                self.abort(&id).await;
                self.upload = None;
                Err(e)
            }
        }
    }

    /// Sends what is left and makes the object.
    pub async fn finish(self) -> Result<Written, StoreError> {
        self.finish_with(Vec::new()).await
    }

    /// Sends what is left and makes the object, `head` first (before the held part, when
    /// [`PartWriter::holding_first_part`]; else before everything, which then fits one PUT).
    pub async fn finish_with(mut self, mut head: Vec<u8>) -> Result<Written, StoreError> {
        head.extend(self.held.take().unwrap_or_default());
        let Some((id, _)) = &self.upload else {
            head.append(&mut self.buffer);
            let body = head;
            let bytes = body.len() as u64;
            let put = self
                .store
                .put(&self.bucket, &self.key, body, self.content_type);
            put.await?;
            return Ok(Written { bytes, parts: 0 });
        };
        let id = id.clone();
        if !self.buffer.is_empty() {
            self.send_part().await?;
        }
        if self.hold_first {
            let first = self.send_numbered(1, head).await?;
            self.upload.as_mut().expect("started").1.insert(0, first);
        }
        let etags = std::mem::take(&mut self.upload.as_mut().expect("started").1);
        let parts = etags.len();
        let completed = (self.store)
            .complete_upload(&self.bucket, &self.key, &id, etags, self.written)
            .await;
        if let Err(e) = completed {
            self.abort(&id).await;
            return Err(e);
        }
        Ok(Written {
            bytes: self.written,
            parts,
        })
    }

    /// Drops what was written: an upload in progress is aborted, nothing is made.
    pub async fn abandon(self) {
        if let Some((id, _)) = &self.upload {
            self.abort(id).await;
        }
    }

    async fn abort(&self, id: &str) {
        if let Err(e) = self.store.abort_upload(&self.bucket, &self.key, id).await {
            tracing::warn!(
                message = "an upload in parts could not be aborted",
                key = %self.key,
                error = %e
            );
        }
    }
}

/// Compressed bytes are moved to the part writer in chunks of this size; the encoder is also
/// handed its input this many bytes at a time (flate2 zeroes its output buffer on every write
/// it is given: BENCHMARKS.md#the-history-from-the-log-at-scale).
const GZ_CHUNK: usize = 256 * 1024;

/// A gzipped object written in parts, compressed as it is written (the history's compacted
/// log, the page's digest).
pub struct GzPartWriter<'s, S> {
    parts: PartWriter<'s, S>,
    gz: std::io::BufWriter<flate2::write::GzEncoder<Vec<u8>>>,
}

impl<'s, S: ObjectStore> GzPartWriter<'s, S> {
    pub fn new(store: &'s S, bucket: &str, key: &str, level: flate2::Compression) -> Self {
        let gz = flate2::write::GzEncoder::new(Vec::new(), level);
        GzPartWriter {
            parts: PartWriter::new(store, bucket, key, "application/gzip"),
            gz: std::io::BufWriter::with_capacity(GZ_CHUNK, gz),
        }
    }

    /// Compresses `bytes`, sending a part whenever the compressed bytes fill one.
    pub async fn write(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        use std::io::Write;
        self.gz.write_all(bytes).map_err(gz_failed)?;
        let zipped = self.gz.get_mut().get_mut();
        if zipped.len() >= GZ_CHUNK {
            self.parts.buffer().append(zipped);
            self.parts.send_full().await?;
        }
        Ok(())
    }

    /// Drops what was written: an upload in progress is aborted, nothing is made.
    pub async fn abandon(self) {
        self.parts.abandon().await;
    }

    /// Keeps the first full part back for [`GzPartWriter::finish_with_head`].
    pub fn holding_first_part(self) -> Self {
        GzPartWriter {
            parts: self.parts.holding_first_part(),
            gz: self.gz,
        }
    }

    /// Ends the gzip stream and makes the object; `bytes` counts the compressed bytes.
    pub async fn finish(self) -> Result<Written, StoreError> {
        self.finish_with_head(&[]).await
    }

    /// Ends the gzip stream and makes the object with `head` (uncompressed, known only now)
    /// before everything written, as a gzip member of its own (a reader decompresses the
    /// members one after the other: `MultiGzDecoder`, `gunzip`, Python's `gzip`).
    pub async fn finish_with_head(mut self, head: &[u8]) -> Result<Written, StoreError> {
        use std::io::Write;
        let encoder = (self.gz.into_inner()).map_err(|e| gz_failed(e.into_error()))?;
        let rest = encoder.finish().map_err(gz_failed)?;
        self.parts.buffer().extend(rest);
        let mut member = Vec::new();
        if !head.is_empty() {
            let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            gz.write_all(head).map_err(gz_failed)?;
            member = gz.finish().map_err(gz_failed)?;
        }
        self.parts.finish_with(member).await
    }
}

fn gz_failed(e: std::io::Error) -> StoreError {
    StoreError::Other(format!("could not gzip: {e}"))
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;
    use crate::store::memory::MemoryStore;
    use crate::store::{FetchedObject, ObjectMeta};

    /// A store that uploads in parts into memory and records what it was asked.
    struct PartsStore {
        objects: MemoryStore,
        parts: Mutex<Vec<(i32, Vec<u8>)>>,
        calls: Mutex<Vec<String>>,
        fail_part: Option<i32>,
    }

    impl Default for PartsStore {
        fn default() -> Self {
            let objects = MemoryStore::new();
            objects.create_bucket("b");
            PartsStore {
                objects,
                parts: Mutex::default(),
                calls: Mutex::default(),
                fail_part: None,
            }
        }
    }

    impl ObjectStore for PartsStore {
        async fn head(&self, b: &str, k: &str) -> Result<Option<ObjectMeta>, StoreError> {
            self.objects.head(b, k).await
        }
        async fn get(&self, b: &str, k: &str) -> Result<FetchedObject, StoreError> {
            self.objects.get(b, k).await
        }
        async fn put(&self, b: &str, k: &str, body: Vec<u8>, t: &str) -> Result<(), StoreError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("put {}", body.len()));
            self.objects.put(b, k, body, t).await
        }
        async fn start_upload(
            &self,
            _: &str,
            _: &str,
            _: &str,
        ) -> Result<Option<String>, StoreError> {
            self.calls.lock().unwrap().push("start".into());
            Ok(Some("u1".into()))
        }
        async fn upload_part(
            &self,
            _: &str,
            _: &str,
            _: &str,
            n: i32,
            body: Vec<u8>,
        ) -> Result<String, StoreError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("part {n} {}", body.len()));
            if self.fail_part == Some(n) {
                return Err(StoreError::Other("part refused".into()));
            }
            self.parts.lock().unwrap().push((n, body));
            Ok(format!("etag{n}"))
        }
        async fn complete_upload(
            &self,
            b: &str,
            k: &str,
            _: &str,
            etags: Vec<String>,
            _: u64,
        ) -> Result<(), StoreError> {
            self.calls
                .lock()
                .unwrap()
                .push(format!("complete {}", etags.join(",")));
            let mut parts = self.parts.lock().unwrap().clone();
            parts.sort_by_key(|(n, _)| *n);
            let body = parts.into_iter().flat_map(|(_, p)| p).collect();
            self.objects.put(b, k, body, "").await
        }
        async fn abort_upload(&self, _: &str, _: &str, _: &str) -> Result<(), StoreError> {
            self.calls.lock().unwrap().push("abort".into());
            Ok(())
        }
    }

    /// Writes `pieces` of `len` bytes each through a writer of 10-byte parts.
    async fn write(store: &PartsStore, pieces: usize, len: usize) -> Result<Written, StoreError> {
        let mut writer = PartWriter::new(store, "b", "k", "application/json").with_part_bytes(10);
        for i in 0..pieces {
            writer
                .buffer()
                .extend(std::iter::repeat_n(b'a' + i as u8, len));
            writer.send_full().await?;
        }
        writer.finish().await
    }

    #[tokio::test]
    async fn a_body_over_one_part_is_sent_part_by_part_and_reads_back_whole() {
        let store = PartsStore::default();
        let written = write(&store, 5, 6).await.unwrap();
        assert_eq!(
            written,
            Written {
                bytes: 30,
                parts: 3
            }
        );
        assert_eq!(
            *store.calls.lock().unwrap(),
            [
                "start",
                "part 1 12",
                "part 2 12",
                "part 3 6",
                "complete etag1,etag2,etag3"
            ]
        );
        let body = store.objects.get("b", "k").await.unwrap().body;
        assert_eq!(body, b"aaaaaabbbbbbccccccddddddeeeeee");
    }

    #[tokio::test]
    async fn a_held_first_part_is_sent_last_as_part_one_behind_its_head() {
        let store = PartsStore::default();
        let mut writer = PartWriter::new(&store, "b", "k", "application/json")
            .with_part_bytes(10)
            .holding_first_part();
        for i in 0..5 {
            writer.buffer().extend(std::iter::repeat_n(b'a' + i, 6));
            writer.send_full().await.unwrap();
        }
        let written = writer.finish_with(b"HEAD:".to_vec()).await.unwrap();
        assert_eq!(
            written,
            Written {
                bytes: 35,
                parts: 3
            }
        );
        assert_eq!(
            *store.calls.lock().unwrap(),
            [
                "start",
                "part 2 12",
                "part 3 6",
                "part 1 17",
                "complete etag1,etag2,etag3"
            ]
        );
        let body = store.objects.get("b", "k").await.unwrap().body;
        assert_eq!(body, b"HEAD:aaaaaabbbbbbccccccddddddeeeeee");
    }

    #[tokio::test]
    async fn a_held_document_under_two_parts_is_one_put_with_its_head() {
        let store = PartsStore::default();
        let mut writer = PartWriter::new(&store, "b", "k", "application/json")
            .with_part_bytes(10)
            .holding_first_part();
        for i in 0..3 {
            writer.buffer().extend(std::iter::repeat_n(b'a' + i, 6));
            writer.send_full().await.unwrap();
        }
        writer.finish_with(b"H".to_vec()).await.unwrap();
        assert_eq!(*store.calls.lock().unwrap(), ["put 19"]);
        let body = store.objects.get("b", "k").await.unwrap().body;
        assert_eq!(body, b"Haaaaaabbbbbbcccccc");
    }

    #[tokio::test]
    async fn a_body_under_one_part_is_one_put() {
        let store = PartsStore::default();
        let written = write(&store, 1, 9).await.unwrap();
        assert_eq!(written, Written { bytes: 9, parts: 0 });
        assert_eq!(*store.calls.lock().unwrap(), ["put 9"]);
    }

    #[tokio::test]
    async fn a_failed_part_aborts_the_upload_and_leaves_nothing_at_the_key() {
        let store = PartsStore {
            fail_part: Some(2),
            ..PartsStore::default()
        };
        let error = write(&store, 5, 6).await.unwrap_err();
        assert_eq!(error.to_string(), "part refused");
        assert_eq!(
            *store.calls.lock().unwrap(),
            ["start", "part 1 12", "part 2 12", "abort"]
        );
        assert!(store.objects.head("b", "k").await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_store_that_cannot_upload_in_parts_gets_one_put_of_everything() {
        let store = MemoryStore::new();
        store.create_bucket("b");
        let mut writer = PartWriter::new(&store, "b", "k", "text/plain").with_part_bytes(4);
        for _ in 0..3 {
            writer.buffer().extend_from_slice(b"abcde");
            writer.send_full().await.unwrap();
        }
        let written = writer.finish().await.unwrap();
        assert_eq!(
            written,
            Written {
                bytes: 15,
                parts: 0
            }
        );
        assert_eq!(store.get("b", "k").await.unwrap().body, b"abcdeabcdeabcde");
    }
}
