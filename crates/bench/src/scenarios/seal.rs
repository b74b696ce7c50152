//! `seal`: the per-field cryptography, one thread, beside a plain copy of the same bytes.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash as _, Hasher as _};
use std::hint::black_box;
use std::time::Instant;

use tutela_crypto::keyring::Keyring;
use tutela_crypto::secret::SecretKey;

use crate::Options;
use crate::report::{Better, Report, Row, number};

/// Nanoseconds per call of `f`, over `iterations` calls.
fn time_ns(iterations: u64, mut f: impl FnMut(u64)) -> f64 {
    // A short warm-up, then the timed loop.
    for i in 0..iterations / 10 {
        f(i);
    }
    let start = Instant::now();
    for i in 0..iterations {
        f(i);
    }
    start.elapsed().as_nanos() as f64 / iterations as f64
}

pub fn run(opts: &Options) -> anyhow::Result<Report> {
    let iterations = opts.iterations;
    let mut report = Report::new("seal", "field cryptography, one thread (µs per operation)");
    report.setting("iterations", &number(iterations as f64));
    let keyring = Keyring::new(vec![(1, SecretKey::generate())], SecretKey::generate())?;
    let record = *uuid::Uuid::now_v7().as_bytes();
    let (dek, wrapped) = keyring.new_data_key(&record);
    let field: &[u8] = b"customer1234567@example.com.cn"; // 30 bytes
    assert_eq!(field.len(), 30);
    let text = std::str::from_utf8(field)?;
    let sealed = dek.seal_field(&record, "email", field);

    let copy = time_ns(iterations, |_| {
        black_box(black_box(field).to_vec());
    });
    let seal = time_ns(iterations, |_| {
        black_box(dek.seal_field(black_box(&record), "email", black_box(field)));
    });
    let open = time_ns(iterations, |_| {
        black_box(dek.open_field(black_box(&record), "email", black_box(&sealed)).expect("opens"));
    });
    let blind = time_ns(iterations, |_| {
        black_box(keyring.blind_indexer().index("email", black_box(text)));
    });
    let siphash = time_ns(iterations, |_| {
        let mut h = DefaultHasher::new();
        "email".hash(&mut h);
        black_box(text).hash(&mut h);
        black_box(h.finish());
    });
    let key_copy = time_ns(iterations, |_| {
        black_box(black_box(&wrapped.bytes).clone());
    });
    let unwrap = time_ns(iterations, |_| {
        black_box(keyring.unwrap_data_key(black_box(&record), black_box(&wrapped)).expect("unwraps"));
    });
    let new_key = time_ns(iterations, |_| {
        black_box(keyring.new_data_key(black_box(&record)));
    });

    let us = |ns: f64| ns / 1000.0;
    let rows = [
        ("AES-256-GCM seal of a 30-byte field (`DataKey::seal_field`) vs copy", seal, copy),
        ("AES-256-GCM open of it (`DataKey::open_field`) vs copy", open, copy),
        ("blind index HMAC-SHA-256 (`BlindIndexer::index`) vs copy", blind, copy),
        ("blind index HMAC-SHA-256 vs SipHash of the same value", blind, siphash),
        ("unwrap a record's data key (`Keyring::unwrap_data_key`) vs copy of the wrapped key", unwrap, key_copy),
        ("new data key + wrap (`Keyring::new_data_key`) vs copy of a wrapped key", new_key, key_copy),
    ];
    for (what, protected, plain) in rows {
        report.rows.push(Row::new(what, "µs/op", us(protected), us(plain), Better::Lower));
    }
    report.note(
        "Each seal and open builds a fresh AES key schedule (`aead::cipher` makes a `LessSafeKey` per call), and \
         every seal draws a 12-byte random nonce from the system generator; both are inside the figures above.",
    );
    Ok(report)
}
