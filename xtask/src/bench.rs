//! `cargo xtask bench`: criterion benchmarks of one step of every rule, then
//! a table of ns per parameter and effective GB/s beside the memory traffic
//! each rule needs per parameter.
//!
//! The benchmarks live in `core/benches/step.rs`; each benchmark's id carries
//! the traffic the rule's math needs (`needed=<bytes>`) and its throughput
//! setting the traffic freestep's passes move, so this task only reads
//! criterion's estimates back.

use std::fs;
use std::path::Path;

use crate::shell::{self, cargo, root};

/// Parameter counts benchmarked, as in `core/benches/step.rs`.
const SIZES: [u64; 2] = [1 << 16, 1 << 24];

pub fn run(args: &[String]) -> Result<(), String> {
    shell::run(
        cargo()
            .args([
                "bench",
                "-p",
                "freestep",
                "--features",
                "std",
                "--bench",
                "step",
                "--",
            ])
            .args(args),
    )?;
    report()
}

/// One measured benchmark.
struct Row {
    rule: String,
    n: u64,
    needed: u64,
    moved: u64,
    ns: f64,
}

fn report() -> Result<(), String> {
    let mut rows = Vec::new();
    for n in SIZES {
        let dir = root().join("target/criterion").join(format!("step_{n}"));
        let Ok(entries) = fs::read_dir(&dir) else {
            continue;
        };
        for entry in entries.flatten() {
            let rule = entry.file_name().to_string_lossy().into_owned();
            if rule == "report" {
                continue;
            }
            if let Some(row) = read_row(&entry.path(), rule, n)? {
                rows.push(row);
            }
        }
    }
    if rows.is_empty() {
        return Err("no criterion estimates under target/criterion/step_*".into());
    }
    rows.sort_by(|a, b| (a.n, &a.rule).cmp(&(b.n, &b.rule)));
    println!(
        "{:<22} {:>10} {:>12} {:>8} {:>14} {:>14}",
        "rule", "params", "ns/param", "GB/s", "needs B/param", "moves B/param"
    );
    for r in &rows {
        let ns_per = r.ns / r.n as f64;
        let gbs = (r.moved * r.n) as f64 / r.ns;
        println!(
            "{:<22} {:>10} {:>12.3} {:>8.2} {:>14} {:>14}",
            r.rule, r.n, ns_per, gbs, r.needed, r.moved
        );
    }
    Ok(())
}

/// Reads `<rule>/needed=<bytes>/new/{estimates,benchmark}.json`.
fn read_row(rule_dir: &Path, rule: String, n: u64) -> Result<Option<Row>, String> {
    let Ok(entries) = fs::read_dir(rule_dir) else {
        return Ok(None);
    };
    for entry in entries.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        let Some(needed) = name.strip_prefix("needed=").and_then(|v| v.parse().ok()) else {
            continue;
        };
        let new = entry.path().join("new");
        let estimates = read_json(&new.join("estimates.json"))?;
        let benchmark = read_json(&new.join("benchmark.json"))?;
        let ns = estimates["mean"]["point_estimate"].as_f64();
        let bytes = benchmark["throughput"]["Bytes"].as_u64();
        if let (Some(ns), Some(bytes)) = (ns, bytes) {
            let moved = bytes / n;
            return Ok(Some(Row {
                rule,
                n,
                needed,
                moved,
                ns,
            }));
        }
    }
    Ok(None)
}

fn read_json(path: &Path) -> Result<serde_json::Value, String> {
    let text = fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
    serde_json::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))
}
