//! The compact binary layout of a record's sealed fields in one column.
//!
//! One blob per record instead of a row per field keeps bulk imports to one row per
//! customer. Layout: `u16 count`, then per field `u8 id length, id bytes, u32 length,
//! ciphertext`, all big-endian. The ciphertexts themselves carry their own format byte.

use std::collections::BTreeMap;

use crate::StoreError;

pub type SealedFields = BTreeMap<String, Vec<u8>>;

pub fn encode(fields: &SealedFields) -> Vec<u8> {
    let size = 2 + fields.iter().map(|(k, v)| 5 + k.len() + v.len()).sum::<usize>();
    let mut out = Vec::with_capacity(size);
    let count = u16::try_from(fields.len()).expect("a schema has far fewer than 65536 fields");
    out.extend_from_slice(&count.to_be_bytes());
    for (id, ciphertext) in fields {
        let id_len = u8::try_from(id.len()).expect("field ids are at most 64 bytes");
        out.push(id_len);
        out.extend_from_slice(id.as_bytes());
        let ct_len = u32::try_from(ciphertext.len()).expect("a sealed field is far below 4 GiB");
        out.extend_from_slice(&ct_len.to_be_bytes());
        out.extend_from_slice(ciphertext);
    }
    out
}

pub fn decode(mut bytes: &[u8]) -> Result<SealedFields, StoreError> {
    let corrupt = |what: &str| StoreError::Corrupt(format!("sealed fields: {what}"));
    let mut take = |n: usize| -> Result<&[u8], StoreError> {
        if bytes.len() < n {
            return Err(corrupt("truncated"));
        }
        let (head, rest) = bytes.split_at(n);
        bytes = rest;
        Ok(head)
    };
    let count = u16::from_be_bytes(take(2)?.try_into().expect("two bytes"));
    let mut fields = BTreeMap::new();
    for _ in 0..count {
        let id_len = take(1)?[0] as usize;
        let id = std::str::from_utf8(take(id_len)?).map_err(|_| corrupt("field id not UTF-8"))?;
        let id = id.to_owned();
        let ct_len = u32::from_be_bytes(take(4)?.try_into().expect("four bytes")) as usize;
        fields.insert(id, take(ct_len)?.to_vec());
    }
    if !bytes.is_empty() {
        return Err(corrupt("trailing bytes"));
    }
    Ok(fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let mut f = SealedFields::new();
        f.insert("email".into(), vec![1, 2, 3]);
        f.insert("national_id".into(), vec![]);
        assert_eq!(decode(&encode(&f)).unwrap(), f);
        assert_eq!(decode(&encode(&SealedFields::new())).unwrap(), SealedFields::new());
    }

    #[test]
    fn rejects_truncated_and_trailing() {
        let mut f = SealedFields::new();
        f.insert("phone".into(), vec![9; 40]);
        let bytes = encode(&f);
        for cut in 0..bytes.len() {
            assert!(decode(&bytes[..cut]).is_err(), "cut at {cut}");
        }
        let mut longer = bytes.clone();
        longer.push(0);
        assert!(decode(&longer).is_err());
    }
}
