//! Mutation fuzzing that runs in stable CI (issue 11): the fixtures and config/example.toml,
//! mutated at random (bytes flipped, inserted, deleted, duplicated, truncated, nested deep),
//! go through the envelope parser, the fold and the config loader. Each may refuse the input;
//! none may panic. The seed is fixed so a failure repeats; `FUZZ_SEED` and `FUZZ_CASES` run
//! other or more cases (e.g. `FUZZ_CASES=200000` for a longer local run).

use std::panic::{catch_unwind, AssertUnwindSafe};

use aircall_monday_bridge::aircall::Unverified;
use aircall_monday_bridge::config::{Entity, Settings, Source};
use aircall_monday_bridge::mapping::{self, EventInput};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use secrecy::SecretString;

use crate::helpers::fixtures_dir;

fn setting(name: &str, default: u64) -> u64 {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// One random change to `bytes`.
fn mutate(rng: &mut StdRng, bytes: &mut Vec<u8>) {
    const INTERESTING: &[&[u8]] = &[
        b"\"",
        b"\\",
        b"{",
        b"}",
        b"[",
        b"]",
        b",",
        b":",
        b"null",
        b"-1",
        b"1e999",
        b"18446744073709551616",
        b"\"\\u0000\"",
        b"\xff",
        b"\xc3",
        b"\n",
        b"\"event\":\"call.x\"",
    ];
    let len = bytes.len().max(1);
    match rng.gen_range(0..7) {
        0 if !bytes.is_empty() => {
            let i = rng.gen_range(0..bytes.len());
            bytes[i] ^= 1 << rng.gen_range(0..8);
        }
        1 => {
            let i = rng.gen_range(0..=bytes.len());
            let piece = INTERESTING[rng.gen_range(0..INTERESTING.len())];
            bytes.splice(i..i, piece.iter().copied());
        }
        2 if !bytes.is_empty() => {
            let i = rng.gen_range(0..bytes.len());
            let n = rng.gen_range(1..=(bytes.len() - i).min(64));
            bytes.drain(i..i + n);
        }
        3 if !bytes.is_empty() => {
            let i = rng.gen_range(0..bytes.len());
            let n = rng.gen_range(1..=(bytes.len() - i).min(256));
            let copy = bytes[i..i + n].to_vec();
            bytes.splice(i..i, copy);
        }
        4 => bytes.truncate(rng.gen_range(0..len)),
        5 => {
            let i = rng.gen_range(0..=bytes.len());
            let depth = rng.gen_range(1..300);
            let open = if rng.gen() { b'[' } else { b'{' };
            bytes.splice(i..i, std::iter::repeat_n(open, depth));
        }
        _ => {
            let i = rng.gen_range(0..=bytes.len());
            bytes.insert(i, rng.gen());
        }
    }
}

/// Every envelope of every fixture, as the bytes Aircall would send.
fn seeds() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(fixtures_dir()).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "json") {
            let list: Vec<serde_json::Value> =
                serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
            for mut v in list {
                v["token"] = "tok".into();
                out.push(v.to_string().into_bytes());
            }
        }
    }
    assert!(
        out.len() > 50,
        "the corpus lost its fixtures: {}",
        out.len()
    );
    out
}

/// What the receiver and the worker do with a body, up to the plan's input.
fn exercise(body: &[u8], tokens: &[SecretString]) {
    let Ok(unverified) = Unverified::parse(body) else {
        return;
    };
    let Ok(verified) = unverified.verify(tokens) else {
        return;
    };
    let _ = verified.dedup_key();
    let _ = verified.entity_id();
    let entity = verified.entity().unwrap_or(Entity::Call);
    let e = verified.envelope();
    let input = EventInput {
        event: &e.event,
        timestamp: e.timestamp,
        data: &e.data,
    };
    let _ = mapping::fold(entity, None, &[input]);
}

#[test]
fn mutated_envelopes_are_refused_or_folded_never_a_panic() {
    let seed = setting("FUZZ_SEED", 11);
    let cases = setting("FUZZ_CASES", 20_000);
    let mut rng = StdRng::seed_from_u64(seed);
    let corpus = seeds();
    let tokens = [SecretString::from("tok".to_string())];
    let mut parsed = 0u64;
    for case in 0..cases {
        let mut body = corpus[rng.gen_range(0..corpus.len())].clone();
        for _ in 0..rng.gen_range(1..6) {
            mutate(&mut rng, &mut body);
        }
        let outcome = catch_unwind(AssertUnwindSafe(|| exercise(&body, &tokens)));
        assert!(
            outcome.is_ok(),
            "case {case} (FUZZ_SEED={seed}) panicked on {:?}",
            String::from_utf8_lossy(&body)
        );
        if Unverified::parse(&body).is_ok() {
            parsed += 1;
        }
    }
    eprintln!("envelope fuzz: seed {seed}, {cases} cases, {parsed} still parsed and were folded");
}

