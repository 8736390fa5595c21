#if canImport(Glibc)
import Glibc

/// glibc's `mallopt` (declared in <malloc.h>, which the Glibc module does not import).
@_silgen_name("mallopt")
private func glibcMallopt(_ parameter: Int32, _ value: Int32) -> Int32
/// `M_ARENA_MAX` from <malloc.h>.
private let mArenaMax: Int32 = -8
#endif

/// Allocator settings for a long-running operator process, applied by its `main` (a library
/// should not change them for its host).
public enum MallocTuning {
    /// Limits glibc malloc to one arena. By default glibc gives each thread that allocates
    /// concurrently its own arena (up to 8 per core), and each arena keeps its own freed
    /// pages; an operator that decodes list pages on several threads ends up holding several
    /// partly empty heaps. Measured with `hack/bench-runtime.sh`: peak RSS about 10% lower at
    /// the same throughput (the informer serialises the work anyway). Same as setting
    /// `MALLOC_ARENA_MAX=1`, which wins if set. Does nothing without glibc.
    public static func useSingleArena() {
        #if canImport(Glibc)
        if getenv("MALLOC_ARENA_MAX") == nil { _ = glibcMallopt(mArenaMax, 1) }
        #endif
    }
}
