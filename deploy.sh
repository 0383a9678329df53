#!/usr/bin/env bash
# deploy.sh: ships freshness-monitor to AWS Lambda (docs/deploy.md). `deploy.sh --help` says how.
#
# Three promises shape this script:
# - Safe to run twice: every step looks at what exists and writes only what differs, so a
#   second run with the same inputs makes no change at all.
# - Never undoes an operator's hand: function env vars are merged (a var set by hand stays),
#   observe mode is flipped only by --enable/--disable, an existing rule keeps its state and an
#   existing alarm keeps its actions switch.
# - Fails before anything broken is uploaded: the binary is checked (it must run on
#   provided.al2023) and the registry is validated with that very binary before the first
#   AWS call.
set -euo pipefail

readonly SCHEDULE='cron(*/15 * * * ? *)'
# The daily history scan (docs/lambda.md#events): 04:00 UTC, its own event.
readonly HISTORY_SCHEDULE='cron(0 4 * * ? *)'
readonly HISTORY_INPUT='{"mode":"historical"}'
readonly DEFAULT_METRICS_NAMESPACE='FreshnessMonitor'
readonly RUNTIME='provided.al2023'
readonly MAX_GLIBC='2.34' # provided.al2023 ships glibc 2.34
readonly ZIG_TARGET='x86_64-unknown-linux-gnu.2.34'
readonly DEFAULT_REGISTRY_KEY='_freshness_monitor/ARTIFACT_REGISTRY.yaml'
readonly DEFAULT_RESULTS_PREFIX='_freshness_monitor/'
readonly DEFAULT_DEDUP_PREFIX='_alerts/_dedup/'
# S3 "Object Created" events (--events; docs/deploy.md#object-created-events): batches of up to
# 1,000 events gathered for up to 20 s, 2 invocations at most at once (each reads and
# conditionally writes the ledger once), a message kept for the dead-letter queue after 5
# failed receives.
readonly EVENTS_BATCH_SIZE=1000
readonly EVENTS_BATCHING_WINDOW=20
readonly EVENTS_MAX_CONCURRENCY=2
readonly EVENTS_MAX_RECEIVES=5
# The function env vars (docs/lambda.md#environment) this script writes when told to, by flag or by an
# environment variable of the same name.
readonly CONFIG_VARS=(REGISTRY_BUCKET REGISTRY_KEY RESULTS_BUCKET RESULTS_PREFIX DEDUP_BUCKET
  DEDUP_PREFIX SNS_TOPIC_ARN TELEGRAM_BOT_TOKEN_PARAM TELEGRAM_CHAT_ID_PARAM
  FRESHNESS_METRICS_NAMESPACE DEADLINE_SCHEDULE_NAME DEADLINE_SCHEDULE_GROUP OBJECT_EVENTS)

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
readonly ROOT

usage() {
  cat <<'EOF'
Usage: deploy.sh [--bootstrap | --update] [--enable | --disable] [--smoke] [--dry-run]
                 [--registry PATH] [--binary PATH] [options]

Ships freshness-monitor to AWS Lambda (runtime provided.al2023, handler bootstrap).

Actions (combine freely; with none of them, --update is assumed):
  --bootstrap        Create or bring up to date everything: IAM role and inline policy, the
                     function (observe mode on first create), the EventBridge rules
                     cron(*/15 * * * ? *) (the pass) and cron(0 4 * * ? *) (the daily
                     history scan, input {"mode":"historical"}) with their targets and invoke
                     permissions, CloudWatch alarms on Errors and on Invocations missing for an
                     hour (and any --cycle-alarm), and the registry.
  --update           Build, validate and upload the registry, update the function's code and
                     the inline policy (monitored buckets come from the registry).
  --enable           Observe mode off: FRESHNESS_MONITOR_ENABLED=true (alerts go out).
  --disable          Observe mode on: FRESHNESS_MONITOR_ENABLED=false.
                     Alone, --enable/--disable change only that variable; nothing is built.
  --deadline-schedule
                     With --bootstrap or --update (opt-in; docs/lambda.md#deadline-passes): let
                     every pass keep one EventBridge Scheduler schedule at the next deadline.
                     Creates the role NAME-scheduler-role that Scheduler assumes (trusts
                     scheduler.amazonaws.com from this account; may only lambda:InvokeFunction
                     this function), grants the function scheduler:CreateSchedule and
                     scheduler:UpdateSchedule on that one schedule and iam:PassRole on that one
                     role, and sets DEADLINE_SCHEDULE_NAME (default NAME-deadline) and
                     DEADLINE_SCHEDULE_ROLE_ARN on the function (DEADLINE_SCHEDULE_GROUP:
                     default "default"). The schedule itself is created by the first pass.
  --events           With --bootstrap or --update: S3 "Object Created" events mark artifacts
                     present as they land: EventBridge notifications on the registry's
                     buckets (instructions printed for a bucket of another account), the
                     rule NAME-object-created filtered to those buckets, the SQS queue
                     NAME-object-created (dead-letter queue NAME-object-created-dlq) and the
                     function's event source mapping on it (batches of 1,000 within 20 s,
                     ReportBatchItemFailures), and OBJECT_EVENTS=on on the function (passes
                     then skip the probes an event makes useless; an operator's own value
                     stays). Once the queue exists, every --bootstrap and --update keeps it
                     in step with the registry, with or without the flag.
  --smoke            Invoke the function once (after the other actions) and print the
                     response; exits 1 when the invocation reports an error.
  --dry-run          Print every AWS call instead of making it. Read-only calls (sts,
                     get-*, describe-*, list-*, head-object) are still made so that the
                     plan is exact; nothing is created, changed or uploaded.
  -h, --help         This text.

Inputs:
  --registry PATH    The registry to validate and upload (default ./ARTIFACT_REGISTRY.yaml;
                     env FRESHNESS_MONITOR_REGISTRY).
  --binary PATH      Use this prebuilt binary instead of building one (env
                     FRESHNESS_MONITOR_BINARY). It is checked like a fresh build: an ELF that
                     needs glibc <= 2.34 (or none) and only libraries provided.al2023 has.
                     Without it: cargo build --release --no-default-features (no SSO or
                     credential_process profiles: Lambda gives env credentials); when that
                     binary needs a newer glibc, cargo zigbuild --target
                     x86_64-unknown-linux-gnu.2.34 (cargo-zigbuild and the ziglang PyPI
                     package are installed when missing).
                     The zip: zip -9, then advzip -z -4 when advancecomp's advzip is
                     installed (~3% smaller, minutes); FRESHNESS_MONITOR_ZIP=fast zips at
                     zip's default level only (scripts/lambda_zip.sh).

Function configuration (flag, or the env var in brackets). A value given here is written to
the function's environment; a value not given keeps what the function already has.
  --function NAME                Function name (FRESHNESS_MONITOR_FUNCTION; default
                                 freshness-monitor). Role, rule and alarms are named after it.
  --role NAME                    IAM role (FRESHNESS_MONITOR_ROLE; default NAME-role).
  --registry-bucket BUCKET       (REGISTRY_BUCKET) where the registry is uploaded and read
                                 from; required by --bootstrap of a new function.
  --registry-key KEY             (REGISTRY_KEY; default _freshness_monitor/ARTIFACT_REGISTRY.yaml)
  --results-bucket BUCKET        (RESULTS_BUCKET; default the registry bucket)
  --results-prefix PREFIX        (RESULTS_PREFIX; default _freshness_monitor/)
  --dedup-bucket BUCKET          (DEDUP_BUCKET; default the registry bucket)
  --dedup-prefix PREFIX          (DEDUP_PREFIX; default _alerts/_dedup/)
  --sns-topic-arn ARN            (SNS_TOPIC_ARN) alert topic; also the alarms' action.
  --telegram-token-param NAME    (TELEGRAM_BOT_TOKEN_PARAM) SSM SecureString parameter name.
  --telegram-chat-param NAME     (TELEGRAM_CHAT_ID_PARAM) SSM parameter name.
  --timeout SECONDS              Function timeout (FRESHNESS_MONITOR_TIMEOUT; 300 on create).
  --memory MB                    Function memory (FRESHNESS_MONITOR_MEMORY; 256 on create).
  --smoke-payload JSON           The --smoke event (default {}: one real pass, which alerts
                                 only outside observe mode; {"dry_run": true} writes nothing).
  --metrics-namespace NS         (FRESHNESS_METRICS_NAMESPACE; default FreshnessMonitor) the
                                 CloudWatch namespace of the pass's EMF metrics.
  --cycle-alarm CADENCE[:HOURS]  With --bootstrap or --update: an alarm NAME-cycle-CADENCE on
                                 ArtifactFreshnessCycleComplete (dimension Cadence) that fires
                                 when the cadence's cycle has not been complete at any pass for
                                 HOURS hours in a row (default 6). Repeatable.

AWS: account and partition come from `aws sts get-caller-identity`, the region from
AWS_REGION (or AWS_DEFAULT_REGION, or the CLI profile). AWS_PROFILE and AWS_ENDPOINT_URL are
honoured as the AWS CLI honours them. Needs: aws (v1 or v2), jq, zip, readelf, and cargo
unless --binary is given; uses advzip (Debian advancecomp) when installed.

Examples:
  REGISTRY_BUCKET=research-bucket ./deploy.sh --bootstrap --registry ARTIFACT_REGISTRY.yaml
  ./deploy.sh --registry ARTIFACT_REGISTRY.yaml      # new code and registry
  ./deploy.sh --enable                               # start paging
  ./deploy.sh --dry-run --bootstrap                  # what would change?
EOF
}

