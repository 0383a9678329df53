//! A proxy in front of moto that holds every request for a fixed delay before forwarding it
//! and records when each arrived and when its answer was sent back, so a test can count a
//! pass's **sequential round trips**: the longest chain of requests each sent only after the
//! one before it was answered (the critical path), which is what latency multiplies.
//!
//! Why a delay: on loopback moto answers in about a millisecond, so two requests the client
//! sent together could look one after the other by chance. Held for `delay` each, requests
//! sent together overlap for sure (a request that started after another's answer was sent
//! back really waited for it), and the count is about order, not speed: it does not change
//! with the machine's load unless the client takes longer than `delay` to send requests it
//! sends together.

#![allow(dead_code)]

use std::io::BufReader;
use std::net::{Shutdown, SocketAddr};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use super::loopback::{Listener, forward, read_request};

/// One request as the proxy saw it: "METHOD target", when it was read whole and when its
/// answer had been written back.
#[derive(Debug, Clone)]
pub struct Span {
    pub request: String,
    pub start: Instant,
    pub end: Instant,
}

pub struct TraceProxy {
    listener: Listener,
    spans: Arc<Mutex<Vec<Span>>>,
    /// Requests read and not yet recorded: the binary has its answer a moment before its
    /// span is pushed, so [`TraceProxy::take`] waits for these (else the last request of one
    /// pass could land in the next pass's trace).
    in_flight: Arc<AtomicUsize>,
}

impl TraceProxy {
    /// A proxy in front of `upstream` holding each request `delay` before forwarding it.
    pub fn start(upstream: SocketAddr, delay: Duration) -> TraceProxy {
        let spans = Arc::new(Mutex::new(Vec::new()));
        let recording = spans.clone();
        let in_flight = Arc::new(AtomicUsize::new(0));
        let counting = in_flight.clone();
        let listener = Listener::start(move |stream| {
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut client = stream;
            let Some(request) = read_request(&mut reader) else {
                return;
            };
            let start = Instant::now();
            counting.fetch_add(1, Ordering::SeqCst);
            thread::sleep(delay);
            let _ = forward(&request, upstream, &mut client);
            let _ = client.shutdown(Shutdown::Both);
            recording.lock().unwrap().push(Span {
                request: format!("{} {}", request.method, request.target),
                start,
                end: Instant::now(),
            });
            counting.fetch_sub(1, Ordering::SeqCst);
        });
        TraceProxy {
            listener,
            spans,
            in_flight,
        }
    }

    pub fn endpoint(&self) -> String {
        format!("http://{}", self.listener.addr)
    }

    /// The spans recorded since the last call (forgotten here).
    pub fn take(&self) -> Vec<Span> {
        let waiting_since = Instant::now();
        while self.in_flight.load(Ordering::SeqCst) > 0
            && waiting_since.elapsed() < Duration::from_secs(5)
        {
            thread::sleep(Duration::from_millis(1));
        }
        std::mem::take(&mut *self.spans.lock().unwrap())
    }
}

/// The longest chain of `spans` each starting after the one before it ended: the requests
/// that had to wait for one another, in order.
pub fn critical_path(spans: &[Span]) -> Vec<Span> {
    let mut sorted: Vec<&Span> = spans.iter().collect();
    sorted.sort_by_key(|s| s.start);
    // depth[i]: the longest chain ending with sorted[i]; came_from[i]: the one before it.
    let mut depth = vec![1usize; sorted.len()];
    let mut came_from: Vec<Option<usize>> = vec![None; sorted.len()];
    for i in 0..sorted.len() {
        for j in 0..i {
            if sorted[j].end <= sorted[i].start && depth[j] + 1 > depth[i] {
                depth[i] = depth[j] + 1;
                came_from[i] = Some(j);
            }
        }
    }
    let Some(mut at) = (0..sorted.len()).max_by_key(|&i| depth[i]) else {
        return Vec::new();
    };
    let mut chain = vec![sorted[at].clone()];
    while let Some(before) = came_from[at] {
        chain.push(sorted[before].clone());
        at = before;
    }
    chain.reverse();
    chain
}

/// The spans as lines "+start ms..+end ms METHOD target", for a failing assertion's message.
pub fn describe(spans: &[Span]) -> String {
    let Some(first) = spans.iter().map(|s| s.start).min() else {
        return "(no requests)".to_string();
    };
    let mut sorted: Vec<&Span> = spans.iter().collect();
    sorted.sort_by_key(|s| s.start);
    let ms = |t: Instant| t.duration_since(first).as_millis();
    (sorted.iter())
        .map(|s| format!("+{}..+{} ms {}", ms(s.start), ms(s.end), s.request))
        .collect::<Vec<_>>()
        .join("\n")
}
