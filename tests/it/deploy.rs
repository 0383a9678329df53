//! deploy.sh end to end (docs/deploy.md): the real script, the real AWS CLI, moto. What an operator
//! relies on is checked in moto's state, read back with the CLI:
//! what a bootstrap creates, that a second run changes nothing, that hand-set env vars and the
//! observe-mode switch survive redeploys, that a dry run leaves every resource as it was, and
//! that a bad registry or binary stops the deploy before anything is uploaded.
//!
//!
//! Each test deploys into an AWS account of its own on one moto server for the module, so a
//! test still owns every listing its snapshots compare (all roles, functions, rules, alarms,
//! buckets) while the server starts once.
//!
//! The script never builds here: it is pointed at the binary cargo built for this test run,
//! stripped as a release build is (`FRESHNESS_MONITOR_BINARY`), which it still checks (ELF,
//! glibc <= 2.34) and still uses to validate the registry. moto's Lambda creates functions
//! without Docker but cannot run them; the module's server uses moto's Docker-free Lambda
//! (which differs only in what an invocation answers: a canned response), so `--smoke` is
//! checked against it.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::support;
use crate::support::botocore::Botocore;
use crate::support::moto::{self, Account, Moto};
use crate::support::results::REGISTRY_KEY;

const FUNCTION: &str = "freshness-monitor";
const ROLE: &str = "freshness-monitor-role";
const POLICY: &str = "freshness-monitor-policy";
const RULE: &str = "freshness-monitor-every-15-minutes";
const HISTORY_RULE: &str = "freshness-monitor-history-daily";

/// The module's moto server, with Lambda's Docker-free backend from the start (functions live
/// in one backend or the other, so it is chosen before any is created).
fn deploy_moto() -> &'static Moto {
    static MOTO: OnceLock<Moto> = OnceLock::new();
    MOTO.get_or_init(|| {
        let moto = Moto::start();
        moto.lambda_without_docker();
        moto
    })
}

/// The binary under test stripped of its symbols and debug info, as the release profile strips
/// the binary deploy.sh builds: the same code, ELF header, dynamic section and glibc needs, at
/// a third of the size, so each deploy zips and uploads a third as much. Made once per build
/// (its name carries the binary's size and mtime) in cargo's scratch dir for integration tests.
fn shipped_binary() -> &'static Path {
    static SHIPPED: OnceLock<PathBuf> = OnceLock::new();
    SHIPPED.get_or_init(|| {
        assert_tool("strip", "from binutils (Debian binutils)");
        let built = support::bin();
        let meta = std::fs::metadata(&built).expect("the built binary");
        let modified = meta
            .modified()
            .unwrap()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = Path::new(env!("CARGO_TARGET_TMPDIR"));
        let prefix = "freshness-monitor-stripped-";
        let shipped = dir.join(format!("{prefix}{}-{modified}", meta.len()));
        if !shipped.exists() {
            // Stripped under a name of this process's, then renamed: a concurrent run sees
            // either no file or the whole one.
            let partial = dir.join(format!("partial-{prefix}{}", std::process::id()));
            let out = Command::new("strip")
                .arg("-o")
                .arg(&partial)
                .arg(&built)
                .output()
                .expect("run strip");
            assert_success(&out, "strip");
            std::fs::rename(&partial, &shipped).expect("rename the stripped binary");
            // Earlier builds' copies are of no further use.
            for entry in std::fs::read_dir(dir).unwrap().flatten() {
                let path = entry.path();
                let name = entry.file_name().to_string_lossy().into_owned();
                if name.starts_with(prefix) && path != shipped {
                    let _ = std::fs::remove_file(path);
                }
            }
        }
        shipped
    })
}

const REGISTRY: &str = r#"schema_version: 1
defaults:
  s3_bucket: research-bucket  # most artifacts live here
  severity: warning
artifacts:
  - artifact_id: pit_parity
    s3_key_template: "backtest/{date}/pit_parity.json"
    cadence: saturday_sf
    sla_minutes_after_cron: 180
    severity: critical
    owner_repo: backtester
    created_at: 2026-05-27
  - artifact_id: signals
    s3_bucket: "signals-bucket"
    s3_key_template: "signals/{date}/signals.parquet"
    cadence: weekday_sf
    sla_minutes_after_cron: 60
    owner_repo: signals
    created_at: 2026-01-05
"#;

/// One deployment target: an account of its own on the module's moto, a registry bucket in
/// it, a working directory with the registry file.
struct Site {
    moto: &'static Moto,
    account: Account,
    dir: tempfile::TempDir,
    bucket: String,
    botocore: OnceLock<Botocore>,
}

impl Site {
    fn new() -> Site {
        assert_tool("aws", "the AWS CLI (pip awscli)");
        let moto = deploy_moto();
        let account = moto.new_account();
        let dir = tempfile::tempdir().expect("temp dir");
        let bucket = moto::unique_bucket("registry");
        let site = Site {
            moto,
            account,
            dir,
            bucket,
            botocore: OnceLock::new(),
        };
        site.aws(&["s3api", "create-bucket", "--bucket", &site.bucket]);
        site.write_registry(REGISTRY);
        site
    }

    fn registry_path(&self) -> PathBuf {
        self.dir.path().join("ARTIFACT_REGISTRY.yaml")
    }

    fn write_registry(&self, text: &str) {
        std::fs::write(self.registry_path(), text).expect("write registry");
    }

