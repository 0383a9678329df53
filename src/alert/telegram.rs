//! The Telegram channel: `sendMessage` over HTTPS, plain text, cut at 4096 characters.
//!
//! The bot token and the chat id are SecureString parameters in SSM, read (decrypted) on the
//! first send of a container and kept; a failed read is not kept, so the next pass tries
//! again. Critical digests notify, warnings arrive silently (`disable_notification`).
//!
//! `sendMessage` is not idempotent, so a message is sent again only after a failure that
//! proves Telegram did not take it: no connection made, or the Bot API's own answer saying
//! `ok: false` (a 429 once its `retry_after` has passed, when that still fits before the
//! pass's deadline; a 500 or 503). A request that timed out or broke after it left, a 2xx
//! without `ok: true`, a 502 or 504 (a gateway that may have passed it on) or another answer
//! that is not the API's may have posted it: it is reported, never re-sent (as an SNS Publish
//! gets one attempt). "bot was blocked" and "chat not found" are permanent and reported as
//! such.
//!
//! The token is a secret in a URL path. It is held in [`BotToken`] (whose `Debug` prints
//! nothing), HTTP errors are stripped of their URL, and every message this module produces is
//! passed through [`redact`] as a last guard: no log line, result or error carries it.

use std::time::Duration;

use aws_sdk_ssm::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use futures_util::future::BoxFuture;
use serde::Deserialize;
use tokio::sync::OnceCell;
use tokio::time::Instant;

use super::channel::{AlertChannel, ChannelError};
use super::digest::{Digest, TELEGRAM_MAX_UNITS, split_message, utf16_units};
use crate::registry::Severity;

pub const DEFAULT_API_BASE: &str = "https://api.telegram.org";

/// Attempts per message (the first included) before the channel gives up.
const MAX_ATTEMPTS: u32 = 4;
/// One `sendMessage` request's timeout when none is given ([`TelegramChannel::with_timeout`]).
const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);
/// Without a deadline (the CLI's `run`), the longest single wait for a `retry_after`.
const MAX_WAIT_WITHOUT_DEADLINE: Duration = Duration::from_secs(120);

/// A bot token: its `Debug` and `Display` never show it.
#[derive(Clone, PartialEq, Eq)]
pub struct BotToken(String);

impl BotToken {
    pub fn new(token: impl Into<String>) -> Self {
        BotToken(token.into())
    }

    fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for BotToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BotToken(<redacted>)")
    }
}

/// What the bot needs to post.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TelegramCredentials {
    pub token: BotToken,
    pub chat_id: String,
}

/// Where the credentials come from.
pub enum CredentialSource {
    /// SSM SecureString parameters (`TELEGRAM_BOT_TOKEN_PARAM`, `TELEGRAM_CHAT_ID_PARAM`).
    Ssm {
        client: aws_sdk_ssm::Client,
        token_param: String,
        chat_id_param: String,
    },
    /// Given directly (tests).
    Fixed(TelegramCredentials),
}

impl CredentialSource {
    async fn load(&self) -> Result<TelegramCredentials, ChannelError> {
        match self {
            CredentialSource::Fixed(c) => Ok(c.clone()),
            CredentialSource::Ssm {
                client,
                token_param,
                chat_id_param,
            } => {
                // Both at once (one round trip, not two); the token's problem is told first.
                let (token, chat_id) = tokio::join!(
                    read_parameter(client, token_param, "TELEGRAM_BOT_TOKEN_PARAM"),
                    read_parameter(client, chat_id_param, "TELEGRAM_CHAT_ID_PARAM"),
                );
                Ok(TelegramCredentials {
                    token: BotToken::new(token?.trim()),
                    chat_id: chat_id?.trim().to_string(),
                })
            }
        }
    }
}

async fn read_parameter(
    client: &aws_sdk_ssm::Client,
    name: &str,
    env_var: &str,
) -> Result<String, ChannelError> {
    let output = client
        .get_parameter()
        .name(name)
        .with_decryption(true)
        .send()
        .await
        .map_err(|err| {
            let not_found = matches!(
                &err,
                SdkError::ServiceError(ctx) if ctx.err().code() == Some("ParameterNotFound")
            );
            if not_found {
                ChannelError::permanent(format!(
                    "Telegram credentials: SSM parameter {name} ({env_var}) does not exist"
                ))
            } else {
                ChannelError::new(format!(
                    "Telegram credentials: reading SSM parameter {name} ({env_var}) failed: {}",
                    DisplayErrorContext(&err)
                ))
            }
        })?;
    output
        .parameter()
        .and_then(|p| p.value())
        .filter(|v| !v.trim().is_empty())
        .map(str::to_string)
        .ok_or_else(|| {
            ChannelError::permanent(format!(
                "Telegram credentials: SSM parameter {name} ({env_var}) is empty"
            ))
        })
}

