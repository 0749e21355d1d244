//! The strace suite: strace 6.1's own test programs, each run under strace and tracer at once
//! (tests/src/strace_suite.rs), scored on the lines the program says strace must print.
//!
//! Fails when the suite is not built (`cargo xtask setup` builds it; TRACER_STRACE_TESTS names
//! the built tests/ directory), when strace itself does not reproduce the expected lines (the
//! instrument is broken, not tracer), and when any program scores below its line in the
//! committed baseline (tests/fixtures/strace-suite/baseline.tsv) or tracer fails to start or
//! stop. `TRACER_SUITE_BLESS=1` rewrites the baseline from this run; `TRACER_SUITE_ONLY=a,b`
//! runs only those programs (no ratchet on the others). The table is printed and written to
//! target/strace-suite/scores.md (next to the built suite).
use std::{path::PathBuf, time::Instant};

use tests::{
    env,
    strace_suite::{
        BASELINE, PROGRAMS, Score, Spec, gen_tests, programs, read_baseline, run, score, table,
        tracer_calls, tracer_misses, write_baseline,
    },
};

/// Runs per program at most (see the loop).
const RUNS: usize = 3;

/// `a` has fewer tracer lines or a lower calls_exact than `b`.
fn worse_than(a: &Score, b: &Score) -> bool {
    a.tracer_hits < b.tracer_hits || a.calls_exact() + 1e-9 < b.calls_exact()
}

/// Component by component, the better (`worst == false`) or the worse of two runs' scores.
fn combine(a: Score, b: Score, worst: bool) -> Score {
    let pick = |x: usize, y: usize| if worst { x.min(y) } else { x.max(y) };
    let (exact, calls) = if (a.calls_exact() < b.calls_exact()) == worst {
        (a.exact, a.calls)
    } else {
        (b.exact, b.calls)
    };
    Score {
        tracer_hits: pick(a.tracer_hits, b.tracer_hits),
        strace_hits: a.strace_hits.min(b.strace_hits),
        exact,
        calls,
        ..a
    }
}

