//! One console import, start to end, off the request: settle format, encoding and column
//! mapping, then hand the file to the vault's two-pass import and record its progress.

use std::path::Path;
use std::sync::Arc;

use tutela_core::policy::Principal;
use tutela_core::vault::import::ImportOptions;
use tutela_core::{CoreError, Tutela};
use tutela_import::{ColumnMapping, Encoding, FileFormat, ImportReader, Preset, detect_preset};
use tutela_store::FieldDef;

use super::import_headers::header_row;
use super::import_jobs::{ImportJob, JobState};

/// What the user chose on the form.
#[derive(Debug, Clone)]
pub struct ImportRequest {
    pub file_name: String,
    pub bytes: Arc<Vec<u8>>,
    /// `auto`, `fields` (headers named like the schema's fields) or a preset id.
    pub preset: String,
    pub encoding: Encoding,
    /// `field=Header` lines; when given, they are the mapping.
    pub mapping: String,
    pub skip_bad: bool,
}

fn failed(field: &str, message: impl Into<String>) -> JobState {
    JobState::Failed { field: Some(field.to_owned()), message: message.into() }
}

/// Maps each header that is a field's id or label (English or Chinese) to that field.
fn mapping_by_field_names(headers: &[String], fields: &[FieldDef]) -> ColumnMapping {
    let mut mapping = ColumnMapping::new();
    let mut used: Vec<&str> = Vec::new();
    for header in headers {
        let h = header.trim();
        let found = fields.iter().find(|f| {
            !used.contains(&f.id.as_str())
                && (f.id.eq_ignore_ascii_case(h) || f.label_en.eq_ignore_ascii_case(h) || f.label_zh == h)
        });
        if let Some(f) = found {
            used.push(&f.id);
            mapping = mapping.map(&f.id, header);
        }
    }
    mapping
}

async fn settle_mapping(
    req: &ImportRequest,
    format: FileFormat,
    fields: &[FieldDef],
) -> Result<ColumnMapping, JobState> {
    if !req.mapping.trim().is_empty() {
        return ColumnMapping::parse_pairs(std::slice::from_ref(&req.mapping))
            .map_err(|e| failed("mapping", e.to_string()));
    }
    if let Some(preset) = Preset::from_id(&req.preset) {
        return Ok(preset.mapping());
    }
    let bytes = req.bytes.clone();
    let encoding = req.encoding;
    let headers = tokio::task::spawn_blocking(move || header_row(&bytes, format, encoding))
        .await
        .map_err(|e| failed("file", e.to_string()))?
        .map_err(|e| failed("file", e.to_string()))?;
    if req.preset == "auto"
        && let Some(preset) = detect_preset(&headers)
    {
        return Ok(preset.mapping());
    }
    let mapping = mapping_by_field_names(&headers, fields);
    if mapping.is_empty() {
        return Err(failed(
            "preset",
            format!("no column matches a known export or a field name; columns found: {}", headers.join(", ")),
        ));
    }
    Ok(mapping)
}

pub async fn run(tutela: Arc<Tutela>, principal: Principal, req: ImportRequest, job: Arc<ImportJob>) {
    let state = match prepare_and_import(&tutela, &principal, &req, &job).await {
        Ok(state) | Err(state) => state,
    };
    job.set(state);
}

async fn prepare_and_import(
    tutela: &Tutela,
    principal: &Principal,
    req: &ImportRequest,
    job: &ImportJob,
) -> Result<JobState, JobState> {
    let head = &req.bytes[..req.bytes.len().min(8)];
    let format =
        FileFormat::detect(Some(Path::new(&req.file_name)), head).map_err(|e| failed("file", e.to_string()))?;
    let fields = tutela.fields().await.map_err(|e| core_failure(&e))?;
    let mapping = settle_mapping(req, format, &fields).await?;
    let bytes = req.bytes.clone();
    let encoding = req.encoding;
    let open = move || ImportReader::from_bytes(bytes.as_ref().clone(), format, encoding, &mapping);
    let options = ImportOptions { skip_bad: req.skip_bad };
    match tutela.import_customers(principal, open, options, |p| job.set(JobState::Running(p))).await {
        Ok(report) => Ok(JobState::Done(report)),
        Err(e) => Err(core_failure(&e)),
    }
}

fn core_failure(e: &CoreError) -> JobState {
    match e {
        CoreError::Invalid { field, message } => failed(field, message.clone()),
        CoreError::Internal(m) => {
            tracing::error!(error = %m, "console import failed");
            JobState::Failed { field: None, message: "an internal error occurred; it has been logged".into() }
        }
        other => JobState::Failed { field: None, message: other.to_string() },
    }
}

#[cfg(test)]
mod tests {
    use tutela_store::{Classification, FieldKind};

    use super::*;

    #[test]
    fn headers_named_like_fields_map_to_them() {
        let field = |id: &str, en: &str, zh: &str| FieldDef {
            id: id.into(),
            label_en: en.into(),
            label_zh: zh.into(),
            kind: FieldKind::Text,
            classification: Classification::Internal,
            required: false,
            position: 0,
        };
        let fields = [field("name", "Name", "姓名"), field("phone", "Phone", "电话")];
        let headers: Vec<String> = ["姓名", "PHONE", "Other"].map(String::from).to_vec();
        let mapping = mapping_by_field_names(&headers, &fields);
        assert_eq!(mapping.fields().collect::<Vec<_>>(), ["name", "phone"]);
    }
}
