//! Turning xlsx cell values into the text a person saw in Excel.
//!
//! Customer sheets store phone numbers, IDs and dates as numbers; the vault
//! stores text. Whole numbers therefore lose Excel's internal ".0" and are
//! never written in scientific notation (a phone number 13800138000 must not
//! become "1.38e10"), and date cells become ISO 8601.

use calamine::{DataRef, ExcelDateTime};

/// Text of a cell: `Ok(None)` for an empty cell, `Err` for an Excel error
/// value such as `#N/A` (with the error's text).
pub(crate) fn cell_text(value: &DataRef<'_>) -> Result<Option<String>, String> {
    let text = match value {
        DataRef::Empty => return Ok(None),
        DataRef::String(s) | DataRef::DurationIso(s) => s.clone(),
        DataRef::SharedString(s) => (*s).to_owned(),
        DataRef::DateTimeIso(s) => s.strip_suffix("T00:00:00").unwrap_or(s).to_owned(),
        DataRef::Int(i) => i.to_string(),
        DataRef::Float(f) => number_text(*f),
        DataRef::Bool(b) => if *b { "TRUE" } else { "FALSE" }.to_owned(),
        DataRef::DateTime(dt) => date_time_text(dt),
        DataRef::Error(e) => return Err(e.to_string()),
    };
    Ok((!text.is_empty()).then_some(text))
}

/// Whole numbers without a fraction or exponent; others in the shortest
/// form that reads back to the same number (Rust never uses an exponent in
/// `Display` for `f64`).
pub(crate) fn number_text(value: f64) -> String {
    if value == 0.0 {
        "0".to_owned()
    } else if value.is_finite() && value.fract() == 0.0 {
        format!("{value:.0}")
    } else {
        value.to_string()
    }
}

/// First serial day after Excel's last date (10000-01-01 in the 1900 system).
const SERIAL_LIMIT: f64 = 2_958_466.0;

/// `YYYY-MM-DD`, `YYYY-MM-DDTHH:MM:SS` when there is a time of day, `HH:MM:SS`
/// for a time alone; durations as `[h]:mm:ss`. Serials outside Excel's date
/// range are kept as plain numbers rather than invented dates.
fn date_time_text(value: &ExcelDateTime) -> String {
    let serial = value.as_f64();
    if !(0.0..SERIAL_LIMIT).contains(&serial) {
        return number_text(serial);
    }
    if value.is_duration() {
        return duration_text(serial);
    }
    let (year, month, day, hour, minute, second, _) = value.to_ymd_hms_milli();
    let has_time = (hour, minute, second) != (0, 0, 0);
    if serial < 1.0 {
        format!("{hour:02}:{minute:02}:{second:02}")
    } else if has_time {
        format!("{year:04}-{month:02}-{day:02}T{hour:02}:{minute:02}:{second:02}")
    } else {
        format!("{year:04}-{month:02}-{day:02}")
    }
}

fn duration_text(days: f64) -> String {
    // Bounded by SERIAL_LIMIT, so the product fits an integer comfortably.
    let total_seconds = (days * 86_400.0).round();
    let hours = (total_seconds / 3600.0).floor();
    let minutes = ((total_seconds - hours * 3600.0) / 60.0).floor();
    let seconds = total_seconds - hours * 3600.0 - minutes * 60.0;
    format!("{hours:.0}:{minutes:02.0}:{seconds:02.0}")
}

#[cfg(test)]
mod tests {
    use calamine::ExcelDateTimeType;

    use super::*;

    fn date(serial: f64) -> String {
        date_time_text(&ExcelDateTime::new(serial, ExcelDateTimeType::DateTime, false))
    }

    #[test]
    fn whole_numbers_have_no_fraction_or_exponent() {
        assert_eq!(number_text(13_800_138_000.0), "13800138000");
        assert_eq!(number_text(-0.0), "0");
        assert_eq!(number_text(1.5), "1.5");
        assert_eq!(number_text(1e21), "1000000000000000000000");
        assert_eq!(number_text(0.000_001_5), "0.0000015");
    }

    #[test]
    fn dates_are_iso() {
        assert_eq!(date(45_658.0), "2025-01-01");
        assert_eq!(date(45_658.5), "2025-01-01T12:00:00");
        assert_eq!(date(0.75), "18:00:00");
        assert_eq!(date(-1.0), "-1");
        assert!(!date(1e300).contains('e'));
        assert_eq!(date(f64::NAN), "NaN");
    }

    #[test]
    fn durations_count_hours() {
        let value = ExcelDateTime::new(1.5, ExcelDateTimeType::TimeDelta, false);
        assert_eq!(date_time_text(&value), "36:00:00");
    }

    #[test]
    fn cell_kinds() {
        assert_eq!(cell_text(&DataRef::Empty), Ok(None));
        assert_eq!(cell_text(&DataRef::SharedString("")), Ok(None));
        assert_eq!(cell_text(&DataRef::Int(42)), Ok(Some("42".to_owned())));
        assert_eq!(cell_text(&DataRef::Bool(true)), Ok(Some("TRUE".to_owned())));
        assert_eq!(
            cell_text(&DataRef::DateTimeIso("2024-03-05T00:00:00".to_owned())),
            Ok(Some("2024-03-05".to_owned()))
        );
        assert_eq!(cell_text(&DataRef::Error(calamine::CellErrorType::NA)), Err("#N/A".to_owned()));
    }
}