/// Replaces every occurrence of the token in `text`, and of its secret part (after the bot
/// id and `:`) alone, which is what is left of it in a percent-encoded URL (`%3A`) that a
/// proxy or error page may echo.
pub fn redact(text: &str, token: &BotToken) -> String {
    let token = token.expose();
    if token.is_empty() {
        return text.to_string();
    }
    let text = text.replace(token, "<redacted>");
    match token.split_once(':') {
        Some((_, secret)) if !secret.is_empty() => text.replace(secret, "<redacted>"),
        _ => text,
    }
}

pub struct TelegramChannel {
    /// The client, or why it could not be built (reported on every send, never a panic).
    http: Result<reqwest::Client, String>,
    api_base: String,
    source: CredentialSource,
    credentials: OnceCell<TelegramCredentials>,
    /// One request, the answer included: the one attempt a message gets when its fate is
    /// unknown.
    request_timeout: Duration,
}

/// What Telegram answers (`{ok, description, error_code, parameters: {retry_after}}`).
#[derive(Debug, Deserialize)]
struct ApiAnswer {
    ok: bool,
    #[serde(default)]
    description: Option<String>,
    #[serde(default)]
    parameters: Option<ApiParameters>,
}

#[derive(Debug, Deserialize)]
struct ApiParameters {
    #[serde(default)]
    retry_after: Option<u64>,
}

/// How one attempt ended.
#[derive(Debug, PartialEq)]
enum Attempt {
    Sent,
    /// The API refused it for now (429): try again after the wait.
    RetryAfter(Duration, String),
    /// Not taken: no connection was made, or the API answered `ok: false` (500, 503).
    Transient(String),
    /// It may have been posted (a timeout or a broken connection after the request left, a
    /// 2xx without `ok: true`, a gateway's 502 or 504, an answer not the API's): never re-sent.
    Unknown(String),
    Permanent(String),
}

impl TelegramChannel {
    /// `api_base`: `TELEGRAM_API_BASE`, or `None` for the real API.
    pub fn new(source: CredentialSource, api_base: Option<&str>) -> Self {
        crate::tls::install_crypto_provider();
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(3))
            .build()
            .map_err(|e| {
                format!(
                    "the HTTPS client for Telegram could not be built: {}",
                    error_chain(&e)
                )
            });
        TelegramChannel {
            http,
            api_base: api_base
                .unwrap_or(DEFAULT_API_BASE)
                .trim_end_matches('/')
                .to_string(),
            source,
            credentials: OnceCell::new(),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
        }
    }

    /// One request's timeout (the Lambda's `PROBE_TIMEOUT_SECONDS`, as an SNS Publish's one
    /// attempt gets); connecting takes at most 3 s of it.
    pub fn with_timeout(self, request_timeout: Duration) -> Self {
        TelegramChannel {
            request_timeout,
            ..self
        }
    }

    /// The credentials, read once per container (a failure is not remembered).
    async fn credentials(&self) -> Result<&TelegramCredentials, ChannelError> {
        self.credentials
            .get_or_try_init(|| self.source.load())
            .await
    }

    async fn attempt(&self, creds: &TelegramCredentials, text: &str, silent: bool) -> Attempt {
        let url = format!("{}/bot{}/sendMessage", self.api_base, creds.token.expose());
        let chat_id = match creds.chat_id.parse::<i64>() {
            Ok(n) => serde_json::json!(n),
            Err(_) => serde_json::json!(creds.chat_id),
        };
        let body = serde_json::json!({
            "chat_id": chat_id,
            "text": text,
            "disable_notification": silent,
            "link_preview_options": {"is_disabled": true},
        });
        let http = match &self.http {
            Ok(http) => http,
            Err(message) => return Attempt::Permanent(message.clone()),
        };
        let response = http
            .post(&url)
            .header("content-type", "application/json")
            .timeout(self.request_timeout)
            .body(body.to_string())
            .send()
            .await;
        let response = match response {
            Ok(r) => r,
            Err(e) => return request_failed(e),
        };
        let status = response.status().as_u16();
        match response.text().await {
            Ok(text) => judge_answer(status, &text),
            Err(e) => Attempt::Unknown(format!(
                "Telegram answered HTTP {status} but its answer could not be read ({}); not \
                 re-sent: it may have been posted",
                error_chain(&e.without_url())
            )),
        }
    }

    async fn send_part(
        &self,
        creds: &TelegramCredentials,
        text: &str,
        silent: bool,
        deadline: Option<Instant>,
    ) -> Result<(), ChannelError> {
        let mut last = String::new();
        for attempt in 1..=MAX_ATTEMPTS {
            let outcome = match deadline {
                Some(d) => {
                    match tokio::time::timeout_at(d, self.attempt(creds, text, silent)).await {
                        Ok(o) => o,
                        Err(_) => {
                            return Err(ChannelError::new(format!(
                                "Telegram sendMessage did not finish before the pass's deadline{}",
                                if last.is_empty() {
                                    String::new()
                                } else {
                                    format!(" (previous attempt: {last})")
                                }
                            )));
                        }
                    }
                }
                None => self.attempt(creds, text, silent).await,
            };
            let wait = match outcome {
                Attempt::Sent => return Ok(()),
                Attempt::Permanent(message) => return Err(ChannelError::permanent(message)),
                Attempt::Unknown(message) => return Err(ChannelError::new(message)),
                Attempt::RetryAfter(wait, message) => {
                    last = message;
                    wait
                }
                Attempt::Transient(message) => {
                    last = message;
                    Duration::from_secs(u64::from(attempt))
                }
            };
            if attempt == MAX_ATTEMPTS {
                break;
            }
            let fits = match deadline {
                Some(d) => Instant::now() + wait < d,
                None => wait <= MAX_WAIT_WITHOUT_DEADLINE,
            };
            if !fits {
                return Err(ChannelError::new(format!(
                    "{last}; waiting {}s more does not fit before the pass's deadline",
                    wait.as_secs()
                )));
            }
            tokio::time::sleep(wait).await;
        }
        Err(ChannelError::new(format!(
            "{last} (gave up after {MAX_ATTEMPTS} attempts)"
        )))
    }
}

