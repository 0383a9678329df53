//! The environment contract of the Lambda (and of `run`, which uses the same env), parsed once
//! into settings (docs/lambda.md#environment).
//!
//! Parsing is pure (it takes a lookup function) so the rules are unit-tested without touching
//! the process environment. Empty values count as unset: a console form that leaves a field
//! blank must not make the results go to a bucket named "".

use std::time::Duration;

pub const DEFAULT_REGISTRY_KEY: &str = "_freshness_monitor/ARTIFACT_REGISTRY.yaml";
pub const DEFAULT_RESULTS_PREFIX: &str = "_freshness_monitor/";
pub const DEFAULT_DEDUP_PREFIX: &str = "_alerts/_dedup/";
pub const DEFAULT_PROBE_TIMEOUT: Duration = Duration::from_secs(10);

/// Default bound on concurrent probes (`PROBE_CONCURRENCY`). A pass against S3 is bound by
/// latency over concurrency: at ~20 ms per HEAD in region, 64 in flight probe 100,000
/// artifacts in ~32 s (32 would need ~63 s), at ~3,200 HEADs per second, well under S3's
/// 5,500 per second per prefix; adaptive retry slows the pass if S3 says `SlowDown` anyway.
/// It was 32 until issue 8 (BENCHMARKS.md); docs/lambda.md#environment.
pub const DEFAULT_PROBE_CONCURRENCY: usize = 64;

/// Default cap on one listing's pages (`PROBE_LIST_MAX_PAGES`): 1,000 pages of 1,000 keys,
/// read one after the other (~20 s at 20 ms a page). The cost is bounded anyway: a listing of
/// `n` wanted keys never reads more than `n / 12.5` pages (docs/outputs.md#listings).
pub const DEFAULT_LIST_MAX_PAGES: u32 = 1000;

/// The CloudWatch metrics namespace when `FRESHNESS_METRICS_NAMESPACE` is unset.
pub const DEFAULT_METRICS_NAMESPACE: &str = "FreshnessMonitor";

/// Observe mode is the default: alerts go out only when the flag is `true` (any case,
/// surrounding whitespace ignored). `1`, `yes` and `on` do not enable: a flag that pages
/// people must be said plainly.
pub fn alerts_flag(value: Option<&str>) -> bool {
    value.is_some_and(|v| v.trim().eq_ignore_ascii_case("true"))
}

/// The observe flag's name, and the name the original monitor used (honoured too).
pub const ENABLED_VAR: &str = "FRESHNESS_MONITOR_ENABLED";
pub const LEGACY_ENABLED_VAR: &str = "MNEMON_FRESHNESS_MONITOR_ENABLED";

/// Where a pass writes its files.
#[derive(Debug, Clone)]
pub struct OutputLocation {
    pub bucket: String,
    /// Ends with `/` (or is empty).
    pub prefix: String,
}

/// Everything the environment says about how a pass runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Settings {
    pub registry_bucket: String,
    pub registry_key: String,
    /// Where the three JSON files go; `None` means the registry bucket.
    pub results_bucket: Option<String>,
    /// Always empty or ending in `/`.
    pub results_prefix: String,
    /// Where dedup markers go; `None` means the registry bucket.
    pub dedup_bucket: Option<String>,
    pub dedup_prefix: String,
    /// Alerts go out only when this is true; otherwise observe mode (the default).
    pub alerts_enabled: bool,
    pub sns_topic_arn: Option<String>,
    pub telegram_bot_token_param: Option<String>,
    pub telegram_chat_id_param: Option<String>,
    pub telegram_api_base: Option<String>,
    /// How many probes run at once.
    pub probe_concurrency: usize,
    /// The longest one S3 call may take, retries included (`PROBE_TIMEOUT_SECONDS`).
    pub probe_timeout: Duration,
    /// The CloudWatch namespace of the EMF metrics (`FRESHNESS_METRICS_NAMESPACE`).
    pub metrics_namespace: String,
    /// Probe an artifact the ledger settled as fresh again after this many minutes
    /// (`REVERIFY_MINUTES`); `None`: not before its next tick.
    pub reverify_minutes: Option<u32>,
    /// The most pages one probe listing may read (`PROBE_LIST_MAX_PAGES`); 0: HEAD only.
    pub list_max_pages: u32,
    /// S3 "Object Created" events reach the function (`OBJECT_EVENTS=on`, set by
    /// `deploy.sh --events`): passes then make no probe of an artifact not yet due whose
    /// landing an event would tell (docs/lambda.md#passes-with-events-on).
    pub object_events: bool,
}

