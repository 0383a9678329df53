//! Fuzz target: the Lambda event parser over arbitrary bytes, as the handler runs it on the
//! payload's text (`Invocation::parse_json`). Whatever the text, it must be an invocation or an
//! `EventError` with a message of bounded length: never a panic, a hang or a huge message.
#![no_main]

use freshness_monitor::lambda::event::Invocation;
use libfuzzer_sys::fuzz_target;

/// The list of accepted events is ~600 bytes; every value a message quotes is cut short.
const MAX_MESSAGE_BYTES: usize = 4096;

fuzz_target!(|data: &[u8]| {
    // The runtime hands over text: a payload that is not UTF-8 never reaches the handler.
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    match Invocation::parse_json(text) {
        Ok(invocation) => {
            let _ = invocation.now(chrono::DateTime::UNIX_EPOCH);
            let _ = invocation.only();
        }
        Err(err) => {
            assert!(!err.problem().is_empty(), "a rejection without a problem");
            let message = err.to_string();
            assert!(
                message.len() <= MAX_MESSAGE_BYTES,
                "a {}-byte message: {}",
                message.len(),
                message.chars().take(200).collect::<String>()
            );
        }
    }
});
