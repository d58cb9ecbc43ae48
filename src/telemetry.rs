//! Tracing setup: one subscriber, filtered by `FERRY_LOG` (`info` by default).
//!
//! Nothing here decides what is logged; the rule that no token, secret or ticket content
//! reaches a log line is kept where values are produced (redacting `Debug`, sensitive
//! headers marked in the HTTP layer).

use tracing_subscriber::{EnvFilter, fmt};

/// Installs the global subscriber. Safe to call more than once (later calls are ignored),
/// which the tests rely on.
pub fn init(filter: &str) {
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("info"));
    let ansi = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let _ = fmt()
        .with_env_filter(filter)
        .with_target(false)
        .with_ansi(ansi)
        .with_writer(std::io::stderr)
        .try_init();
}
