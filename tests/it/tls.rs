//! HTTPS through the binary's one TLS stack (rustls with `ring`, `src/tls.rs`): the SDK's
//! clients (S3, SNS, SSM) and Telegram's reqwest client reach servers whose certificate the
//! trust store holds, and refuse a certificate it does not hold. The servers are moto and the
//! Telegram stand-in behind [`TlsRelay`]s with certificates of a test CA; `SSL_CERT_FILE` is the
//! trust store when a test trusts them, the system's roots otherwise.

use crate::support::moto;
use crate::support::tls_relay::TlsRelay;
use crate::support::world::{Monitor, World, channel_error};

/// The port of a loopback `http://127.0.0.1:PORT` base URL.
fn port_of(base: &str) -> u16 {
    base.rsplit(':').next().unwrap().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_pass_over_https_reads_writes_and_alerts_on_both_channels_when_the_certificate_is_trusted()
 {
    let world = World::new(3).await;
    let aws = TlsRelay::start(moto::shared().port);
    let telegram = TlsRelay::start(port_of(&world.telegram.base()));
    let dir = tempfile::tempdir().unwrap();
    let bundle = dir.path().join("trusted.pem");
    let pems = [&aws.ca, &telegram.ca].map(|p| std::fs::read_to_string(p).unwrap());
    std::fs::write(&bundle, pems.concat()).unwrap();

    let mut env = world.env_with("TELEGRAM_API_BASE", Some(&telegram.endpoint()));
    env.push(("AWS_ENDPOINT_URL", aws.endpoint()));
    env.push(("SSL_CERT_FILE", bundle.display().to_string()));
    let monitor = Monitor::start(&env);
    let response = monitor.pass("2026-05-30T12:30:00Z").response().clone();

    assert_eq!(response["alerted"], 3, "{response:#}");
    assert_eq!(world.sns_messages().await.len(), 1, "SNS over HTTPS");
    assert_eq!(world.telegram.delivered().len(), 1, "Telegram over HTTPS");
    assert_eq!(world.markers().await.len(), 3, "S3 writes over HTTPS");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_certificate_outside_the_trust_store_is_refused_by_the_sdk_and_by_telegram() {
    let world = World::new(3).await;
    let aws = TlsRelay::start(moto::shared().port);
    let mut env = world.env();
    env.push(("AWS_ENDPOINT_URL", aws.endpoint()));
    let (error_type, message) = Monitor::start(&env).pass("2026-05-30T12:30:00Z").error();
    assert_eq!(error_type, "FreshnessMonitor.RegistryError", "{message}");
    assert!(
        message.to_ascii_lowercase().contains("certificate"),
        "the SDK names the refused certificate: {message}"
    );

    let telegram = TlsRelay::start(port_of(&world.telegram.base()));
    let env = world.env_with("TELEGRAM_API_BASE", Some(&telegram.endpoint()));
    let response = Monitor::start(&env)
        .pass("2026-05-30T12:30:00Z")
        .response()
        .clone();
    assert_eq!(response["alerted"], 3, "SNS still delivers: {response:#}");
    assert!(
        world.telegram.received().is_empty(),
        "nothing reached Telegram"
    );
    let heartbeat = world.heartbeat().await;
    let error = channel_error(&heartbeat, "telegram");
    assert!(
        error.to_ascii_lowercase().contains("certificate"),
        "Telegram's client names the refused certificate: {heartbeat:#}"
    );
}
