//! Times as the console shows them: UTC for now (the user's time zone comes later), with the
//! exact RFC 3339 value in `<time datetime>` for machines and tooltips.

use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

#[derive(Debug, Clone)]
pub struct Stamp {
    pub rfc3339: String,
    pub shown: String,
}

impl Stamp {
    pub fn of(t: OffsetDateTime) -> Self {
        let t = t.to_offset(UtcOffset::UTC);
        let rfc3339 = t.format(&Rfc3339).unwrap_or_default();
        let shown = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02} UTC",
            t.year(),
            u8::from(t.month()),
            t.day(),
            t.hour(),
            t.minute(),
            t.second()
        );
        Self { rfc3339, shown }
    }
}
