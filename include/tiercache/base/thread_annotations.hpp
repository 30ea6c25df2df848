#pragma once
// Thread-safety annotations: clang's -Wthread-safety checks them (as LevelDB's
// port/thread_annotations.h); under other compilers they expand to nothing.
// Use: std::mutex mu_; int n_ TIERCACHE_GUARDED_BY(mu_);
// Thread-safety: macros only.

#if defined(__clang__)
#define TIERCACHE_THREAD_ANNOTATION(x) __attribute__((x))
#else
#define TIERCACHE_THREAD_ANNOTATION(x)
#endif

// The member is read and written only with the named mutex held.
#define TIERCACHE_GUARDED_BY(x) TIERCACHE_THREAD_ANNOTATION(guarded_by(x))
// The pointee is read and written only with the named mutex held.
#define TIERCACHE_PT_GUARDED_BY(x) TIERCACHE_THREAD_ANNOTATION(pt_guarded_by(x))
// The function is called with the named mutex held.
#define TIERCACHE_REQUIRES(...) TIERCACHE_THREAD_ANNOTATION(requires_capability(__VA_ARGS__))
// The function must not be called with the named mutex held (it takes it).
#define TIERCACHE_EXCLUDES(...) TIERCACHE_THREAD_ANNOTATION(locks_excluded(__VA_ARGS__))
