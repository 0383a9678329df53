//! `check` and `explain`: one pass with no side effects, printed for a person (or as the
//! exact `check_results.json`), and the decision trail of one artifact.

use std::io::Write;
use std::process::ExitCode;

use anyhow::{Context, bail};
use chrono::{DateTime, Utc};
use clap::Args;

use freshness_monitor::alert::digest::Digest;
use freshness_monitor::alert::policy::{PassPolicy, PolicyAction, RowPolicy};
use freshness_monitor::alert::{StdoutChannel, would_send};
use freshness_monitor::cadence::{Cadence, Cycle};
use freshness_monitor::calendar::TradingCalendar;
use freshness_monitor::classify::OffCycle;
use freshness_monitor::page::{
    DEFAULT_PASS_INTERVAL, HistoryDigest, PageHistory, PageInput, render_status_page,
};
use freshness_monitor::pass::settled::ReverifyInterval;
use freshness_monitor::pass::{self, PassOutcome, PassSettings, run_pass, run_pass_remembering};
use freshness_monitor::registry::{ArtifactSpec, RegistryEntry};
use freshness_monitor::registry_source;
use freshness_monitor::report::ResultRow;
use freshness_monitor::settings;
use freshness_monitor::store::ObjectStore;
use freshness_monitor::store::local::LocalDirStore;
use freshness_monitor::text::{human_duration, rfc3339};

use super::aws_setup::{self, Alternative};
use super::remembered::{self, Remembered};
use super::{SourceArgs, parse_now};

#[derive(Debug, Args)]
pub struct CheckArgs {
    #[command(flatten)]
    source: SourceArgs,
    /// Judge this moment instead of the clock (RFC 3339).
    #[arg(long, value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
    /// Only this artifact (repeatable).
    #[arg(long, value_name = "ID")]
    only: Vec<String>,
    /// Print exactly what check_results.json would hold.
    #[arg(long)]
    json: bool,
    /// Also write the status page (what status.html would hold) to FILE.
    #[arg(long, value_name = "FILE")]
    html: Option<std::path::PathBuf>,
    /// With --html: draw the history strips and SLA hit rates from this history.json or
    /// history digest (history_digest.ndjson.gz).
    #[arg(long, value_name = "FILE", requires = "html")]
    history: Option<std::path::PathBuf>,
    /// Apply the alert policy with the ledger and acknowledgements the Lambda keeps under
    /// s3://BUCKET/PREFIX/ (read only), as its next pass would: escalation after missed
    /// cycles, acks, never-written.
    #[arg(long, value_name = "S3_URL")]
    results: Option<String>,
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// The artifact id.
    id: String,
    #[command(flatten)]
    source: SourceArgs,
    /// Judge this moment instead of the clock (RFC 3339).
    #[arg(long, value_parser = parse_now)]
    now: Option<DateTime<Utc>>,
    /// Apply the alert policy with the ledger and acknowledgements the Lambda keeps under
    /// s3://BUCKET/PREFIX/ (read only), as its next pass would: escalation after missed
    /// cycles, acks, never-written.
    #[arg(long, value_name = "S3_URL")]
    results: Option<String>,
}

pub async fn run_check(args: &CheckArgs) -> anyhow::Result<ExitCode> {
    let now = args.now.unwrap_or_else(Utc::now);
    let settings = PassSettings::for_cli(args.only.clone(), None);
    let outcome = match &args.source.store {
        Some(dir) => check_with(&LocalDirStore::new(dir), args, &settings, now).await?,
        None => {
            let store = aws_setup::clients(Alternative::LocalStore)
                .await?
                .s3_store();
            check_with(&store, args, &settings, now).await?
        }
    };
    if let Some(path) = &args.html {
        let history = match &args.history {
            Some(file) => read_history_file(file)?,
            None => PageHistory::None,
        };
        write_page(path, &outcome, &history, now)?;
    }
    if args.json {
        // Streamed: a 100,000-row result never exists as one string in memory.
        let stdout = super::out::stdout();
        let mut out = std::io::BufWriter::new(stdout);
        serde_json::to_writer_pretty(&mut out, &outcome.check_results())?;
        writeln!(out)?;
        out.flush()?;
    } else {
        let mut out = std::io::BufWriter::new(super::out::stdout());
        write_table(&mut out, &outcome)?;
        write!(out, "{}", render_digests(&outcome))?;
        out.flush()?;
    }
    Ok(ExitCode::from(
        if outcome.alerting_rows().next().is_some() {
            2
        } else {
            0
        },
    ))
}

