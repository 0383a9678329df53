//! Futures built straight onto the heap, for the large ones a pass awaits once: the pass's
//! steps, the SDK's requests. An `async fn`'s future is built where it is called and then
//! moved into its `Box`, so `Box::pin(step(..))` inside another future's poll leaves a
//! temporary the size of `step`'s whole future (tens of KiB for a pass, an S3 request's ~8–24
//! KiB) in the caller's stack frame, and those frames are nested while the request below them
//! runs: the main thread's stack reached ~280 KiB. [`boxed`] builds the future in a frame of
//! its own that returns before the future is polled (BENCHMARKS.md, "A small pass's memory,
//! fifth round").

use std::future::Future;
use std::pin::Pin;

/// The future `make` returns, built and boxed in a frame that is gone before it is polled.
#[inline(never)]
pub fn boxed<F: Future>(make: impl FnOnce() -> F) -> Pin<Box<F>> {
    Box::pin(make())
}
