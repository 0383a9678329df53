//! Amazon S3 as the object store: HeadObject for probes, GetObject for the registry, PutObject
//! for the results.
//!
//! The interesting part is the error mapping. A probe's answer becomes a row state, and an
//! unclear one becomes a critical `probe_failed` alert that an operator must act on, so every
//! SDK failure is mapped onto a [`StoreError`] that says what happened: 404 is an absent key;
//! 403 is access denied (with the `s3:ListBucket` hint, since S3 answers 403 for a missing key
//! when the caller may not list the bucket); 429/503 throttling and other 5xx arrive here only
//! after the SDK's own retries; a silent socket ends at the operation timeout configured on the
//! client (see [`crate::aws::CallTimeouts`]); a refused connection or DNS failure is a
//! connection error naming the cause.

use std::error::Error as StdError;
use std::time::Duration;

use aws_sdk_s3::config::http::HttpResponse;
use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_s3::operation::get_object::GetObjectOutput;
use aws_sdk_s3::operation::head_object::HeadObjectOutput;
use aws_sdk_s3::operation::put_object::builders::PutObjectFluentBuilder;
use aws_sdk_s3::operation::put_object::{PutObjectError, PutObjectOutput};
use aws_sdk_s3::primitives::ByteStream;

use crate::aws::CallTimeouts;
use crate::boxed::boxed;
use crate::object::ContentTag;
use chrono::{DateTime, Utc};

use super::{
    CappedGet, ConditionalPut, FetchedObject, ListPage, ListedObject, ObjectMeta, ObjectStore,
    S3Url, StoreError, WriteCondition,
};

/// The slowest upload a PUT is given time for, beyond the client's own timeouts: 10 MB/s,
/// well under what a Lambda reaches S3 at in its region. The client's timeouts are sized for
/// a HEAD (`PROBE_TIMEOUT_SECONDS`, an attempt a third of it); a million artifacts'
/// `check_results.json` (~700 MB) or ledger (~200 MB) needs far longer to send
/// (docs/lambda.md#environment).
pub const UPLOAD_FLOOR_BYTES_PER_SECOND: u64 = 10_000_000;

/// An [`ObjectStore`] over an `aws_sdk_s3::Client`. Cheap to clone.
#[derive(Debug, Clone)]
pub struct S3Store {
    client: aws_sdk_s3::Client,
    /// The client's operation timeout, for the message of a timed-out call.
    operation_timeout: Duration,
    /// Bodies are given `size / upload_floor` more time to send.
    upload_floor: u64,
}

impl S3Store {
    /// `operation_timeout` must be the one configured on the client (the attempt timeout a
    /// third of it, as [`CallTimeouts::from_operation`] makes them).
    pub fn new(client: aws_sdk_s3::Client, operation_timeout: Duration) -> Self {
        S3Store {
            client,
            operation_timeout,
            upload_floor: UPLOAD_FLOOR_BYTES_PER_SECOND,
        }
    }

    /// The slowest upload to give time for, in bytes per second (tests slow it down).
    pub fn with_upload_floor(self, bytes_per_second: u64) -> Self {
        S3Store {
            upload_floor: bytes_per_second.max(1),
            ..self
        }
    }

    /// The timeouts a PUT of `bytes` gets: the client's, each attempt longer by the time
    /// the body takes at the floor rate, and the operation by three such attempts (its
    /// retries). `None` when that adds under half a second (the client's own apply).
    fn upload_timeouts(&self, bytes: u64) -> Option<CallTimeouts> {
        let sending = Duration::from_secs_f64(bytes as f64 / self.upload_floor as f64);
        if sending < Duration::from_millis(500) {
            return None;
        }
        let base = CallTimeouts::from_operation(self.operation_timeout);
        Some(CallTimeouts {
            operation: base.operation + sending * 3,
            attempt: base.attempt + sending,
            connect: base.connect,
        })
    }

    pub fn client(&self) -> &aws_sdk_s3::Client {
        &self.client
    }

    fn classify<E>(&self, err: SdkError<E, HttpResponse>, bucket: &str, key: &str) -> StoreError
    where
        E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
    {
        classify(err, bucket, key, self.operation_timeout)
    }