    /// A process that sees moto and nothing else: no operator profile, no real endpoint.
    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut cmd = Command::new(program);
        cmd.current_dir(self.dir.path()).env_clear();
        for var in ["HOME", "PYENV_ROOT", "PYENV_VERSION", "TMPDIR", "LANG"] {
            if let Ok(value) = std::env::var(var) {
                cmd.env(var, value);
            }
        }
        cmd.env("PATH", search_path());
        cmd.envs(self.moto.env_in(&self.account));
        cmd.env("AWS_CONFIG_FILE", self.dir.path().join("no-aws-config"));
        cmd.env(
            "AWS_SHARED_CREDENTIALS_FILE",
            self.dir.path().join("no-aws-credentials"),
        );
        cmd
    }

    /// deploy.sh with the test binary and `REGISTRY_BUCKET` set, as an operator would run it.
    fn deploy(&self, args: &[&str]) -> Output {
        self.deploy_with(args, &[])
    }

    fn deploy_with(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = self.command(deploy_sh());
        cmd.env("FRESHNESS_MONITOR_BINARY", shipped_binary());
        // zip's default level only: advzip's recompression takes minutes for the debug
        // binary, at every deploy; the zip it makes is tested in tests/it/bootstrap.rs.
        cmd.env("FRESHNESS_MONITOR_ZIP", "fast");
        cmd.env("REGISTRY_BUCKET", &self.bucket);
        cmd.envs(env.iter().copied());
        cmd.args(args);
        cmd.output().expect("run deploy.sh")
    }

    fn deploy_ok(&self, args: &[&str]) -> Output {
        let out = self.deploy(args);
        assert_success(&out, &format!("deploy.sh {}", args.join(" ")));
        out
    }

    /// The test's own AWS calls: botocore in one process with this site's environment.
    fn botocore(&self) -> &Botocore {
        self.botocore
            .get_or_init(|| Botocore::start(self.command("python3")))
    }

    /// A CLI call that must succeed; its JSON answer.
    fn aws(&self, args: &[&str]) -> Value {
        self.botocore()
            .call(args)
            .unwrap_or_else(|e| panic!("aws {} failed: {e}", args.join(" ")))
    }

    /// A CLI call whose failure means "there is none": Some(answer) or None.
    fn aws_maybe(&self, args: &[&str]) -> Option<Value> {
        self.botocore().call(args).ok()
    }

    fn function(&self) -> Value {
        self.aws(&[
            "lambda",
            "get-function-configuration",
            "--function-name",
            FUNCTION,
        ])
    }

    fn function_env(&self) -> Value {
        self.function()["Environment"]["Variables"].clone()
    }

    fn set_function_env(&self, vars: &Value) {
        let env = json!({ "Variables": vars }).to_string();
        self.aws(&[
            "lambda",
            "update-function-configuration",
            "--function-name",
            FUNCTION,
            "--environment",
            &env,
        ]);
    }

    fn registry_object(&self) -> Option<String> {
        let object = self.aws_maybe(&[
            "s3api",
            "get-object",
            "--bucket",
            &self.bucket,
            "--key",
            REGISTRY_KEY,
        ])?;
        Some(
            object["Body"]
                .as_str()
                .expect("the body as text")
                .to_string(),
        )
    }

    fn role_policy(&self) -> Value {
        self.aws(&[
            "iam",
            "get-role-policy",
            "--role-name",
            ROLE,
            "--policy-name",
            POLICY,
        ])["PolicyDocument"]
            .clone()
    }

    /// Everything deploy.sh could create or change, as moto reports it (timestamps, code
    /// hashes, revision ids and ETags included, so any write shows).
    fn snapshot(&self) -> Value {
        let iam = {
            let roles = self.aws(&["iam", "list-roles"]);
            let mut policies = serde_json::Map::new();
            for role in roles["Roles"].as_array().unwrap() {
                let name = role["RoleName"].as_str().unwrap();
                let inline = self.aws(&["iam", "list-role-policies", "--role-name", name]);
                let mut docs = Vec::new();
                for policy in inline["PolicyNames"].as_array().unwrap() {
                    let policy = policy.as_str().unwrap();
                    docs.push(self.aws(&[
                        "iam",
                        "get-role-policy",
                        "--role-name",
                        name,
                        "--policy-name",
                        policy,
                    ]));
                }
                let attached =
                    self.aws(&["iam", "list-attached-role-policies", "--role-name", name]);
                policies.insert(
                    name.to_string(),
                    json!({"inline": docs, "attached": attached}),
                );
            }
            json!({"roles": roles, "policies": policies})
        };
        let lambda = {
            let functions = self.aws(&["lambda", "list-functions"]);
            let mut grants = serde_json::Map::new();
            for function in functions["Functions"].as_array().unwrap() {
                let name = function["FunctionName"].as_str().unwrap();
                let policy = self.aws_maybe(&["lambda", "get-policy", "--function-name", name]);
                grants.insert(name.to_string(), policy.unwrap_or(Value::Null));
            }
            json!({"functions": functions, "policies": grants})
        };
        let events = {
            let rules = self.aws(&["events", "list-rules"]);
            let mut targets = serde_json::Map::new();
            for rule in rules["Rules"].as_array().unwrap() {
                let name = rule["Name"].as_str().unwrap();
                targets.insert(
                    name.to_string(),
                    self.aws(&["events", "list-targets-by-rule", "--rule", name]),
                );
            }
            json!({"rules": rules, "targets": targets})
        };
        let alarms = self.aws(&["cloudwatch", "describe-alarms"]);
        let s3 = {
            let buckets = self.aws(&["s3api", "list-buckets"]);
            let mut objects = serde_json::Map::new();
            for bucket in buckets["Buckets"].as_array().unwrap() {
                let name = bucket["Name"].as_str().unwrap();
                objects.insert(
                    name.to_string(),
                    self.aws(&["s3api", "list-object-versions", "--bucket", name]),
                );
            }
            json!({"buckets": buckets, "objects": objects})
        };
        json!({
            "iam": iam,
            "lambda": lambda,
            "events": events,
            "alarms": alarms,
            "s3": s3,
        })
    }
}

/// PATH for the processes a test starts: the test's own, with the AWS CLI's directory first
/// when PATH reaches `aws` through a pyenv shim. A shim is a shell script that looks up the
/// Python version on every call (0.07 s of CPU, 0.15 s of wall time on a busy machine), and
/// deploy.sh makes hundreds of calls; the CLI behind it is the same either way.
fn search_path() -> &'static str {
    static PATH: OnceLock<String> = OnceLock::new();
    PATH.get_or_init(|| {
        let path = std::env::var("PATH").unwrap_or_default();
        let real_aws = Command::new("pyenv")
            .args(["which", "aws"])
            .current_dir(std::env::temp_dir())
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| PathBuf::from(support::stdout(&out).trim()));
        match real_aws.as_deref().and_then(Path::parent) {
            Some(dir) => format!("{}:{path}", dir.display()),
            None => path,
        }
    })
}

