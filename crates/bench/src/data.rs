//! Synthetic customers: ten fields, deterministic from the customer's number, with valid
//! e-mail addresses, mainland mobile numbers and 18-digit resident IDs (GB 11643 check digit).

use std::io::{BufWriter, Write as _};
use std::path::Path;

use tutela_import::ColumnMapping;

/// The ten fields, in CSV column order. The first seven are plaintext (internal), the last
/// three sealed and blind-indexed.
pub const FIELDS: [&str; 10] =
    ["name", "company", "title", "region", "source", "annual_revenue", "industry", "email", "phone", "national_id"];

/// The sealed ones.
pub const SEALED: [&str; 3] = ["email", "phone", "national_id"];

const REGIONS: [&str; 6] = ["北京", "上海", "广州", "深圳", "杭州", "成都"];
const TITLES: [&str; 5] = ["采购经理", "Sales Director", "财务总监", "CTO", "运营专员"];
const SOURCES: [&str; 4] = ["Zoho CRM", "纷享销客", "trade fair", "website"];
const INDUSTRIES: [&str; 5] = ["manufacturing", "retail", "金融", "logistics", "教育"];
/// Administrative division codes (the first six digits of a resident ID).
const DIVISIONS: [u32; 6] = [110_105, 310_115, 440_106, 440_305, 330_106, 510_107];

/// Customer `i`'s values, in [`FIELDS`] order.
pub fn customer(i: u64) -> [String; 10] {
    let pick =
        |list: &[&str], salt: u64| list[usize::try_from((i / 7 + salt) % list.len() as u64).unwrap_or(0)].to_owned();
    [
        format!("Customer {i}"),
        format!("Company {} Ltd", i % 50_000),
        pick(&TITLES, 1),
        pick(&REGIONS, 2),
        pick(&SOURCES, 3),
        format!("{}", (i * 7919) % 10_000_000),
        pick(&INDUSTRIES, 4),
        email(i),
        format!("13{:09}", i % 1_000_000_000),
        resident_id(i),
    ]
}

pub fn email(i: u64) -> String {
    format!("customer{i}@example.com")
}

/// The number of a customer from its name (`Customer {i}`).
pub fn number_of(name: &str) -> Option<u64> {
    name.strip_prefix("Customer ")?.parse().ok()
}

/// A valid, unique (for i below 36 million) 18-character resident ID for customer `i`.
pub fn resident_id(i: u64) -> String {
    const WEIGHTS: [u32; 17] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
    const CHECK: [char; 11] = ['1', '0', 'X', '9', '8', '7', '6', '5', '4', '3', '2'];
    let division = DIVISIONS[usize::try_from(i % DIVISIONS.len() as u64).unwrap_or(0)];
    let n = i / DIVISIONS.len() as u64;
    // A birth date from 1950-01-01 on, one day per thousand customers of a division.
    let day = i64::try_from(n / 1000).unwrap_or(0) % 20_000;
    let birth = time::Date::from_calendar_date(1950, time::Month::January, 1).expect("a valid date")
        + time::Duration::days(day);
    let sequence = n % 1000;
    let body = format!("{division:06}{:04}{:02}{:02}{sequence:03}", birth.year(), u8::from(birth.month()), birth.day());
    let sum: u32 = body.chars().zip(WEIGHTS).map(|(c, w)| c.to_digit(10).unwrap_or(0) * w).sum();
    let mut id = body;
    id.push(CHECK[(sum % 11) as usize]);
    id
}

/// Writes customers `from..to` as a UTF-8 CSV whose headers are the field ids; returns its size.
pub fn write_csv(path: &Path, from: u64, to: u64) -> anyhow::Result<u64> {
    let mut out = BufWriter::with_capacity(1 << 20, std::fs::File::create(path)?);
    writeln!(out, "{}", FIELDS.join(","))?;
    for i in from..to {
        let row = customer(i);
        // No generated value holds a comma, a quote or a line break.
        writeln!(out, "{}", row.join(","))?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

/// Each field from the column of the same name.
pub fn mapping() -> ColumnMapping {
    FIELDS.iter().fold(ColumnMapping::new(), |m, f| m.map(f, f))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resident_ids_are_valid_and_distinct() {
        let ids: std::collections::HashSet<String> = (0..200_000).map(resident_id).collect();
        assert_eq!(ids.len(), 200_000);
        assert_eq!(resident_id(0).len(), 18);
        assert_eq!(
            tutela_core::vault::values::validate(
                "national_id",
                tutela_store::FieldKind::NationalId,
                &resident_id(12345)
            )
            .unwrap(),
            resident_id(12345)
        );
    }

    #[test]
    fn names_give_back_the_number() {
        assert_eq!(number_of(&customer(42)[0]), Some(42));
    }
}
