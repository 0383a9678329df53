//! A global allocator that counts the heap's bytes alive and their peak, for the memory
//! benchmarks (`memory`, `pass_memory`, `registry_memory`): each registers it with
//! `#[global_allocator]` and reads [`alive`] and [`take_peak`] around what it measures.
//! Allocation sizes do not depend on optimisation, so they run in the dev profile.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Counts every allocation through `System`.
pub struct CountingAllocator;

static ALIVE: AtomicUsize = AtomicUsize::new(0);
static PEAK: AtomicUsize = AtomicUsize::new(0);

// SAFETY: every method forwards to `System` with the caller's own arguments, which satisfy
// `GlobalAlloc`'s contract by the caller's obligation; the counting touches only atomics.
#[allow(unsafe_code)]
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn dealloc(&self, pointer: *mut u8, layout: Layout) {
        unsafe { System.dealloc(pointer, layout) };
        ALIVE.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let pointer = unsafe { System.alloc_zeroed(layout) };
        if !pointer.is_null() {
            grew(layout.size());
        }
        pointer
    }

    unsafe fn realloc(&self, pointer: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // The old and the new block are both alive while a realloc copies: count the new one
        // before the old one goes, as a doubling `Vec` really costs.
        let moved = unsafe { System.realloc(pointer, layout, new_size) };
        if !moved.is_null() {
            grew(new_size);
            ALIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        }
        moved
    }
}

fn grew(size: usize) {
    let alive = ALIVE.fetch_add(size, Ordering::Relaxed) + size;
    PEAK.fetch_max(alive, Ordering::Relaxed);
}

/// The heap's bytes alive now.
pub fn alive() -> usize {
    ALIVE.load(Ordering::Relaxed)
}

/// The peak since the last call (or the start), and a new stretch begun from now.
pub fn take_peak() -> usize {
    PEAK.swap(ALIVE.load(Ordering::Relaxed), Ordering::Relaxed)
}