log() { printf 'deploy: %s\n' "$*" >&2; }
die() {
  printf 'deploy: error: %s\n' "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------------
# Arguments

BOOTSTRAP=false
UPDATE=false
SMOKE=false
DRY_RUN=false
EVENTS=false
FLIP=""
REGISTRY_PATH="${FRESHNESS_MONITOR_REGISTRY:-ARTIFACT_REGISTRY.yaml}"
BINARY="${FRESHNESS_MONITOR_BINARY:-}"
FUNCTION_NAME="${FRESHNESS_MONITOR_FUNCTION:-freshness-monitor}"
ROLE_NAME="${FRESHNESS_MONITOR_ROLE:-}"
TIMEOUT="${FRESHNESS_MONITOR_TIMEOUT:-}"
MEMORY="${FRESHNESS_MONITOR_MEMORY:-}"
SMOKE_PAYLOAD='{}'
CYCLE_ALARMS=()
DEADLINE=false

# The configuration the operator gave for this run, as a JSON object of function env vars.
EXPLICIT='{}'
for var in "${CONFIG_VARS[@]}"; do
  if [[ -n "${!var+set}" ]]; then
    EXPLICIT=$(jq -c --arg k "$var" --arg v "${!var}" '.[$k] = $v' <<<"$EXPLICIT")
  fi
done

SETTING_FLAGS=""
set_explicit() {
  SETTING_FLAGS="$SETTING_FLAGS $1"
  EXPLICIT=$(jq -c --arg k "$1" --arg v "$2" '.[$k] = $v' <<<"$EXPLICIT")
}

# `--opt VALUE` or `--opt=VALUE`; sets OPT_VALUE and how many words it took (OPT_SHIFT).
take_value() {
  local opt="$1" next="${3-}" has_next="$2"
  if [[ "$opt" == *=* ]]; then
    OPT_VALUE="${opt#*=}"
    OPT_SHIFT=1
  elif [[ "$has_next" == yes ]]; then
    OPT_VALUE="$next"
    OPT_SHIFT=2
  else
    die "$opt needs a value (see --help)"
  fi
}

while (($#)); do
  arg="$1"
  has_next=no
  (($# > 1)) && has_next=yes
  OPT_SHIFT=1
  case "$arg" in
  -h | --help)
    usage
    exit 0
    ;;
  --bootstrap) BOOTSTRAP=true ;;
  --update) UPDATE=true ;;
  --smoke) SMOKE=true ;;
  --dry-run) DRY_RUN=true ;;
  --deadline-schedule) DEADLINE=true ;;
  --events) EVENTS=true ;;
  --enable | --disable)
    [[ -z "$FLIP" || "$FLIP" == "$arg" ]] || die "--enable and --disable contradict each other"
    FLIP="$arg"
    ;;
  --registry | --registry=*)
    take_value "$arg" "$has_next" "${2-}"
    REGISTRY_PATH="$OPT_VALUE"
    ;;
  --binary | --binary=*)
    take_value "$arg" "$has_next" "${2-}"
    BINARY="$OPT_VALUE"
    ;;
  --function | --function=*)
    take_value "$arg" "$has_next" "${2-}"
    FUNCTION_NAME="$OPT_VALUE"
    ;;
  --role | --role=*)
    take_value "$arg" "$has_next" "${2-}"
    ROLE_NAME="$OPT_VALUE"
    ;;
  --timeout | --timeout=*)
    take_value "$arg" "$has_next" "${2-}"
    TIMEOUT="$OPT_VALUE"
    ;;
  --memory | --memory=*)
    take_value "$arg" "$has_next" "${2-}"
    MEMORY="$OPT_VALUE"
    ;;
  --smoke-payload | --smoke-payload=*)
    take_value "$arg" "$has_next" "${2-}"
    SMOKE_PAYLOAD="$OPT_VALUE"
    ;;
  --cycle-alarm | --cycle-alarm=*)
    take_value "$arg" "$has_next" "${2-}"
    [[ "$OPT_VALUE" =~ ^[A-Za-z0-9_.-]+(:[1-9][0-9]*)?$ ]] ||
      die "--cycle-alarm takes CADENCE or CADENCE:HOURS (whole hours >= 1), got '$OPT_VALUE'"
    CYCLE_ALARMS+=("$OPT_VALUE")
    ;;
  --metrics-namespace | --metrics-namespace=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit FRESHNESS_METRICS_NAMESPACE "$OPT_VALUE"
    ;;
  --registry-bucket | --registry-bucket=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit REGISTRY_BUCKET "$OPT_VALUE"
    ;;
  --registry-key | --registry-key=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit REGISTRY_KEY "$OPT_VALUE"
    ;;
  --results-bucket | --results-bucket=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit RESULTS_BUCKET "$OPT_VALUE"
    ;;
  --results-prefix | --results-prefix=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit RESULTS_PREFIX "$OPT_VALUE"
    ;;
  --dedup-bucket | --dedup-bucket=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit DEDUP_BUCKET "$OPT_VALUE"
    ;;
  --dedup-prefix | --dedup-prefix=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit DEDUP_PREFIX "$OPT_VALUE"
    ;;
  --sns-topic-arn | --sns-topic-arn=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit SNS_TOPIC_ARN "$OPT_VALUE"
    ;;
  --telegram-token-param | --telegram-token-param=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit TELEGRAM_BOT_TOKEN_PARAM "$OPT_VALUE"
    ;;
  --telegram-chat-param | --telegram-chat-param=*)
    take_value "$arg" "$has_next" "${2-}"
    set_explicit TELEGRAM_CHAT_ID_PARAM "$OPT_VALUE"
    ;;
  *) die "unknown argument '$arg' (see --help)" ;;
  esac
  shift "$OPT_SHIFT"
done

if ! $BOOTSTRAP && ! $UPDATE && ! $SMOKE && [[ -z "$FLIP" ]]; then
  UPDATE=true
