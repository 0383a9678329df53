//! `--results`: where the Lambda keeps its memory (`ledger.json`, `acks/`). `ack` writes
//! there; `check` and `explain` read it (never write) so the alert policy they print is the
//! one the next pass would apply: escalation after cycles missed in a row, acknowledgements,
//! never-written artifacts (docs/cli.md#check).

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};

use freshness_monitor::alert::gather;
use freshness_monitor::alert::policy::ack::Ack;
use freshness_monitor::alert::policy::never_written;
use freshness_monitor::ledger::{self, Ledger};
use freshness_monitor::pass::PassOutcome;
use freshness_monitor::registry::Registry;
use freshness_monitor::registry::policy::ROUTABLE_CHANNELS;
use freshness_monitor::report::files;
use freshness_monitor::store::ObjectStore;

/// What earlier passes left under the results prefix.
pub struct Remembered {
    pub ledger: Ledger,
    pub acks: Vec<Ack>,
}

/// `--results s3://BUCKET/PREFIX/` as `(bucket, prefix)` (the prefix ends with `/` unless
/// empty); without the flag, the Lambda's own env (`RESULTS_BUCKET` or `REGISTRY_BUCKET`,
/// `RESULTS_PREFIX`).
pub fn results_location(results: Option<&str>) -> anyhow::Result<(String, String)> {
    if let Some(url) = results {
        let rest = url
            .strip_prefix("s3://")
            .with_context(|| format!("--results {url:?} is not an s3://BUCKET/PREFIX/ URL"))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            bail!("--results {url:?} names no bucket");
        }
        let prefix = if prefix.is_empty() || prefix.ends_with('/') {
            prefix.to_string()
        } else {
            format!("{prefix}/")
        };
        return Ok((bucket.to_string(), prefix));
    }
    let settings = freshness_monitor::settings::Settings::from_env()
        .context("no --results given and the Lambda's env is incomplete")?;
    Ok((
        settings.results_bucket().to_string(),
        settings.results_prefix.clone(),
    ))
}

/// Reads the ledger and the acknowledgements at `url`. What cannot be used is said on stderr
/// and left out, as a pass would (a missing ledger is an empty one).
pub async fn read<S: ObjectStore>(store: &S, url: &str) -> anyhow::Result<Remembered> {
    let (bucket, prefix) = results_location(Some(url))?;
    let read = ledger::store::read(store, &bucket, &format!("{prefix}{}", files::LEDGER)).await;
    if let Some(why) = &read.rebuilt {
        eprintln!("warning: the ledger at {url} is not used: {why}");
    }
    let acks = gather::read_acks(store, &bucket, &prefix).await;
    for problem in &acks.problems {
        eprintln!("warning: {problem}");
    }
    Ok(Remembered {
        ledger: read.ledger,
        acks: acks.acks,
    })
}

/// Applies the alert policy to `outcome` as a pass would with `remembered` (the listings of
/// the never-written rule included), or as a first pass would without it, for alerts to
/// `channels` ([`check_channels`]).
pub async fn apply_policy<S: ObjectStore>(
    store: &S,
    registry: &Registry,
    outcome: &mut PassOutcome,
    remembered: Option<&Remembered>,
    now: DateTime<Utc>,
) {
    let channels = check_channels().judged;
    let Some(remembered) = remembered else {
        outcome.apply_policy(None, &[], &channels);
        return;
    };
    let ledger = Some(&remembered.ledger);
    let (known, to_list) = never_written::plan_checks(registry, &outcome.rows, ledger);
    let found = gather::check_prefixes(store, known, to_list).await;
    never_written::mark_rows(&mut outcome.rows, &found.ids, now);
    never_written::mark_appeared(&mut outcome.rows, ledger);
    outcome.apply_policy(ledger, &remembered.acks, &channels);
}

/// The alert channels `check` and `explain` judge for: the ones this environment configures
/// as the Lambda reads them, or, when it configures none, every channel (what a pass would
/// send once they are set up).
pub struct CheckChannels {
    pub judged: Vec<&'static str>,
    /// Whether `judged` is what the environment configures (false: none is, and `judged` is
    /// every channel).
    pub configured: bool,
}

/// [`CheckChannels`] from the process environment: `SNS_TOPIC_ARN` makes `sns`; either
/// Telegram parameter makes `telegram` (the Lambda builds a half-configured Telegram as a
/// channel that fails with the reason).
pub fn check_channels() -> CheckChannels {
    let set = |name: &str| std::env::var(name).is_ok_and(|v| !v.trim().is_empty());
    let mut judged = Vec::new();
    if set("SNS_TOPIC_ARN") {
        judged.push("sns");
    }
    if set("TELEGRAM_BOT_TOKEN_PARAM") || set("TELEGRAM_CHAT_ID_PARAM") {
        judged.push("telegram");
    }
    let configured = !judged.is_empty();
    if !configured {
        judged = ROUTABLE_CHANNELS.to_vec();
    }
    CheckChannels { judged, configured }
}