/// How an attempt whose request failed ended: not sent when no connection was made (retried),
/// else unknown (never re-sent).
fn request_failed(err: reqwest::Error) -> Attempt {
    let (connect, builder) = (err.is_connect(), err.is_builder());
    let cause = error_chain(&err.without_url());
    if connect {
        Attempt::Transient(format!("Telegram sendMessage request failed: {cause}"))
    } else if builder {
        Attempt::Permanent(format!("Telegram sendMessage request failed: {cause}"))
    } else {
        Attempt::Unknown(format!(
            "Telegram sendMessage request failed after it was sent: {cause}; not re-sent: it \
             may have been posted"
        ))
    }
}

/// How an attempt ended, from the status and the body Telegram answered.
fn judge_answer(status: u16, text: &str) -> Attempt {
    let answer: Option<ApiAnswer> = serde_json::from_str(text).ok();
    let from_the_api = answer.as_ref().is_some_and(|a| !a.ok);
    let description = answer
        .as_ref()
        .and_then(|a| a.description.clone())
        .unwrap_or_else(|| snippet(text));
    let unknown = |what: &str| {
        Attempt::Unknown(format!(
            "Telegram answered HTTP {status}{what}: {description}; not re-sent: it may have \
             been posted"
        ))
    };
    match status {
        200..=299 if answer.as_ref().is_some_and(|a| a.ok) => Attempt::Sent,
        200..=299 => unknown(" without ok"),
        429 => {
            let seconds = answer
                .and_then(|a| a.parameters)
                .and_then(|p| p.retry_after)
                .unwrap_or(1);
            Attempt::RetryAfter(
                Duration::from_secs(seconds),
                format!("Telegram rate limit (HTTP 429): {description}"),
            )
        }
        400 | 401 | 403 | 404 => Attempt::Permanent(format!(
            "Telegram rejected the message (HTTP {status}): {description}{}",
            permanent_hint(status, &description)
        )),
        502 | 504 => unknown(" (a gateway)"),
        _ if from_the_api => {
            Attempt::Transient(format!("Telegram answered HTTP {status}: {description}"))
        }
        _ => unknown(""),
    }
}

/// What an operator should do about a permanent rejection.
fn permanent_hint(status: u16, description: &str) -> &'static str {
    let d = description.to_ascii_lowercase();
    if d.contains("blocked") {
        " (permanent: the bot was blocked; unblock it or change TELEGRAM_CHAT_ID_PARAM)"
    } else if d.contains("chat not found") {
        " (permanent: check the chat id in TELEGRAM_CHAT_ID_PARAM and that the bot is a member)"
    } else if status == 401 || status == 404 {
        " (permanent: check the bot token in TELEGRAM_BOT_TOKEN_PARAM)"
    } else {
        " (permanent)"
    }
}

fn snippet(text: &str) -> String {
    let one_line = crate::text::one_line(text);
    if one_line.is_empty() {
        "(empty answer)".to_string()
    } else {
        one_line.chars().take(200).collect()
    }
}