fi
# Building and uploading happen for --bootstrap and --update; --enable/--disable/--smoke on
# their own touch the function only.
SHIPS=false
if $BOOTSTRAP || $UPDATE; then SHIPS=true; fi
if ! $SHIPS && ((${#CYCLE_ALARMS[@]})); then
  die "--cycle-alarm is set up by --bootstrap or --update: add --update"
fi
if ! $SHIPS && $DEADLINE; then
  die "--deadline-schedule is set up by --bootstrap or --update: add --update"
fi
if ! $SHIPS && $EVENTS; then
  die "--events is set up by --bootstrap or --update: add --update"
fi
if ! $SHIPS && [[ -n "$SETTING_FLAGS" ]]; then
  die "settings (${SETTING_FLAGS# }) are written by --bootstrap or --update: add --update"
fi
ROLE_NAME="${ROLE_NAME:-$FUNCTION_NAME-role}"
readonly RULE_NAME="$FUNCTION_NAME-every-15-minutes"
readonly PERMISSION_ID="$FUNCTION_NAME-schedule"
readonly HISTORY_RULE_NAME="$FUNCTION_NAME-history-daily"
readonly HISTORY_PERMISSION_ID="$FUNCTION_NAME-history"
readonly POLICY_NAME="$FUNCTION_NAME-policy"
readonly ERRORS_ALARM="$FUNCTION_NAME-errors"
readonly SILENCE_ALARM="$FUNCTION_NAME-invocations-missing"
readonly SCHEDULER_ROLE_NAME="$FUNCTION_NAME-scheduler-role"
readonly SCHEDULER_POLICY_NAME="$FUNCTION_NAME-scheduler-invoke"
readonly EVENTS_QUEUE="$FUNCTION_NAME-object-created"
readonly EVENTS_DLQ="$FUNCTION_NAME-object-created-dlq"
readonly EVENTS_RULE="$FUNCTION_NAME-object-created"

[[ -z "$TIMEOUT" || "$TIMEOUT" =~ ^[1-9][0-9]*$ ]] || die "--timeout must be whole seconds, got '$TIMEOUT'"
[[ -z "$MEMORY" || "$MEMORY" =~ ^[1-9][0-9]*$ ]] || die "--memory must be whole megabytes, got '$MEMORY'"
jq -e 'type == "object"' >/dev/null 2>&1 <<<"$SMOKE_PAYLOAD" ||
  die "--smoke-payload must be a JSON object, got '$SMOKE_PAYLOAD'"

for tool in aws jq; do
  command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (needed to deploy)"
done
if $SHIPS; then
  for tool in zip readelf md5sum sha256sum; do
    command -v "$tool" >/dev/null 2>&1 || die "$tool is not installed (needed to package)"
  done
fi

# The CLI prints JSON and never pages, whatever the operator's profile says.
export AWS_PAGER=""
export AWS_DEFAULT_OUTPUT=json

# The dry-run plan goes to the real stdout even from inside a captured call ($(...), >file).
exec 3>&1

WORK="$(mktemp -d)"
readonly WORK
trap 'rm -rf "$WORK"' EXIT

# ---------------------------------------------------------------------------------------------
# AWS calls: every one goes through `aws_read`, `aws_lookup` or `aws_write`, so --dry-run can
# print them all and make only the read-only ones.

# Prints a call the way an operator could paste it; a JSON document passed as file://
# follows, indented, so the plan shows what would be written.
show_call() {
  local kind="$1"
  shift
  local words=() a
  for a in "$@"; do words+=("$(printf '%q' "$a")"); done
  if $DRY_RUN; then
    {
      printf '[dry-run] %s aws %s\n' "$kind" "${words[*]}"
      for a in "$@"; do
        case "$a" in
        file://*) sed 's/^/    /' "${a#file://}" ;;
        fileb://*) printf '    (%s bytes, sha256 %s)\n' "$(wc -c <"${a#fileb://}" | tr -d ' ')" \
          "$(sha256sum "${a#fileb://}" | cut -c1-64)" ;;
        esac
      done
    } >&3
  else
    printf '+ aws %s\n' "${words[*]}" >&2
  fi
}

# A read-only call: made in every mode; its output goes to stdout.
aws_read() {
  if $DRY_RUN; then show_call read "$@"; fi
  aws "$@"
}

# A read-only call for something that may not exist: writes the answer to file $1 and returns
# 0, or returns 1 when AWS says "not found". Any other failure stops the deploy.
aws_lookup() {
  local out="$1"
  shift
  if $DRY_RUN; then show_call read "$@"; fi
  if aws "$@" >"$out" 2>"$WORK/lookup.err"; then
    return 0
  fi
  if grep -Eq 'NoSuchEntity|ResourceNotFound|NotFound|Not Found|\(404\)|NonExistentQueue|QueueDoesNotExist' "$WORK/lookup.err"; then
    return 1
  fi
  cat "$WORK/lookup.err" >&2
  die "aws $1 $2 failed"
}

# A call that changes something: printed, and made unless --dry-run. Output to stdout.
aws_write() {
  show_call write "$@"
  if $DRY_RUN; then return 0; fi
  aws "$@"
}

# ---------------------------------------------------------------------------------------------
# The binary: built (or given), then proven runnable on provided.al2023.

# The highest GLIBC_x.y symbol version an ELF needs; empty for a static binary.
max_glibc() {
  readelf --dyn-syms --wide "$1" 2>/dev/null | grep -o 'GLIBC_[0-9][0-9.]*' | sed 's/GLIBC_//' |
    sort -V | tail -n 1
}

version_le() { [[ "$(printf '%s\n%s\n' "$1" "$2" | sort -V | head -n 1)" == "$1" ]]; }

# provided.al2023 has glibc and the usual companions; a binary needing anything else (an
# OpenSSL the image lacks, say) would fail only at its first cold start.
readonly AL2023_LIBS='^(libc\.so\.6|libm\.so\.6|libgcc_s\.so\.1|libpthread\.so\.0|libdl\.so\.2|librt\.so\.1|libutil\.so\.1|ld-linux-x86-64\.so\.2|ld-linux-aarch64\.so\.1)$'

# Dies with the reason when $1 cannot run as a provided.al2023 bootstrap; sets ARCH.
check_binary() {
  local bin="$1" machine needed glibc
  [[ -f "$bin" ]] || die "binary $bin does not exist"
  machine=$(readelf --file-header --wide "$bin" 2>/dev/null | sed -n 's/^ *Machine: *//p') ||
    true
  case "$machine" in
  *X86-64*) ARCH=x86_64 ;;
  *AArch64*) ARCH=arm64 ;;
  "") die "binary $bin is not an ELF executable (the Lambda runtime needs a Linux binary)" ;;
  *) die "binary $bin is built for '$machine'; Lambda runs x86_64 or arm64" ;;
  esac
  needed=$(readelf --dynamic --wide "$bin" 2>/dev/null | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p')
  local lib
  for lib in $needed; do
    [[ "$lib" =~ $AL2023_LIBS ]] ||
      die "binary $bin needs $lib, which $RUNTIME does not provide"
  done
  glibc=$(max_glibc "$bin")
  if [[ -n "$glibc" ]] && ! version_le "$glibc" "$MAX_GLIBC"; then
    GLIBC_TOO_NEW="$glibc"
    return 1
  fi
  if [[ -n "$glibc" ]]; then
    log "binary $bin: $ARCH, glibc symbols <= $glibc (runtime has $MAX_GLIBC)"
  else
    log "binary $bin: $ARCH, static"
  fi
}

build_binary() {
  command -v cargo >/dev/null 2>&1 || die "cargo is not installed: install Rust, or pass --binary"
  local target_dir="${CARGO_TARGET_DIR:-$ROOT/target}"
  # Without the default `operator-credentials` feature (SSO and credential_process
  # profiles): Lambda gives credentials in the environment (docs/deploy.md).
  log "building the bootstrap (cargo build --release --no-default-features)"
  (cd "$ROOT" && cargo build --release --locked --no-default-features --bin freshness-monitor) >&2
  BINARY="$target_dir/release/freshness-monitor"
  GLIBC_TOO_NEW=""
  if check_binary "$BINARY"; then return 0; fi
  log "$BINARY needs glibc $GLIBC_TOO_NEW > $MAX_GLIBC: rebuilding with cargo-zigbuild for $ZIG_TARGET"
  if ! command -v cargo-zigbuild >/dev/null 2>&1; then
    log "installing cargo-zigbuild from crates.io"
    cargo install --locked cargo-zigbuild >&2
  fi
  if ! command -v zig >/dev/null 2>&1 && ! python3 -c 'import ziglang' >/dev/null 2>&1; then
    log "installing zig (ziglang) from PyPI"
    python3 -m pip install --quiet ziglang >&2
  fi
  (cd "$ROOT" && cargo zigbuild --release --locked --no-default-features --bin freshness-monitor \
    --target "$ZIG_TARGET") >&2
  BINARY="$target_dir/${ZIG_TARGET%.*}/release/freshness-monitor"
  check_binary "$BINARY" ||
    die "$BINARY still needs glibc $GLIBC_TOO_NEW > $MAX_GLIBC after cargo zigbuild"
}

prepare_binary() {
  GLIBC_TOO_NEW=""
  if [[ -n "$BINARY" ]]; then
    check_binary "$BINARY" ||
      die "binary $BINARY needs glibc $GLIBC_TOO_NEW; $RUNTIME has $MAX_GLIBC (build with cargo zigbuild --target $ZIG_TARGET)"
  else
    build_binary
  fi
}

# ---------------------------------------------------------------------------------------------
# The registry: validated with the binary that will read it, and the buckets it monitors.

validate_registry() {
  [[ -f "$REGISTRY_PATH" ]] || die "registry $REGISTRY_PATH does not exist (use --registry PATH)"
  log "validating $REGISTRY_PATH with $BINARY"
  if ! "$BINARY" validate "$REGISTRY_PATH" >&2; then
    die "registry $REGISTRY_PATH is invalid (errors above): nothing was deployed or uploaded"
  fi
  REGISTRY_BUCKETS=$(registry_buckets)
}

# The S3 buckets the registry's artifacts live in, one per line, as the binary reads them.
registry_buckets() {
  "$BINARY" validate --json "$REGISTRY_PATH" | jq -er '.buckets[]' ||
    die "could not list the buckets of $REGISTRY_PATH with $BINARY validate --json"
}

# A zip whose bytes depend only on the binary (fixed timestamp, no extra attributes), so an
# unchanged binary gives the same CodeSha256 and the function's code is left alone:
# scripts/lambda_zip.sh, `zip -9` and advzip's recompression when advzip is installed.
package() {
  ZIP="$WORK/function.zip"
  if [[ "${FRESHNESS_MONITOR_ZIP:-small}" == small ]] && command -v advzip >/dev/null 2>&1; then
    log "zipping the bootstrap (zip -9, then advzip -z -4: a few minutes)"
  fi
  "$ROOT/scripts/lambda_zip.sh" "$BINARY" "$ZIP" || die "could not zip $BINARY"
  ZIP_SHA256=$(sha256sum "$ZIP" | cut -c1-64)
}

# ---------------------------------------------------------------------------------------------
# Where we are: account, partition, region, and the function as it is now.

# The region as AWS CLI v2 resolves it (AWS_REGION, then AWS_DEFAULT_REGION, then the
# profile), exported under both names before the first call: CLI v1 reads only
# AWS_DEFAULT_REGION, so AWS_REGION alone would leave it without one.
resolve_region() {
  REGION="${AWS_REGION:-${AWS_DEFAULT_REGION:-$(aws configure get region 2>/dev/null || true)}}"
  [[ -n "$REGION" ]] ||
    die "no region: set AWS_REGION (or AWS_DEFAULT_REGION, or region in the AWS CLI profile)"
  export AWS_REGION="$REGION" AWS_DEFAULT_REGION="$REGION"
}

discover_account() {
  resolve_region
  aws_read sts get-caller-identity >"$WORK/identity.json"
  ACCOUNT_ID=$(jq -r .Account "$WORK/identity.json")
  PARTITION=$(jq -r '.Arn | split(":")[1]' "$WORK/identity.json")
  FUNCTION_ARN="arn:$PARTITION:lambda:$REGION:$ACCOUNT_ID:function:$FUNCTION_NAME"
  log "account $ACCOUNT_ID, region $REGION, function $FUNCTION_NAME"
}

FUNCTION_EXISTS=false
CURRENT_ENV='{}'
read_function() {
  if aws_lookup "$WORK/function.json" lambda get-function-configuration --function-name "$FUNCTION_NAME"; then
    FUNCTION_EXISTS=true
    CURRENT_ENV=$(jq -c '.Environment.Variables // {}' "$WORK/function.json")
  fi
}

# A function env var's value for this deploy: given now, else the function's, else default.
setting() {
  local defaults
  defaults=$(jq -nc --arg rk "$DEFAULT_REGISTRY_KEY" --arg rp "$DEFAULT_RESULTS_PREFIX" \
    --arg dp "$DEFAULT_DEDUP_PREFIX" '{REGISTRY_KEY: $rk, RESULTS_PREFIX: $rp, DEDUP_PREFIX: $dp}')
  jq -nr --arg k "$1" --argjson e "$EXPLICIT" --argjson c "$CURRENT_ENV" --argjson d "$defaults" \
    '$e[$k] // $c[$k] // $d[$k] // empty'
}

resolve_settings() {
  REGISTRY_BUCKET_V=$(setting REGISTRY_BUCKET)
  REGISTRY_KEY_V=$(setting REGISTRY_KEY)
  [[ -n "$REGISTRY_BUCKET_V" ]] ||
    die "no registry bucket: pass --registry-bucket BUCKET (or set REGISTRY_BUCKET)"
  RESULTS_BUCKET_V=$(setting RESULTS_BUCKET)
  RESULTS_BUCKET_V="${RESULTS_BUCKET_V:-$REGISTRY_BUCKET_V}"
  DEDUP_BUCKET_V=$(setting DEDUP_BUCKET)
  DEDUP_BUCKET_V="${DEDUP_BUCKET_V:-$REGISTRY_BUCKET_V}"
  SNS_TOPIC_ARN_V=$(setting SNS_TOPIC_ARN)
  resolve_deadline_settings
}

# With --deadline-schedule: the schedule's name and the role Scheduler assumes, unless the
# function already names them (an operator's choice stays). Whether or not this run asked,
# a function whose env names both gets the policy statements that let it keep the schedule.
SCHEDULER_ROLE_ARN=""
DEADLINE_SCHEDULE_ARN_V=""
DEADLINE_ROLE_ARN_V=""
resolve_deadline_settings() {
  SCHEDULER_ROLE_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:role/$SCHEDULER_ROLE_NAME"
  if $DEADLINE; then
    [[ -n "$(setting DEADLINE_SCHEDULE_NAME)" ]] ||
      set_explicit DEADLINE_SCHEDULE_NAME "$FUNCTION_NAME-deadline"
    [[ -n "$(setting DEADLINE_SCHEDULE_ROLE_ARN)" ]] ||
      set_explicit DEADLINE_SCHEDULE_ROLE_ARN "$SCHEDULER_ROLE_ARN"
  fi
  local name group
  name=$(setting DEADLINE_SCHEDULE_NAME)
  group=$(setting DEADLINE_SCHEDULE_GROUP)
  DEADLINE_ROLE_ARN_V=$(setting DEADLINE_SCHEDULE_ROLE_ARN)
  if [[ -n "$name" && -n "$DEADLINE_ROLE_ARN_V" ]]; then
    DEADLINE_SCHEDULE_ARN_V="arn:$PARTITION:scheduler:$REGION:$ACCOUNT_ID:schedule/${group:-default}/$name"
  else
    DEADLINE_ROLE_ARN_V=""
  fi
}

# ---------------------------------------------------------------------------------------------
# IAM

render_policy() {
  local vars buckets
  buckets=$( {
    printf '%s\n' "$REGISTRY_BUCKETS"
    printf '%s\n' "$REGISTRY_BUCKET_V" "$RESULTS_BUCKET_V" "$DEDUP_BUCKET_V"
  } | sort -u | jq -Rsc 'split("\n") | map(select(length > 0))')
  # A null value means "not configured": resources that need it are left out, and a statement
  # left with no resource is dropped (no topic, no sns:Publish).
  vars=$(jq -nc \
    --arg PARTITION "$PARTITION" --arg ACCOUNT_ID "$ACCOUNT_ID" --arg REGION "$REGION" \
    --arg FUNCTION_NAME "$FUNCTION_NAME" \
    --arg RESULTS_BUCKET "$RESULTS_BUCKET_V" --arg RESULTS_PREFIX "$(setting RESULTS_PREFIX)" \
    --arg DEDUP_BUCKET "$DEDUP_BUCKET_V" --arg DEDUP_PREFIX "$(setting DEDUP_PREFIX)" \
    --arg SNS_TOPIC_ARN "$SNS_TOPIC_ARN_V" \
    --arg TOKEN "$(setting TELEGRAM_BOT_TOKEN_PARAM)" --arg CHAT "$(setting TELEGRAM_CHAT_ID_PARAM)" \
    --arg SCHEDULE "$DEADLINE_SCHEDULE_ARN_V" --arg SCHEDULER_ROLE "$DEADLINE_ROLE_ARN_V" \
    --arg EVENTS_QUEUE_ARN "$($EVENTS && printf '%s' "$EVENTS_QUEUE_ARN")" \
    '{PARTITION: $PARTITION, ACCOUNT_ID: $ACCOUNT_ID, REGION: $REGION,
      FUNCTION_NAME: $FUNCTION_NAME, RESULTS_BUCKET: $RESULTS_BUCKET,
      RESULTS_PREFIX: $RESULTS_PREFIX, DEDUP_BUCKET: $DEDUP_BUCKET, DEDUP_PREFIX: $DEDUP_PREFIX,
      SNS_TOPIC_ARN: (if $SNS_TOPIC_ARN == "" then null else $SNS_TOPIC_ARN end),
      TELEGRAM_BOT_TOKEN_PARAMETER: (if $TOKEN == "" then null else ($TOKEN | ltrimstr("/")) end),
      TELEGRAM_CHAT_ID_PARAMETER: (if $CHAT == "" then null else ($CHAT | ltrimstr("/")) end),
      DEADLINE_SCHEDULE_ARN: (if $SCHEDULE == "" then null else $SCHEDULE end),
      DEADLINE_SCHEDULE_ROLE_ARN: (if $SCHEDULER_ROLE == "" then null else $SCHEDULER_ROLE end),
      EVENTS_QUEUE_ARN: (if $EVENTS_QUEUE_ARN == "" then null else $EVENTS_QUEUE_ARN end)}')
  jq --argjson vars "$vars" --argjson buckets "$buckets" '
    def placeholders: [scan("\\$\\{([A-Za-z_]+)\\}") | .[0]];
    def fill:
      (if test("\\$\\{READ_BUCKET\\}") then . as $s | $buckets | map(. as $b | $s | gsub("\\$\\{READ_BUCKET\\}"; $b)) else [.] end)
      | .[]
      | . as $s
      | placeholders as $names
      | if any($names[]; . as $n | $vars | has($n) | not) then
          error("iam-policy.json: unknown placeholder in \($s)")
        elif any($names[]; . as $n | $vars[$n] == null) then empty
        else reduce $names[] as $n ($s; gsub("\\$\\{\($n)\\}"; $vars[$n]))
        end;
    .Statement |= map(
      .Resource |= [(if type == "array" then .[] else . end) | fill]
      | select(.Resource | length > 0))
  ' "$ROOT/iam-policy.json" >"$WORK/policy.json" || die "cannot render $ROOT/iam-policy.json"
}

trust_policy() {
  jq -n '{Version: "2012-10-17", Statement: [{Effect: "Allow",
    Principal: {Service: "lambda.amazonaws.com"}, Action: "sts:AssumeRole"}]}' >"$WORK/trust.json"
}

