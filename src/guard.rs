//! Panics turned into messages: a bug met while judging one artifact (or in one history cell,
//! or one invocation) makes that one `probe_failed` or an `InternalError`, never the whole
//! monitor silent.

use std::any::Any;
use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures_util::FutureExt;

/// Runs `work`, turning a panic into its message: a bug met while judging one artifact makes
/// that artifact `probe_failed`, never the whole pass silent.
pub fn guarded<T>(work: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(AssertUnwindSafe(work)).map_err(|panic| panic_message(&*panic))
}

/// Awaits `work`, turning a panic into its message (the async `guarded`).
pub async fn guarded_async<T>(work: impl Future<Output = T>) -> Result<T, String> {
    AssertUnwindSafe(work)
        .catch_unwind()
        .await
        .map_err(|panic| panic_message(&*panic))
}

/// The text of a panic's payload.
pub fn panic_message(panic: &(dyn Any + Send)) -> String {
    panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string())
}
