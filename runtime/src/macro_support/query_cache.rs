//! The check of a cached query's row type, spanned by `#[repository]` at `cache`: a row type
//! that serde cannot keep (no `Deserialize`) is one error there, naming the derive, not
//! several serde bounds at the query, the type and the attribute.
//!
//! An autoref probe gives the row type a status: [`Accepted`] when it is `Serialize +
//! DeserializeOwned`, [`Refused`] otherwise. The generated method calls the status's method:
//! `Accepted`'s goes through the cache; `Refused`'s asks for nothing (it is never built into a
//! program, because [`assert_cached_row`] at `cache` reports the one error).

use std::marker::PhantomData;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::extractors::{Accepted, Refused};
use crate::cache::CachedQuery;
use crate::db::{Row, Value};
use crate::error::ApiError;
use crate::resource::{Resource, Store};

/// Probe for a cached query's row type.
#[derive(Debug)]
pub struct RowProbe<T>(PhantomData<fn() -> T>);

impl<T> RowProbe<T> {
    /// A probe for `T`.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Self {
        Self(PhantomData)
    }
}

/// Picked when the row type can be kept.
pub trait RowKept {
    /// `Accepted`.
    fn status(&self) -> Accepted;
}

impl<T: Serialize + DeserializeOwned> RowKept for RowProbe<T> {
    fn status(&self) -> Accepted {
        Accepted
    }
}

/// Picked otherwise (one autoref further).
pub trait RowNotKept {
    /// `Refused`.
    fn status(&self) -> Refused;
}

impl<T> RowNotKept for &RowProbe<T> {
    fn status(&self) -> Refused {
        Refused
    }
}

/// What a query cache can keep: its rows as JSON.
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be kept by a query cache: it does not implement both `Serialize` and `Deserialize`",
    label = "`cache` keeps the rows as JSON",
    note = "add `#[derive(serde::Deserialize)]` to `{Self}` (a resource has `Serialize` from `#[resource]`), or remove `cache`"
)]
pub trait CachedRow {}

impl<T: Serialize + DeserializeOwned> CachedRow for T {}

/// Asserts that a cached query's row type can be kept.
pub fn assert_cached_row<T: CachedRow>() {}

/// The fields of a row type that its JSON leaves out, read in a const assertion at `cache`:
/// a resource's [`crate::resource::ResourceSpec::left_out_of_json`] (`internal` fields, and
/// `#[serde(skip..)]`), which a cache keeping rows as JSON would answer defaulted or not at
/// all; none for any other type (whose attributes no macro sees: its entries are checked to
/// decode back when they are written, see [`crate::cache`]).
///
/// An inherent const where `T` is a resource, the trait's otherwise: the inherent item wins
/// when its bound holds.
#[derive(Debug)]
pub struct RowFields<T>(PhantomData<fn() -> T>);

/// The fallback of [`RowFields`] (a row type that is not a resource).
pub trait AnyRowFields {
    /// None known.
    const LEFT_OUT_OF_JSON: &'static [&'static str] = &[];
}

impl<T> AnyRowFields for RowFields<T> {}

impl<T: Resource> RowFields<T> {
    /// The resource's fields its JSON leaves out.
    pub const LEFT_OUT_OF_JSON: &'static [&'static str] = T::SPEC.left_out_of_json;
}

impl Accepted {
    /// Every row, through the cache.
    pub async fn cached_all<R: Resource, T: Row + Serialize + DeserializeOwned>(
        self,
        store: &Store<R>,
        query: &'static CachedQuery,
        values: Vec<Value>,
    ) -> Result<Vec<T>, ApiError> {
        store.cached_all(query, values).await
    }

    /// The first row, if any, through the cache.
    pub async fn cached_optional<R: Resource, T: Row + Serialize + DeserializeOwned>(
        self,
        store: &Store<R>,
        query: &'static CachedQuery,
        values: Vec<Value>,
    ) -> Result<Option<T>, ApiError> {
        store.cached_optional(query, values).await
    }

    /// The first row, 404 when none, through the cache.
    pub async fn cached_one<R: Resource, T: Row + Serialize + DeserializeOwned>(
        self,
        store: &Store<R>,
        query: &'static CachedQuery,
        values: Vec<Value>,
    ) -> Result<T, ApiError> {
        store.cached_one(query, values).await
    }
}

impl Refused {
    /// Stands in for [`Accepted::cached_all`] (never built: the assertion fails).
    pub async fn cached_all<R: Resource, T: Row>(
        self,
        _store: &Store<R>,
        _query: &'static CachedQuery,
        _values: Vec<Value>,
    ) -> Result<Vec<T>, ApiError> {
        Err(ApiError::internal(
            "a cached row type refused at compile time",
        ))
    }

    /// Stands in for [`Accepted::cached_optional`].
    pub async fn cached_optional<R: Resource, T: Row>(
        self,
        _store: &Store<R>,
        _query: &'static CachedQuery,
        _values: Vec<Value>,
    ) -> Result<Option<T>, ApiError> {
        Err(ApiError::internal(
            "a cached row type refused at compile time",
        ))
    }

    /// Stands in for [`Accepted::cached_one`].
    pub async fn cached_one<R: Resource, T: Row>(
        self,
        _store: &Store<R>,
        _query: &'static CachedQuery,
        _values: Vec<Value>,
    ) -> Result<T, ApiError> {
        Err(ApiError::internal(
            "a cached row type refused at compile time",
        ))
    }
}