fn deploy_sh() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy.sh")
}

fn assert_tool(tool: &str, what: &str) {
    let found = Command::new("sh")
        .args(["-c", &format!("command -v {tool}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    assert!(
        found,
        "{tool} is not installed ({what}): run scripts/test.sh, which installs it"
    );
}

fn assert_success(out: &Output, what: &str) {
    assert!(
        out.status.success(),
        "{what} failed ({}):\nstdout:\n{}\nstderr:\n{}",
        out.status,
        support::stdout(out),
        support::stderr(out)
    );
}

/// Every action of every statement, as written.
fn actions(policy: &Value) -> Vec<String> {
    let mut all = Vec::new();
    for statement in policy["Statement"].as_array().unwrap() {
        match &statement["Action"] {
            Value::String(a) => all.push(a.clone()),
            Value::Array(list) => all.extend(list.iter().map(|a| a.as_str().unwrap().to_string())),
            other => panic!("unexpected Action {other}"),
        }
    }
    all
}

fn statement<'a>(policy: &'a Value, sid: &str) -> &'a Value {
    policy["Statement"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["Sid"] == sid)
        .unwrap_or_else(|| panic!("no statement {sid} in {policy:#}"))
}

fn resources(statement: &Value) -> Vec<String> {
    match &statement["Resource"] {
        Value::String(r) => vec![r.clone()],
        Value::Array(list) => list
            .iter()
            .map(|r| r.as_str().unwrap().to_string())
            .collect(),
        other => panic!("unexpected Resource {other}"),
    }
}

