//! The schema: `crates/store/migrations/<version>_<name>.sql`, embedded at
//! build time and applied in order at every open (sqlx records them in
//! `_sqlx_migrations`).
//!
//! Databases made by the pre-sqlx store carry no such table; their progress is
//! `PRAGMA user_version`, counting the entries of its `MIGRATIONS` array.
//! Versions 1..=[`LEGACY_VERSION`] of the files here are those same
//! migrations, one for one, so such a database is adopted by marking its
//! migrations applied without running them; the rest then run as usual.

use sqlx::migrate::Migrator;
use sqlx::SqlitePool;

use crate::OpenError;

static MIGRATOR: Migrator = sqlx::migrate!();

/// The last `user_version` the pre-sqlx store wrote.
const LEGACY_VERSION: i64 = 1;

pub(crate) async fn run(pool: &SqlitePool) -> Result<(), OpenError> {
    adopt_legacy(pool).await?;
    MIGRATOR.run(pool).await?;
    Ok(())
}

/// Marks the migrations a pre-sqlx database already has as applied.
async fn adopt_legacy(pool: &SqlitePool) -> Result<(), OpenError> {
    let tracked: bool =
        sqlx::query_scalar("SELECT EXISTS (SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?1)")
            .bind(MIGRATOR.table_name.as_ref())
            .fetch_one(pool)
            .await?;
    if tracked {
        return Ok(());
    }
    let version: i64 = sqlx::query_scalar("PRAGMA user_version").fetch_one(pool).await?;
    match version {
        0 => Ok(()),
        1..=LEGACY_VERSION => {
            MIGRATOR.skip(pool, Some(version)).await?;
            Ok(())
        }
        _ => Err(OpenError::UnknownLegacyVersion(version)),
    }
}
