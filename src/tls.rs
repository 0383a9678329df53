//! The one TLS stack of the binary: rustls 0.23 with the `ring` crypto provider, for the AWS
//! SDK's HTTPS client and for reqwest (the Telegram channel) alike.
//!
//! The SDK's `default-https-client` feature builds the same hyper 1 / rustls client with
//! aws-lc-rs, a C crypto library of ~2 MB in the binary; reqwest's `rustls` feature links it
//! too. A small invocation pays for the binary's size in resident pages (BENCHMARKS.md, "A
//! small pass's memory, third round") and the zip in bytes, so both use `ring` instead, built
//! here. Everything else is as the SDK's default: certificates are verified by rustls-webpki
//! against the system's roots (rustls-native-certs for the SDK, rustls-platform-verifier for
//! reqwest), `HTTPS_PROXY`/`NO_PROXY` are honoured, the SDK's timeouts and sleep apply.

use aws_sdk_s3::config::SharedHttpClient;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{Provider, rustls_provider::CryptoMode};
use aws_smithy_http_client::{Builder, Connector};

/// The SDK's HTTPS client with the `ring` provider: `aws-smithy-runtime`'s default HTTPS
/// client (`default_https_client`) with `CryptoMode::Ring` in place of `AwsLc`. Set on the
/// shared `SdkConfig` ([`crate::aws::load_sdk_config`]), so every client derived from it uses
/// it; without it a request fails with "no HTTP client".
pub fn sdk_http_client() -> SharedHttpClient {
    Builder::new().build_with_connector_fn(|settings, components| {
        let mut connector = Connector::builder().tls_provider(Provider::Rustls(CryptoMode::Ring));
        connector.set_connector_settings(settings.cloned());
        if let Some(components) = components {
            connector.set_sleep_impl(components.sleep_impl());
        }
        connector.set_proxy_config(Some(ProxyConfig::from_env()));
        connector.build()
    })
}

/// Makes `ring` the process's rustls provider, which reqwest (built with
/// `rustls-no-provider`) takes when it builds a client. Idempotent: a provider already
/// installed (by an earlier call) is kept.
pub fn install_crypto_provider() {
    if rustls::crypto::CryptoProvider::get_default().is_none() {
        // Err only when another thread installed one first: that one is kept.
        let _ = rustls::crypto::ring::default_provider().install_default();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// reqwest built with `rustls-no-provider` panics when it builds a client and no process
    /// provider is installed: the Telegram channel depends on this call.
    #[test]
    fn a_reqwest_client_builds_once_the_provider_is_installed_and_installing_twice_is_harmless() {
        install_crypto_provider();
        install_crypto_provider();
        assert!(rustls::crypto::CryptoProvider::get_default().is_some());
        reqwest::Client::builder()
            .build()
            .expect("a reqwest client with the ring provider");
    }
}