#[test]
fn strace_test_programs_score_at_least_their_baseline() {
    let start = Instant::now();
    let tests_dir = PathBuf::from(env("TRACER_STRACE_TESTS"));
    assert!(
        tests_dir.join("libtests.a").is_file(),
        "strace's test programs are not built in {}: run `cargo xtask setup`",
        tests_dir.display()
    );
    let table_in = gen_tests(&tests_dir);
    let only: Option<Vec<String>> = std::env::var("TRACER_SUITE_ONLY")
        .ok()
        .map(|s| s.split(',').map(str::to_string).collect());
    let all = programs();
    assert!(
        all.len() >= 60,
        "{PROGRAMS} pins only {} programs",
        all.len()
    );
    let bless = std::env::var_os("TRACER_SUITE_BLESS").is_some();
    let baseline = read_baseline();
    let mut scores = Vec::new();
    let mut broken = Vec::new();
    for prog in &all {
        // The fixture's options are strace's own for that program.
        if let Some(opts) = table_in.get(&prog.name)
            && !opts.starts_with('+')
        {
            assert_eq!(
                &prog.options, opts,
                "{PROGRAMS}: {}'s options differ from strace's tests/gen_tests.in",
                prog.name
            );
        } else {
            let script = prog.name.clone() + ".test";
            let base = table_in
                .get(&prog.name)
                .and_then(|o| o.strip_prefix('+'))
                .and_then(|o| o.split_whitespace().next());
            assert!(
                tests_dir.join(&script).is_file() || base.is_some(),
                "{}: neither in gen_tests.in nor with a {script} script",
                prog.name
            );
        }
        if only.as_ref().is_some_and(|o| !o.contains(&prog.name)) {
            continue;
        }
        let spec = Spec::parse(&prog.name, &prog.options);
        // tracer's `-y` reads /proc when it decodes, which races the program's exit (see
        // "Deliberate differences"): a score can vary from run to run. A program below its
        // baseline is run again, up to RUNS times in all, and its best run counts; blessing
        // runs every program RUNS times and records its worst run.
        let mut best: Option<Score> = None;
        for attempt in 1..=RUNS {
            let t = Instant::now();
            let r = run(&tests_dir, prog, &spec);
            let sc = score(prog, &spec, &r);
            eprintln!(
                "strace suite: {:<24} expected {:>3} strace {:>3} tracer {:>3} exact {:>3}/{:<3} {:.1}s{} {}",
                sc.name,
                sc.expected,
                sc.strace_hits,
                sc.tracer_hits,
                sc.exact,
                sc.calls,
                t.elapsed().as_secs_f64(),
                if attempt > 1 {
                    format!(" (run {attempt})")
                } else {
                    String::new()
                },
                sc.note
            );
            if std::env::var_os("TRACER_SUITE_VERBOSE").is_some() {
                for m in tracer_misses(&r) {
                    eprintln!("    tracer missed: {m}");
                }
                for l in tracer_calls(&spec, &r) {
                    eprintln!("    tracer printed: {l}");
                }
            }
            // The instrument: the program ran, and strace printed what the program expects.
            if !r.strace_status.success() {
                broken.push(format!(
                    "{}: exited with {} under strace: {}",
                    prog.name, r.strace_status, r.strace_stderr
                ));
            } else if sc.expected == 0 || sc.strace_hits < sc.expected {
                broken.push(format!(
                    "{}: strace printed {} of the {} expected lines",
                    prog.name, sc.strace_hits, sc.expected
                ));
            }
            best = Some(match best.take() {
                None => sc,
                Some(b) => combine(b, sc, bless),
            });
            let b = best.as_ref().expect("a run");
            let done = if bless {
                false
            } else {
                baseline
                    .get(&b.name)
                    .is_none_or(|base| !worse_than(b, base))
            };
            if done {
                break;
            }
        }
        let sc = best.expect("a run");
        scores.push(sc);
    }
    let text = table(&scores);
    println!("{text}");
    let md = tests_dir.join("../../scores.md");
    let _ = std::fs::write(&md, &text);
    eprintln!(
        "strace suite: {} programs in {:.0?}; table in {}",
        scores.len(),
        start.elapsed(),
        md.display()
    );
    assert!(
        broken.is_empty(),
        "the strace suite itself is broken (strace does not reproduce its own tests):\n{}",
        broken.join("\n")
    );

    if bless {
        // With TRACER_SUITE_ONLY, the other programs keep their lines.
        let mut merged = read_baseline();
        let keep: Vec<_> = all
            .iter()
            .filter_map(|p| {
                scores
                    .iter()
                    .find(|s| s.name == p.name)
                    .cloned()
                    .or_else(|| merged.remove(&p.name))
            })
            .collect();
        write_baseline(&keep);
        eprintln!("strace suite: baseline rewritten: {BASELINE}");
        return;
    }
    let mut worse = Vec::new();
    let mut better = Vec::new();
    for sc in &scores {
        if !sc.note.is_empty() {
            worse.push(format!("{}: tracer failed: {}", sc.name, sc.note));
        }
        let Some(base) = baseline.get(&sc.name) else {
            worse.push(format!("{}: not in the baseline", sc.name));
            continue;
        };
        let (hits, exact, calls) = (base.tracer_hits, base.exact, base.calls);
        let base_exact = base.calls_exact();
        if sc.tracer_hits < hits {
            worse.push(format!(
                "{}: tracer printed {} expected lines, baseline {hits}",
                sc.name, sc.tracer_hits
            ));
        }
        if sc.calls_exact() + 1e-9 < base_exact {
            worse.push(format!(
                "{}: calls_exact {}/{} below the baseline's {exact}/{calls}",
                sc.name, sc.exact, sc.calls
            ));
        }
        if sc.tracer_hits > hits || sc.calls_exact() > base_exact + 1e-9 {
            better.push(sc.name.clone());
        }
    }
    if !better.is_empty() {
        eprintln!(
            "strace suite: better than the baseline: {}; record it with \
             `TRACER_SUITE_BLESS=1 cargo xtask test strace_test_programs` and commit {BASELINE}",
            better.join(", ")
        );
    }
    assert!(
        worse.is_empty(),
        "strace suite regressions (below {BASELINE}; TRACER_SUITE_VERBOSE=1 lists the missed lines):\n{}",
        worse.join("\n")
    );
}
