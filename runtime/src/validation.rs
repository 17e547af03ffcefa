//! Turning `validator` reports into field-level envelope details.

use validator::{ValidationErrors, ValidationErrorsKind};

use crate::error::{ApiError, ErrorCode, FieldIssue};

impl From<ValidationErrors> for ApiError {
    fn from(errors: ValidationErrors) -> Self {
        let mut details = Vec::new();
        flatten(&errors, String::new(), &mut details);
        details.sort_by(|a, b| a.field.cmp(&b.field).then(a.issue.cmp(&b.issue)));
        ApiError::new(ErrorCode::ValidationError).with_details(details)
    }
}

/// Flattens nested validator errors into `field` paths such as `items[2].name`.
fn flatten(errors: &ValidationErrors, prefix: String, out: &mut Vec<FieldIssue>) {
    for (field, kind) in errors.errors() {
        let path = if field == "__all__" {
            prefix.clone()
        } else if prefix.is_empty() {
            field.to_string()
        } else {
            format!("{prefix}.{field}")
        };
        match kind {
            ValidationErrorsKind::Field(list) => {
                for error in list {
                    let issue = match &error.message {
                        Some(message) => message.to_string(),
                        None => error.code.to_string(),
                    };
                    out.push(FieldIssue::new(path.clone(), issue));
                }
            }
            ValidationErrorsKind::Struct(inner) => flatten(inner, path, out),
            ValidationErrorsKind::List(items) => {
                for (index, inner) in items {
                    flatten(inner, format!("{path}[{index}]"), out);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use validator::ValidationError;

    #[test]
    fn nested_list_fields_get_indexed_paths() {
        let mut leaf = ValidationErrors::new();
        leaf.add("name", ValidationError::new("length"));
        let mut root = ValidationErrors::new();
        root.add("title", ValidationError::new("length"));
        let mut list = std::collections::BTreeMap::new();
        list.insert(2, Box::new(leaf));
        root.errors_mut()
            .insert("items".into(), ValidationErrorsKind::List(list));
        let mut out = Vec::new();
        flatten(&root, String::new(), &mut out);
        out.sort_by(|a, b| a.field.cmp(&b.field));
        assert_eq!(
            out,
            vec![
                FieldIssue::new("items[2].name", "length"),
                FieldIssue::new("title", "length")
            ]
        );
    }
}
