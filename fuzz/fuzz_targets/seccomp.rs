//! Seccomp profiles and recorded event files, both given by users: parse, decide every probe
//! and every named call, read the events, and check a profile survives a write/read round trip
//! with the same verdicts; that the watch stage's compiled filter and a profile merged with
//! itself decide alike; that a diff with itself is empty.
#![no_main]
use std::sync::OnceLock;

use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;
use tracer::{
    decode::jsonl,
    model::clock::Clock,
    sink::seccomp::{
        calls::{Call, Classifier},
        diff, merge,
        profile::{Compiled, Env, Profile},
    },
};

#[derive(Debug, Arbitrary)]
struct Input<'a> {
    profile: &'a [u8],
    events: &'a [u8],
    probes: Vec<(u16, [u64; 6])>,
}

fn env() -> &'static Env {
    static ENV: OnceLock<Env> = OnceLock::new();
    ENV.get_or_init(Env::host)
}

fuzz_target!(|input: Input<'_>| {
    let profile: Option<Profile> = serde_json::from_slice(input.profile).ok();
    let mut classifier = Classifier::default();
    let clock = Clock::with_offset(0);
    let _ = jsonl::read(input.events, &clock, 64, |events| {
        for e in &events {
            let call = Call::of(e, &clock);
            let _ = classifier.phase(&call);
            let _ = call.describe();
            if let Some(p) = &profile {
                let _ = p.decide(&call.syscall, &call.raw, env());
            }
        }
        true
    });
    let Some(profile) = profile else {
        return;
    };
    let text = serde_json::to_string(&profile).expect("a parsed profile serializes");
    let again: Profile = serde_json::from_str(&text).expect("a written profile parses");
    let names: Vec<String> = profile
        .syscalls
        .iter()
        .flat_map(|r| r.all_names().map(str::to_string))
        .collect();
    let _ = profile.covers_native(env());
    let compiled = Compiled::new(profile.clone(), env());
    let merged = merge::merge(&[("a".into(), profile.clone()), ("b".into(), profile.clone())]).ok();
    assert!(diff::diff("a", &profile, "a", &profile).equal);
    for (nr, args) in &input.probes {
        let name = tracer::decode::syscalls::display_name(u32::from(*nr % 640));
        let a = profile.decide(&name, args, env());
        let b = again.decide(&name, args, env());
        assert_eq!(a, b, "verdicts change across a round trip");
        assert_eq!(compiled.decide(&name, args), a, "the compiled filter differs");
        for n in names.iter().map(String::as_str).chain([name.as_ref()]) {
            let v = profile.decide(n, args, env());
            assert_eq!(v, again.decide(n, args, env()));
            assert_eq!(compiled.decide(n, args), v);
            if let Some(m) = &merged {
                let w = m.decide(n, args, env());
                assert_eq!((w.action, w.errno), (v.action, v.errno), "merged with itself: {n}");
            }
        }
    }
});
