//! The resource store below HTTP, on SQLite and PostgreSQL: internal columns never leave the
//! server, reads go to the replica and writes to the primary, and a slow statement is a 503.

use rampart::openapi::ApiSchema;
use rampart::prelude::*;
use rampart::resource::CursorKey;
use rampart::testing::{BACKENDS, TestBackend, TestDb, principal_for, scope_for};
use rampart::{DbConfig, IfMatch, Store};
use serde_json::json;
use uuid::Uuid;

/// An account whose token hash is a column the API never shows.
#[resource(table = "accounts", owner = owner_id)]
#[derive(Debug, Clone)]
pub(crate) struct Account {
    #[resource(id)]
    pub(crate) id: Uuid,
    pub(crate) owner_id: Uuid,
    #[validate(length(min = 1, max = 50))]
    #[resource(filter)]
    pub(crate) name: String,
    #[validate(email)]
    pub(crate) contact: Option<String>,
    #[resource(internal)]
    pub(crate) token_hash: String,
}

#[repository(Account)]
pub(crate) trait AccountRepo {
    /// Sets the internal column.
    #[query("UPDATE accounts SET token_hash = :hash WHERE id = :id AND owner_id = :owner")]
    async fn set_hash(&self, scope: &Scope, id: Uuid, hash: String) -> ApiResult<u64>;

    /// A statement that runs far longer than the test's statement timeout.
    #[query(
        "WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c WHERE x < 100000000) \
         SELECT COUNT(*) FROM c WHERE :name <> ''"
    )]
    async fn slow(&self, admin: &UnscopedAdmin, name: String) -> ApiResult<i64>;

    /// A locking read (PostgreSQL): it takes row locks, so it must run on the primary.
    #[query(
        "SELECT id, owner_id, name, contact, token_hash FROM accounts \
         WHERE id = :id AND owner_id = :owner FOR UPDATE"
    )]
    async fn lock(&self, scope: &Scope, id: Uuid) -> ApiResult<Option<Account>>;
}

fn table(backend: TestBackend) -> &'static str {
    match backend {
        TestBackend::Sqlite => {
            "CREATE TABLE accounts (id BLOB PRIMARY KEY NOT NULL, owner_id BLOB NOT NULL, name TEXT NOT NULL, contact TEXT, token_hash TEXT NOT NULL)"
        }
        TestBackend::Postgres => {
            "CREATE TABLE accounts (id UUID PRIMARY KEY, owner_id UUID NOT NULL, name TEXT NOT NULL, contact TEXT, token_hash TEXT NOT NULL)"
        }
    }
}

async fn database(backend: TestBackend) -> (TestDb, Db) {
    let test_db = match TestDb::create(backend).await {
        Ok(db) => db,
        Err(error) => panic!("{backend:?}: {error}"),
    };
    let db = connect(DbConfig::new(test_db.url())).await;
    let created = rampart::with_pool!(db.primary(), |pool| sqlx::query(table(backend))
        .execute(pool)
        .await
        .map(|_| ()));
    assert!(created.is_ok(), "{created:?}");
    (test_db, db)
}

async fn connect(config: DbConfig) -> Db {
    match Db::connect(&config).await {
        Ok(db) => db,
        Err(error) => panic!("{error}"),
    }
}

fn input<T: serde::de::DeserializeOwned>(value: serde_json::Value) -> T {
    match serde_json::from_value(value) {
        Ok(input) => input,
        Err(error) => panic!("{error}"),
    }
}

#[tokio::test]
async fn internal_columns_are_stored_but_never_shown_or_writable() {
    for backend in BACKENDS {
        let (_guard, db) = database(backend).await;
        let repo = AccountRepo::new(Store::new(db, CursorKey::derive(b"test")));
        let scope = scope_for(Uuid::now_v7());

        let account = repo.create(&scope, input(json!({"name": "a"}))).await;
        let account = account.unwrap_or_else(|e| panic!("{backend:?}: {}", e.message()));
        assert_eq!(
            repo.set_hash(&scope, account.id, "h4sh".into()).await.ok(),
            Some(1)
        );
        let stored = repo.get(&scope, account.id).await;
        let stored = stored.unwrap_or_else(|e| panic!("{}", e.message()));
        assert_eq!(stored.token_hash, "h4sh", "the column is read");

        let shown = serde_json::to_value(&stored).unwrap_or_default();
        assert_eq!(
            shown,
            json!({"id": stored.id, "owner_id": stored.owner_id, "name": "a", "contact": null})
        );
        let schema = serde_json::to_value(<Account as ApiSchema>::schema()).unwrap_or_default();
        assert!(schema["properties"].get("token_hash").is_none(), "{schema}");
        assert!(schema["properties"].get("name").is_some(), "{schema}");

        // Not even named in the inputs: an unknown field.
        let sent: Result<NewAccount, _> =
            serde_json::from_value(json!({"name": "b", "token_hash": "x"}));
        assert!(sent.is_err_and(|e| e.to_string().contains("unknown field `token_hash`")));
        let patch: Result<AccountPatch, _> = serde_json::from_value(json!({"token_hash": "x"}));
        assert!(patch.is_err());
    }
}

