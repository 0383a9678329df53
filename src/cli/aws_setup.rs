//! Before a command touches S3: is AWS configured at all? A missing region or missing
//! credentials is one clear line naming what to set, exit 1, before any probe, instead of a
//! `probe_failed` on every row (which reads as an outage) or the SDK's multi-line dump.
//!
//! The region and credentials are resolved by aws-config itself (`AWS_REGION`,
//! `AWS_DEFAULT_REGION`, the profile's config file, web identity, container and instance
//! metadata): nothing here re-implements that chain, it only asks the result. The SDK's own
//! account of what it tried is added with `-v` or when `RUST_LOG` is set.

use std::sync::atomic::{AtomicBool, Ordering};

use anyhow::bail;
use aws_config::SdkConfig;
use aws_sdk_s3::config::ProvideCredentials as _;
use aws_sdk_s3::error::DisplayErrorContext;

use freshness_monitor::aws::AwsClients;

/// `-v`: say the SDK's details under a configuration error.
static VERBOSE: AtomicBool = AtomicBool::new(false);

/// Records the `-v` flag for [`clients`] and [`check`].
pub fn set_verbose(verbose: bool) {
    VERBOSE.store(verbose, Ordering::Relaxed);
}

/// Whether an error may carry the SDK's details: `-v`, or `RUST_LOG` set.
fn verbose() -> bool {
    VERBOSE.load(Ordering::Relaxed) || std::env::var_os("RUST_LOG").is_some_and(|v| !v.is_empty())
}

/// Where a command could go instead of S3, said under a missing region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Alternative {
    /// The command takes `--store DIR` (`check`, `explain`, `history`, `ack`).
    LocalStore,
    /// The command is always S3 (`run`).
    None,
}

/// The CLI's AWS clients, once the region and credentials are known to be there.
pub async fn clients(alternative: Alternative) -> anyhow::Result<AwsClients> {
    let clients = AwsClients::for_cli().await;
    check(&clients.config, alternative).await?;
    Ok(clients)
}

/// The region, then the credentials, as aws-config resolved them from the environment.
pub async fn check(config: &SdkConfig, alternative: Alternative) -> anyhow::Result<()> {
    if config.region().is_none() {
        bail!("{}", no_region_message(alternative));
    }
    let Some(provider) = config.credentials_provider() else {
        bail!("{}", NO_CREDENTIALS);
    };
    if let Err(err) = provider.provide_credentials().await {
        let details = DisplayErrorContext(&err).to_string();
        let head = if details.contains("no credentials found") {
            NO_CREDENTIALS.to_string()
        } else {
            format!("AWS credentials could not be loaded: {err}")
        };
        if verbose() {
            bail!("{head}\n{details}");
        }
        bail!("{head} (-v for the SDK's details)");
    }
    Ok(())
}

const NO_CREDENTIALS: &str = "no AWS credentials found: set AWS_ACCESS_KEY_ID and \
     AWS_SECRET_ACCESS_KEY, or AWS_PROFILE (a profile of ~/.aws/config), or run where a role \
     provides them";

fn no_region_message(alternative: Alternative) -> String {
    let local = match alternative {
        Alternative::LocalStore => "; or, for a local directory instead of S3, --store DIR",
        Alternative::None => "",
    };
    format!(
        "no AWS region configured: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the \
         profile of ~/.aws/config){local}"
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_region_message_names_the_variables_and_the_local_store_where_it_applies() {
        let check = no_region_message(Alternative::LocalStore);
        assert!(
            check.contains("AWS_REGION") && check.contains("--store DIR"),
            "{check}"
        );
        let run = no_region_message(Alternative::None);
        assert!(
            run.contains("AWS_DEFAULT_REGION") && !run.contains("--store"),
            "{run}"
        );
    }
}