/// The error and its sources on one line.
fn error_chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut text = err.to_string();
    let mut source = err.source();
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

impl AlertChannel for TelegramChannel {
    fn name(&self) -> &'static str {
        "telegram"
    }

    fn send<'a>(
        &'a self,
        digest: &'a Digest,
        deadline: Option<Instant>,
    ) -> BoxFuture<'a, Result<usize, ChannelError>> {
        Box::pin(async move {
            let creds = self.credentials().await?;
            let parts = split_message(&digest.body, TELEGRAM_MAX_UNITS, utf16_units);
            let silent = digest.severity != Severity::Critical;
            for (i, part) in parts.iter().enumerate() {
                if let Err(e) = self.send_part(creds, part, silent, deadline).await {
                    return Err(ChannelError {
                        message: redact(&e.message, &creds.token),
                        delivered_parts: i,
                        permanent: e.permanent,
                    });
                }
            }
            Ok(parts.len())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_token_never_prints() {
        let token = BotToken::new("123456:SECRET-token");
        assert_eq!(format!("{token:?}"), "BotToken(<redacted>)");
        let creds = TelegramCredentials {
            token: token.clone(),
            chat_id: "42".into(),
        };
        assert!(!format!("{creds:?}").contains("SECRET"));
        assert_eq!(
            redact("GET /bot123456:SECRET-token/sendMessage failed", &token),
            "GET /bot<redacted>/sendMessage failed"
        );
        assert_eq!(
            redact("GET /bot123456%3ASECRET-token/sendMessage failed", &token),
            "GET /bot123456%3A<redacted>/sendMessage failed"
        );
    }

    #[tokio::test]
    async fn a_connection_error_names_no_url_and_no_token() {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port(); // bound, then dropped: connections are refused
        let channel = TelegramChannel::new(
            CredentialSource::Fixed(TelegramCredentials {
                token: BotToken::new("999:TOPSECRET"),
                chat_id: "42".into(),
            }),
            Some(&format!("http://127.0.0.1:{port}")),
        );
        let digest = Digest {
            kind: super::super::digest::DigestKind::Alerts,
            severity: Severity::Critical,
            subject: "s".into(),
            body: "b".into(),
            n_items: 1,
        };
        let deadline = Instant::now() + Duration::from_millis(1500);
        let err = channel.send(&digest, Some(deadline)).await.unwrap_err();
        assert!(!err.message.contains("TOPSECRET"), "{}", err.message);
        assert!(err.message.contains("Telegram"), "{}", err.message);
    }

    /// Which answers prove the message was not taken (sent again), and which leave its fate
    /// unknown (never sent again: it may have been posted).
    #[test]
    fn only_an_answer_that_proves_the_message_was_not_taken_is_retried() {
        let api = |code: u16, description: &str| {
            serde_json::json!({"ok": false, "error_code": code, "description": description})
                .to_string()
        };
        let cases: [(u16, String, &str); 10] = [
            (200, r#"{"ok": true, "result": {}}"#.into(), "sent"),
            (200, String::new(), "unknown"),
            (200, r#"{"ok": tr"#.into(), "unknown"),
            (
                429,
                r#"{"ok": false, "parameters": {"retry_after": 3}}"#.into(),
                "retry_after",
            ),
            (
                403,
                api(403, "Forbidden: bot was blocked by the user"),
                "permanent",
            ),
            (500, api(500, "Internal Server Error"), "transient"),
            (503, api(503, "Service Unavailable"), "transient"),
            (502, api(502, "Bad Gateway"), "unknown"),
            (504, "<html>504 Gateway Time-out</html>".into(), "unknown"),
            (500, "<html>oops</html>".into(), "unknown"),
        ];
        for (status, body, expected) in cases {
            let judged = judge_answer(status, &body);
            let kind = match &judged {
                Attempt::Sent => "sent",
                Attempt::RetryAfter(wait, _) => {
                    assert_eq!(*wait, Duration::from_secs(3));
                    "retry_after"
                }
                Attempt::Transient(_) => "transient",
                Attempt::Unknown(message) => {
                    assert!(message.contains("not re-sent"), "{message}");
                    "unknown"
                }
                Attempt::Permanent(_) => "permanent",
            };
            assert_eq!(kind, expected, "HTTP {status} {body}: {judged:?}");
        }
    }

    #[test]
    fn permanent_rejections_say_what_to_fix() {
        assert!(permanent_hint(403, "Forbidden: bot was blocked by the user").contains("blocked"));
        assert!(permanent_hint(400, "Bad Request: chat not found").contains("chat id"));
        assert!(permanent_hint(401, "Unauthorized").contains("token"));
    }
}
