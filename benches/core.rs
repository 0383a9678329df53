//! The pure core's cost per artifact: registry parsing, cycle resolution, classification and
//! report building, with an in-memory store (no I/O at all) and with the local directory
//! store (one `stat` per probe).
//!
//! Run: `cargo bench --bench core` (optionally `-- 1000 10000 100000`). Method: for each size,
//! one warm-up pass, then 5 timed passes; the median is reported, as wall time and as CPU time
//! of the process (getrusage), divided by the number of artifacts. The registry is generated
//! here: a realistic mix of cadences, placeholders, recovery keys and states.

use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
mod common;

/// The binary's allocator (src/main.rs), so the figures are the shipped code's.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

use common::{BUCKET, generate, memory_store, runtime};
use freshness_monitor::pass::{PassSettings, classify_registry};
use freshness_monitor::registry::parse_registry;
use freshness_monitor::report::{CheckResults, CycleVerdicts, StateCounts};
use freshness_monitor::store::local::LocalDirStore;

#[allow(unsafe_code)] // getrusage(2): the process CPU time, which std does not expose.
fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we own.
    let mut usage: libc_rusage = unsafe { std::mem::zeroed() };
    unsafe { getrusage(0, &mut usage) };
    let tv = |t: Timeval| Duration::new(t.sec as u64, (t.usec as u32) * 1000);
    tv(usage.utime) + tv(usage.stime)
}

#[repr(C)]
#[derive(Clone, Copy)]
struct Timeval {
    sec: i64,
    usec: i64,
}

#[repr(C)]
struct libc_rusage {
    utime: Timeval,
    stime: Timeval,
    rest: [i64; 14],
}

#[allow(unsafe_code)]
unsafe extern "C" {
    fn getrusage(who: i32, usage: *mut libc_rusage) -> i32;
}

fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// Serializes `value` compactly through a 256 KiB buffer into a sink that only counts, as
/// `pass::write_outputs` streams a big result file to disk; returns the byte count.
fn written_bytes<T: serde::Serialize>(value: &T) -> usize {
    struct Counter(usize);
    impl std::io::Write for Counter {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len();
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut writer = std::io::BufWriter::with_capacity(256 * 1024, Counter(0));
    serde_json::to_writer(&mut writer, value).unwrap();
    writer.into_inner().map_err(|_| ()).unwrap().0
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let sizes: Vec<usize> = args.iter().filter_map(|a| a.parse().ok()).collect();
    // `cargo bench` passes `--bench`; under `cargo test` the benchmark only proves it runs.
    let benchmarking = args.iter().any(|a| a == "--bench");
    // `--no-local` leaves the local store out (profiling the core alone).
    let with_local = !args.iter().any(|a| a == "--no-local");
    let sizes = match (sizes.is_empty(), benchmarking) {
        (false, _) => sizes,
        (true, true) => vec![48, 1_000, 10_000, 100_000],
        (true, false) => vec![48],
    };
    let now: DateTime<Utc> = "2026-06-03T15:00:00Z".parse().unwrap();
    let rt = runtime();
    println!(
        "{:>8}  {:>12}  {:>14}  {:>14}  {:>14}  {:>10}",
        "size", "parse µs/art", "memory µs/art", "mem cpu µs/art", "local µs/art", "peak MB"
    );
    for n in sizes {
        let (yaml, objects) = generate(n, now, 15);
        let dir = tempfile::tempdir().unwrap();
        let local = LocalDirStore::new(dir.path());
        for key in objects.keys().filter(|_| with_local) {
            let path = dir.path().join(BUCKET).join(key);
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, b"").unwrap();
        }
        let store = memory_store(objects);
        let mut parse = Vec::new();
        let mut memory = Vec::new();
        let mut memory_cpu = Vec::new();
        let mut on_disk = Vec::new();
        for round in 0..6 {
            let t = Instant::now();
            let registry = parse_registry("bench.yaml", yaml.as_bytes()).unwrap();
            let parse_time = t.elapsed();

            let (t, c) = (Instant::now(), cpu_time());
            let rows = rt.block_on(classify_registry(
                &store,
                &registry,
                &PassSettings::default(),
                now,
                None,
            ));
            let results = CheckResults {
                run_at: now,
                alerts_enabled: false,
                n_entries: rows.len(),
                results: &rows,
            };
            // As a pass writes them: streamed through a buffer (to its temp file), not held whole.
            let body = written_bytes(&results);
            let verdicts = written_bytes(&CycleVerdicts::of(now, &rows));
            let counts = StateCounts::of(&rows);
            let (memory_time, memory_cpu_time) = (t.elapsed(), cpu_time() - c);
            assert!(body > n * 100 && verdicts > 0);
            assert!(counts.fresh > 0 && counts.missing > 0 && counts.stale > 0);

            if !with_local {
                if round > 0 {
                    parse.push(parse_time);
                    memory.push(memory_time);
                    memory_cpu.push(memory_cpu_time);
                    on_disk.push(Duration::ZERO);
                }
                continue;
            }
            let t = Instant::now();
            let rows = rt.block_on(classify_registry(
                &local,
                &registry,
                &PassSettings::default(),
                now,
                None,
            ));
            written_bytes(&CheckResults {
                run_at: now,
                alerts_enabled: false,
                n_entries: rows.len(),
                results: &rows,
            });
            let local_time = t.elapsed();
            if round > 0 {
                parse.push(parse_time);
                memory.push(memory_time);
                memory_cpu.push(memory_cpu_time);
                on_disk.push(local_time);
            }
        }
        let per = |d: Duration| d.as_secs_f64() * 1e6 / n as f64;
        println!(
            "{:>8}  {:>12.2}  {:>14.2}  {:>14.2}  {:>14.2}  {:>10.1}",
            n,
            per(median(parse)),
            per(median(memory)),
            per(median(memory_cpu)),
            per(median(on_disk)),
            peak_rss_mb()
        );
    }
}
