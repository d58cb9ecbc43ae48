//! Ferry's public HTTP surface, tested over real HTTP. One binary; modules per surface.
//! Attack ids (T1…) refer to `shared/reference/connect-and-security.md` §8.

mod auth;
mod bench_run;
mod chaos;
mod connect_e2e;
mod descriptor;
mod helpers;
mod hygiene;
mod intake;
mod lifecycle;
mod mapping;
mod mapping_llm;
mod migrate_cli;
mod run_authors;
mod run_budget;
mod run_comments;
mod run_files;
mod run_links;
mod run_list;
mod run_preflight;
mod run_report;
mod runs;
mod tenancy;
mod verify;
mod workload_m;
