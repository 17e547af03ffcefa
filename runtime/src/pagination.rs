//! Offset pagination primitives and the page meta every list carries.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::error::{ApiError, ErrorCode};

/// Largest `per_page` a client may ask for.
pub const MAX_PER_PAGE: u32 = 100;
/// `per_page` when the client does not say.
pub const DEFAULT_PER_PAGE: u32 = 20;

/// Meta of a list response. Every field is always present (and required in the schema, so
/// generated clients need not guess). `total` is always the exact count today; it is nullable
/// in the schema so that a later setting may turn counting off for huge unscoped sets without a
/// breaking change (no setting does yet). `page` is `null` on cursor pages; `next_cursor` is
/// `null` on offset pages and on the last cursor page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PageMeta {
    /// 1-based page number (offset pagination); `null` on cursor pages.
    #[schema(required = true)]
    pub page: Option<u32>,
    /// Items per page.
    pub per_page: u32,
    /// Exact number of items in the filtered set.
    #[schema(required = true)]
    pub total: Option<u64>,
    /// Opaque cursor of the next page.
    #[schema(required = true)]
    pub next_cursor: Option<String>,
}

/// A validated offset page request: `page` ≥ 1, `per_page` in 1..=100.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OffsetPage {
    page: u32,
    per_page: u32,
}

impl OffsetPage {
    /// Checks a page request; out-of-range values are a 400 naming the field.
    pub fn new(page: Option<u32>, per_page: Option<u32>) -> Result<Self, ApiError> {
        let page = page.unwrap_or(1);
        let per_page = per_page.unwrap_or(DEFAULT_PER_PAGE);
        let mut error = ApiError::new(ErrorCode::ValidationError);
        let mut failed = false;
        if page < 1 {
            error = error.with_detail("page", "must be at least 1");
            failed = true;
        }
        if !(1..=MAX_PER_PAGE).contains(&per_page) {
            error = error.with_detail("per_page", "must be between 1 and 100");
            failed = true;
        }
        if failed {
            Err(error)
        } else {
            Ok(Self { page, per_page })
        }
    }

    /// The 1-based page number.
    pub fn page(self) -> u32 {
        self.page
    }

    /// Items per page.
    pub fn per_page(self) -> u32 {
        self.per_page
    }

    /// Rows to skip (`LIMIT per_page OFFSET offset`).
    pub fn offset(self) -> u64 {
        u64::from(self.page - 1) * u64::from(self.per_page)
    }

    /// The meta of this page given the total size of the filtered set.
    pub fn meta(self, total: u64) -> PageMeta {
        PageMeta {
            page: Some(self.page),
            per_page: self.per_page,
            total: Some(total),
            next_cursor: None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_are_enforced() {
        assert!(OffsetPage::new(Some(0), None).is_err());
        assert!(OffsetPage::new(None, Some(0)).is_err());
        assert!(OffsetPage::new(None, Some(101)).is_err());
        let page = OffsetPage::new(Some(3), Some(10)).map(|p| (p.offset(), p.per_page()));
        assert_eq!(page.ok(), Some((20, 10)));
        let error = OffsetPage::new(Some(0), Some(500))
            .err()
            .map(|e| e.details().len());
        assert_eq!(error, Some(2));
    }
}
