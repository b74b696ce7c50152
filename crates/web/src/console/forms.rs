//! Errors shown in a re-rendered form: each next to the field it names, the rest on top.

use axum::http::StatusCode;
use tutela_core::CoreError;

#[derive(Debug, Clone, Default)]
pub struct Errors {
    items: Vec<(Option<String>, String)>,
    /// Fields the form shows; an error naming another field goes on top.
    shown: Vec<String>,
}

impl Errors {
    pub fn for_fields<S: Into<String>>(fields: impl IntoIterator<Item = S>) -> Self {
        Self { items: Vec::new(), shown: fields.into_iter().map(Into::into).collect() }
    }

    pub fn add(&mut self, field: Option<&str>, message: impl Into<String>) {
        self.items.push((field.map(ToOwned::to_owned), message.into()));
    }

    /// The message for one field.
    pub fn get(&self, field: &str) -> Option<&str> {
        self.items.iter().find(|(f, _)| f.as_deref() == Some(field)).map(|(_, m)| m.as_str())
    }

    /// Messages that belong to no shown field.
    pub fn general(&self) -> Vec<&str> {
        self.items
            .iter()
            .filter(|(f, _)| f.as_ref().is_none_or(|f| !self.shown.contains(f)))
            .map(|(_, m)| m.as_str())
            .collect()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    /// Takes an `Invalid` error into the form; any other error is handed back.
    pub fn absorb(&mut self, e: CoreError) -> Result<(), CoreError> {
        match e {
            CoreError::Invalid { field, message } => {
                self.add(Some(&field), message);
                Ok(())
            }
            other => Err(other),
        }
    }
}

/// The body of a form that is only a button: its CSRF token, checked before parsing.
#[derive(serde::Deserialize)]
pub struct Nothing {}

/// A checkbox arrives as `on` when ticked and not at all otherwise.
pub fn checked(value: Option<&String>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// The forms of a page that takes requests and holds a policy (emergency access, exports), as
/// they are to be shown: what was typed, the errors by field, and the answer's status.
pub struct RequestForms<R, P> {
    pub request: Option<R>,
    pub errors: Errors,
    pub policy: Option<P>,
    pub policy_errors: Errors,
    /// Refusals of a button (deciding, ending), shown on top.
    pub general: Errors,
    pub status: StatusCode,
}

impl<R, P> RequestForms<R, P> {
    pub fn new(status: StatusCode, request_fields: &[&str], policy_fields: &[&str]) -> Self {
        Self {
            request: None,
            errors: Errors::for_fields(request_fields.iter().copied()),
            policy: None,
            policy_errors: Errors::for_fields(policy_fields.iter().copied()),
            general: Errors::for_fields::<&str>([]),
            status,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_go_next_to_their_field_or_on_top() {
        let mut e = Errors::for_fields(["email"]);
        e.absorb(CoreError::invalid("email", "not an e-mail address")).unwrap();
        e.absorb(CoreError::invalid("limit", "too many")).unwrap();
        assert!(e.absorb(CoreError::NotFound("x")).is_err());
        assert_eq!(e.get("email"), Some("not an e-mail address"));
        assert_eq!(e.general(), vec!["too many"]);
    }
}
