//! Migrations embedded as SQL per backend, run by sqlx's own migrator (which records and
//! checksums them).

use std::borrow::Cow;

use futures_util::future::BoxFuture;
use sqlx::SqlSafeStr;
use sqlx::migrate::{Migration, MigrationSource, MigrationType, Migrator};

use super::{Db, DbError, Pool};

/// Migrations of one app, as SQL per backend: `(version, description, sql)`.
#[derive(Debug, Clone, Copy, Default)]
pub struct Migrations {
    /// SQLite migrations, in version order.
    pub sqlite: &'static [(i64, &'static str, &'static str)],
    /// PostgreSQL migrations, in version order.
    pub postgres: &'static [(i64, &'static str, &'static str)],
}

/// Feeds embedded migrations to sqlx's migrator (which records and checksums them).
#[derive(Debug)]
struct Embedded(Vec<Migration>);

impl MigrationSource<'static> for Embedded {
    fn resolve(self) -> BoxFuture<'static, Result<Vec<Migration>, sqlx::error::BoxDynError>> {
        Box::pin(async move { Ok(self.0) })
    }
}

fn embedded(list: &'static [(i64, &'static str, &'static str)]) -> Embedded {
    Embedded(
        list.iter()
            .map(|(version, description, sql)| {
                Migration::new(
                    *version,
                    Cow::Borrowed(*description),
                    MigrationType::Simple,
                    sql.into_sql_str(),
                    false,
                )
            })
            .collect(),
    )
}

impl Db {
    /// Runs a set of migrations with its own history table (e.g. rampart's identity tables,
    /// which must never collide with an app's versions).
    pub async fn migrate_into(
        &self,
        migrations: &Migrations,
        table: &'static str,
    ) -> Result<(), DbError> {
        match &self.primary {
            Pool::Sqlite(pool) => {
                let mut migrator = Migrator::new(embedded(migrations.sqlite)).await?;
                migrator.dangerous_set_table_name(table);
                migrator.run(pool).await?
            }
            Pool::Postgres(pool) => {
                let mut migrator = Migrator::new(embedded(migrations.postgres)).await?;
                migrator.dangerous_set_table_name(table);
                migrator.run(pool).await?
            }
        }
        Ok(())
    }

    /// Runs the migrations of the primary's backend.
    pub async fn migrate(&self, migrations: &Migrations) -> Result<(), DbError> {
        match &self.primary {
            Pool::Sqlite(pool) => {
                Migrator::new(embedded(migrations.sqlite))
                    .await?
                    .run(pool)
                    .await?
            }
            Pool::Postgres(pool) => {
                Migrator::new(embedded(migrations.postgres))
                    .await?
                    .run(pool)
                    .await?
            }
        }
        Ok(())
    }
}