#[test]
fn deploy_bootstrap_creates_everything_in_observe_mode_with_a_least_privilege_policy() {
    let site = Site::new();
    let topic = format!("arn:aws:sns:us-east-1:{}:data-alerts", site.account.id);
    let topic = topic.as_str();
    let out = site.deploy_ok(&[
        "--bootstrap",
        "--sns-topic-arn",
        topic,
        "--telegram-token-param",
        "/freshness/telegram/token",
        "--telegram-chat-param",
        "freshness-telegram-chat",
        "--cycle-alarm",
        "saturday_sf:12",
    ]);
    assert!(
        support::stderr(&out).contains("glibc symbols <= 2."),
        "the binary check is reported:\n{}",
        support::stderr(&out)
    );

    // The role Lambda can assume.
    let role = site.aws(&["iam", "get-role", "--role-name", ROLE])["Role"].clone();
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(
        trust["Principal"]["Service"],
        "lambda.amazonaws.com".to_string()
    );
    assert_eq!(trust["Action"], "sts:AssumeRole");

    // The function: custom runtime, bootstrap handler, the binary's architecture, observe mode.
    let function = site.function();
    assert_eq!(function["Runtime"], "provided.al2023");
    assert_eq!(function["Handler"], "bootstrap");
    assert_eq!(function["Architectures"], json!(["x86_64"]));
    assert_eq!(function["Role"], role["Arn"]);
    assert_eq!(
        function["Environment"]["Variables"],
        json!({
            "FRESHNESS_MONITOR_ENABLED": "false",
            "REGISTRY_BUCKET": site.bucket,
            "REGISTRY_KEY": REGISTRY_KEY,
            "SNS_TOPIC_ARN": topic,
            "TELEGRAM_BOT_TOKEN_PARAM": "/freshness/telegram/token",
            "TELEGRAM_CHAT_ID_PARAM": "freshness-telegram-chat",
        })
    );
    let function_arn = function["FunctionArn"].as_str().unwrap().to_string();

    // Every 15 minutes, aimed at the function, which lets EventBridge invoke it.
    let rule = site.aws(&["events", "describe-rule", "--name", RULE]);
    assert_eq!(rule["ScheduleExpression"], "cron(*/15 * * * ? *)");
    assert_eq!(rule["State"], "ENABLED");
    let targets = site.aws(&["events", "list-targets-by-rule", "--rule", RULE]);
    assert_eq!(targets["Targets"].as_array().unwrap().len(), 1);
    assert_eq!(targets["Targets"][0]["Arn"], function_arn.as_str());
    // The daily history scan: 04:00 UTC, its target carrying the {"mode": "historical"} event.
    let history = site.aws(&["events", "describe-rule", "--name", HISTORY_RULE]);
    assert_eq!(history["ScheduleExpression"], "cron(0 4 * * ? *)");
    assert_eq!(history["State"], "ENABLED");
    let history_targets = site.aws(&["events", "list-targets-by-rule", "--rule", HISTORY_RULE]);
    assert_eq!(history_targets["Targets"].as_array().unwrap().len(), 1);
    assert_eq!(history_targets["Targets"][0]["Arn"], function_arn.as_str());
    let input: Value =
        serde_json::from_str(history_targets["Targets"][0]["Input"].as_str().unwrap()).unwrap();
    assert_eq!(input, json!({"mode": "historical"}));
    let grant = site.aws(&["lambda", "get-policy", "--function-name", FUNCTION]);
    let grant: Value = serde_json::from_str(grant["Policy"].as_str().unwrap()).unwrap();
    let statements = grant["Statement"].as_array().unwrap();
    let from_history = statements
        .iter()
        .find(|s| s["Sid"] == "freshness-monitor-history")
        .unwrap_or_else(|| panic!("no invoke permission for the history rule: {grant:#}"));
    assert_eq!(
        from_history["Condition"]["ArnLike"]["AWS:SourceArn"],
        history["Arn"]
    );
    let invoke = statements
        .iter()
        .find(|s| s["Sid"] == "freshness-monitor-schedule")
        .unwrap();
    assert_eq!(invoke["Action"], "lambda:InvokeFunction");
    assert_eq!(
        invoke["Principal"]["Service"],
        "events.amazonaws.com".to_string()
    );
    assert_eq!(
        invoke["Condition"]["ArnLike"]["AWS:SourceArn"], rule["Arn"],
        "only this rule may invoke"
    );

    // The monitor's own dead man's switch: errors, and silence for an hour.
    let alarms = site.aws(&["cloudwatch", "describe-alarms"])["MetricAlarms"].clone();
    let alarm = |metric: &str| {
        alarms
            .as_array()
            .unwrap()
            .iter()
            .find(|a| a["MetricName"] == metric)
            .unwrap_or_else(|| panic!("no alarm on {metric}: {alarms:#}"))
            .clone()
    };
    let errors = alarm("Errors");
    assert_eq!(errors["Namespace"], "AWS/Lambda");
    assert_eq!(
        errors["Dimensions"],
        json!([{"Name": "FunctionName", "Value": FUNCTION}])
    );
    assert_eq!(
        errors["ComparisonOperator"],
        "GreaterThanOrEqualToThreshold"
    );
    assert_eq!(errors["AlarmActions"], json!([topic]));
    let silence = alarm("Invocations");
    assert_eq!(silence["Period"], 3600);
    assert_eq!(silence["EvaluationPeriods"], 1);
    assert_eq!(silence["ComparisonOperator"], "LessThanThreshold");
    assert_eq!(silence["TreatMissingData"], "breaching");
    assert_eq!(
        silence["Dimensions"],
        json!([{"Name": "FunctionName", "Value": FUNCTION}])
    );
    // --cycle-alarm saturday_sf:12: the weekly cycle not complete at any pass for 12 hours.
    let cycle = alarm("ArtifactFreshnessCycleComplete");
    assert_eq!(cycle["AlarmName"], "freshness-monitor-cycle-saturday_sf");
    assert_eq!(cycle["Namespace"], "FreshnessMonitor");
    assert_eq!(
        cycle["Dimensions"],
        json!([{"Name": "Cadence", "Value": "saturday_sf"}])
    );
    assert_eq!(cycle["Statistic"], "Maximum");
    assert_eq!(cycle["Period"], 3600);
    assert_eq!(cycle["EvaluationPeriods"], 12);
    assert_eq!(cycle["ComparisonOperator"], "LessThanThreshold");
    assert_eq!(cycle["AlarmActions"], json!([topic]));

    // The registry the function will read.
    assert_eq!(site.registry_object().as_deref(), Some(REGISTRY));

    // Least privilege, rendered for this account, region, function and the registry's buckets.
    let policy = site.role_policy();
    for action in actions(&policy) {
        assert!(!action.contains('*'), "wildcard action {action}");
    }
    let mut all_actions = actions(&policy);
    all_actions.sort();
    assert_eq!(
        all_actions,
        [
            "logs:CreateLogGroup",
            "logs:CreateLogStream",
            "logs:PutLogEvents",
            "s3:AbortMultipartUpload",
            "s3:DeleteObject",
            "s3:GetObject",
            "s3:ListBucket",
            "s3:PutObject",
            "sns:Publish",
            "ssm:GetParameter",
        ]
    );
    let bucket_arn = format!("arn:aws:s3:::{}", site.bucket);
    let mut listed = resources(statement(&policy, "ListReadBuckets"));
    listed.sort();
    let mut expected = vec![
        "arn:aws:s3:::research-bucket".to_string(),
        "arn:aws:s3:::signals-bucket".to_string(),
        bucket_arn.clone(),
    ];
    expected.sort();
    assert_eq!(listed, expected, "ListBucket on exactly the buckets read");
    assert_eq!(
        resources(statement(&policy, "WriteResults")),
        [
            format!("{bucket_arn}/_freshness_monitor/*"),
            format!("{bucket_arn}/_alerts/_dedup/*")
        ],
        "PutObject only under the results and dedup prefixes"
    );
    assert_eq!(resources(statement(&policy, "PublishAlerts")), [topic]);
    assert_eq!(
        resources(statement(&policy, "ReadTelegramCredentials")),
        [
            format!(
                "arn:aws:ssm:us-east-1:{}:parameter/freshness/telegram/token",
                site.account.id
            ),
            format!(
                "arn:aws:ssm:us-east-1:{}:parameter/freshness-telegram-chat",
                site.account.id
            ),
        ]
    );
    for sid in ["CreateOwnLogGroup", "WriteOwnLogs"] {
        for resource in resources(statement(&policy, sid)) {
            assert!(
                resource.starts_with(&format!(
                    "arn:aws:logs:us-east-1:{}:log-group:/aws/lambda/freshness-monitor",
                    site.account.id
                )),
                "{sid}: logs of the one function only, got {resource}"
            );
        }
    }
    assert_parliament_finds_nothing(&site, &policy);
}

fn assert_parliament_finds_nothing(site: &Site, policy: &Value) {
    assert_tool("parliament", "the IAM linter (pip parliament)");
    let path = site.dir.path().join("rendered-policy.json");
    std::fs::write(&path, serde_json::to_string_pretty(policy).unwrap()).unwrap();
    // parliament reads stdin whenever stdin is not a terminal, so the policy goes there.
    let out = Command::new("parliament")
        .stdin(std::fs::File::open(&path).unwrap())
        .output()
        .expect("run parliament");
    assert!(
        out.status.success() && support::stdout(&out).trim().is_empty(),
        "parliament findings ({}):\n{}{}\npolicy:\n{policy:#}",
        out.status,
        support::stdout(&out),
        support::stderr(&out)
    );
}

