//! The customer schema: which fields exist, their type and classification.

use tutela_store::{Classification, FieldDef, FieldKind, Mutation};

use crate::audit::AuditEvent;
use crate::policy::{Permission, Principal};
use crate::{CoreError, CoreResult, Tutela};

/// The schema a new installation starts with; administrators change it freely.
pub fn default_fields() -> Vec<FieldDef> {
    use Classification::{Confidential, Internal, Restricted};
    use FieldKind::{Address, BankAccount, Date, Email, NationalId, Notes, Number, Phone, Text};
    let rows: [(&str, &str, &str, FieldKind, Classification); 14] = [
        ("name", "Name", "姓名", Text, Internal),
        ("company", "Company", "公司", Text, Internal),
        ("title", "Title", "职务", Text, Internal),
        ("region", "Region", "地区", Text, Internal),
        ("source", "Source", "来源", Text, Internal),
        ("annual_revenue", "Annual revenue", "年收入", Number, Internal),
        ("email", "E-mail", "电子邮箱", Email, Confidential),
        ("phone", "Phone", "电话", Phone, Confidential),
        ("mobile", "Mobile", "手机", Phone, Confidential),
        ("address", "Address", "地址", Address, Confidential),
        ("birth_date", "Date of birth", "出生日期", Date, Confidential),
        ("notes", "Notes", "备注", Notes, Confidential),
        ("national_id", "National ID", "身份证号", NationalId, Restricted),
        ("bank_account", "Bank account", "银行账号", BankAccount, Restricted),
    ];
    rows.into_iter()
        .zip(0..)
        .map(|((id, en, zh, kind, classification), position)| FieldDef {
            id: id.into(),
            label_en: en.into(),
            label_zh: zh.into(),
            kind,
            classification,
            required: id == "name",
            position: position * 10,
        })
        .collect()
}

/// Field ids are bound into ciphertexts and JSON paths: keep them plain identifiers.
pub fn validate_field_id(id: &str) -> CoreResult<()> {
    let ok = (1..=64).contains(&id.len())
        && id.starts_with(|c: char| c.is_ascii_lowercase())
        && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
    if ok {
        Ok(())
    } else {
        Err(CoreError::invalid(
            "id",
            "a field id is 1 to 64 characters: a lowercase letter, then lowercase letters, digits or _",
        ))
    }
}

fn validate_label(name: &str, label: &str) -> CoreResult<()> {
    if label.trim().is_empty() || label.chars().count() > 100 || label.chars().any(char::is_control) {
        return Err(CoreError::invalid(name, "a label is 1 to 100 printable characters"));
    }
    Ok(())
}

impl Tutela {
    pub async fn fields(&self) -> CoreResult<Vec<FieldDef>> {
        Ok(self.store.fields_list().await?)
    }

    /// Adds or changes a field. Moving a field between plaintext and sealed storage would
    /// need its stored values re-encoded, so that change is refused once customers exist.
    pub async fn put_field(&self, principal: &Principal, field: FieldDef) -> CoreResult<FieldDef> {
        self.require(principal, Permission::SchemaManage, "schema.put_field").await?;
        validate_field_id(&field.id)?;
        validate_label("label_en", &field.label_en)?;
        validate_label("label_zh", &field.label_zh)?;
        let existing = self.store.fields_list().await?.into_iter().find(|f| f.id == field.id);
        if let Some(old) = &existing {
            let storage_changes = old.classification.is_sealed() != field.classification.is_sealed();
            if (storage_changes || old.kind != field.kind)
                && self.store.customers_count(&tutela_store::RowScope::All).await? > 0
            {
                return Err(CoreError::invalid(
                    "classification",
                    format!(
                        "field {} already holds customer data: its type and whether it is sealed cannot change",
                        field.id
                    ),
                ));
            }
        }
        let action = if existing.is_some() { "schema.update_field" } else { "schema.create_field" };
        let event = AuditEvent::by(principal, action).fields([field.id.clone()]).detail(&field);
        self.audit.commit(vec![Mutation::PutField(field.clone())], vec![event]).await?;
        Ok(field)
    }

    /// Removes a field from the schema. Stored values of it are no longer shown and are
    /// dropped from each record at its next update.
    pub async fn delete_field(&self, principal: &Principal, id: &str) -> CoreResult<()> {
        self.require(principal, Permission::SchemaManage, "schema.delete_field").await?;
        let event = AuditEvent::by(principal, "schema.delete_field").fields([id.to_owned()]);
        self.audit.commit(vec![Mutation::DeleteField { id: id.to_owned() }], vec![event]).await.map_err(|e| match e {
            CoreError::NotFound(_) => CoreError::NotFound("field"),
            other => other,
        })
    }
}