/// What `run` would send now (before dedup: markers are not read, nothing is written), to
/// the channels this environment configures; channels that would get the same digest (no
/// route tells them apart) are named together. With no channel configured, it says so and
/// what a pass would send once they are.
fn render_digests(outcome: &PassOutcome) -> String {
    let channels = remembered::check_channels();
    let mut digests: Vec<(Vec<String>, Digest)> = Vec::new();
    for (channel, digest) in would_send(outcome, &channels.judged) {
        match digests.iter_mut().find(|(_, d)| *d == digest) {
            Some((names, _)) => names.push(channel),
            None => digests.push((vec![channel], digest)),
        }
    }
    let mut out = String::new();
    if !channels.configured && !digests.is_empty() {
        out.push_str(
            "\nno alert channel is configured here: set SNS_TOPIC_ARN, or \
             TELEGRAM_BOT_TOKEN_PARAM and TELEGRAM_CHAT_ID_PARAM, as the Lambda has them\n",
        );
    }
    let once = if channels.configured {
        ""
    } else {
        " once configured"
    };
    for (names, digest) in digests {
        out.push_str(&format!(
            "\nwould send to {}{once} (before dedup):\n{}",
            names.join(", "),
            StdoutChannel::render(&digest)
        ));
    }
    out
}

/// `--history FILE`: a history.json, or the scan's digest (`history_digest.ndjson.gz`, told
/// by its gzip magic), the page draws its strips from.
fn read_history_file(file: &std::path::Path) -> anyhow::Result<PageHistory> {
    let bytes = std::fs::read(file).with_context(|| format!("reading {}", file.display()))?;
    let digest = if bytes.starts_with(&[0x1f, 0x8b]) {
        let lines = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(&bytes[..]));
        freshness_monitor::page::digest_file::read_digest(lines)
            .map_err(|e| anyhow::anyhow!("{} is not a history digest: {e}", file.display()))?
    } else {
        HistoryDigest::from_json(&bytes)
            .with_context(|| format!("{} is not a history.json", file.display()))?
    };
    Ok(PageHistory::Digest(digest))
}

/// Renders the status page of `outcome` at `now` into `path` (`check --html`, `history --html`).
pub fn write_page(
    path: &std::path::Path,
    outcome: &PassOutcome,
    history: &PageHistory,
    now: DateTime<Utc>,
) -> anyhow::Result<()> {
    let input = PageInput {
        outcome,
        history,
        now,
        pass_interval: DEFAULT_PASS_INTERVAL,
    };
    std::fs::write(path, render_status_page(&input))
        .with_context(|| format!("writing the status page to {}", path.display()))
}

/// Reads the registry (from a file, or through `store` for s3:// URLs) and runs one pass.
async fn check_with<S: ObjectStore>(
    store: &S,
    args: &CheckArgs,
    settings: &PassSettings,
    now: DateTime<Utc>,
) -> anyhow::Result<PassOutcome> {
    let loaded = registry_source::load(store, &args.source.registry).await?;
    let remembered = read_remembered(store, args.results.as_deref()).await?;
    // The ledger's content memory judges the content checks; no cycle is taken as settled.
    let content = remembered.as_ref().map(|r| &r.ledger.content);
    let mut outcome = run_pass_remembering(store, &loaded, settings, now, None, content).await;
    // Without --results: no ledger or acks, escalation counts this cycle only (docs/cli.md).
    let registry = &loaded.registry;
    remembered::apply_policy(store, registry, &mut outcome, remembered.as_ref(), now).await;
    if !outcome.unknown_only_ids.is_empty() {
        bail!(
            "--only names no artifact in the registry: {}",
            outcome.unknown_only_ids.join(", ")
        );
    }
    Ok(outcome)
}

