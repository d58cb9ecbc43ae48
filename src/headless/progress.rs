//! Progress on the terminal: a bar per phase when stderr is a terminal, a plain line every few
//! seconds otherwise (CI logs, pipes).

use std::{
    io::IsTerminal as _,
    time::{Duration, Instant},
};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;

/// Shows one job's progress from its API answers (scan, dry run or run).
pub(super) struct Progress {
    what: &'static str,
    bars: Option<(MultiProgress, Vec<(String, ProgressBar)>)>,
    last_line: Option<Instant>,
}

const PLAIN_EVERY: Duration = Duration::from_secs(5);

impl Progress {
    pub(super) fn new(what: &'static str) -> Self {
        let bars = std::io::stderr()
            .is_terminal()
            .then(|| (MultiProgress::new(), Vec::new()));
        Self {
            what,
            bars,
            last_line: None,
        }
    }

    /// (phase, done, total) rows of an API answer.
    fn rows(v: &Value) -> Vec<(String, u64, u64)> {
        let n = |x: &Value| x.as_u64().unwrap_or(0);
        if let Some(run) = v.get("run") {
            let total = n(&run["itemsTotal"]);
            let sum = |list: &Value, states: &[&str]| -> u64 {
                list.as_array()
                    .into_iter()
                    .flatten()
                    .filter(|c| states.contains(&c["state"].as_str().unwrap_or("")))
                    .map(|c| n(&c["items"]))
                    .sum()
            };
            let created = sum(&v["items"], &["created", "failed"]);
            let followed = n(&v["followed"]);
            return vec![
                ("create".into(), created, total),
                ("links, files, comments, status".into(), followed, total),
            ];
        }
        let job = v.get("dryRun").unwrap_or(v);
        vec![(
            "items".into(),
            n(&job["itemsDone"]),
            n(&job["itemsTotal"]).max(n(&job["itemsDone"])),
        )]
    }

    pub(super) fn update(&mut self, v: &Value) {
        let rows = Self::rows(v);
        match &mut self.bars {
            Some((multi, bars)) => {
                for (phase, done, total) in rows {
                    let bar = match bars.iter().find(|(p, _)| *p == phase) {
                        Some((_, b)) => b.clone(),
                        None => {
                            let b = multi.add(ProgressBar::new(total));
                            b.set_style(
                                ProgressStyle::with_template(
                                    "{prefix:>32} [{bar:40}] {pos}/{len} {per_sec} eta {eta}",
                                )
                                .unwrap_or_else(|_| ProgressStyle::default_bar())
                                .progress_chars("=> "),
                            );
                            b.set_prefix(format!("{} {phase}", self.what));
                            bars.push((phase, b.clone()));
                            b
                        }
                    };
                    bar.set_length(total);
                    bar.set_position(done);
                }
            }
            None => {
                if self.last_line.is_some_and(|t| t.elapsed() < PLAIN_EVERY) {
                    return;
                }
                self.last_line = Some(Instant::now());
                let parts: Vec<String> = rows
                    .iter()
                    .map(|(p, d, t)| format!("{p} {d}/{t}"))
                    .collect();
                eprintln!("{}: {}", self.what, parts.join(", "));
            }
        }
    }

    pub(super) fn finish(&mut self, message: &str) {
        if let Some((_, bars)) = &self.bars {
            for (_, b) in bars {
                b.finish();
            }
        }
        eprintln!("{message}");
    }
}