/// An env var the function cannot work with. The message names the variable.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SettingsError {
    #[error("REGISTRY_BUCKET is not set: it names the bucket that holds the registry")]
    MissingRegistryBucket,
    #[error("{name} must be a positive whole number, got {value:?}")]
    NotPositiveInteger { name: &'static str, value: String },
    #[error("{name} must be a whole number (0 or more), got {value:?}")]
    NotWholeNumber { name: &'static str, value: String },
    #[error("{name} must be a positive number of seconds, got {value:?}")]
    NotPositiveSeconds { name: &'static str, value: String },
    #[error("{name} must be on or off, got {value:?}")]
    NotOnOrOff { name: &'static str, value: String },
}

impl Settings {
    /// Where the pass's files go: the results bucket and prefix.
    pub fn output_location(&self) -> OutputLocation {
        OutputLocation {
            bucket: self.results_bucket().to_string(),
            prefix: self.results_prefix.clone(),
        }
    }

    /// Reads the process environment.
    pub fn from_env() -> Result<Settings, SettingsError> {
        Settings::from_lookup(|name| std::env::var(name).ok())
    }

    /// Parses the contract from any lookup (the process env, or a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Settings, SettingsError> {
        let get = |name: &str| {
            lookup(name)
                .map(|v| v.trim().to_string())
                .filter(|v| !v.is_empty())
        };
        let registry_bucket = get("REGISTRY_BUCKET").ok_or(SettingsError::MissingRegistryBucket)?;
        let probe_concurrency = match get("PROBE_CONCURRENCY") {
            None => DEFAULT_PROBE_CONCURRENCY,
            Some(value) => value.parse::<usize>().ok().filter(|n| *n > 0).ok_or(
                SettingsError::NotPositiveInteger {
                    name: "PROBE_CONCURRENCY",
                    value,
                },
            )?,
        };
        let reverify_minutes = parse_reverify_minutes(get("REVERIFY_MINUTES"))?;
        let list_max_pages = match get("PROBE_LIST_MAX_PAGES") {
            None => DEFAULT_LIST_MAX_PAGES,
            Some(value) => value
                .parse::<u32>()
                .ok()
                .ok_or(SettingsError::NotWholeNumber {
                    name: "PROBE_LIST_MAX_PAGES",
                    value,
                })?,
        };
        let probe_timeout = match get("PROBE_TIMEOUT_SECONDS") {
            None => DEFAULT_PROBE_TIMEOUT,
            Some(value) => parse_probe_timeout(value)?,
        };
        let object_events = parse_object_events(get("OBJECT_EVENTS"))?;
        Ok(Settings {
            registry_key: get("REGISTRY_KEY").unwrap_or_else(|| DEFAULT_REGISTRY_KEY.to_string()),
            results_bucket: get("RESULTS_BUCKET"),
            results_prefix: as_prefix(
                get("RESULTS_PREFIX").unwrap_or_else(|| DEFAULT_RESULTS_PREFIX.to_string()),
            ),
            dedup_bucket: get("DEDUP_BUCKET"),
            dedup_prefix: as_prefix(
                get("DEDUP_PREFIX").unwrap_or_else(|| DEFAULT_DEDUP_PREFIX.to_string()),
            ),
            alerts_enabled: alerts_enabled(
                lookup(ENABLED_VAR).as_deref(),
                lookup(LEGACY_ENABLED_VAR).as_deref(),
            ),
            sns_topic_arn: get("SNS_TOPIC_ARN"),
            telegram_bot_token_param: get("TELEGRAM_BOT_TOKEN_PARAM"),
            telegram_chat_id_param: get("TELEGRAM_CHAT_ID_PARAM"),
            telegram_api_base: get("TELEGRAM_API_BASE"),
            probe_concurrency,
            probe_timeout,
            metrics_namespace: get("FRESHNESS_METRICS_NAMESPACE")
                .unwrap_or_else(|| DEFAULT_METRICS_NAMESPACE.to_string()),
            registry_bucket,
            reverify_minutes,
            list_max_pages,
            object_events,
        })
    }

    /// `PROBE_TIMEOUT_SECONDS` alone (for CLI commands that need no registry bucket): `None`
    /// when unset, blank or invalid.
    pub fn probe_timeout_from_env() -> Option<Duration> {
        let value = std::env::var("PROBE_TIMEOUT_SECONDS").ok()?;
        parse_probe_timeout(value.trim().to_string()).ok()
    }

    /// The bucket the three JSON files are written to.
    pub fn results_bucket(&self) -> &str {
        self.results_bucket
            .as_deref()
            .unwrap_or(&self.registry_bucket)
    }

    /// The bucket dedup markers live in.
    pub fn dedup_bucket(&self) -> &str {
        self.dedup_bucket
            .as_deref()
            .unwrap_or(&self.registry_bucket)
    }
}

/// The observe flag as the Lambda reads it, from the process environment (the CLI's passes,
/// which need no registry bucket), so `check` marks what the Lambda would send.
pub fn alerts_enabled_from_env() -> bool {
    let read = |name: &str| std::env::var(name).ok();
    alerts_enabled(
        read(ENABLED_VAR).as_deref(),
        read(LEGACY_ENABLED_VAR).as_deref(),
    )
}

/// `REVERIFY_MINUTES` as the process environment has it: what `explain` says applies.
pub fn reverify_minutes_from_env() -> Result<Option<u32>, SettingsError> {
    parse_reverify_minutes(
        std::env::var("REVERIFY_MINUTES")
            .ok()
            .map(|v| v.trim().to_string())
            .filter(|v| !v.is_empty()),
    )
}

/// `REVERIFY_MINUTES`: unset, or a whole number of minutes ≥ 1.
fn parse_reverify_minutes(value: Option<String>) -> Result<Option<u32>, SettingsError> {
    let Some(value) = value else {
        return Ok(None);
    };
    match value.parse::<u32>().ok().filter(|n| *n > 0) {
        Some(minutes) => Ok(Some(minutes)),
        None => Err(SettingsError::NotPositiveInteger {
            name: "REVERIFY_MINUTES",
            value,
        }),
    }
}

/// The observe flag (docs/alerts.md#observe-mode): only `true`, in any case and with surrounding whitespace ignored,
/// enables alerts. The current name wins when it is set; the legacy name is read otherwise.
/// Anything else (`1`, `yes`, `on`, a typo, unset) keeps observe mode: paging must be a
/// deliberate act.
pub fn alerts_enabled(current: Option<&str>, legacy: Option<&str>) -> bool {
    match current {
        Some(value) if !value.trim().is_empty() => alerts_flag(Some(value)),
        _ => alerts_flag(legacy),
    }
}

/// `OBJECT_EVENTS`: `on` or `off` (any case); unset or blank is off. Anything else is an
/// error rather than a guess: it decides which probes the passes make.
fn parse_object_events(value: Option<String>) -> Result<bool, SettingsError> {
    match value.as_deref().map(str::to_ascii_lowercase).as_deref() {
        None | Some("off") => Ok(false),
        Some("on") => Ok(true),
        Some(_) => Err(SettingsError::NotOnOrOff {
            name: "OBJECT_EVENTS",
            value: value.unwrap_or_default(),
        }),
    }
}

/// Seconds, positive, at most 15 minutes (a Lambda's longest run).
fn parse_probe_timeout(value: String) -> Result<Duration, SettingsError> {
    value
        .parse::<f64>()
        .ok()
        .filter(|s| s.is_finite() && *s > 0.0 && *s <= 900.0)
        .map(Duration::from_secs_f64)
        .ok_or(SettingsError::NotPositiveSeconds {
            name: "PROBE_TIMEOUT_SECONDS",
            value,
        })
}

/// A key prefix that joins with a file name: empty, or ending in `/`.
fn as_prefix(prefix: String) -> String {
    if prefix.is_empty() || prefix.ends_with('/') {
        prefix
    } else {
        format!("{prefix}/")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn parse(pairs: &[(&str, &str)]) -> Result<Settings, SettingsError> {
        let env: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_lookup(|name| env.get(name).cloned())
    }

    #[test]
    fn defaults_follow_the_contract() {
        let s = parse(&[("REGISTRY_BUCKET", "research-bucket")]).unwrap();
        assert_eq!(s.registry_bucket, "research-bucket");
        assert_eq!(s.registry_key, "_freshness_monitor/ARTIFACT_REGISTRY.yaml");
        assert_eq!(s.results_bucket(), "research-bucket");
        assert_eq!(s.results_prefix, "_freshness_monitor/");
        assert_eq!(s.dedup_bucket(), "research-bucket");
        assert_eq!(s.dedup_prefix, "_alerts/_dedup/");
        assert!(!s.alerts_enabled);
        assert_eq!(s.probe_concurrency, 64);
        assert_eq!(s.probe_timeout, Duration::from_secs(10));
        assert_eq!(s.sns_topic_arn, None);
    }

    #[test]
    fn everything_can_be_set() {
        let s = parse(&[
            ("REGISTRY_BUCKET", "reg"),
            ("REGISTRY_KEY", "config/registry.yaml"),
            ("RESULTS_BUCKET", "results"),
            ("RESULTS_PREFIX", "monitor"),
            ("DEDUP_BUCKET", "dedup"),
            ("DEDUP_PREFIX", "d/"),
            ("FRESHNESS_MONITOR_ENABLED", "TRUE"),
            ("SNS_TOPIC_ARN", "arn:aws:sns:us-east-1:123456789012:alerts"),
            ("TELEGRAM_BOT_TOKEN_PARAM", "/fm/token"),
            ("TELEGRAM_CHAT_ID_PARAM", "/fm/chat"),
            ("PROBE_CONCURRENCY", "4"),
            ("PROBE_TIMEOUT_SECONDS", "2.5"),
        ])
        .unwrap();
        assert_eq!(s.registry_key, "config/registry.yaml");
        assert_eq!(s.results_bucket(), "results");
        assert_eq!(
            s.results_prefix, "monitor/",
            "a prefix joins with a file name"
        );
        assert_eq!(s.dedup_bucket(), "dedup");
        assert_eq!(s.dedup_prefix, "d/");
        assert!(s.alerts_enabled);
        assert_eq!(s.telegram_chat_id_param.as_deref(), Some("/fm/chat"));
        assert_eq!(s.probe_concurrency, 4);
        assert_eq!(s.probe_timeout, Duration::from_millis(2500));
    }

    #[test]
    fn blank_values_count_as_unset() {
        let s = parse(&[
            ("REGISTRY_BUCKET", "reg"),
            ("RESULTS_BUCKET", "  "),
            ("SNS_TOPIC_ARN", ""),
        ])
        .unwrap();
        assert_eq!(s.results_bucket(), "reg");
        assert_eq!(s.sns_topic_arn, None);
        assert_eq!(
            parse(&[("REGISTRY_BUCKET", " ")]),
            Err(SettingsError::MissingRegistryBucket)
        );
    }

    #[test]
    fn listing_and_reverify_have_defaults_and_name_themselves_when_wrong() {
        let s = parse(&[("REGISTRY_BUCKET", "b")]).unwrap();
        assert_eq!((s.list_max_pages, s.reverify_minutes), (1000, None));
        let s = parse(&[
            ("REGISTRY_BUCKET", "b"),
            ("PROBE_LIST_MAX_PAGES", "0"),
            ("REVERIFY_MINUTES", "60"),
        ])
        .unwrap();
        assert_eq!((s.list_max_pages, s.reverify_minutes), (0, Some(60)));
        let err = parse(&[("REGISTRY_BUCKET", "b"), ("PROBE_LIST_MAX_PAGES", "-1")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "PROBE_LIST_MAX_PAGES must be a whole number (0 or more), got \"-1\""
        );
        let err = parse(&[("REGISTRY_BUCKET", "b"), ("REVERIFY_MINUTES", "0")]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "REVERIFY_MINUTES must be a positive whole number, got \"0\""
        );
    }

    #[test]
    fn bad_values_name_the_variable() {
        assert_eq!(
            parse(&[]).unwrap_err().to_string(),
            "REGISTRY_BUCKET is not set: it names the bucket that holds the registry"
        );
        for bad in ["0", "-3", "many", "2.5"] {
            assert_eq!(
                parse(&[("REGISTRY_BUCKET", "b"), ("PROBE_CONCURRENCY", bad)])
                    .unwrap_err()
                    .to_string(),
                format!("PROBE_CONCURRENCY must be a positive whole number, got {bad:?}")
            );
        }
        for bad in ["0", "-1", "soon", "NaN", "100000"] {
            assert_eq!(
                parse(&[("REGISTRY_BUCKET", "b"), ("PROBE_TIMEOUT_SECONDS", bad)])
                    .unwrap_err()
                    .to_string(),
                format!("PROBE_TIMEOUT_SECONDS must be a positive number of seconds, got {bad:?}")
            );
        }
    }

    #[test]
    fn object_events_are_on_or_off_and_name_themselves_when_wrong() {
        let events = |value: &str| parse(&[("REGISTRY_BUCKET", "b"), ("OBJECT_EVENTS", value)]);
        assert!(!parse(&[("REGISTRY_BUCKET", "b")]).unwrap().object_events);
        for (value, on) in [("on", true), (" ON\n", true), ("off", false), ("", false)] {
            assert_eq!(events(value).unwrap().object_events, on, "{value:?}");
        }
        for bad in ["true", "1", "yes", "onn"] {
            assert_eq!(
                events(bad).unwrap_err().to_string(),
                format!("OBJECT_EVENTS must be on or off, got {bad:?}")
            );
        }
    }

    #[test]
    fn only_true_enables_alerts() {
        for on in ["true", "TRUE", "True", "  true\n", "tRuE"] {
            assert!(alerts_enabled(Some(on), None), "{on:?}");
            assert!(alerts_enabled(None, Some(on)), "legacy {on:?}");
        }
        for off in ["false", "1", "yes", "on", "enabled", "truee", "t", "", " "] {
            assert!(!alerts_enabled(Some(off), None), "{off:?}");
            assert!(!alerts_enabled(None, Some(off)), "legacy {off:?}");
        }
        assert!(!alerts_enabled(None, None), "observe mode is the default");
    }

    #[test]
    fn the_current_name_wins_over_the_legacy_one() {
        assert!(!alerts_enabled(Some("false"), Some("true")));
        assert!(alerts_enabled(Some("true"), Some("false")));
        assert!(
            alerts_enabled(Some(""), Some("true")),
            "a blank current value is unset"
        );
        let s = parse(&[
            ("REGISTRY_BUCKET", "b"),
            ("MNEMON_FRESHNESS_MONITOR_ENABLED", " True "),
        ])
        .unwrap();
        assert!(s.alerts_enabled);
    }
}