    /// An unconditional PutObject of `body`, from memory or streamed from a file.
    async fn put_stream(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        content_type: &str,
    ) -> Result<(), StoreError> {
        let request = self.put_request(bucket, key, content_type);
        let (sent, timeout) = self.send_put(request, body).await;
        sent.map(|_| ())
            .map_err(|err| write_error(classify(err, bucket, key, timeout), "s3:PutObject"))
    }

    /// A GetObject's answer (the body still to be read).
    async fn get_object(&self, bucket: &str, key: &str) -> Result<GetObjectOutput, StoreError> {
        let request = (self.client.get_object()).bucket(bucket).key(key);
        boxed(|| request.send())
            .await
            .map_err(|err| self.classify(err, bucket, key))
    }

    fn put_request(&self, bucket: &str, key: &str, content_type: &str) -> PutObjectFluentBuilder {
        (self.client.put_object())
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
    }

    /// Sends `request` with `body`, given the time the body needs ([`Self::upload_timeouts`]);
    /// with the operation timeout it had, for the message of a timeout.
    async fn send_put(
        &self,
        request: PutObjectFluentBuilder,
        body: ByteStream,
    ) -> (
        Result<PutObjectOutput, SdkError<PutObjectError, HttpResponse>>,
        Duration,
    ) {
        let timeouts = self.upload_timeouts(body_size(&body));
        let request = request.body(body);
        let sent = match timeouts {
            Some(t) => {
                let config = override_of(t);
                boxed(|| request.customize().config_override(config).send()).await
            }
            None => boxed(|| request.send()).await,
        };
        (
            sent,
            timeouts.map_or(self.operation_timeout, |t| t.operation),
        )
    }

    /// A conditional PutObject of `body` (the dedup claims and the ledger): `Ok(false)` when
    /// another writer won, or (`If-Match`) the object was deleted since it was read.
    async fn put_conditionally(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        condition: WriteCondition<'_>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        let put = self.put_tagged(bucket, key, body, condition, content_type);
        Ok(matches!(put.await?, ConditionalPut::Written { .. }))
    }

    /// [`Self::put_conditionally`], with the new object's ETag S3 answered.
    async fn put_tagged(
        &self,
        bucket: &str,
        key: &str,
        body: ByteStream,
        condition: WriteCondition<'_>,
        content_type: &str,
    ) -> Result<ConditionalPut, StoreError> {
        let request = self.put_request(bucket, key, content_type);
        let request = match condition {
            WriteCondition::Absent => request.if_none_match("*"),
            WriteCondition::Matches(etag) => request.if_match(etag),
        };
        let (sent, timeout) = self.send_put(request, body).await;
        match sent {
            Ok(output) => Ok(ConditionalPut::Written {
                etag: output.e_tag().map(str::to_string),
            }),
            Err(err) if lost_the_race(&err) => Ok(ConditionalPut::Lost),
            Err(err) => match (classify(err, bucket, key, timeout), condition) {
                // Deleted since it was read: someone else released or replaced it.
                (StoreError::NotFound { .. }, WriteCondition::Matches(_)) => {
                    Ok(ConditionalPut::Lost)
                }
                (other, _) => Err(write_error(other, "s3:PutObject")),
            },
        }
    }
}

