//! The tests' own AWS SDK clients (to set up buckets, topics, queues and parameters, and to
//! read back what the binary wrote), all on moto with test credentials, and small S3 helpers.

#![allow(dead_code)]

use aws_config::{BehaviorVersion, ConfigLoader, SdkConfig};
use aws_sdk_s3::config::{Credentials, Region};
use aws_sdk_s3::primitives::ByteStream;
use serde_json::Value;

use super::moto;

/// An SDK config loader for `endpoint` with moto's region and test credentials; a caller adds
/// its own retry or timeout settings before `load`.
pub fn loader(endpoint: &str) -> ConfigLoader {
    aws_config::defaults(BehaviorVersion::latest())
        .http_client(freshness_monitor::tls::sdk_http_client())
        .endpoint_url(endpoint)
        .region(Region::new(moto::REGION))
        .credentials_provider(Credentials::new("testing", "testing", None, None, "test"))
}

/// The config every test client uses: the shared moto server.
pub async fn moto_config() -> SdkConfig {
    loader(&moto::shared().endpoint()).load().await
}

/// An S3 client for `config`, path-style as moto on a loopback port needs.
pub fn s3_client(config: &SdkConfig) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::config::Builder::from(config)
            .force_path_style(true)
            .build(),
    )
}

/// An S3 client on the shared moto server.
pub async fn s3() -> aws_sdk_s3::Client {
    s3_client(&moto_config().await)
}

/// Every client the alert tests use, on the shared moto server.
pub struct Clients {
    pub s3: aws_sdk_s3::Client,
    pub sns: aws_sdk_sns::Client,
    pub sqs: aws_sdk_sqs::Client,
    pub ssm: aws_sdk_ssm::Client,
}

impl Clients {
    pub async fn new() -> Clients {
        let config = moto_config().await;
        Clients {
            s3: s3_client(&config),
            sns: aws_sdk_sns::Client::new(&config),
            sqs: aws_sdk_sqs::Client::new(&config),
            ssm: aws_sdk_ssm::Client::new(&config),
        }
    }
}

pub async fn create_bucket(s3: &aws_sdk_s3::Client, bucket: &str) {
    s3.create_bucket()
        .bucket(bucket)
        .send()
        .await
        .unwrap_or_else(|e| panic!("create bucket {bucket} in moto: {e:?}"));
}

pub async fn put(s3: &aws_sdk_s3::Client, bucket: &str, key: &str, body: &str) {
    s3.put_object()
        .bucket(bucket)
        .key(key)
        .body(ByteStream::from(body.as_bytes().to_vec()))
        .send()
        .await
        .unwrap_or_else(|e| panic!("put s3://{bucket}/{key} in moto: {e:?}"));
}

pub async fn delete(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) {
    s3.delete_object()
        .bucket(bucket)
        .key(key)
        .send()
        .await
        .unwrap_or_else(|e| panic!("delete s3://{bucket}/{key} in moto: {e:?}"));
}

/// The object's bytes, or None when it cannot be read (absent, most often).
pub async fn get_bytes(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<Vec<u8>> {
    let out = s3.get_object().bucket(bucket).key(key).send().await.ok()?;
    Some(out.body.collect().await.unwrap().into_bytes().to_vec())
}

/// The object parsed as JSON, or None when it cannot be read; panics when it is not JSON.
pub async fn get_json(s3: &aws_sdk_s3::Client, bucket: &str, key: &str) -> Option<Value> {
    let bytes = get_bytes(s3, bucket, key).await?;
    Some(serde_json::from_slice(&bytes).expect("the monitor writes JSON"))
}

/// Every key in the bucket (one listing page: the tests' buckets hold a handful).
pub async fn keys_in(s3: &aws_sdk_s3::Client, bucket: &str) -> Vec<String> {
    s3.list_objects_v2()
        .bucket(bucket)
        .send()
        .await
        .unwrap()
        .contents()
        .iter()
        .filter_map(|o| o.key().map(str::to_string))
        .collect()
}
