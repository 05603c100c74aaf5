//! The one-table benchmark of issues 14 and 15 (benches/table/mod.rs says what it measures):
//!
//!     cargo bench --bench table              # the figures, several minutes
//!     cargo bench --bench table -- --quick   # under a minute: checks it works, not its figures
//!     cargo bench --bench table -- --only ingest,pending   # some sections (table::SECTIONS)
//!
//! Prints a Markdown table: each figure, its baseline from the same run, the ratio, the
//! issue's target and whether it was met.

#[path = "../tests/bridge/compressed_day.rs"]
mod compressed_day;
#[path = "../tests/bridge/expected.rs"]
mod expected;
#[path = "../tests/bridge/helpers.rs"]
mod helpers;
#[path = "table/mod.rs"]
mod table;

use std::time::Instant;

use table::{machine, report, Scale};

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    // `cargo bench` passes --bench; `cargo test --benches` does not: measure only for real.
    if !args.iter().any(|a| a == "--bench") {
        println!("run with: cargo bench --bench table [-- --quick]");
        return;
    }
    let quick = args.iter().any(|a| a == "--quick");
    let only: Vec<String> = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .map(|list| list.split(',').map(str::to_string).collect())
        .unwrap_or_default();
    if let Some(unknown) = only.iter().find(|o| !table::SECTIONS.contains(&o.as_str())) {
        eprintln!(
            "unknown section {unknown}; the sections: {:?}",
            table::SECTIONS
        );
        std::process::exit(2);
    }
    let scale = if quick { Scale::quick() } else { Scale::full() };
    let started = Instant::now();
    let rows = table::run(&scale, &only).await;
    println!(
        "aircall-monday-bridge benchmark table{} ({})",
        if quick {
            ", --quick (figures not meaningful)"
        } else {
            ""
        },
        machine()
    );
    print!("{}", report::render(&rows));
    println!("took {:.0} s", started.elapsed().as_secs_f64());
}