/// A GET whose body broke off after the answer began.
fn body_read_failed(bucket: &str, key: &str, err: &(dyn StdError + 'static)) -> StoreError {
    StoreError::Other(format!(
        "{}: reading the object body failed: {}",
        S3Url(bucket, key),
        source_chain(err)
    ))
}

/// A body's length when it is known (from memory, or a file's), else 0.
fn body_size(body: &ByteStream) -> u64 {
    let (lower, upper) = body.size_hint();
    upper.unwrap_or(lower)
}

/// One operation's config with `timeouts` in place of the client's.
fn override_of(timeouts: CallTimeouts) -> aws_sdk_s3::config::Builder {
    aws_sdk_s3::config::Builder::default().timeout_config(timeouts.to_timeout_config())
}

/// Maps one SDK failure onto the store's operator-facing errors.
fn classify<E>(
    err: SdkError<E, HttpResponse>,
    bucket: &str,
    key: &str,
    operation_timeout: Duration,
) -> StoreError
where
    E: ProvideErrorMetadata + StdError + Send + Sync + 'static,
{
    let timeout = || StoreError::Timeout {
        seconds: operation_timeout.as_secs_f64(),
    };
    match &err {
        SdkError::TimeoutError(_) => timeout(),
        SdkError::DispatchFailure(failure) => {
            if failure.is_timeout() {
                timeout()
            } else if failure.is_io() {
                StoreError::Connection(source_chain(&err))
            } else {
                StoreError::Other(format!("{}: {}", S3Url(bucket, key), source_chain(&err)))
            }
        }
        SdkError::ServiceError(context) => {
            let status = context.raw().status().as_u16();
            let service_error = context.err();
            classify_status(
                status,
                service_error.code(),
                service_error.message(),
                bucket,
                key,
            )
        }
        SdkError::ResponseError(context) => {
            let status = context.raw().status().as_u16();
            match status {
                500..=599 => classify_status(status, None, None, bucket, key),
                _ => StoreError::Other(format!(
                    "{}: unreadable S3 response (HTTP {status}): {}",
                    S3Url(bucket, key),
                    source_chain(&err)
                )),
            }
        }
        _ => StoreError::Other(format!("{}: {}", S3Url(bucket, key), source_chain(&err))),
    }
}

/// What an HTTP error answer from S3 means for us.
fn classify_status(
    status: u16,
    code: Option<&str>,
    message: Option<&str>,
    bucket: &str,
    key: &str,
) -> StoreError {
    let owned = || (bucket.to_string(), key.to_string());
    match (status, code) {
        (_, Some("NoSuchBucket")) => StoreError::NoSuchBucket {
            bucket: bucket.to_string(),
        },
        (404, _) | (_, Some("NoSuchKey")) => {
            let (bucket, key) = owned();
            StoreError::NotFound { bucket, key }
        }
        (403, _) => {
            let (bucket, key) = owned();
            StoreError::AccessDenied { bucket, key }
        }
        (
            _,
            Some(
                "SlowDown"
                | "Throttling"
                | "ThrottlingException"
                | "RequestLimitExceeded"
                | "TooManyRequests"
                | "RequestThrottled",
            ),
        )
        | (429 | 503, _) => StoreError::Throttled { status },
        (500..=599, _) => StoreError::Server { status },
        _ => {
            let code = code.unwrap_or("no error code");
            let message = message.map(|m| format!(": {m}")).unwrap_or_default();
            StoreError::Other(format!(
                "{}: S3 answered HTTP {status} ({code}){message}",
                S3Url(bucket, key)
            ))
        }
    }
}

/// An object's body as one buffer, its chunks copied in as they arrive: collecting them first
/// and then joining them held the body two or three times over (a 120 MB registry of a
/// million artifacts, issue 17). `length` (the Content-Length) sizes the buffer once.
async fn read_body(
    mut stream: ByteStream,
    length: Option<usize>,
) -> Result<Vec<u8>, aws_sdk_s3::primitives::ByteStreamError> {
    let mut body = Vec::with_capacity(length.unwrap_or(0));
    while let Some(chunk) = stream.try_next().await? {
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The error and its sources on one line ("dispatch failure: io error: … Connection
/// refused"), without the Debug dump `DisplayErrorContext` appends and without repeats.
fn source_chain(err: &(dyn StdError + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut current = Some(err);
    while let Some(e) = current {
        let text = e.to_string();
        if !text.is_empty() && !parts.iter().any(|p| p.contains(&text)) {
            parts.push(text);
        }
        current = e.source();
    }
    let chain = parts.join(": ");
    if chain.contains("no credentials found") {
        // The provider chain's multi-line list of attempts, said once for an operator.
        return "no AWS credentials found (tried the environment, the profile, web identity, \
                the container and instance metadata); give the role or set AWS_ACCESS_KEY_ID \
                and AWS_SECRET_ACCESS_KEY"
            .to_string();
    }
    chain
}

fn to_chrono(time: &aws_sdk_s3::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(time.secs(), time.subsec_nanos())
}

impl S3Store {
    /// HeadObject's answer for a key that exists, with its metadata read; `None` when absent.
    async fn head_object(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectMeta, HeadObjectOutput)>, StoreError> {
        let request = self.client.head_object().bucket(bucket).key(key);
        match boxed(|| request.send()).await {
            Ok(output) => {
                let last_modified =
                    output.last_modified().and_then(to_chrono).ok_or_else(|| {
                        StoreError::Other(format!(
                            "{}: HEAD answered without a usable Last-Modified",
                            S3Url(bucket, key)
                        ))
                    })?;
                // A HEAD's Content-Length is the object's size; it comes with the answer.
                let size = output.content_length().and_then(|n| u64::try_from(n).ok());
                let meta = ObjectMeta {
                    last_modified,
                    size,
                    etag: output.e_tag().map(ContentTag::of_etag),
                };
                Ok(Some((meta, output)))
            }
            Err(SdkError::ServiceError(context)) if context.err().is_not_found() => Ok(None),
            // HEAD has no body, so a missing bucket is a bare 404 as well: absent.
            Err(err) => match self.classify(err, bucket, key) {
                StoreError::NotFound { .. } | StoreError::NoSuchBucket { .. } => Ok(None),
                other => Err(other),
            },
        }
    }
}

impl ObjectStore for S3Store {
    async fn head(&self, bucket: &str, key: &str) -> Result<Option<ObjectMeta>, StoreError> {
        Ok(self.head_object(bucket, key).await?.map(|(meta, _)| meta))
    }

    async fn head_etag(
        &self,
        bucket: &str,
        key: &str,
    ) -> Result<Option<(ObjectMeta, Option<String>)>, StoreError> {
        let answer = self.head_object(bucket, key).await?;
        Ok(answer.map(|(meta, output)| (meta, output.e_tag().map(str::to_string))))
    }

    async fn get(&self, bucket: &str, key: &str) -> Result<FetchedObject, StoreError> {
        let output = self.get_object(bucket, key).await?;
        let etag = output.e_tag().map(str::to_string);
        let length = output
            .content_length()
            .and_then(|n| usize::try_from(n).ok());
        let body = (read_body(output.body, length).await)
            .map_err(|err| body_read_failed(bucket, key, &err))?;
        Ok(FetchedObject { body, etag })
    }

    /// The response's length is read before the body: an object over the cap is answered
    /// without reading it (the connection is dropped with the body).
    async fn get_at_most(
        &self,
        bucket: &str,
        key: &str,
        max_bytes: u64,
    ) -> Result<CappedGet, StoreError> {
        let output = self.get_object(bucket, key).await?;
        let length = output.content_length().and_then(|n| u64::try_from(n).ok());
        if let Some(size) = length.filter(|size| *size > max_bytes) {
            return Ok(CappedGet::TooBig { size });
        }
        let etag = output.e_tag().map(str::to_string);
        let length = length.and_then(|n| usize::try_from(n).ok());
        let body = (read_body(output.body, length).await)
            .map_err(|err| body_read_failed(bucket, key, &err))?;
        Ok(CappedGet::Fetched(FetchedObject { body, etag }))
    }

    /// The body is written to the file chunk by chunk as it arrives.
    async fn get_to_file(
        &self,
        bucket: &str,
        key: &str,
        path: &std::path::Path,
    ) -> Result<Option<String>, StoreError> {
        use std::io::Write;
        let mut output = self.get_object(bucket, key).await?;
        let write_failed = |e: std::io::Error| {
            StoreError::LocalFile(format!("could not write {}: {e}", path.display()))
        };
        let mut file = std::fs::File::create(path).map_err(write_failed)?;
        while let Some(chunk) =
            (output.body.try_next().await).map_err(|err| body_read_failed(bucket, key, &err))?
        {
            file.write_all(&chunk).map_err(write_failed)?;
        }
        file.flush().map_err(write_failed)?;
        Ok(output.e_tag().map(str::to_string))
    }

    async fn list_page(
        &self,
        bucket: &str,
        prefix: &str,
        continuation: Option<&str>,
        max_keys: u16,
    ) -> Result<ListPage, StoreError> {
        let request = (self.client.list_objects_v2())
            .bucket(bucket)
            .prefix(prefix)
            .max_keys(i32::from(max_keys))
            .set_continuation_token(continuation.map(str::to_string));
        let result = boxed(|| request.send()).await;
        let output = match result {
            Ok(output) => output,
            Err(err) => {
                return match self.classify(err, bucket, prefix) {
                    StoreError::NoSuchBucket { .. } => Ok(ListPage::default()),
                    StoreError::AccessDenied { bucket, key } => Err(StoreError::ListDenied {
                        bucket,
                        prefix: key,
                    }),
                    other => Err(other),
                };
            }
        };
        let objects = output
            .contents()
            .iter()
            .filter_map(|object| {
                Some(ListedObject {
                    key: object.key()?.to_string(),
                    meta: ObjectMeta {
                        last_modified: object.last_modified().and_then(to_chrono)?,
                        size: object.size().and_then(|n| u64::try_from(n).ok()),
                        etag: object.e_tag().map(ContentTag::of_etag),
                    },
                })
            })
            .collect();
        let continuation = if output.is_truncated() == Some(true) {
            output.next_continuation_token().map(str::to_string)
        } else {
            None
        };
        Ok(ListPage {
            objects,
            continuation,
        })
    }

    async fn put(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<(), StoreError> {
        self.put_stream(bucket, key, ByteStream::from(body), content_type)
            .await
    }

    async fn put_file(
        &self,
        bucket: &str,
        key: &str,
        path: &std::path::Path,
        content_type: &str,
    ) -> Result<(), StoreError> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| StoreError::Other(format!("could not read {}: {e}", path.display())))?;
        self.put_stream(bucket, key, body, content_type).await
    }

    async fn put_if_absent(
        &self,
        bucket: &str,
        key: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        let body = ByteStream::from(body);
        self.put_conditionally(bucket, key, body, WriteCondition::Absent, content_type)
            .await
    }

    async fn put_if_match(
        &self,
        bucket: &str,
        key: &str,
        etag: &str,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        let body = ByteStream::from(body);
        let condition = WriteCondition::Matches(etag);
        self.put_conditionally(bucket, key, body, condition, content_type)
            .await
    }

    async fn put_conditional(
        &self,
        bucket: &str,
        key: &str,
        condition: WriteCondition<'_>,
        body: Vec<u8>,
        content_type: &str,
    ) -> Result<ConditionalPut, StoreError> {
        let body = ByteStream::from(body);
        self.put_tagged(bucket, key, body, condition, content_type)
            .await
    }

    /// Streamed from disk (`ByteStream::from_path` reopens the file on a retry).
    async fn put_file_if(
        &self,
        bucket: &str,
        key: &str,
        path: &std::path::Path,
        condition: WriteCondition<'_>,
        content_type: &str,
    ) -> Result<bool, StoreError> {
        let body = ByteStream::from_path(path)
            .await
            .map_err(|e| StoreError::Other(format!("could not read {}: {e}", path.display())))?;
        self.put_conditionally(bucket, key, body, condition, content_type)
            .await
    }

    async fn start_upload(
        &self,
        bucket: &str,
        key: &str,
        content_type: &str,
    ) -> Result<Option<String>, StoreError> {
        let started = (self.client.create_multipart_upload())
            .bucket(bucket)
            .key(key)
            .content_type(content_type)
            .send()
            .await
            .map_err(|err| write_error(self.classify(err, bucket, key), "s3:PutObject"))?;
        match started.upload_id() {
            Some(id) => Ok(Some(id.to_string())),
            None => Err(StoreError::Other(format!(
                "{}: CreateMultipartUpload answered without an upload id",
                S3Url(bucket, key)
            ))),
        }
    }

    /// Given the time the part needs at the floor rate, as a PUT is.
    async fn upload_part(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        part_number: i32,
        body: Vec<u8>,
    ) -> Result<String, StoreError> {
        let timeouts = self.upload_timeouts(body.len() as u64);
        let request = (self.client.upload_part())
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .part_number(part_number)
            .body(ByteStream::from(body));
        let sent = match timeouts {
            Some(t) => {
                request
                    .customize()
                    .config_override(override_of(t))
                    .send()
                    .await
            }
            None => request.send().await,
        };
        let timeout = timeouts.map_or(self.operation_timeout, |t| t.operation);
        let part =
            sent.map_err(|err| write_error(classify(err, bucket, key, timeout), "s3:PutObject"))?;
        Ok(part.e_tag().unwrap_or_default().to_string())
    }

    async fn complete_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
        etags: Vec<String>,
        bytes: u64,
    ) -> Result<(), StoreError> {
        use aws_sdk_s3::types::{CompletedMultipartUpload, CompletedPart};
        let parts = (etags.into_iter().zip(1..))
            .map(|(etag, n)| CompletedPart::builder().e_tag(etag).part_number(n).build())
            .collect();
        let upload = CompletedMultipartUpload::builder()
            .set_parts(Some(parts))
            .build();
        let request = (self.client.complete_multipart_upload())
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .multipart_upload(upload);
        // Given the time the object would take to send at the floor rate, as a PUT of it is:
        // S3 assembles the parts before it answers.
        let sent = match self.upload_timeouts(bytes) {
            Some(t) => {
                request
                    .customize()
                    .config_override(override_of(t))
                    .send()
                    .await
            }
            None => request.send().await,
        };
        sent.map(drop).or_else(|err| match completed_anyway(&err) {
            true => Ok(()),
            false => Err(write_error(self.classify(err, bucket, key), "s3:PutObject")),
        })
    }

    async fn abort_upload(
        &self,
        bucket: &str,
        key: &str,
        upload_id: &str,
    ) -> Result<(), StoreError> {
        (self.client.abort_multipart_upload())
            .bucket(bucket)
            .key(key)
            .upload_id(upload_id)
            .send()
            .await
            .map(drop)
            .map_err(|err| write_error(self.classify(err, bucket, key), "s3:AbortMultipartUpload"))
    }

    async fn delete(&self, bucket: &str, key: &str) -> Result<(), StoreError> {
        match self
            .client
            .delete_object()
            .bucket(bucket)
            .key(key)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(err) => match self.classify(err, bucket, key) {
                StoreError::NotFound { .. } => Ok(()),
                other => Err(write_error(other, "s3:DeleteObject")),
            },
        }
    }
}

/// A write's 403 says which permission is missing, not the read-side ListBucket hint.
fn write_error(err: StoreError, action: &'static str) -> StoreError {
    match err {
        StoreError::AccessDenied { bucket, key } => StoreError::WriteDenied {
            bucket,
            key,
            action,
        },
        other => other,
    }
}

/// A CompleteMultipartUpload answered 200 with a body that is not an `<Error>` (which the SDK
/// reads into an error with its code) but that the SDK could not read as the result: the
/// object was made. moto (5.2) names the root `CompleteMultipartUploadResponse` instead of
/// S3's `CompleteMultipartUploadResult`.
fn completed_anyway<E: ProvideErrorMetadata>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(err, SdkError::ServiceError(ctx)
        if ctx.raw().status().as_u16() == 200 && ctx.err().code().is_none())
}

/// A conditional write that another writer won: 412 Precondition Failed, or 409 (S3's answer
/// when a conflicting conditional write is in flight at the same moment).
fn lost_the_race<E>(err: &SdkError<E, HttpResponse>) -> bool {
    matches!(err, SdkError::ServiceError(ctx) if matches!(ctx.raw().status().as_u16(), 409 | 412))
}

impl crate::aws::AwsClients {
    /// The object store over the shared S3 client.
    pub fn s3_store(&self) -> S3Store {
        S3Store::new(self.s3.clone(), self.timeouts.operation)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_what_an_operator_can_act_on() {
        let c = |status, code| classify_status(status, code, None, "b", "k");
        assert!(matches!(c(404, None), StoreError::NotFound { .. }));
        assert!(matches!(
            c(404, Some("NoSuchBucket")),
            StoreError::NoSuchBucket { .. }
        ));
        assert!(matches!(
            c(403, Some("AccessDenied")),
            StoreError::AccessDenied { .. }
        ));
        assert_eq!(
            c(503, Some("SlowDown")),
            StoreError::Throttled { status: 503 }
        );
        assert_eq!(c(429, None), StoreError::Throttled { status: 429 });
        assert_eq!(
            c(400, Some("ThrottlingException")),
            StoreError::Throttled { status: 400 }
        );
        assert_eq!(c(500, None), StoreError::Server { status: 500 });
        assert_eq!(
            c(400, Some("InvalidRequest")).to_string(),
            "s3://b/k: S3 answered HTTP 400 (InvalidRequest)"
        );
    }

    #[test]
    fn the_403_message_carries_the_list_bucket_hint() {
        let message = classify_status(403, None, None, "b", "k").to_string();
        assert!(message.contains("s3:ListBucket"), "{message}");
        assert!(message.contains("s3://b/k"), "{message}");
    }
}