ROLE_ARN=""
ensure_role() {
  if aws_lookup "$WORK/role.json" iam get-role --role-name "$ROLE_NAME"; then
    ROLE_ARN=$(jq -r .Role.Arn "$WORK/role.json")
    log "role $ROLE_NAME exists (its trust policy is left as it is)"
  else
    trust_policy
    log "creating role $ROLE_NAME"
    aws_write iam create-role --role-name "$ROLE_NAME" \
      --assume-role-policy-document "file://$WORK/trust.json" \
      --description "freshness-monitor Lambda $FUNCTION_NAME (deploy.sh)" >/dev/null
    ROLE_ARN="arn:$PARTITION:iam::$ACCOUNT_ID:role/$ROLE_NAME"
  fi
}

# Puts the inline policy when it differs from the one the role has ($2 = known: the current
# one was just read into current-policy.json).
sync_policy() {
  local role="$1"
  if { [[ "${2-}" == known ]] ||
    aws_lookup "$WORK/current-policy.json" iam get-role-policy --role-name "$role" --policy-name "$POLICY_NAME"; } &&
    [[ "$(jq -S .PolicyDocument "$WORK/current-policy.json")" == "$(jq -S . "$WORK/policy.json")" ]]; then
    log "inline policy $POLICY_NAME is up to date"
    return 0
  fi
  log "writing inline policy $POLICY_NAME on role $role"
  aws_write iam put-role-policy --role-name "$role" --policy-name "$POLICY_NAME" \
    --policy-document "file://$WORK/policy.json"
}