#[test]
fn deploy_second_bootstrap_and_update_change_nothing() {
    let site = Site::new();
    site.deploy_ok(&["--bootstrap"]);
    let before = site.snapshot();

    // No topic and no Telegram parameters configured: no sns or ssm grant at all.
    let policy = site.role_policy();
    let granted = actions(&policy);
    assert!(
        !granted
            .iter()
            .any(|a| a == "sns:Publish" || a == "ssm:GetParameter"),
        "{policy:#}"
    );
    assert_parliament_finds_nothing(&site, &policy);

    let again = site.deploy_ok(&["--bootstrap"]);
    assert_eq!(
        site.snapshot(),
        before,
        "a second --bootstrap changed moto's state:\n{}",
        support::stderr(&again)
    );
    let update = site.deploy_ok(&[]);
    assert_eq!(
        site.snapshot(),
        before,
        "an update with the same binary and registry changed moto's state:\n{}",
        support::stderr(&update)
    );
    let stderr = support::stderr(&update);
    assert!(
        stderr.contains("function code is up to date")
            && stderr.contains("is up to date")
            && !stderr.contains("+ aws"),
        "an update with nothing new makes no write:\n{stderr}"
    );
}

#[test]
fn deploy_keeps_hand_set_env_vars_and_the_switch_and_follows_the_registry() {
    let site = Site::new();
    site.deploy_ok(&["--bootstrap"]);

    // The operator tunes the function by hand and turns paging on.
    let mut env = site.function_env();
    env["PROBE_CONCURRENCY"] = json!("8");
    env["RUST_LOG"] = json!("debug");
    env["FRESHNESS_MONITOR_ENABLED"] = json!("true");
    site.set_function_env(&env);

    // A new registry that reads one more bucket goes out with the default update.
    let grown = format!(
        "{REGISTRY}  - artifact_id: prices\n    s3_bucket: prices-bucket\n    \
         s3_key_template: \"prices/{{date}}/close.parquet\"\n    cadence: eod_sf\n    \
         sla_minutes_after_cron: 30\n    owner_repo: prices\n    created_at: 2026-02-02\n"
    );
    site.write_registry(&grown);
    site.deploy_ok(&["--registry", "ARTIFACT_REGISTRY.yaml"]);
    assert_eq!(site.function_env(), env, "an update kept every env var");
    assert_eq!(site.registry_object().as_deref(), Some(grown.as_str()));
    let listed = resources(statement(&site.role_policy(), "ListReadBuckets"));
    assert!(
        listed.contains(&"arn:aws:s3:::prices-bucket".to_string()),
        "the policy follows the registry's buckets: {listed:?}"
    );

    // A full bootstrap again: still the operator's env, paging still on.
    site.deploy_ok(&["--bootstrap"]);
    assert_eq!(site.function_env(), env, "a bootstrap kept every env var");

    // A setting given on the command line is written, beside the hand-set ones.
    let topic = "arn:aws:sns:us-east-1:123456789012:late-topic";
    site.deploy_ok(&["--sns-topic-arn", topic]);
    let mut with_topic = env.clone();
    with_topic["SNS_TOPIC_ARN"] = json!(topic);
    assert_eq!(site.function_env(), with_topic);
}

#[test]
fn deploy_enable_and_disable_flip_only_the_switch() {
    let site = Site::new();
    site.deploy_ok(&[
        "--bootstrap",
        "--sns-topic-arn",
        "arn:aws:sns:us-east-1:123456789012:t",
    ]);
    let mut env = site.function_env();
    env["OPERATOR_NOTE"] = json!("set by hand");
    site.set_function_env(&env);
    let code = site.function()["CodeSha256"].clone();

    site.deploy_ok(&["--enable"]);
    let mut enabled = env.clone();
    enabled["FRESHNESS_MONITOR_ENABLED"] = json!("true");
    assert_eq!(
        site.function_env(),
        enabled,
        "--enable touched only the switch"
    );
    assert_eq!(
        site.function()["CodeSha256"],
        code,
        "--enable alone ships no code"
    );

    // Running it again is a no-op; --disable goes back to observe mode.
    let again = site.deploy_ok(&["--enable"]);
    assert!(
        support::stderr(&again).contains("function configuration is up to date"),
        "{}",
        support::stderr(&again)
    );
    site.deploy_ok(&["--disable"]);
    assert_eq!(
        site.function_env(),
        env,
        "--disable touched only the switch"
    );
}

#[test]
fn deploy_dry_run_prints_every_call_and_changes_nothing() {
    let site = Site::new();

    // On an empty account: the whole bootstrap is planned, nothing is created.
    let empty = site.snapshot();
    let plan = site.deploy_ok(&["--bootstrap", "--dry-run", "--smoke"]);
    assert_eq!(
        site.snapshot(),
        empty,
        "a dry-run bootstrap changed moto's state"
    );
    let stdout = support::stdout(&plan);
    for call in [
        "read aws sts get-caller-identity",
        "write aws iam create-role",
        "write aws iam put-role-policy",
        "write aws s3api put-object",
        "write aws lambda create-function",
        "write aws events put-rule",
        "write aws events put-targets",
        "write aws lambda add-permission",
        "write aws cloudwatch put-metric-alarm",
        "invoke aws lambda invoke",
    ] {
        assert!(
            stdout.contains(&format!("[dry-run] {call}")),
            "plan lacks {call}:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("\"FRESHNESS_MONITOR_ENABLED\": \"false\""),
        "the plan shows the env the function would get:\n{stdout}"
    );

    // On a deployed one: new registry, new setting and the switch are planned, not made.
    site.deploy_ok(&["--bootstrap"]);
    let deployed = site.snapshot();
    site.write_registry(&REGISTRY.replace("180", "240"));
    let plan = site.deploy_ok(&[
        "--dry-run",
        "--update",
        "--enable",
        "--sns-topic-arn",
        "arn:aws:sns:us-east-1:123456789012:t",
    ]);
    assert_eq!(
        site.snapshot(),
        deployed,
        "a dry-run update changed moto's state"
    );
    let stdout = support::stdout(&plan);
    for call in [
        "write aws s3api put-object",
        "write aws lambda update-function-configuration",
        "write aws iam put-role-policy",
    ] {
        assert!(
            stdout.contains(&format!("[dry-run] {call}")),
            "plan lacks {call}:\n{stdout}"
        );
    }
    assert!(
        stdout.contains("\"FRESHNESS_MONITOR_ENABLED\": \"true\""),
        "{stdout}"
    );
    assert!(
        support::stderr(&plan).contains("dry run: nothing was changed"),
        "{}",
        support::stderr(&plan)
    );
}

