//! The reads of `#[query("..", cache(..))]` and the invalidation of the other tables a
//! custom write touches. A cached read is answered through the database's cache
//! ([`crate::cache::ResponseCache::through`]); its refill reads the primary, so that an
//! entry stored under the current tag versions never holds a lagging replica's rows. Inside
//! a transaction nothing is cached: its reads see its own uncommitted writes.

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::{Executor, Store};
use crate::cache::CachedQuery;
use crate::db::statement::Scalar;
use crate::db::{Row, Target, Value};
use crate::error::ApiError;
use crate::resource::Resource;
use crate::resource::owner_check::Declared;
use crate::resource::sql::Statement;

impl<R: Resource> Store<R> {
    /// Through the cache: what `query` answers for `values`, `A` as the statement answers it.
    async fn cached<A>(
        &self,
        query: &'static CachedQuery,
        values: Vec<Value>,
    ) -> Result<A, ApiError>
    where
        A: crate::db::statement::Answer + Serialize + DeserializeOwned,
    {
        let fetch = || {
            self.perform::<A>(
                query.label,
                Target::Write,
                Statement::literal(query.sql, values.clone()),
            )
        };
        match &self.executor {
            Executor::Db(db) => {
                let mut key = Vec::new();
                for value in &values {
                    value.key_bytes(&mut key);
                }
                db.cache().through(query, &key, fetch).await
            }
            Executor::Tx(_) => fetch().await,
        }
    }

    /// Every row of a cached query.
    pub async fn cached_all<T: Row + Serialize + DeserializeOwned>(
        &self,
        query: &'static CachedQuery,
        values: Vec<Value>,
    ) -> Result<Vec<T>, ApiError> {
        self.cached(query, values).await
    }

    /// The first row of a cached query, if any.
    pub async fn cached_optional<T: Row + Serialize + DeserializeOwned>(
        &self,
        query: &'static CachedQuery,
        values: Vec<Value>,
    ) -> Result<Option<T>, ApiError> {
        self.cached(query, values).await
    }

    /// The first row of a cached query; none is a 404.
    pub async fn cached_one<T: Row + Serialize + DeserializeOwned>(
        &self,
        query: &'static CachedQuery,
        values: Vec<Value>,
    ) -> Result<T, ApiError> {
        self.cached_optional(query, values)
            .await?
            .ok_or_else(ApiError::not_found)
    }

    /// The integer in the first column of the first row of a cached query; none is a 404.
    pub async fn cached_scalar(
        &self,
        query: &'static CachedQuery,
        values: Vec<Value>,
    ) -> Result<i64, ApiError> {
        let Scalar(value) = self.cached(query, values).await?;
        value.ok_or_else(ApiError::not_found)
    }

    /// Makes the cached reads of `tables` stale after a custom write to them, with the tables
    /// the resources of `known` that own them `cascade` to (the resource's own table and its
    /// cascades are made stale by the write itself): at once outside a transaction, after the
    /// commit inside one.
    pub async fn invalidate(&self, tables: &[&'static str], known: &[Option<Declared>]) {
        let mut others: Vec<&'static str> = Vec::new();
        let mut add = |table: &'static str| {
            let own = table.eq_ignore_ascii_case(R::SPEC.table)
                || R::SPEC
                    .cascades
                    .iter()
                    .any(|cascade| cascade.eq_ignore_ascii_case(table));
            if !own && !others.contains(&table) {
                others.push(table);
            }
        };
        for table in tables {
            add(table);
            let cascades = known
                .iter()
                .flatten()
                .filter(|declared| declared.table().eq_ignore_ascii_case(table))
                .flat_map(|declared| declared.cascades());
            for cascade in cascades {
                add(cascade);
            }
        }
        match &self.executor {
            Executor::Db(db) => db.tags().bump(&others).await,
            Executor::Tx(tx) => {
                for table in others {
                    tx.touch(table);
                }
            }
        }
    }
}