# On --update the policy is kept in step with the registry's buckets, but only on a role
# this script manages (one that already has its inline policy).
sync_policy_if_managed() {
  local role_arn role
  role_arn=$(jq -r .Role "$WORK/function.json")
  role="${role_arn##*/}"
  if aws_lookup "$WORK/current-policy.json" iam get-role-policy --role-name "$role" --policy-name "$POLICY_NAME"; then
    sync_policy "$role" known
  else
    log "role $role has no inline policy $POLICY_NAME: not managed by deploy.sh, left alone"
  fi
}

# The role EventBridge Scheduler assumes to run the deadline pass: trusted by Scheduler for
# this account's schedules only, allowed to invoke this one function only. Made only when the
# function's DEADLINE_SCHEDULE_ROLE_ARN names it (not an operator's own role).
ensure_scheduler_role() {
  [[ -n "$DEADLINE_ROLE_ARN_V" && "$DEADLINE_ROLE_ARN_V" == "$SCHEDULER_ROLE_ARN" ]] || return 0
  if aws_lookup "$WORK/scheduler-role.json" iam get-role --role-name "$SCHEDULER_ROLE_NAME"; then
    log "role $SCHEDULER_ROLE_NAME exists (its trust policy is left as it is)"
  else
    jq -n --arg account "$ACCOUNT_ID" '{Version: "2012-10-17", Statement: [{Effect: "Allow",
      Principal: {Service: "scheduler.amazonaws.com"}, Action: "sts:AssumeRole",
      Condition: {StringEquals: {"aws:SourceAccount": $account}}}]}' >"$WORK/scheduler-trust.json"
    log "creating role $SCHEDULER_ROLE_NAME (EventBridge Scheduler's, for deadline passes)"
    aws_write iam create-role --role-name "$SCHEDULER_ROLE_NAME" \
      --assume-role-policy-document "file://$WORK/scheduler-trust.json" \
      --description "EventBridge Scheduler invokes freshness-monitor $FUNCTION_NAME (deploy.sh)" >/dev/null
  fi
  jq -n --arg fn "$FUNCTION_ARN" '{Version: "2012-10-17", Statement: [{Sid: "InvokeTheMonitor",
    Effect: "Allow", Action: "lambda:InvokeFunction", Resource: [$fn]}]}' >"$WORK/scheduler-policy.json"
  if aws_lookup "$WORK/current-scheduler-policy.json" iam get-role-policy \
    --role-name "$SCHEDULER_ROLE_NAME" --policy-name "$SCHEDULER_POLICY_NAME" &&
    [[ "$(jq -S .PolicyDocument "$WORK/current-scheduler-policy.json")" == "$(jq -S . "$WORK/scheduler-policy.json")" ]]; then
    log "inline policy $SCHEDULER_POLICY_NAME is up to date"
    return 0
  fi
  log "writing inline policy $SCHEDULER_POLICY_NAME on role $SCHEDULER_ROLE_NAME"
  aws_write iam put-role-policy --role-name "$SCHEDULER_ROLE_NAME" \
    --policy-name "$SCHEDULER_POLICY_NAME" --policy-document "file://$WORK/scheduler-policy.json"
}

# ---------------------------------------------------------------------------------------------
# S3: the registry

