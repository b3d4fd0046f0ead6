//! Comparing the rows' digests, and finding where two targets part.

use std::collections::BTreeMap;

use super::{Outcome, RowResult, Target};

/// The `DIGEST <name> <hex> rules=<n>` line of a check program's output.
pub fn digest_line(output: &str) -> Option<(String, usize)> {
    let line = output.lines().find(|l| l.starts_with("DIGEST "))?;
    let mut words = line.split_whitespace().skip(2);
    let hex = words.next()?.to_string();
    let rules = words.next()?.strip_prefix("rules=")?.parse().ok()?;
    Some((hex, rules))
}

/// `CASE <case> <hex>` lines, in order.
pub fn case_lines(output: &str) -> Vec<(String, String)> {
    output
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("CASE ")?.split_whitespace();
            Some((w.next()?.to_string(), w.next()?.to_string()))
        })
        .collect()
}

/// Ok with a summary line when every row that ran printed the same digest
/// covering `rules` rules.
pub fn digests(results: &[RowResult], rules: usize) -> Result<String, String> {
    let mut seen: BTreeMap<String, Vec<&str>> = BTreeMap::new();
    for r in results {
        if !matches!(r.outcome, Outcome::Passed { .. }) {
            continue;
        }
        let (hex, covered) = digest_line(&r.output)
            .ok_or_else(|| format!("{} printed no DIGEST line", r.target.name))?;
        if covered != rules {
            return Err(format!(
                "{} covers {covered} rules, the C ABI has {rules}: add the missing rules \
                 to tests/target/src/cases.rs",
                r.target.name
            ));
        }
        seen.entry(hex).or_default().push(r.target.name);
    }
    match seen.len() {
        0 => Err("no target printed a digest".into()),
        1 => {
            let (hex, names) = seen
                .iter()
                .next()
                .map(|(h, n)| (h.clone(), n.len()))
                .unwrap_or_default();
            match names {
                1 => Ok(format!(
                    "one digest, {hex} (rules={rules}): nothing to compare it with"
                )),
                _ => Ok(format!("all {names} digests equal: {hex} (rules={rules})")),
            }
        }
        _ => {
            let groups: Vec<String> = seen
                .iter()
                .map(|(hex, names)| format!("{hex} on {}", names.join(", ")))
                .collect();
            Err(format!("digests differ: {}", groups.join("; ")))
        }
    }
}

/// The first case whose digest differs between two outputs.
pub fn first_differing_case(a: &str, b: &str) -> Option<String> {
    let (a, b) = (case_lines(a), case_lines(b));
    a.iter()
        .zip(&b)
        .find(|(x, y)| x != y)
        .map(|(x, _)| x.0.clone())
}

/// `TRACE <case> <step> <index> <bits>` lines as ((step, index), bits).
pub fn trace(output: &str) -> Vec<((usize, usize), String)> {
    output
        .lines()
        .filter_map(|l| {
            let mut w = l.strip_prefix("TRACE ")?.split_whitespace().skip(1);
            let step = w.next()?.parse().ok()?;
            let index = w.next()?.parse().ok()?;
            Some(((step, index), w.next()?.to_string()))
        })
        .collect()
}

/// The first (step, element) at which two traces differ, with both bits.
pub fn first_difference(a: &str, b: &str) -> Option<(usize, usize, String, String)> {
    let (ta, tb) = (trace(a), trace(b));
    for (x, y) in ta.iter().zip(&tb) {
        if x != y {
            return Some((x.0 .0, x.0 .1, x.1.clone(), y.1.clone()));
        }
    }
    (ta.len() != tb.len()).then(|| (ta.len().min(tb.len()), 0, "end".into(), "more".into()))
}

/// For each row whose digest differs from the first row's: the first case
/// that differs and, by tracing that case on both, the first step and
/// element (`index` ≥ N are Schedule-Free's eval weights).
pub fn locate(
    results: &[RowResult],
    traced: impl Fn(Target, &str) -> Result<String, String>,
) -> String {
    let ran: Vec<&RowResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Passed { .. }))
        .collect();
    let Some(reference) = ran.first() else {
        return "no row ran".into();
    };
    let reference_digest = digest_line(&reference.output);
    let mut report = Vec::new();
    for row in ran.iter().skip(1) {
        if digest_line(&row.output) == reference_digest {
            continue;
        }
        let (a, b) = (reference.target.name, row.target.name);
        let Some(case) = first_differing_case(&reference.output, &row.output) else {
            report.push(format!("{b} differs from {a}, but in no CASE line"));
            continue;
        };
        let where_ = match (traced(reference.target, &case), traced(row.target, &case)) {
            (Ok(ta), Ok(tb)) => match first_difference(&ta, &tb) {
                Some((step, i, x, y)) => {
                    format!("step {step} (from 0), element {i}: {x} on {a}, {y} on {b}")
                }
                None => "the traces agree (the difference is not reproducible)".into(),
            },
            (Err(e), _) | (_, Err(e)) => format!("tracing failed: {e}"),
        };
        report.push(format!(
            "{b} differs from {a} first in case {case}: {where_}"
        ));
    }
    report.join("\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    const A: &str =
        "PASS x\nCASE sgd 0001\nCASE adam 0002\nDIGEST x86-64 00ff rules=6\n1 passed, 0 failed\n";
    const B: &str =
        "PASS x\nCASE sgd 0001\nCASE adam 0003\nDIGEST armv7 00fe rules=6\n1 passed, 0 failed\n";

    #[test]
    fn reads_digest_and_cases() {
        assert_eq!(digest_line(A), Some(("00ff".to_string(), 6)));
        assert_eq!(first_differing_case(A, B).as_deref(), Some("adam"));
        assert_eq!(first_differing_case(A, A), None);
    }

    #[test]
    fn finds_the_first_differing_bits() {
        let ta = "TRACE adam 0 0 3f800000\nTRACE adam 0 1 40000000\nTRACE adam 1 0 3f000000\n";
        let tb = "TRACE adam 0 0 3f800000\nTRACE adam 0 1 40000000\nTRACE adam 1 0 3f000001\n";
        assert_eq!(
            first_difference(ta, tb),
            Some((1, 0, "3f000000".into(), "3f000001".into()))
        );
        assert_eq!(first_difference(ta, ta), None);
    }
}
