//! Export of customers to CSV or JSON lines, as the caller may see them: sealed fields in
//! plaintext only where the caller may reveal them and has stated a purpose, masked elsewhere.
//! The export is audited before the first byte is written.

use std::io::Write;

use serde::Serialize;
use tutela_store::{CustomerQuery, SortKey};

use super::SealedRecord;
use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

const PAGE: u32 = 500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    Csv,
    JsonLines,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExportReport {
    pub rows: u64,
    /// Sealed fields exported in plaintext.
    pub revealed: Vec<String>,
}

impl Tutela {
    pub async fn export_customers(
        &self,
        principal: &Principal,
        format: ExportFormat,
        purpose: Option<&str>,
        out: &mut (dyn Write + Send),
    ) -> CoreResult<ExportReport> {
        self.require(principal, Permission::CustomerExport, "customer.export").await?;
        let schema = self.schema().await?;
        let purpose = purpose.map(str::trim).filter(|p| !p.is_empty());
        if purpose.is_some_and(|p| p.chars().count() > 500) {
            return Err(CoreError::invalid("purpose", "state the purpose in at most 500 characters"));
        }
        let revealed: Vec<String> = schema
            .fields()
            .iter()
            .filter(|f| f.classification.is_sealed() && purpose.is_some() && principal.can_reveal(f.classification))
            .map(|f| f.id.clone())
            .collect();
        let mut event = AuditEvent::by(principal, "customer.export").fields(revealed.clone());
        if let Some(p) = purpose {
            event = event.purpose(p);
        }
        self.audit.record(event).await?;

        let ids: Vec<String> = std::iter::once("id".to_owned()).chain(schema.fields().iter().map(|f| f.id.clone())).collect();
        let mut sink = match format {
            ExportFormat::Csv => {
                let mut w = csv::Writer::from_writer(out);
                w.write_record(&ids).map_err(io)?;
                Sink::Csv(w)
            }
            ExportFormat::JsonLines => Sink::Json(out),
        };
        let mut rows = 0_u64;
        let mut after = None;
        loop {
            let query = CustomerQuery { sort: SortKey::default(), after: after.take(), limit: PAGE, ..Default::default() };
            let page = self.store.customers_query(&query).await?;
            let Some(last) = page.last() else { break };
            after = Some((String::new(), last.id));
            for row in page {
                let id = row.id;
                let record = SealedRecord::open(&self.keys, row).await?;
                let masked = record.masked_view(&schema)?;
                let mut values = vec![id.to_string()];
                for def in schema.fields() {
                    let value = if revealed.contains(&def.id) {
                        record.plaintext(&def.id)?.unwrap_or_default()
                    } else {
                        masked.get(&def.id).unwrap_or_default().to_owned()
                    };
                    values.push(value);
                }
                match &mut sink {
                    Sink::Csv(w) => w.write_record(values.iter().map(|v| neutralise_formula(v).into_owned())).map_err(io)?,
                    Sink::Json(out) => {
                        let object: serde_json::Map<String, serde_json::Value> =
                            ids.iter().cloned().zip(values.into_iter().map(serde_json::Value::String)).collect();
                        serde_json::to_writer(&mut **out, &object).map_err(io)?;
                        out.write_all(b"\n").map_err(io)?;
                    }
                }
                rows += 1;
            }
        }
        match &mut sink {
            Sink::Csv(w) => w.flush().map_err(io)?,
            Sink::Json(out) => out.flush().map_err(io)?,
        }
        Ok(ExportReport { rows, revealed })
    }
}

enum Sink<'a> {
    Csv(csv::Writer<&'a mut (dyn Write + Send)>),
    Json(&'a mut (dyn Write + Send)),
}

fn io(e: impl std::fmt::Display) -> CoreError {
    CoreError::Internal(format!("writing the export: {e}"))
}

/// A cell starting with = + - @ would run as a formula in a spreadsheet (CSV injection):
/// prefix it with an apostrophe, which spreadsheets show as text.
fn neutralise_formula(value: &str) -> std::borrow::Cow<'_, str> {
    if value.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        std::borrow::Cow::Owned(format!("'{value}"))
    } else {
        std::borrow::Cow::Borrowed(value)
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn formulas_are_neutralised() {
        assert_eq!(super::neutralise_formula("=1+1"), "'=1+1");
        assert_eq!(super::neutralise_formula("+86 138"), "'+86 138");
        assert_eq!(super::neutralise_formula("张三"), "张三");
    }
}