upload_registry() {
  local md5 sha
  md5=$(md5sum "$REGISTRY_PATH" | cut -c1-32)
  sha=$(sha256sum "$REGISTRY_PATH" | cut -c1-64)
  if aws_lookup "$WORK/registry-head.json" s3api head-object --bucket "$REGISTRY_BUCKET_V" --key "$REGISTRY_KEY_V" &&
    { [[ "$(jq -r '.Metadata.sha256 // ""' "$WORK/registry-head.json")" == "$sha" ]] ||
      [[ "$(jq -r '.ETag // "" | gsub("\""; "")' "$WORK/registry-head.json")" == "$md5" ]]; }; then
    log "registry s3://$REGISTRY_BUCKET_V/$REGISTRY_KEY_V is up to date"
    return 0
  fi
  log "uploading $REGISTRY_PATH to s3://$REGISTRY_BUCKET_V/$REGISTRY_KEY_V"
  aws_write s3api put-object --bucket "$REGISTRY_BUCKET_V" --key "$REGISTRY_KEY_V" \
    --body "$REGISTRY_PATH" --content-type 'application/yaml' --metadata "sha256=$sha" >/dev/null
}

# ---------------------------------------------------------------------------------------------
# Lambda

wait_updated() {
  if $DRY_RUN; then return 0; fi
  aws lambda wait function-updated-v2 --function-name "$FUNCTION_NAME"
}

create_function() {
  local env
  env=$(desired_env)
  jq -n --argjson v "$env" '{Variables: $v}' >"$WORK/env.json"
  log "creating function $FUNCTION_NAME (observe mode: FRESHNESS_MONITOR_ENABLED=$(jq -r .FRESHNESS_MONITOR_ENABLED <<<"$env"))"
  local args=(lambda create-function --function-name "$FUNCTION_NAME" --runtime "$RUNTIME"
    --handler bootstrap --architectures "$ARCH" --role "$ROLE_ARN"
    --zip-file "fileb://$ZIP" --timeout "${TIMEOUT:-300}" --memory-size "${MEMORY:-256}"
    --environment "file://$WORK/env.json"
    --description "freshness-monitor: absence-driven S3 artifact monitor")
  # A role created a moment ago takes a few seconds to become assumable by Lambda.
  local attempt
  for attempt in 1 2 3 4 5 6 7 8 9 10; do
    if $DRY_RUN; then
      aws_write "${args[@]}"
      return 0
    fi
    show_call write "${args[@]}"
    if aws "${args[@]}" >/dev/null 2>"$WORK/create.err"; then
      break
    fi
    if grep -q 'cannot be assumed' "$WORK/create.err" && ((attempt < 10)); then
      log "role not assumable yet, retrying in 5s"
      sleep 5
      continue
    fi
    cat "$WORK/create.err" >&2
    die "could not create function $FUNCTION_NAME"
  done
  aws lambda wait function-active-v2 --function-name "$FUNCTION_NAME"
}

# The env the function should have: what it has, plus what was given now, plus the flip.
# Keys nobody gave are never removed or changed; a new function starts in observe mode.
# With --enable/--disable alone ($1 = flip-only) only the switch moves.
desired_env() {
  local base='{}' explicit="$EXPLICIT"
  if [[ "${1-}" == flip-only ]]; then
    explicit='{}'
  else
    base=$(jq -nc --arg bucket "$REGISTRY_BUCKET_V" --arg key "$REGISTRY_KEY_V" \
      '{REGISTRY_BUCKET: $bucket, REGISTRY_KEY: $key}')
  fi
  jq -nc --argjson base "$base" --argjson current "$CURRENT_ENV" --argjson explicit "$explicit" \
    --arg flip "$FLIP" '
    ($base
      + (if ($current | has("FRESHNESS_MONITOR_ENABLED") or has("MNEMON_FRESHNESS_MONITOR_ENABLED"))
         then {} else {FRESHNESS_MONITOR_ENABLED: "false"} end)
      + $current + $explicit)
    | if $flip == "" then .
      else ($flip == "--enable" | tostring) as $on
        | .FRESHNESS_MONITOR_ENABLED = $on
        | if has("MNEMON_FRESHNESS_MONITOR_ENABLED") then .MNEMON_FRESHNESS_MONITOR_ENABLED = $on else . end
      end'
}

update_code() {
  local current_hex
  current_hex=$(jq -r .CodeSha256 "$WORK/function.json" | base64 -d 2>/dev/null | od -An -tx1 | tr -d ' \n')
  if [[ "$current_hex" == "$ZIP_SHA256" ]]; then
    log "function code is up to date"
    return 0
  fi
  log "updating function code"
  aws_write lambda update-function-code --function-name "$FUNCTION_NAME" \
    --zip-file "fileb://$ZIP" --architectures "$ARCH" >/dev/null
  wait_updated
}

# Runtime and handler must be right for the zip to start at all; timeout and memory change
# only when given; env is merged. One call, and only when something differs.
update_configuration() {
  local env args=()
  if $SHIPS; then
    [[ "$(jq -r .Runtime "$WORK/function.json")" == "$RUNTIME" ]] || args+=(--runtime "$RUNTIME")
    [[ "$(jq -r .Handler "$WORK/function.json")" == bootstrap ]] || args+=(--handler bootstrap)
    [[ -z "$TIMEOUT" || "$(jq -r .Timeout "$WORK/function.json")" == "$TIMEOUT" ]] || args+=(--timeout "$TIMEOUT")
    [[ -z "$MEMORY" || "$(jq -r .MemorySize "$WORK/function.json")" == "$MEMORY" ]] || args+=(--memory-size "$MEMORY")
    env=$(desired_env)
  else
    env=$(desired_env flip-only)
  fi
  if [[ "$(jq -S . <<<"$env")" != "$(jq -S . <<<"$CURRENT_ENV")" ]]; then
    jq -n --argjson v "$env" '{Variables: $v}' >"$WORK/env.json"
    args+=(--environment "file://$WORK/env.json")
    log "env changes: $(jq -nrc --argjson new "$env" --argjson old "$CURRENT_ENV" \
      '[$new | to_entries[] | select($old[.key] != .value) | "\(.key)=\(.value)"] | join(" ")')"
  fi
  if ((${#args[@]} == 0)); then
    log "function configuration is up to date"
    return 0
  fi
  aws_write lambda update-function-configuration --function-name "$FUNCTION_NAME" "${args[@]}" >/dev/null
  wait_updated
}

# ---------------------------------------------------------------------------------------------
# EventBridge schedule

ensure_schedule() {
  ensure_rule "$RULE_NAME" "$SCHEDULE" "$PERMISSION_ID" "" \
    "freshness-monitor pass every 15 minutes ($FUNCTION_NAME)"
  ensure_rule "$HISTORY_RULE_NAME" "$HISTORY_SCHEDULE" "$HISTORY_PERMISSION_ID" "$HISTORY_INPUT" \
    "freshness-monitor daily history scan ($FUNCTION_NAME)"
}

# $1 rule name, $2 schedule, $3 invoke permission id, $4 constant input ("" for the scheduled
# event itself), $5 description. An existing rule keeps its schedule and state.
ensure_rule() {
  local name="$1" schedule="$2" permission="$3" input="$4" description="$5"
  local rule_arn="arn:$PARTITION:events:$REGION:$ACCOUNT_ID:rule/$name"
  if aws_lookup "$WORK/rule.json" events describe-rule --name "$name"; then
    rule_arn=$(jq -r .Arn "$WORK/rule.json")
    local current state
    current=$(jq -r '.ScheduleExpression // ""' "$WORK/rule.json")
    state=$(jq -r '.State // ""' "$WORK/rule.json")
    if [[ "$current" != "$schedule" ]]; then
      log "note: rule $name runs on '$current', not '$schedule'; left as it is"
    fi
    log "rule $name exists ($state; left as it is)"
  else
    log "creating rule $name: $schedule"
    aws_write events put-rule --name "$name" --schedule-expression "$schedule" \
      --state ENABLED --description "$description" >/dev/null
  fi
  ensure_target "$name" "$input"
  ensure_invoke_permission "$permission" "$name" "$rule_arn"
}

# $1 rule, $2 constant input ("" for none): the function as the rule's target.
ensure_target() {
  local name="$1" input="$2"
  aws_lookup "$WORK/targets.json" events list-targets-by-rule --rule "$name" ||
    echo '{"Targets": []}' >"$WORK/targets.json"
  if jq -e --arg arn "$FUNCTION_ARN" --arg input "$input" \
    'any(.Targets[]?; .Arn == $arn and ((.Input // "") | gsub("\\s"; "")) == $input)' \
    "$WORK/targets.json" >/dev/null; then
    log "rule $name targets $FUNCTION_NAME"
  else
    log "pointing rule $name at $FUNCTION_NAME${input:+ with input $input}"
    jq -n --arg arn "$FUNCTION_ARN" --arg input "$input" \
      '[{Id: "freshness-monitor", Arn: $arn} + (if $input == "" then {} else {Input: $input} end)]' \
      >"$WORK/target.json"
    aws_write events put-targets --rule "$name" --targets "file://$WORK/target.json" >/dev/null
  fi
}

# $1 statement id, $2 rule name, $3 rule ARN: EventBridge may invoke the function for that rule.
ensure_invoke_permission() {
  local sid="$1" name="$2" rule_arn="$3"
  if aws_lookup "$WORK/lambda-policy.json" lambda get-policy --function-name "$FUNCTION_NAME" &&
    jq -e --arg sid "$sid" '.Policy | fromjson | any(.Statement[]; .Sid == $sid)' \
      "$WORK/lambda-policy.json" >/dev/null; then
    log "invoke permission for rule $name is in place"
  else
    log "allowing rule $name to invoke $FUNCTION_NAME"
    aws_write lambda add-permission --function-name "$FUNCTION_NAME" \
      --statement-id "$sid" --action lambda:InvokeFunction \
      --principal events.amazonaws.com --source-arn "$rule_arn" >/dev/null
  fi
}

# ---------------------------------------------------------------------------------------------
# S3 "Object Created" events: bucket notifications -> rule -> queue (+ DLQ) -> the function

# AWS CLI v1 sends SQS calls to its own endpoint even when AWS_ENDPOINT_URL is set (its
# overridesslcommonname customization), so the endpoint is given on the command line.
SQS=(sqs)
if [[ -n "${AWS_ENDPOINT_URL_SQS:-${AWS_ENDPOINT_URL:-}}" ]]; then
  SQS=(sqs --endpoint-url "${AWS_ENDPOINT_URL_SQS:-$AWS_ENDPOINT_URL}")
fi

EVENTS_QUEUE_ARN=""
EVENTS_DLQ_ARN=""
EVENTS_RULE_ARN=""
# Events are on when --events is given or the queue already exists (set up by an earlier run).
resolve_events() {
  EVENTS_QUEUE_ARN="arn:$PARTITION:sqs:$REGION:$ACCOUNT_ID:$EVENTS_QUEUE"
  EVENTS_DLQ_ARN="arn:$PARTITION:sqs:$REGION:$ACCOUNT_ID:$EVENTS_DLQ"
  EVENTS_RULE_ARN="arn:$PARTITION:events:$REGION:$ACCOUNT_ID:rule/$EVENTS_RULE"
  if ! $EVENTS && aws_lookup "$WORK/events-queue-url.json" "${SQS[@]}" get-queue-url --queue-name "$EVENTS_QUEUE"; then
    log "object events are on (queue $EVENTS_QUEUE exists): kept in step with the registry"
    EVENTS=true
  fi
  # The function learns that events reach it (docs/lambda.md#environment); a value already
  # set (OBJECT_EVENTS=off, to keep the polls) stays.
  if $EVENTS && [[ -z "$(setting OBJECT_EVENTS)" ]]; then
    set_explicit OBJECT_EVENTS on
  fi
}

# $1 queue name, $2 desired attributes (JSON object of strings): created, or its attributes
# set where they differ.
ensure_queue() {
  local name="$1" desired="$2" url
  if aws_lookup "$WORK/queue-url.json" "${SQS[@]}" get-queue-url --queue-name "$name"; then
    url=$(jq -r .QueueUrl "$WORK/queue-url.json")
    aws_read "${SQS[@]}" get-queue-attributes --queue-url "$url" --attribute-names All >"$WORK/queue-attributes.json"
    # JSON-valued attributes compared parsed; maxReceiveCount as text (AWS answers a number).
    if jq -e --argjson want "$desired" '
        def norm: (try fromjson catch .)
          | if type == "object" and has("maxReceiveCount") then .maxReceiveCount |= tostring else . end;
        (.Attributes // {}) as $has
        | all($want | to_entries[]; (.value | norm) == ($has[.key] // "" | norm))' \
      "$WORK/queue-attributes.json" >/dev/null; then
      log "queue $name is up to date"
      return 0
    fi
    log "setting the attributes of queue $name"
    jq -n --argjson want "$desired" '$want' >"$WORK/queue-attributes-new.json"
    aws_write "${SQS[@]}" set-queue-attributes --queue-url "$url" --attributes "file://$WORK/queue-attributes-new.json"
  else
    log "creating queue $name"
    jq -n --argjson want "$desired" '$want' >"$WORK/queue-attributes-new.json"
    aws_write "${SQS[@]}" create-queue --queue-name "$name" --attributes "file://$WORK/queue-attributes-new.json" >/dev/null
  fi
}

# The queue keeps a message 6x the function's timeout while a batch runs (AWS's advice for an
# SQS event source), sends it to the dead-letter queue after EVENTS_MAX_RECEIVES receives, and
# accepts messages from the rule only.
ensure_events_queues() {
  local timeout desired
  ensure_queue "$EVENTS_DLQ" '{"MessageRetentionPeriod": "1209600"}'
  timeout=$(jq -r '.Timeout // empty' "$WORK/function.json" 2>/dev/null || true)
  timeout="${TIMEOUT:-${timeout:-300}}"
  desired=$(jq -nc --arg dlq "$EVENTS_DLQ_ARN" --arg queue "$EVENTS_QUEUE_ARN" \
    --arg rule "$EVENTS_RULE_ARN" --argjson receives "$EVENTS_MAX_RECEIVES" \
    --argjson visibility "$((timeout * 6))" '
    {VisibilityTimeout: ($visibility | tostring),
     MessageRetentionPeriod: "345600",
     RedrivePolicy: ({deadLetterTargetArn: $dlq, maxReceiveCount: $receives} | tojson),
     Policy: ({Version: "2012-10-17", Statement: [{Sid: "ObjectCreatedFromTheRule",
       Effect: "Allow", Principal: {Service: "events.amazonaws.com"}, Action: "sqs:SendMessage",
       Resource: $queue, Condition: {ArnEquals: {"aws:SourceArn": $rule}}}]} | tojson)}')
  ensure_queue "$EVENTS_QUEUE" "$desired"
}

# EventBridge notifications on each registry bucket this account owns (its other notification
# configurations kept); for any other bucket, what its owner has to do.
ensure_bucket_notifications() {
  local bucket
  while IFS= read -r bucket; do
    [[ -n "$bucket" ]] || continue
    if $DRY_RUN; then show_call read s3api get-bucket-notification-configuration --bucket "$bucket" --expected-bucket-owner "$ACCOUNT_ID"; fi
    if ! aws s3api get-bucket-notification-configuration --bucket "$bucket" \
      --expected-bucket-owner "$ACCOUNT_ID" >"$WORK/notification.json" 2>"$WORK/notification.err"; then
      log "bucket $bucket is not this account's or cannot be read ($(grep -m 1 . "$WORK/notification.err" || true)):"
      log "  its owner turns on its EventBridge notifications (keeping its other configurations):"
      log "  aws s3api put-bucket-notification-configuration --bucket $bucket --notification-configuration '{\"EventBridgeConfiguration\": {}}'"
      log "  and forwards its \"Object Created\" events to account $ACCOUNT_ID's default event bus with a rule in its own account"
      continue
    fi
    [[ -s "$WORK/notification.json" ]] || echo '{}' >"$WORK/notification.json"
    if jq -e 'has("EventBridgeConfiguration")' "$WORK/notification.json" >/dev/null; then
      log "bucket $bucket sends its events to EventBridge"
      continue
    fi
    log "turning on EventBridge notifications of bucket $bucket"
    jq '. + {EventBridgeConfiguration: {}}' "$WORK/notification.json" >"$WORK/notification-new.json"
    aws_write s3api put-bucket-notification-configuration --bucket "$bucket" \
      --expected-bucket-owner "$ACCOUNT_ID" --notification-configuration "file://$WORK/notification-new.json"
  done <<<"$REGISTRY_BUCKETS"
}

# The rule for "Object Created" in the registry's buckets, the queue as its target, leaving
# out the monitor's own writes under RESULTS_PREFIX (5 or 6 a pass). Its pattern follows the
# registry (a bucket added or dropped rewrites it); its state is left as it is.
ensure_events_rule() {
  local pattern
  pattern=$(jq -Rsc --arg own "$(setting RESULTS_PREFIX)" 'split("\n") | map(select(length > 0)) | sort
    | {source: ["aws.s3"], "detail-type": ["Object Created"], detail: {bucket: {name: .}}}
    | if $own == "" then . else .detail.object.key = [{"anything-but": {prefix: $own}}] end' \
    <<<"$REGISTRY_BUCKETS")
  if aws_lookup "$WORK/events-rule.json" events describe-rule --name "$EVENTS_RULE" &&
    [[ "$(jq -S '.EventPattern // "{}" | fromjson' "$WORK/events-rule.json")" == "$(jq -S . <<<"$pattern")" ]]; then
    log "rule $EVENTS_RULE is up to date"
  else
    log "writing rule $EVENTS_RULE: Object Created in $(jq -r '.detail.bucket.name | join(", ")' <<<"$pattern")"
    aws_write events put-rule --name "$EVENTS_RULE" --event-pattern "$pattern" \
      --description "S3 Object Created in the registry's buckets -> $EVENTS_QUEUE (deploy.sh)" >/dev/null
  fi
  aws_lookup "$WORK/events-targets.json" events list-targets-by-rule --rule "$EVENTS_RULE" ||
    echo '{"Targets": []}' >"$WORK/events-targets.json"
  if jq -e --arg arn "$EVENTS_QUEUE_ARN" 'any(.Targets[]?; .Arn == $arn)' "$WORK/events-targets.json" >/dev/null; then
    log "rule $EVENTS_RULE targets queue $EVENTS_QUEUE"
  else
    log "pointing rule $EVENTS_RULE at queue $EVENTS_QUEUE"
    aws_write events put-targets --rule "$EVENTS_RULE" --targets "Id=queue,Arn=$EVENTS_QUEUE_ARN" >/dev/null
  fi
}

# The function reads the queue: batches, a batching window, failures reported per message.
# An existing mapping is left as it is (an operator's tuning stays).
ensure_event_source_mapping() {
  aws_read lambda list-event-source-mappings --function-name "$FUNCTION_NAME" \
    --event-source-arn "$EVENTS_QUEUE_ARN" >"$WORK/mappings.json"
  if jq -e '(.EventSourceMappings // []) | length > 0' "$WORK/mappings.json" >/dev/null; then
    log "event source mapping $EVENTS_QUEUE -> $FUNCTION_NAME exists (left as it is)"
    return 0
  fi
  log "mapping queue $EVENTS_QUEUE to $FUNCTION_NAME (batches of $EVENTS_BATCH_SIZE within ${EVENTS_BATCHING_WINDOW}s)"
  aws_write lambda create-event-source-mapping --function-name "$FUNCTION_NAME" \
    --event-source-arn "$EVENTS_QUEUE_ARN" --batch-size "$EVENTS_BATCH_SIZE" \
    --maximum-batching-window-in-seconds "$EVENTS_BATCHING_WINDOW" \
    --function-response-types ReportBatchItemFailures \
    --scaling-config "MaximumConcurrency=$EVENTS_MAX_CONCURRENCY" >/dev/null
}

ensure_events() {
  $EVENTS || return 0
  ensure_events_queues
  ensure_bucket_notifications
  ensure_events_rule
  ensure_event_source_mapping
}

# ---------------------------------------------------------------------------------------------
# CloudWatch alarms: the monitor's own dead man's switch

# $1 name, $2 metric, $3 period, $4 comparison, $5 missing-data treatment, $6 description
alarm_spec() {
  jq -n --arg name "$1" --arg metric "$2" --argjson period "$3" --arg cmp "$4" \
    --arg missing "$5" --arg desc "$6" --arg fn "$FUNCTION_NAME" --arg topic "$SNS_TOPIC_ARN_V" '
    {AlarmName: $name, AlarmDescription: $desc, Namespace: "AWS/Lambda", MetricName: $metric,
     Dimensions: [{Name: "FunctionName", Value: $fn}], Statistic: "Sum", Period: $period,
     EvaluationPeriods: 1, Threshold: 1, ComparisonOperator: $cmp, TreatMissingData: $missing,
     AlarmActions: (if $topic == "" then [] else [$topic] end),
     OKActions: (if $topic == "" then [] else [$topic] end)}'
}

# Creates the alarm, or rewrites it when its definition drifted, keeping the actions switch
# as the operator left it.
ensure_alarm() {
  local spec="$1" name
  name=$(jq -r .AlarmName <<<"$spec")
  local current enabled=true
  current=$(jq -c --argjson spec "$spec" --arg name "$name" '
    first(.MetricAlarms[] | select(.AlarmName == $name))
    | with_entries(select(.key as $k | $spec | has($k)))' "$WORK/alarms.json")
  if [[ -n "$current" ]]; then
    enabled=$(jq -r --arg name "$name" \
      'first(.MetricAlarms[] | select(.AlarmName == $name)) | .ActionsEnabled' "$WORK/alarms.json")
    if jq -e --argjson a "$current" --argjson b "$spec" -n \
      '($a | .AlarmActions |= sort | .OKActions |= sort) == ($b | .AlarmActions |= sort | .OKActions |= sort)' >/dev/null; then
      log "alarm $name is up to date"
      return 0
    fi
    log "updating alarm $name"
  else
    log "creating alarm $name"
  fi
  jq --argjson on "$enabled" '. + {ActionsEnabled: $on}' <<<"$spec" >"$WORK/alarm-spec.json"
  aws_write cloudwatch put-metric-alarm --cli-input-json "file://$WORK/alarm-spec.json"
}

# $1 cadence, $2 hours: the cadence's cycle was complete at no pass for that many hours.
cycle_alarm_spec() {
  local namespace
  namespace=$(setting FRESHNESS_METRICS_NAMESPACE)
  jq -n --arg name "$FUNCTION_NAME-cycle-$1" --arg cadence "$1" --argjson hours "$2" \
    --arg ns "${namespace:-$DEFAULT_METRICS_NAMESPACE}" --arg topic "$SNS_TOPIC_ARN_V" '
    {AlarmName: $name,
     AlarmDescription: "freshness-monitor: the \($cadence) cycle has not been complete for \($hours)h",
     Namespace: $ns, MetricName: "ArtifactFreshnessCycleComplete",
     Dimensions: [{Name: "Cadence", Value: $cadence}], Statistic: "Maximum", Period: 3600,
     EvaluationPeriods: $hours, Threshold: 1, ComparisonOperator: "LessThanThreshold",
     TreatMissingData: "notBreaching",
     AlarmActions: (if $topic == "" then [] else [$topic] end),
     OKActions: (if $topic == "" then [] else [$topic] end)}'
}

ensure_cycle_alarms() {
  ((${#CYCLE_ALARMS[@]})) || return 0
  local names=() spec
  for spec in "${CYCLE_ALARMS[@]}"; do names+=("$FUNCTION_NAME-cycle-${spec%%:*}"); done
  aws_read cloudwatch describe-alarms --alarm-names "${names[@]}" >"$WORK/alarms.json"
  for spec in "${CYCLE_ALARMS[@]}"; do
    local cadence="${spec%%:*}" hours=6
    [[ "$spec" == *:* ]] && hours="${spec#*:}"
    ensure_alarm "$(cycle_alarm_spec "$cadence" "$hours")"
  done
}

ensure_alarms() {
  aws_read cloudwatch describe-alarms --alarm-names "$ERRORS_ALARM" "$SILENCE_ALARM" >"$WORK/alarms.json"
  ensure_alarm "$(alarm_spec "$ERRORS_ALARM" Errors 900 GreaterThanOrEqualToThreshold \
    notBreaching "freshness-monitor $FUNCTION_NAME: a pass failed (registry unreadable, handler error)")"
  ensure_alarm "$(alarm_spec "$SILENCE_ALARM" Invocations 3600 LessThanThreshold \
    breaching "freshness-monitor $FUNCTION_NAME: no invocation for an hour (schedule off or broken)")"
}

# ---------------------------------------------------------------------------------------------
# Smoke

smoke() {
  printf '%s' "$SMOKE_PAYLOAD" >"$WORK/smoke-event.json"
  log "invoking $FUNCTION_NAME with $SMOKE_PAYLOAD"
  if $DRY_RUN; then
    show_call invoke lambda invoke --function-name "$FUNCTION_NAME" \
      --payload "file://$WORK/smoke-event.json" "$WORK/smoke-response.json"
    return 0
  fi
  show_call invoke lambda invoke --function-name "$FUNCTION_NAME" \
    --payload "fileb://$WORK/smoke-event.json" "$WORK/smoke-response.json"
  aws lambda invoke --function-name "$FUNCTION_NAME" --cli-read-timeout 900 \
    --log-type Tail --payload "fileb://$WORK/smoke-event.json" \
    "$WORK/smoke-response.json" >"$WORK/smoke-meta.json"
  local tail
  tail=$(jq -r '.LogResult // ""' "$WORK/smoke-meta.json")
  if [[ -n "$tail" ]]; then
    log "log tail:"
    base64 -d <<<"$tail" >&2 || true
  fi
  if jq . "$WORK/smoke-response.json" >/dev/null 2>&1; then
    jq . "$WORK/smoke-response.json"
  else
    cat "$WORK/smoke-response.json"
    echo
  fi
  local error
  error=$(jq -r '.FunctionError // ""' "$WORK/smoke-meta.json")
  [[ -z "$error" ]] || die "the invocation failed ($error): response above"
}

# ---------------------------------------------------------------------------------------------
# Main

# Everything local first: a broken binary or registry stops here, before any AWS call.
if $SHIPS; then
  prepare_binary
  validate_registry
  package
fi

discover_account
read_function

if $SHIPS; then
  resolve_settings
  resolve_events
  render_policy
fi

if $BOOTSTRAP; then
  ensure_role
  sync_policy "$ROLE_NAME"
  ensure_scheduler_role
  upload_registry
  if $FUNCTION_EXISTS; then
    update_code
    update_configuration
  else
    create_function
  fi
  ensure_schedule
  ensure_events
  ensure_alarms
  ensure_cycle_alarms
elif $UPDATE; then
  $FUNCTION_EXISTS || die "function $FUNCTION_NAME does not exist in $REGION: run deploy.sh --bootstrap first"
  sync_policy_if_managed
  ensure_scheduler_role
  upload_registry
  update_code
  update_configuration
  ensure_events
  ensure_cycle_alarms
elif [[ -n "$FLIP" ]]; then
  $FUNCTION_EXISTS || die "function $FUNCTION_NAME does not exist in $REGION: run deploy.sh --bootstrap first"
  update_configuration
fi

if $SMOKE; then
  $FUNCTION_EXISTS || $BOOTSTRAP || die "function $FUNCTION_NAME does not exist in $REGION"
  smoke
fi

if $DRY_RUN; then
  log "dry run: nothing was changed"
else
  log "done"
fi
