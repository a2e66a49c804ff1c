//! Keeps the process's memory flat however large the objects it forwards.
//!
//! glibc raises its mmap threshold each time it frees a large mapped block; after that, the
//! few-hundred-KiB request bodies (allocated on a worker thread, freed once sent) come
//! from per-thread heaps that fragment and keep growing over a long object. A fixed
//! threshold keeps such blocks in their own mappings, returned to the system when freed.
//! The batch buffers, the other large blocks, are reused rather than freed
//! (see [`crate::pipeline`]), so this costs no page faults on the hot path.

/// Blocks of this size and above get their own mapping (glibc's initial default).
const MMAP_THRESHOLD: i32 = 128 * 1024;

/// Fixes the allocator's mmap threshold; call once at startup. Does nothing off glibc.
pub fn fix_mmap_threshold() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only tunes the allocator; glibc takes its own lock.
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, MMAP_THRESHOLD);
    }
}