#[test]
fn deploy_stops_on_an_invalid_registry_before_any_upload() {
    let site = Site::new();
    // What the function reads today.
    let current = site.dir.path().join("current.yaml");
    std::fs::write(&current, REGISTRY).unwrap();
    site.aws(&[
        "s3api",
        "put-object",
        "--bucket",
        &site.bucket,
        "--key",
        REGISTRY_KEY,
        "--body",
        current.to_str().unwrap(),
    ]);
    let before = site.snapshot();

    // A typo that must never fall back to the default.
    site.write_registry(
        &REGISTRY.replace("sla_minutes_after_cron: 180", "sla_minute_after_cron: 180"),
    );
    for args in [&["--bootstrap"][..], &[][..]] {
        let out = site.deploy(args);
        let stderr = support::stderr(&out);
        assert_eq!(
            out.status.code(),
            Some(1),
            "deploy.sh {args:?} must fail:\n{stderr}"
        );
        assert!(
            stderr.contains(
                "ARTIFACT_REGISTRY.yaml:9: artifact pit_parity: field sla_minute_after_cron"
            ),
            "the validator's message is shown:\n{stderr}"
        );
        assert!(
            stderr.contains("nothing was deployed or uploaded"),
            "{stderr}"
        );
        assert!(
            !stderr.contains("+ aws"),
            "no AWS write was attempted:\n{stderr}"
        );
    }
    assert_eq!(
        site.snapshot(),
        before,
        "the bucket (and everything else) is unchanged"
    );
    assert_eq!(site.registry_object().as_deref(), Some(REGISTRY));
}

#[test]
fn deploy_refuses_a_binary_that_cannot_run_on_provided_al2023() {
    let site = Site::new();
    let empty = site.snapshot();

    // A binary that needs a newer glibc than the runtime's 2.34: the real binary with its
    // version requirements rewritten (it is refused before it would ever be run).
    let mut bytes = std::fs::read(shipped_binary()).unwrap();
    let needle = b"GLIBC_2.";
    let mut patched = 0;
    for i in 0..bytes.len().saturating_sub(needle.len()) {
        if &bytes[i..i + needle.len()] == needle {
            bytes[i + 6] = b'9';
            patched += 1;
        }
    }
    assert!(patched > 0, "the test binary links glibc");
    let too_new = site.dir.path().join("too-new-glibc");
    std::fs::write(&too_new, bytes).unwrap();
    let out = site.deploy(&["--bootstrap", "--binary", too_new.to_str().unwrap()]);
    let stderr = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("needs glibc 9.") && stderr.contains("provided.al2023 has 2.34"),
        "{stderr}"
    );

    // Not a Linux executable at all.
    let script = site.dir.path().join("not-elf");
    std::fs::write(&script, "#!/bin/sh\nexit 0\n").unwrap();
    let out = site.deploy(&["--bootstrap", "--binary", script.to_str().unwrap()]);
    let stderr = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("is not an ELF executable"), "{stderr}");

    assert_eq!(site.snapshot(), empty, "nothing was created");
}

#[test]
fn deploy_smoke_invokes_once_and_prints_the_response() {
    let site = Site::new();
    // The module's moto has Docker-free Lambda: it answers invocations from a queue of canned
    // responses, one queue per account.
    site.deploy_ok(&["--bootstrap"]);
    let response = json!({"n_entries_checked": 2, "counts": {"fresh": 2}, "alerts_enabled": false});
    site.moto
        .queue_lambda_response(&site.account.id, &response.to_string());

    let out = site.deploy_ok(&["--smoke"]);
    let printed: Value = serde_json::from_str(&support::stdout(&out)).unwrap_or_else(|e| {
        panic!(
            "--smoke prints the response as JSON ({e}):\n{}",
            support::stdout(&out)
        )
    });
    assert_eq!(printed, response);
    assert!(
        support::stderr(&out).contains("invoking freshness-monitor with {}"),
        "{}",
        support::stderr(&out)
    );
}

/// docs/deploy.md: the region comes from `AWS_REGION`, else `AWS_DEFAULT_REGION`. The pip
/// `awscli` the suite runs is CLI v1, which reads only `AWS_DEFAULT_REGION`; v2 reads both.
/// With either one alone, the bootstrap creates the function in that region.
#[test]
fn deploy_bootstrap_works_with_only_one_of_the_region_variables() {
    for (kept, removed) in [
        ("AWS_REGION", "AWS_DEFAULT_REGION"),
        ("AWS_DEFAULT_REGION", "AWS_REGION"),
    ] {
        let site = Site::new();
        let mut cmd = site.command(deploy_sh());
        cmd.env("FRESHNESS_MONITOR_BINARY", shipped_binary())
            .env("FRESHNESS_MONITOR_ZIP", "fast")
            .env("REGISTRY_BUCKET", &site.bucket)
            .env_remove(removed)
            .arg("--bootstrap");
        let out = cmd.output().expect("run deploy.sh");
        assert_success(&out, &format!("deploy.sh --bootstrap with only {kept}"));
        let arn = site.function()["FunctionArn"].as_str().unwrap().to_string();
        assert!(
            arn.contains(&format!(":lambda:{}:", moto::REGION)),
            "{kept}: {arn}"
        );
    }
}