/// The table row by row into `out`: the column widths are measured in a first walk over the
/// rows, then each row is written as it is formatted, so a million rows are never one string.
fn write_table(out: &mut impl Write, outcome: &PassOutcome) -> std::io::Result<()> {
    let headers = ["STATE", "ARTIFACT", "CYCLE", "PAST SLA", "ALERT", "KEY"];
    let mut widths = headers.map(str::len);
    for r in &outcome.rows {
        for (w, cell) in widths.iter_mut().zip(table_cells(r)) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let line = |out: &mut dyn Write, cols: [&str; 6]| {
        let mut s = String::new();
        for (i, (w, c)) in widths.iter().zip(cols).enumerate() {
            if i == 5 {
                s.push_str(c);
            } else {
                s.push_str(&format!("{c:<w$}  "));
            }
        }
        writeln!(out, "{}", s.trim_end())
    };
    line(out, headers)?;
    for r in &outcome.rows {
        let row = table_cells(r);
        line(out, [&row[0], &row[1], &row[2], &row[3], &row[4], &row[5]])?;
        writeln!(out, "    {}", r.reason())?;
        if let Some(policy) = r.policy.as_ref().filter(|p| p.did_something()) {
            writeln!(out, "    policy: {}", policy.rule())?;
        }
        if let Some(ack) = r.policy.as_ref().and_then(|p| p.acknowledged.as_ref()) {
            writeln!(out, "    {}", ack.summary())?;
        }
    }
    write!(out, "{}", summary_line(outcome))
}

/// One row's cells, in the table's column order.
fn table_cells(r: &ResultRow) -> [String; 6] {
    [
        r.state.to_string(),
        r.artifact_id.to_string(),
        r.cycle_label().unwrap_or("-").to_string(),
        if r.sla_violated_by_minutes > 0 {
            format!("{}m", r.sla_violated_by_minutes)
        } else {
            "-".into()
        },
        alert_cell(r),
        r.canonical_key.as_deref().unwrap_or("-").to_string(),
    ]
}

/// The line under the table: the counts per state and how many alert.
fn summary_line(outcome: &PassOutcome) -> String {
    let c = outcome.counts();
    let alerting = outcome.alerting_rows().count();
    // Only a registry with content checks can have suspect rows: named only when there are.
    let suspect = match c.suspect {
        0 => String::new(),
        n => format!(", {n} suspect"),
    };
    format!(
        "\n{} artifacts at {}: {} fresh, {} stale, {} missing, {} probe_failed, {} grace_period\
         {suspect}; {} {}\n",
        outcome.rows.len(),
        rfc3339(outcome.run_at),
        c.fresh,
        c.stale,
        c.missing,
        c.probe_failed,
        c.grace_period,
        alerting,
        if outcome.alerts_enabled {
            "alerting"
        } else {
            "would alert (observe mode: FRESHNESS_MONITOR_ENABLED is not true)"
        }
    )
}

/// The ALERT column: `-`, the severity, what the policy did (`critical silenced`, `warning
/// unrouted`) and `acked` while an acknowledgement holds.
fn alert_cell(r: &ResultRow) -> String {
    let Some(policy) = &r.policy else {
        return if r.alerting {
            r.alert_severity().to_string()
        } else {
            "-".into()
        };
    };
    let mut cell = r.alert_severity().to_string();
    match policy.action {
        PolicyAction::Send => {}
        PolicyAction::Silenced => cell.push_str(" silenced"),
        PolicyAction::NotRouted => cell.push_str(" unrouted"),
    }
    if policy.acknowledged.is_some() {
        cell.push_str(" acked");
    }
    cell
}

pub async fn run_explain(args: &ExplainArgs) -> anyhow::Result<ExitCode> {
    let now = args.now.unwrap_or_else(Utc::now);
    match &args.source.store {
        Some(dir) => explain_with(&LocalDirStore::new(dir), args, now).await,
        None => {
            let clients = aws_setup::clients(Alternative::LocalStore).await?;
            explain_with(&clients.s3_store(), args, now).await
        }
    }
}

async fn explain_with<S: ObjectStore>(
    store: &S,
    args: &ExplainArgs,
    now: DateTime<Utc>,
) -> anyhow::Result<ExitCode> {
    let reverify_minutes = settings::reverify_minutes_from_env()?;
    let settings = PassSettings::for_cli(vec![args.id.clone()], reverify_minutes);
    let loaded = registry_source::load(store, &args.source.registry).await?;
    let entry = loaded
        .registry
        .entries
        .iter()
        .find(|e| e.label() == args.id)
        .with_context(|| format!("no artifact {:?} in {}", args.id, loaded.name))?;
    let remembered = read_remembered(store, args.results.as_deref()).await?;
    let content = remembered.as_ref().map(|r| &r.ledger.content);
    let mut explanation =
        pass::explain_entry(store, &loaded.registry, entry, &settings, now, content).await;
    explanation.row.policy = policy_of(
        store,
        &loaded,
        &args.id,
        &settings,
        now,
        remembered.as_ref(),
    )
    .await;
    let mut out = ExplainText::default();
    out.say("artifact", format!("{} ({})", args.id, loaded.name));
    out.say("now", rfc3339(now));
    match entry {
        RegistryEntry::Invalid(bad) => {
            out.say("line", bad.line.to_string());
            out.say("invalid", bad.reason());
        }
        RegistryEntry::Valid(spec) => {
            out.spec_facts(spec, &explanation, &loaded.registry.calendar);
            let interval = ReverifyInterval::of(spec, settings.reverify_after);
            out.say("re-verify", interval.to_string());
        }
    }
    for (i, decision) in explanation.decisions.iter().enumerate() {
        out.say(
            if i == 0 { "decisions" } else { "" },
            format!("rule {decision}"),
        );
    }
    out.verdict(&explanation.row, settings.alerts_enabled);
    print!("{}", out.0);
    Ok(ExitCode::from(if explanation.row.alerting { 2 } else { 0 }))
}

/// `--results`, read when given.
async fn read_remembered<S: ObjectStore>(
    store: &S,
    results: Option<&str>,
) -> anyhow::Result<Option<Remembered>> {
    match results {
        Some(url) => Ok(Some(remembered::read(store, url).await?)),
        None => Ok(None),
    }
}

/// What the alert policy makes of `id` in a pass over it and its upstream artifacts (whose
/// alerting decides the folding), with what earlier passes remembered when given.
async fn policy_of<S: ObjectStore>(
    store: &S,
    loaded: &registry_source::LoadedRegistry,
    id: &str,
    settings: &PassSettings,
    now: DateTime<Utc>,
    remembered: Option<&Remembered>,
) -> Option<Box<RowPolicy>> {
    let policy = PassPolicy::of(&loaded.registry);
    let mut only = vec![id.to_string()];
    let mut listed: std::collections::HashSet<&str> = std::collections::HashSet::from([id]);
    let mut i = 0;
    while i < only.len() {
        for up in policy.depends_on.upstreams_of(only[i].as_str()) {
            if listed.insert(up.as_str()) {
                only.push(up.to_string());
            }
        }
        i += 1;
    }
    let settings = PassSettings {
        only,
        ..settings.clone()
    };
    let mut outcome = run_pass(store, loaded, &settings, now, None).await;
    let registry = &loaded.registry;
    remembered::apply_policy(store, registry, &mut outcome, remembered, now).await;
    outcome
        .rows
        .into_iter()
        .find(|r| &*r.artifact_id == id)
        .and_then(|r| r.policy)
}

/// `{trading_day}` and why: the calendar's last session closed by the tick, by its actual
/// close (an early close says so).
fn trading_day_fact(cycle: &Cycle, calendar: &TradingCalendar) -> String {
    let day = cycle.trading_day;
    let close = calendar.close_on(day);
    let early = if close < calendar.rules().close {
        format!(
            ", which closed early at {close} {}",
            calendar.rules().timezone
        )
    } else {
        String::new()
    };
    format!(
        "{{trading_day}} = {day} (the last {} session closed by the tick{early})",
        calendar.name()
    )
}

/// `explain`'s output: one `label  text` line per fact.
#[derive(Default)]
struct ExplainText(String);

impl ExplainText {
    fn say(&mut self, label: &str, text: String) {
        self.0.push_str(&format!("{label:<13} {text}\n"));
    }

    /// The facts of a valid artifact's cycle: what the rules were applied to.
    fn spec_facts(
        &mut self,
        spec: &ArtifactSpec,
        explanation: &pass::Explanation,
        nyse: &TradingCalendar,
    ) {
        self.say("line", spec.line.to_string());
        let calendar = spec.cadence.calendar(nyse);
        let gate = if spec.cadence.is_calendar_gated() {
            format!("gated by the {} calendar", calendar.name())
        } else {
            "never calendar-gated".to_string()
        };
        let schedule = match &spec.cadence {
            Cadence::User(user) => format!(
                "cron \"{}\" in {}, DST by {}'s rule; ",
                user.schedule,
                user.timezone,
                user.dst.name()
            ),
            _ => String::new(),
        };
        self.say(
            "cadence",
            format!("{} ({schedule}{gate})", spec.cadence.name()),
        );
        if let Some(windows) = spec.active_windows() {
            let listed: Vec<String> = windows.iter().map(|w| w.to_string()).collect();
            self.say("windows", listed.join("; "));
        }
        if let Some(rule) = spec.off_cycle() {
            let since = match rule {
                OffCycle::SincePreviousTick => "the previous cycle's tick".to_string(),
                OffCycle::MaxAge { minutes } => format!("{minutes} min before now"),
            };
            self.say(
                "off cycle",
                format!(
                    "newest key of the template's shape under s3://{}/{}, fresh since {since}",
                    spec.s3_bucket,
                    spec.s3_key_template.fixed_prefix()
                ),
            );
        }
        if let Some(checks) = content_checks(spec) {
            self.say("content", checks);
        }
        let (Some(cycle), Some(keys)) = (&explanation.cycle, &explanation.keys) else {
            return;
        };
        self.say(
            "cycle",
            format!(
                "{} (tick {}, length {})",
                cycle.label,
                rfc3339(cycle.tick),
                human_duration(cycle.length)
            ),
        );
        self.say(
            "due at",
            format!(
                "{} (tick + {} min SLA)",
                rfc3339(keys.due_at),
                spec.sla_minutes_after_cron
            ),
        );
        self.say("date", format!("{{date}} = {}", cycle.date));
        self.say("trading day", trading_day_fact(cycle, calendar));
        self.say(
            "key",
            format!(
                "s3://{}/{}  (template {})",
                spec.s3_bucket, keys.canonical_key, spec.s3_key_template
            ),
        );
        if let (Some(key), Some(t)) = (&keys.recovery_key, spec.recovery_key_template()) {
            self.say(
                "recovery key",
                format!("s3://{}/{key}  (template {t})", spec.s3_bucket),
            );
        }
    }

    /// The row's verdict, as the pass would write and alert on it.
    fn verdict(&mut self, row: &ResultRow, alerts_enabled: bool) {
        self.say(
            "dedup key",
            row.dedup_key().map_or_else(|| "-".into(), String::from),
        );
        self.say("state", format!("{}: {}", row.state, row.reason()));
        let alerting = if !row.alerting {
            "no".to_string()
        } else if alerts_enabled {
            format!("yes, {} (alerts enabled)", row.alert_severity())
        } else {
            format!(
                "yes, {} (observe mode: it would alert)",
                row.alert_severity()
            )
        };
        self.say("alerting", alerting);
        if let Some(policy) = &row.policy {
            self.say("policy", format!("{:?}: {}", policy.action, policy.rule()));
        }
    }
}

/// The content checks an artifact set, for `explain` (`None` when it set none).
fn content_checks(spec: &ArtifactSpec) -> Option<String> {
    let mut checks = Vec::new();
    if let Some(min) = spec.min_size_bytes() {
        checks.push(format!("min_size_bytes {min}"));
    }
    if let Some(fraction) = spec.size_drop_below() {
        checks.push(format!(
            "size_drop_below {fraction} (of the median size of its last {} cycles)",
            freshness_monitor::classify::SIZE_CYCLES
        ));
    }
    if spec.require_new_content() == Some(&true) {
        checks.push("require_new_content (an ETag unlike the previous cycle's)".to_string());
    }
    (!checks.is_empty()).then(|| checks.join("; "))
}