#[tokio::test]
async fn reads_go_to_the_replica_and_writes_to_the_primary() {
    for backend in BACKENDS {
        let (primary_guard, primary) = database(backend).await;
        let (replica_guard, replica) = database(backend).await;
        let mut config = DbConfig::new(primary_guard.url());
        config.replica_url = Some(replica_guard.url().to_owned());
        let db = connect(config).await;
        let repo = AccountRepo::new(Store::new(db, CursorKey::derive(b"test")));
        let scope = scope_for(Uuid::now_v7());

        let created = repo
            .create(&scope, input(json!({"name": "on primary"})))
            .await;
        let created = created.unwrap_or_else(|e| panic!("{backend:?}: {}", e.message()));
        // The replica has not seen the row yet: a read there is a 404.
        let read = repo.get(&scope, created.id).await;
        assert_eq!(
            read.err().map(|e| e.code()),
            Some(ErrorCode::NotFound),
            "{backend:?}"
        );

        // Give the replica its own copy with a different name: reads now show the replica's.
        let copy = "INSERT INTO accounts (id, owner_id, name, contact, token_hash) VALUES ($1, $2, 'on replica', NULL, '')";
        let copied = rampart::with_pool!(replica.primary(), |pool| sqlx::query(copy)
            .bind(created.id)
            .bind(scope.owner())
            .execute(pool)
            .await
            .map(|_| ()));
        assert!(copied.is_ok(), "{copied:?}");
        let read = repo.get(&scope, created.id).await.map(|a| a.name);
        assert_eq!(read.ok().as_deref(), Some("on replica"));
        if backend == TestBackend::Postgres {
            // `SELECT ... FOR UPDATE` is routed by its parse: the primary's row.
            let locked = repo
                .lock(&scope, created.id)
                .await
                .map(|a| a.map(|a| a.name));
            assert_eq!(locked.ok().flatten().as_deref(), Some("on primary"));
        }
        let listed = repo
            .list(
                &scope,
                &ListQuery::parse("").unwrap_or_else(|e| panic!("{}", e.message())),
            )
            .await;
        assert_eq!(listed.map(|page| page.items.len()).ok(), Some(1));

        // A write answers with the primary's row (read after write), not the replica's.
        let patched = repo
            .patch(
                &scope,
                created.id,
                input(json!({"name": "renamed"})),
                IfMatch::default(),
            )
            .await
            .map(|a| a.name);
        assert_eq!(patched.ok().as_deref(), Some("renamed"));
        let on_primary =
            rampart::with_pool!(primary.primary(), |pool| sqlx::query_scalar::<_, String>(
                "SELECT name FROM accounts WHERE id = $1"
            )
            .bind(created.id)
            .fetch_one(pool)
            .await);
        assert_eq!(on_primary.ok().as_deref(), Some("renamed"));
    }
}

#[tokio::test]
async fn a_statement_past_its_timeout_is_503() {
    for backend in BACKENDS {
        let (guard, _db) = database(backend).await;
        let mut config = DbConfig::new(guard.url());
        config.statement_timeout = std::time::Duration::from_millis(200);
        let db = connect(config).await;
        let repo = AccountRepo::new(Store::new(db, CursorKey::derive(b"test")));
        let admin = UnscopedAdmin::of(&principal_for(Uuid::now_v7(), &["admin"]))
            .unwrap_or_else(|e| panic!("{}", e.message()));
        let result = repo.slow(&admin, "x".into()).await;
        let error = match result {
            Ok(count) => panic!("{backend:?}: finished ({count}) despite the timeout"),
            Err(error) => error,
        };
        assert_eq!(
            error.code(),
            ErrorCode::Unavailable,
            "{backend:?}: {}",
            error.message()
        );

        // A non-admin never gets the unscoped view.
        let refused = UnscopedAdmin::of(&principal_for(Uuid::now_v7(), &["member"]));
        assert_eq!(refused.err().map(|e| e.code()), Some(ErrorCode::Forbidden));
    }
}

#[test]
fn inputs_are_normalised_before_validation() {
    use validator::Validate;
    let new: NewAccount = input(json!({"name": "  Ann  ", "contact": "  Ann@Example.COM "}));
    assert_eq!(new.name, "Ann");
    assert_eq!(new.contact.as_deref(), Some("ann@example.com"));
    assert!(new.validate().is_ok());
    let blank: NewAccount = input(json!({"name": "   "}));
    assert!(
        blank
            .validate()
            .is_err_and(|e| e.field_errors().contains_key("name"))
    );
    let bad: NewAccount = input(json!({"name": "a", "contact": " not-an-email "}));
    assert!(
        bad.validate()
            .is_err_and(|e| e.field_errors().contains_key("contact"))
    );
    // A patch can clear a nullable field (null) or leave it (absent), normalised the same way.
    let clear: AccountPatch = input(json!({"contact": null}));
    assert_eq!(clear.contact, Some(None));
    let keep: AccountPatch = input(json!({"name": " B "}));
    assert_eq!((keep.contact, keep.name.as_deref()), (None, Some("B")));
    let set: AccountPatch = input(json!({"contact": " X@Y.ORG"}));
    assert_eq!(set.contact, Some(Some("x@y.org".to_owned())));
}
