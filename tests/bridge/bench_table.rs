//! The benchmark table's quick mode on the debug build, so CI sees that `cargo bench --bench
//! table` still runs and fills every row without paying for a release build. Ignored in the
//! ordinary run (its load would disturb the timed tests beside it); CI runs it on its own:
//!
//!     cargo test --locked --test bridge -- --ignored bench_table

use crate::helpers::sqlite_only;
use crate::table::{report, run, Scale};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "a benchmark's quick mode: run on its own with --ignored bench_table"]
async fn quick_mode_fills_every_row() {
    if sqlite_only("the benchmark table") {
        return;
    }
    let rows = run(&Scale::quick(), &[]).await;
    println!("{}", report::render(&rows));
    for figure in ["1", "2", "3", "4", "5", "6", "7", "8", "15"] {
        assert!(
            rows.iter().any(|r| r.number == figure),
            "no row for figure {figure}"
        );
    }
    for r in &rows {
        assert!(
            !r.bridge.is_empty() && !r.bridge.contains("NaN"),
            "{}: {:?}",
            r.what,
            r.bridge
        );
        assert!(
            r.ratio.is_none_or(f64::is_finite),
            "{}: {:?}",
            r.what,
            r.ratio
        );
    }
    let with_targets = rows.iter().filter(|r| r.met.is_some()).count();
    assert!(with_targets >= 13, "{with_targets} rows with a target");
}
