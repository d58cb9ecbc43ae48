//! The `ferry` binary: parses the command line and hands over to the library.
//! All behaviour lives in the library so that tests drive exactly what ships.

/// mimalloc instead of the system allocator. glibc's malloc gave the engine's threads (tokio
/// workers, the blocking pool, one thread per SQLite connection) arenas of their own and kept
/// what they freed: at 10,000 items a run peaked at 303 MiB with glibc, 211 MiB with glibc held
/// to two arenas, and the 100,000-item run at 824 MiB (BENCHMARKS.md, engine cost). SQLite's
/// own allocations still go to the system allocator.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    ferry::cli::main()
}
