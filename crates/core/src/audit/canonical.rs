//! The canonical byte encoding of an audit event, the input of its chain hash.
//!
//! Hand-written rather than serde: the encoding must never change with a library version,
//! and length prefixes make it unambiguous (no two different events encode alike).

use tutela_store::AuditRecord;
use uuid::Uuid;

const TAG: &[u8] = b"tutela-audit-v1";

/// Encodes every column but the hash itself into `out` (cleared first, so a caller can
/// reuse one buffer across millions of events).
pub fn encode_into(r: &AuditRecord, out: &mut Vec<u8>) {
    out.clear();
    out.extend_from_slice(TAG);
    out.extend_from_slice(&r.seq.to_be_bytes());
    let micros = r.at.unix_timestamp_nanos() / 1000;
    out.extend_from_slice(&micros.to_be_bytes());
    put_uuid(out, r.actor_id);
    put_str(out, &r.actor);
    put_str(out, &r.action);
    put_str(out, &r.outcome);
    put_uuid(out, r.customer_id);
    out.extend_from_slice(&u32::try_from(r.fields.len()).unwrap_or(u32::MAX).to_be_bytes());
    for f in &r.fields {
        put_str(out, f);
    }
    put_opt(out, r.purpose.as_deref());
    put_opt(out, r.source.as_deref());
    put_opt(out, r.detail.as_deref());
}

fn put_str(out: &mut Vec<u8>, s: &str) {
    out.extend_from_slice(&u32::try_from(s.len()).unwrap_or(u32::MAX).to_be_bytes());
    out.extend_from_slice(s.as_bytes());
}

fn put_opt(out: &mut Vec<u8>, s: Option<&str>) {
    match s {
        None => out.push(0),
        Some(s) => {
            out.push(1);
            put_str(out, s);
        }
    }
}

fn put_uuid(out: &mut Vec<u8>, id: Option<Uuid>) {
    match id {
        None => out.push(0),
        Some(id) => {
            out.push(1);
            out.extend_from_slice(id.as_bytes());
        }
    }
}

/// The message a checkpoint signs.
pub fn checkpoint_message(seq: i64, hash: &[u8; 32], at_micros: i128) -> Vec<u8> {
    let mut m = Vec::with_capacity(80);
    m.extend_from_slice(b"tutela-audit-checkpoint-v1");
    m.extend_from_slice(&seq.to_be_bytes());
    m.extend_from_slice(hash);
    m.extend_from_slice(&at_micros.to_be_bytes());
    m
}

#[cfg(test)]
mod tests {
    use super::*;
    use time::macros::datetime;

    type Change = Box<dyn Fn(&mut AuditRecord)>;

    fn record() -> AuditRecord {
        AuditRecord {
            seq: 7,
            at: datetime!(2026-11-29 06:00:00 UTC),
            actor_id: Some(Uuid::nil()),
            actor: "a@example.com".into(),
            action: "customer.read".into(),
            outcome: "ok".into(),
            customer_id: None,
            fields: vec!["email".into()],
            purpose: None,
            source: Some("127.0.0.1".into()),
            detail: None,
            hash: [0; 32],
        }
    }

    #[test]
    fn every_column_changes_the_encoding() {
        let mut base = Vec::new();
        encode_into(&record(), &mut base);
        let variants: Vec<Change> = vec![
            Box::new(|r| r.seq = 8),
            Box::new(|r| r.at += time::Duration::microseconds(1)),
            Box::new(|r| r.actor_id = None),
            Box::new(|r| r.actor.push('x')),
            Box::new(|r| r.action = "customer.reveal".into()),
            Box::new(|r| r.outcome = "denied".into()),
            Box::new(|r| r.customer_id = Some(Uuid::nil())),
            Box::new(|r| r.fields.push("phone".into())),
            Box::new(|r| r.purpose = Some(String::new())),
            Box::new(|r| r.source = None),
            Box::new(|r| r.detail = Some("{}".into())),
        ];
        for (i, change) in variants.iter().enumerate() {
            let mut r = record();
            change(&mut r);
            let mut other = Vec::new();
            encode_into(&r, &mut other);
            assert_ne!(base, other, "variant {i} encodes like the original");
        }
    }

    #[test]
    fn field_boundaries_are_unambiguous() {
        let mut a = record();
        a.fields = vec!["ab".into(), "c".into()];
        let mut b = record();
        b.fields = vec!["a".into(), "bc".into()];
        let (mut ea, mut eb) = (Vec::new(), Vec::new());
        encode_into(&a, &mut ea);
        encode_into(&b, &mut eb);
        assert_ne!(ea, eb);
    }
}