#[test]
fn deploy_smoke_of_a_missing_function_says_so() {
    let site = Site::new();
    let out = site.deploy(&["--smoke"]);
    let stderr = support::stderr(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(
        stderr.contains("function freshness-monitor does not exist"),
        "{stderr}"
    );
}

/// A registry of one artifact in `data` (a bucket of the site's account) and one in `elsewhere`
/// (a bucket no one on the site owns, as another account's would be).
fn events_registry(data: &str, elsewhere: &str) -> String {
    format!(
        "schema_version: 1\ndefaults:\n  severity: warning\n  owner_repo: pipelines\n  \
         created_at: 2026-01-05\n  cadence: weekday_sf\n  sla_minutes_after_cron: 60\n\
         artifacts:\n  - artifact_id: prices\n    s3_bucket: {data}\n    \
         s3_key_template: \"prices/{{date}}/close.parquet\"\n  - artifact_id: vendor\n    \
         s3_bucket: {elsewhere}\n    s3_key_template: \"vendor/{{date}}.csv\"\n"
    )
}

#[test]
fn deploy_events_wire_bucket_notifications_a_rule_a_queue_and_the_mapping_idempotently() {
    let site = Site::new();
    let data = moto::unique_bucket("data");
    let elsewhere = moto::unique_bucket("elsewhere");
    site.aws(&["s3api", "create-bucket", "--bucket", &data]);
    site.write_registry(&events_registry(&data, &elsewhere));
    let out = site.deploy_ok(&["--bootstrap", "--events"]);
    let stderr = support::stderr(&out);
    assert!(
        stderr.contains(&format!("bucket {elsewhere} is not this account's"))
            && stderr.contains(&format!(
                "aws s3api put-bucket-notification-configuration --bucket {elsewhere}"
            )),
        "instructions for a bucket it cannot configure:\n{stderr}"
    );

    let rule = site.aws(&[
        "events",
        "describe-rule",
        "--name",
        "freshness-monitor-object-created",
    ]);
    let pattern: Value = serde_json::from_str(rule["EventPattern"].as_str().unwrap()).unwrap();
    let mut buckets = vec![data.clone(), elsewhere.clone()];
    buckets.sort();
    assert_eq!(
        pattern,
        json!({"source": ["aws.s3"], "detail-type": ["Object Created"],
               "detail": {"bucket": {"name": buckets},
                          "object": {"key": [{"anything-but": {"prefix": "_freshness_monitor/"}}]}}})
    );
    let queue_arn = format!(
        "arn:aws:sqs:us-east-1:{}:freshness-monitor-object-created",
        site.account.id
    );
    let targets = site.aws(&[
        "events",
        "list-targets-by-rule",
        "--rule",
        "freshness-monitor-object-created",
    ]);
    assert_eq!(targets["Targets"][0]["Arn"], queue_arn.as_str());
    let url = site.aws(&[
        "sqs",
        "get-queue-url",
        "--queue-name",
        "freshness-monitor-object-created",
    ]);
    let attributes = site.aws(&[
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        url["QueueUrl"].as_str().unwrap(),
        "--attribute-names",
        "[\"All\"]",
    ])["Attributes"]
        .clone();
    assert_eq!(
        attributes["VisibilityTimeout"], "1800",
        "6x the 300 s timeout"
    );
    let redrive: Value =
        serde_json::from_str(attributes["RedrivePolicy"].as_str().unwrap()).unwrap();
    assert_eq!(
        redrive["deadLetterTargetArn"],
        format!("{queue_arn}-dlq").as_str()
    );
    assert_eq!(
        redrive["maxReceiveCount"].to_string().trim_matches('"'),
        "5"
    );
    let mappings = site.aws(&[
        "lambda",
        "list-event-source-mappings",
        "--function-name",
        FUNCTION,
    ])["EventSourceMappings"]
        .clone();
    assert_eq!(mappings.as_array().unwrap().len(), 1, "{mappings:#}");
    assert_eq!(mappings[0]["EventSourceArn"], queue_arn.as_str());
    assert_eq!(mappings[0]["BatchSize"], 1000);
    assert_eq!(mappings[0]["MaximumBatchingWindowInSeconds"], 20);
    assert_eq!(
        mappings[0]["FunctionResponseTypes"],
        json!(["ReportBatchItemFailures"])
    );
    assert_eq!(
        site.function_env()["OBJECT_EVENTS"],
        "on",
        "the passes learn that events reach the function"
    );
    let policy = site.role_policy();
    assert_eq!(
        resources(statement(&policy, "ReceiveObjectCreatedEvents")),
        std::slice::from_ref(&queue_arn)
    );
    assert_parliament_finds_nothing(&site, &policy);

    // That the wiring delivers is tests/it/events.rs's: here moto's SQS hands a message of a
    // mapped queue to its Docker-free Lambda at once, so none stays to be read. (moto 5.2.1
    // also leaves the bucket's EventBridgeConfiguration out of its
    // GetBucketNotificationConfiguration answer, so the script puts it again on every run
    // there; AWS answers with it, and the script then leaves it alone.)

    // Again, with or without the flag: the queue says events are on, and nothing changes.
    let before = (site.snapshot(), mappings, attributes);
    for args in [
        &["--bootstrap", "--events"][..],
        &["--bootstrap"][..],
        &[][..],
    ] {
        let again = site.deploy_ok(args);
        let mappings = site.aws(&[
            "lambda",
            "list-event-source-mappings",
            "--function-name",
            FUNCTION,
        ])["EventSourceMappings"]
            .clone();
        let attributes = site.aws(&[
            "sqs",
            "get-queue-attributes",
            "--queue-url",
            url["QueueUrl"].as_str().unwrap(),
            "--attribute-names",
            "[\"All\"]",
        ])["Attributes"]
            .clone();
        assert_eq!(
            (site.snapshot(), mappings, attributes),
            before,
            "deploy.sh {args:?} changed moto's state:\n{}",
            support::stderr(&again)
        );
    }

    // An operator who keeps the polls sets off; later runs, even with --events, keep it.
    let out = site.deploy_with(&["--update"], &[("OBJECT_EVENTS", "off")]);
    assert_success(&out, "deploy.sh --update with OBJECT_EVENTS=off");
    site.deploy_ok(&["--update", "--events"]);
    assert_eq!(site.function_env()["OBJECT_EVENTS"], "off");
}

#[test]
fn deploy_deadline_schedule_is_opt_in_least_privilege_and_idempotent() {
    let site = Site::new();
    site.deploy_ok(&["--bootstrap"]);
    let scheduler_actions = |policy: &Value| {
        actions(policy)
            .into_iter()
            .filter(|a| a.starts_with("scheduler:") || a == "iam:PassRole")
            .collect::<Vec<_>>()
    };
    assert!(scheduler_actions(&site.role_policy()).is_empty(), "opt-in");
    assert!(site.function_env().get("DEADLINE_SCHEDULE_NAME").is_none());

    site.deploy_ok(&["--update", "--deadline-schedule"]);
    let account = &site.account.id;
    let role_arn = format!("arn:aws:iam::{account}:role/freshness-monitor-scheduler-role");
    let env = site.function_env();
    assert_eq!(env["DEADLINE_SCHEDULE_NAME"], "freshness-monitor-deadline");
    assert_eq!(env["DEADLINE_SCHEDULE_ROLE_ARN"], role_arn.as_str());
    // Scheduler's role: assumed by Scheduler for this account only, invokes this function only.
    let role = site.aws(&[
        "iam",
        "get-role",
        "--role-name",
        "freshness-monitor-scheduler-role",
    ])["Role"]
        .clone();
    let trust = &role["AssumeRolePolicyDocument"]["Statement"][0];
    assert_eq!(trust["Principal"]["Service"], "scheduler.amazonaws.com");
    assert_eq!(
        trust["Condition"]["StringEquals"]["aws:SourceAccount"],
        account.as_str()
    );
    let invoke = site.aws(&[
        "iam",
        "get-role-policy",
        "--role-name",
        "freshness-monitor-scheduler-role",
        "--policy-name",
        "freshness-monitor-scheduler-invoke",
    ])["PolicyDocument"]
        .clone();
    assert_eq!(actions(&invoke), ["lambda:InvokeFunction"]);
    assert_eq!(
        resources(statement(&invoke, "InvokeTheMonitor")),
        [site.function()["FunctionArn"].as_str().unwrap()]
    );
    // The function: its one schedule, and passing that one role to Scheduler only.
    let policy = site.role_policy();
    assert_eq!(
        resources(statement(&policy, "KeepDeadlineSchedule")),
        [format!(
            "arn:aws:scheduler:us-east-1:{account}:schedule/default/freshness-monitor-deadline"
        )]
    );
    assert_eq!(
        scheduler_actions(&policy),
        [
            "scheduler:CreateSchedule",
            "scheduler:UpdateSchedule",
            "iam:PassRole"
        ]
    );
    let pass_role = statement(&policy, "PassSchedulerRole");
    assert_eq!(resources(pass_role), [role_arn.as_str()]);
    assert_eq!(
        pass_role["Condition"]["StringEquals"]["iam:PassedToService"],
        "scheduler.amazonaws.com"
    );
    assert_parliament_finds_nothing(&site, &policy);

    // Again, with or without the flag: nothing changes, and the grants stay.
    let before = site.snapshot();
    for args in [&["--update", "--deadline-schedule"][..], &["--update"][..]] {
        let out = site.deploy_ok(args);
        assert_eq!(
            site.snapshot(),
            before,
            "{args:?} changed moto's state:\n{}",
            support::stderr(&out)
        );
    }
    // Only with a deploy.
    let out = site.deploy(&["--enable", "--deadline-schedule"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::stderr(&out).contains("--deadline-schedule is set up by --bootstrap or --update"),
        "{}",
        support::stderr(&out)
    );
}

#[test]
fn deploy_help_documents_the_flags_and_unknown_flags_fail() {
    let out = Command::new(deploy_sh()).arg("--help").output().unwrap();
    assert_success(&out, "deploy.sh --help");
    let help = support::stdout(&out);
    for word in [
        "--bootstrap",
        "--update",
        "--dry-run",
        "--smoke",
        "--enable",
        "--disable",
        "--registry PATH",
        "--binary PATH",
        "FRESHNESS_MONITOR_BINARY",
        "FRESHNESS_MONITOR_ZIP=fast",
        "--function NAME",
        "REGISTRY_BUCKET",
        "SNS_TOPIC_ARN",
        "TELEGRAM_BOT_TOKEN_PARAM",
        "TELEGRAM_CHAT_ID_PARAM",
        "AWS_REGION",
        "--cycle-alarm CADENCE[:HOURS]",
        "--metrics-namespace NS",
        "cron(0 4 * * ? *)",
        "--deadline-schedule",
        "--events",
    ] {
        assert!(
            help.contains(word),
            "--help does not mention {word}:\n{help}"
        );
    }
    let out = Command::new(deploy_sh())
        .arg("--bootstrapp")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(support::stderr(&out).contains("unknown argument '--bootstrapp'"));

    // A setting on a run that does not deploy would be silently lost: refused instead.
    let out = Command::new(deploy_sh())
        .args(["--enable", "--sns-topic-arn", "arn:aws:sns:us-east-1:1:t"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    assert!(
        support::stderr(&out).contains("(SNS_TOPIC_ARN) are written by --bootstrap or --update"),
        "{}",
        support::stderr(&out)
    );
    // A cycle alarm is set up by a deploy, and its hours are whole hours.
    for (args, message) in [
        (
            &["--enable", "--cycle-alarm", "weekday_sf"][..],
            "--cycle-alarm is set up by --bootstrap or --update",
        ),
        (
            &["--update", "--cycle-alarm", "weekday_sf:soon"][..],
            "--cycle-alarm takes CADENCE or CADENCE:HOURS (whole hours >= 1), got 'weekday_sf:soon'",
        ),
    ] {
        let out = Command::new(deploy_sh()).args(args).output().unwrap();
        assert_eq!(out.status.code(), Some(1), "{args:?}");
        assert!(
            support::stderr(&out).contains(message),
            "{args:?}: {}",
            support::stderr(&out)
        );
    }
}

#[test]
fn deploy_sh_is_shellcheck_clean() {
    assert_tool("shellcheck", "the shell linter (Debian shellcheck)");
    let out = Command::new("shellcheck")
        .arg(deploy_sh())
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "shellcheck deploy.sh:\n{}{}",
        support::stdout(&out),
        support::stderr(&out)
    );
}