#[test]
fn mutated_configurations_are_refused_with_an_error_never_a_panic() {
    let seed = setting("FUZZ_SEED", 11);
    let cases = setting("FUZZ_CASES", 20_000) / 20;
    let mut rng = StdRng::seed_from_u64(seed);
    let example = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("config/example.toml"),
    )
    .unwrap();
    let lines: Vec<&str> = example.lines().collect();
    let mut loaded = 0u64;
    for case in 0..cases {
        // Line-level changes keep most of the file valid TOML, so the checks behind the
        // parser are reached; byte-level ones test the parser itself.
        let mut text: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
        for _ in 0..rng.gen_range(1..4) {
            let i = rng.gen_range(0..text.len());
            match rng.gen_range(0..4) {
                0 => {
                    text.remove(i);
                }
                1 => {
                    let j = rng.gen_range(0..text.len());
                    text.swap(i, j);
                }
                2 => {
                    let line = text[i].clone();
                    text.insert(i, line);
                }
                _ => {
                    let mut bytes = text[i].clone().into_bytes();
                    mutate(&mut rng, &mut bytes);
                    text[i] = String::from_utf8_lossy(&bytes).into_owned();
                }
            }
        }
        let toml = text.join("\n");
        let outcome = catch_unwind(AssertUnwindSafe(|| {
            Settings::load_from(
                Source::Text {
                    name: "fuzzed.toml",
                    toml: &toml,
                },
                Vec::<(String, String)>::new(),
            )
            .is_ok()
        }));
        match outcome {
            Ok(true) => loaded += 1,
            Ok(false) => {}
            Err(_) => panic!("case {case} (FUZZ_SEED={seed}) panicked on:\n{toml}"),
        }
    }
    eprintln!("config fuzz: seed {seed}, {cases} cases, {loaded} still loaded");
}

/// The seed corpus of the cargo-fuzz targets (`fuzz/corpus/`): every fixture envelope, as
/// `seeds()` makes it, and config/example.toml. Kept equal to the fixtures by this test;
/// `FUZZ_SEEDS_UPDATE=1` rewrites it after a fixture changes.
#[test]
fn the_cargo_fuzz_corpus_is_seeded_from_the_fixtures() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut want: Vec<(std::path::PathBuf, Vec<u8>)> = Vec::new();
    let mut fixtures: Vec<_> = std::fs::read_dir(fixtures_dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    fixtures.sort();
    for path in fixtures {
        let list: Vec<serde_json::Value> =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        for (i, mut v) in list.into_iter().enumerate() {
            v["token"] = "tok".into();
            let name = format!("{stem}-{i:02}.json");
            want.push((
                root.join("fuzz/corpus/envelope").join(name),
                v.to_string().into_bytes(),
            ));
        }
    }
    want.push((
        root.join("fuzz/corpus/config/example.toml"),
        std::fs::read(root.join("config/example.toml")).unwrap(),
    ));
    if std::env::var_os("FUZZ_SEEDS_UPDATE").is_some() {
        for dir in ["fuzz/corpus/envelope", "fuzz/corpus/config"] {
            let _ = std::fs::remove_dir_all(root.join(dir));
            std::fs::create_dir_all(root.join(dir)).unwrap();
        }
        for (path, bytes) in &want {
            std::fs::write(path, bytes).unwrap();
        }
    }
    let mut have: Vec<std::path::PathBuf> = ["fuzz/corpus/envelope", "fuzz/corpus/config"]
        .iter()
        .flat_map(|d| std::fs::read_dir(root.join(d)).unwrap())
        .map(|e| e.unwrap().path())
        .collect();
    have.sort();
    let mut names: Vec<std::path::PathBuf> = want.iter().map(|(p, _)| p.clone()).collect();
    names.sort();
    assert_eq!(
        have, names,
        "run with FUZZ_SEEDS_UPDATE=1 to reseed fuzz/corpus/"
    );
    for (path, bytes) in &want {
        assert!(
            std::fs::read(path).unwrap() == *bytes,
            "{} differs from its fixture: run with FUZZ_SEEDS_UPDATE=1",
            path.display()
        );
    }
}
