//! The SQLite key info store, the default.
//!
//! One table, `keys`, keyed by (auth_type, application, provider, key_name),
//! with the backend id, the attributes (protobuf `KeyAttributes`, see
//! [`encode_key_attributes`]) and the state (`creating`, `ready` or
//! `destroying`). The schema version is the `user_version` pragma.
//!
//! Every trait method is one SQLite transaction. The journal is a WAL with
//! `synchronous=FULL`: a commit is an append to the `-wal` file followed by
//! an fsync of it, so once a method returns the change survives a kill and a
//! power cut, and a crash at any instant leaves the database before or after
//! the transaction. (With the rollback journal, the commit point is the
//! journal's deletion, which `FULL` does not sync to the directory: a power
//! cut could roll back a change already reported done. WAL's `-wal` and
//! `-shm` files get the database file's mode, 0600.)
//!
//! `get`, which every operation on a key calls, is answered from memory
//! once the key was read: a map of `Ready` rows, filled by `get` and rid of
//! a key by `begin_destroy`, each while it holds the connection, so the map
//! never has a key the database no longer has `Ready`. That holds because
//! psecd is the database's only writer, which the service requires anyway.

use psec_interface::AuthType;
use psec_interface::operations::{decode_key_attributes, encode_key_attributes};
use psec_provider::{Application, KeyIdentity, KeyInfo, KeyState, KeyStore, KeyStoreError};
use rusqlite::{Connection, OpenFlags, Params, Transaction, TransactionBehavior};
use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use super::fs_util::{
    DIR_MODE, FILE_MODE, create_private_dir, create_private_file, ensure_mode, storage,
};

/// The schema this code reads and writes, kept in `PRAGMA user_version`.
const SCHEMA_VERSION: i64 = 1;

const SCHEMA: &str = "
    CREATE TABLE keys (
        auth_type   INTEGER NOT NULL,
        application TEXT    NOT NULL,
        provider    TEXT    NOT NULL,
        key_name    TEXT    NOT NULL,
        backend_id  BLOB    NOT NULL,
        attributes  BLOB    NOT NULL,
        state       TEXT    NOT NULL CHECK (state IN ('creating', 'ready', 'destroying')),
        PRIMARY KEY (auth_type, application, provider, key_name)
    ) WITHOUT ROWID;
    CREATE INDEX keys_by_provider ON keys (provider, state);
";

/// The columns the row reader expects, in order.
macro_rules! select_keys {
    ($($condition:tt)+) => {
        concat!(
            "SELECT auth_type, application, provider, key_name, backend_id, attributes, state ",
            "FROM keys WHERE ",
            $($condition)+,
            " ORDER BY auth_type, application, provider, key_name"
        )
    };
}

/// Matches one key name, bound by [`key_params`].
macro_rules! one_key {
    () => {
        "auth_type = ?1 AND application = ?2 AND provider = ?3 AND key_name = ?4"
    };
}

/// SQLite files next to the database that belong to it.
const SIDE_FILE_SUFFIXES: [&str; 3] = ["-wal", "-shm", "-journal"];

/// The database's schema version is not one this build knows.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub struct UnsupportedSchema {
    /// The version found in the database.
    pub found: i64,
    /// The version this build reads and writes.
    pub supported: i64,
}

impl fmt::Display for UnsupportedSchema {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "key store schema version {} is not supported (this build uses version {})",
            self.found, self.supported
        )
    }
}

impl std::error::Error for UnsupportedSchema {}

/// The key info store in one SQLite database file. See the module docs.
#[derive(Debug)]
pub struct SqliteKeyStore {
    connection: Mutex<Connection>,
    /// `Ready` keys `get` read before (see the module docs).
    ready: Mutex<HashMap<KeyIdentity, KeyInfo>>,
    path: PathBuf,
}

/// How many keys [`SqliteKeyStore::import_ready`] added and found.
#[cfg(feature = "on-disk")]
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(super) struct ImportCounts {
    pub(super) inserted: usize,
    pub(super) already_present: usize,
}

impl SqliteKeyStore {
    /// Opens the database at `path`, creating it (mode 0600) and its
    /// directory (mode 0700) if missing.
    ///
    /// An existing database file (and its `-wal`/`-shm` files) get mode 0600
    /// back if it was changed. The directory gets mode 0700 back only when it
    /// holds nothing but the database's files, so that a database placed by
    /// mistake in a shared directory (`/tmp`, `/var/lib`) never locks others
    /// out; such a directory only draws a warning.
    pub fn open(path: &Path) -> Result<Self, KeyStoreError> {
        prepare_files(path).map_err(storage)?;
        // No URI parsing: the path is a file name, whatever it looks like.
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let mut connection = Connection::open_with_flags(path, flags).map_err(storage)?;
        configure(&connection)?;
        init_schema(&mut connection)?;
        log::info!("key store: SQLite database {}", path.display());
        Ok(SqliteKeyStore {
            connection: Mutex::new(connection),
            ready: Mutex::new(HashMap::new()),
            path: path.to_owned(),
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Adds `Ready` keys in one transaction, skipping names already present
    /// in any state: for migrations, which must be re-runnable.
    #[cfg(feature = "on-disk")]
    pub(super) fn import_ready(
        &self,
        keys: &[(KeyIdentity, KeyInfo)],
    ) -> Result<ImportCounts, KeyStoreError> {
        let encoded = keys
            .iter()
            .map(|(key, info)| Ok((key, info, encode_attributes(info)?)))
            .collect::<Result<Vec<_>, KeyStoreError>>()?;
        self.write(|tx| {
            let mut counts = ImportCounts::default();
            for (key, info, attributes) in &encoded {
                if insert(tx, key, info, attributes, KeyState::Ready)? {
                    counts.inserted += 1;
                } else {
                    counts.already_present += 1;
                    warn_if_different(tx, key, info)?;
                }
            }
            Ok(counts)
        })
    }

    fn lock(&self) -> MutexGuard<'_, Connection> {
        // A panic while the lock was held rolled its transaction back when
        // the `Transaction` dropped: the connection is usable.
        self.connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }

    fn ready(&self) -> MutexGuard<'_, HashMap<KeyIdentity, KeyInfo>> {
        // The map is valid after any panic: entries go in and out whole.
        self.ready.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn transaction<T>(
        &self,
        behavior: TransactionBehavior,
        body: impl FnOnce(&Transaction<'_>) -> Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        let mut connection = self.lock();
        let tx = connection
            .transaction_with_behavior(behavior)
            .map_err(storage)?;
        // On error `tx` drops here and rolls back.
        let value = body(&tx)?;
        tx.commit().map_err(storage)?;
        Ok(value)
    }

    /// A transaction that takes the write lock at once.
    fn write<T>(
        &self,
        body: impl FnOnce(&Transaction<'_>) -> Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        self.transaction(TransactionBehavior::Immediate, body)
    }

    /// A transaction that reads one consistent snapshot.
    fn read<T>(
        &self,
        body: impl FnOnce(&Transaction<'_>) -> Result<T, KeyStoreError>,
    ) -> Result<T, KeyStoreError> {
        self.transaction(TransactionBehavior::Deferred, body)
    }
}

impl KeyStore for SqliteKeyStore {
    fn begin_create(&self, key: &KeyIdentity, info: &KeyInfo) -> Result<(), KeyStoreError> {
        let attributes = encode_attributes(info)?;
        self.write(|tx| {
            if insert(tx, key, info, &attributes, KeyState::Creating)? {
                Ok(())
            } else {
                Err(KeyStoreError::AlreadyExists)
            }
        })
    }

    fn commit_create(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        const SQL: &str = concat!(
            "UPDATE keys SET state = 'ready' WHERE ",
            one_key!(),
            " AND state = 'creating'"
        );
        self.write(|tx| change_one(tx, SQL, key))
    }

    fn abort_create(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        const SQL: &str = concat!(
            "DELETE FROM keys WHERE ",
            one_key!(),
            " AND state = 'creating'"
        );
        self.write(|tx| change_one(tx, SQL, key))
    }

    fn get(&self, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError> {
        if let Some(info) = self.ready().get(key) {
            return Ok(Some(info.clone()));
        }
        self.read(|tx| {
            let info = ready_info(tx, key)?;
            if let Some(info) = &info {
                self.ready().insert(key.clone(), info.clone());
            }
            Ok(info)
        })
    }

    fn begin_destroy(&self, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError> {
        const SQL: &str = concat!(
            "UPDATE keys SET state = 'destroying' WHERE ",
            one_key!(),
            " AND state = 'ready'"
        );
        self.write(|tx| {
            self.ready().remove(key);
            let Some(info) = ready_info(tx, key)? else {
                return Ok(None);
            };
            change_one(tx, SQL, key)?;
            Ok(Some(info))
        })
    }

    fn finish_destroy(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        const SQL: &str = concat!(
            "DELETE FROM keys WHERE ",
            one_key!(),
            " AND state = 'destroying'"
        );
        self.write(|tx| change_one(tx, SQL, key))
    }

    fn keys_of(
        &self,
        application: &Application,
    ) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError> {
        const SQL: &str = select_keys!("auth_type = ?1 AND application = ?2 AND state = 'ready'");
        let params = (application.auth.id(), application.name.as_str());
        self.read(|tx| select(tx, SQL, params)).map(without_state)
    }

    fn keys_in(&self, provider: &str) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError> {
        const SQL: &str = select_keys!("provider = ?1 AND state = 'ready'");
        self.read(|tx| select(tx, SQL, [provider]))
            .map(without_state)
    }

    fn applications(&self) -> Result<Vec<Application>, KeyStoreError> {
        const SQL: &str = "SELECT DISTINCT auth_type, application FROM keys \
                           WHERE state = 'ready' ORDER BY auth_type, application";
        self.read(|tx| {
            let mut statement = tx.prepare_cached(SQL).map_err(storage)?;
            let rows = statement
                .query_map([], |row| Ok((row.get(0)?, row.get(1)?)))
                .map_err(storage)?;
            rows.map(|row| {
                let (auth, name): (i64, String) = row.map_err(row_error)?;
                Ok(Application::new(auth_type(auth)?, name))
            })
            .collect()
        })
    }

    fn unfinished(
        &self,
        provider: &str,
    ) -> Result<Vec<(KeyIdentity, KeyInfo, KeyState)>, KeyStoreError> {
        const SQL: &str = select_keys!("provider = ?1 AND state IN ('creating', 'destroying')");
        self.read(|tx| select(tx, SQL, [provider]))
    }
}

/// Creates the directory and the file with private modes, or puts their
/// modes back.
fn prepare_files(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    if !dir.try_exists()? {
        create_private_dir(dir)?;
        ensure_mode(dir, DIR_MODE)?;
    } else if holds_only_store_files(dir, path)? {
        ensure_mode(dir, DIR_MODE)?;
    } else {
        warn_if_shared(dir)?;
    }
    create_private_file(path)?;
    ensure_mode(path, FILE_MODE)?;
    for suffix in SIDE_FILE_SUFFIXES {
        let side = side_file(path, suffix);
        if side.try_exists()? {
            ensure_mode(&side, FILE_MODE)?;
        }
    }
    Ok(())
}

fn side_file(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(suffix);
    PathBuf::from(name)
}

/// Whether every entry of `dir` is the database at `path` or one of its side
/// files.
fn holds_only_store_files(dir: &Path, path: &Path) -> std::io::Result<bool> {
    let Some(base) = path.file_name() else {
        return Ok(false);
    };
    for entry in std::fs::read_dir(dir)? {
        let name = entry?.file_name();
        let is_store_file = name == base
            || SIDE_FILE_SUFFIXES.iter().any(|suffix| {
                let mut side = base.to_owned();
                side.push(suffix);
                name == side
            });
        if !is_store_file {
            return Ok(false);
        }
    }
    Ok(true)
}

fn warn_if_shared(dir: &Path) -> std::io::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = std::fs::metadata(dir)?.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        log::warn!(
            "key store directory {} has mode {mode:o} and holds other files; \
             give the key store a directory of its own (mode 700)",
            dir.display()
        );
    }
    Ok(())
}

/// Per-connection settings: WAL, full sync (see the module docs).
fn configure(connection: &Connection) -> Result<(), KeyStoreError> {
    // Another process (an operator's `sqlite3`) may hold the lock briefly.
    connection
        .busy_timeout(Duration::from_secs(5))
        .map_err(storage)?;
    let mode: String = connection
        .query_row("PRAGMA journal_mode = WAL", [], |row| row.get(0))
        .map_err(storage)?;
    if !mode.eq_ignore_ascii_case("wal") {
        log::warn!("key store: WAL unavailable, using journal mode {mode}");
    }
    connection
        .execute_batch("PRAGMA synchronous = FULL")
        .map_err(storage)
}

/// Creates the schema in a new database, checks its version in an old one.
fn init_schema(connection: &mut Connection) -> Result<(), KeyStoreError> {
    let tx = connection
        .transaction_with_behavior(TransactionBehavior::Immediate)
        .map_err(storage)?;
    let version: i64 = tx
        .pragma_query_value(None, "user_version", |row| row.get(0))
        .map_err(storage)?;
    match version {
        0 => {
            tx.execute_batch(SCHEMA).map_err(storage)?;
            tx.pragma_update(None, "user_version", SCHEMA_VERSION)
                .map_err(storage)?;
        }
        SCHEMA_VERSION => {}
        found => {
            return Err(storage(UnsupportedSchema {
                found,
                supported: SCHEMA_VERSION,
            }));
        }
    }
    tx.commit().map_err(storage)
}

fn key_params(key: &KeyIdentity) -> (u8, &str, &str, &str) {
    (
        key.application.auth.id(),
        &key.application.name,
        &key.provider,
        &key.key_name,
    )
}

fn encode_attributes(info: &KeyInfo) -> Result<Vec<u8>, KeyStoreError> {
    encode_key_attributes(info.attributes).map_err(storage)
}

/// Inserts a row unless the name is taken; whether it did.
fn insert(
    tx: &Transaction<'_>,
    key: &KeyIdentity,
    info: &KeyInfo,
    attributes: &[u8],
    state: KeyState,
) -> Result<bool, KeyStoreError> {
    const SQL: &str = "INSERT INTO keys \
        (auth_type, application, provider, key_name, backend_id, attributes, state) \
        VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) ON CONFLICT DO NOTHING";
    let (auth, application, provider, key_name) = key_params(key);
    let params = (
        auth,
        application,
        provider,
        key_name,
        info.backend_id.as_slice(),
        attributes,
        state_name(state),
    );
    let changed = tx.execute(SQL, params).map_err(storage)?;
    Ok(changed == 1)
}

/// Runs an UPDATE or DELETE of one key; `NotFound` if it changed nothing.
fn change_one(tx: &Transaction<'_>, sql: &str, key: &KeyIdentity) -> Result<(), KeyStoreError> {
    match tx.execute(sql, key_params(key)).map_err(storage)? {
        0 => Err(KeyStoreError::NotFound),
        _ => Ok(()),
    }
}

fn ready_info(tx: &Transaction<'_>, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError> {
    const SQL: &str = select_keys!(concat!(one_key!(), " AND state = 'ready'"));
    let rows = select(tx, SQL, key_params(key))?;
    Ok(rows.into_iter().next().map(|(_, info, _)| info))
}

/// Logs a migrated key whose name was already taken by a different key.
#[cfg(feature = "on-disk")]
fn warn_if_different(
    tx: &Transaction<'_>,
    key: &KeyIdentity,
    info: &KeyInfo,
) -> Result<(), KeyStoreError> {
    const SQL: &str = concat!("SELECT backend_id FROM keys WHERE ", one_key!());
    let existing: Vec<u8> = tx
        .query_row(SQL, key_params(key), |row| row.get(0))
        .map_err(row_error)?;
    if existing != info.backend_id {
        log::warn!(
            "key {:?} of {} in {}: already in the store with another backend id; kept the store's",
            key.key_name,
            key.application,
            key.provider
        );
    }
    Ok(())
}

type Row = (KeyIdentity, KeyInfo, KeyState);

fn select(tx: &Transaction<'_>, sql: &str, params: impl Params) -> Result<Vec<Row>, KeyStoreError> {
    let mut statement = tx.prepare_cached(sql).map_err(storage)?;
    let rows = statement.query_map(params, RawRow::read).map_err(storage)?;
    rows.map(|row| row.map_err(row_error)?.decode()).collect()
}

fn without_state(rows: Vec<Row>) -> Vec<(KeyIdentity, KeyInfo)> {
    rows.into_iter().map(|(key, info, _)| (key, info)).collect()
}

/// A row as stored, before its values are checked.
struct RawRow {
    auth_type: i64,
    application: String,
    provider: String,
    key_name: String,
    backend_id: Vec<u8>,
    attributes: Vec<u8>,
    state: String,
}

impl RawRow {
    fn read(row: &rusqlite::Row<'_>) -> rusqlite::Result<Self> {
        Ok(RawRow {
            auth_type: row.get(0)?,
            application: row.get(1)?,
            provider: row.get(2)?,
            key_name: row.get(3)?,
            backend_id: row.get(4)?,
            attributes: row.get(5)?,
            state: row.get(6)?,
        })
    }

    fn decode(self) -> Result<Row, KeyStoreError> {
        let key = KeyIdentity {
            application: Application::new(auth_type(self.auth_type)?, self.application),
            provider: self.provider,
            key_name: self.key_name,
        };
        let attributes = decode_key_attributes(&self.attributes).map_err(|error| {
            KeyStoreError::Corrupt(format!(
                "attributes of key {:?} of {} in {}: {error}",
                key.key_name, key.application, key.provider
            ))
        })?;
        let state = parse_state(&self.state)?;
        let info = KeyInfo {
            backend_id: self.backend_id,
            attributes,
        };
        Ok((key, info, state))
    }
}

/// A row read failed: a value of the wrong type is corruption, anything
/// else the database's failure.
fn row_error(error: rusqlite::Error) -> KeyStoreError {
    use rusqlite::Error as E;
    match error {
        E::InvalidColumnType(..)
        | E::FromSqlConversionFailure(..)
        | E::IntegralValueOutOfRange(..) => {
            KeyStoreError::Corrupt(format!("key store row: {error}"))
        }
        other => storage(other),
    }
}

fn auth_type(id: i64) -> Result<AuthType, KeyStoreError> {
    u8::try_from(id)
        .ok()
        .and_then(AuthType::from_id)
        .ok_or_else(|| KeyStoreError::Corrupt(format!("unknown auth type {id}")))
}

fn state_name(state: KeyState) -> &'static str {
    match state {
        KeyState::Creating => "creating",
        KeyState::Ready => "ready",
        KeyState::Destroying => "destroying",
    }
}

fn parse_state(name: &str) -> Result<KeyState, KeyStoreError> {
    match name {
        "creating" => Ok(KeyState::Creating),
        "ready" => Ok(KeyState::Ready),
        "destroying" => Ok(KeyState::Destroying),
        other => Err(KeyStoreError::Corrupt(format!(
            "unknown key state {other:?}"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{attributes, info, key, mode};
    use psec_interface::AuthType::{Direct, UnixPeerCredentials};
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};

    fn open_in(dir: &tempfile::TempDir) -> SqliteKeyStore {
        SqliteKeyStore::open(&dir.path().join("keys.sqlite3")).unwrap()
    }

    fn raw(store: &SqliteKeyStore) -> Connection {
        Connection::open(store.path()).unwrap()
    }

    #[test]
    fn applications_and_authenticators_are_isolated() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_in(&dir);
        let alice = key(Direct, "alice", "mbed", "k");
        let bob = key(Direct, "bob", "mbed", "k");
        let alice_uid = key(UnixPeerCredentials, "alice", "mbed", "k");
        for (k, id) in [(&alice, 1u8), (&bob, 2), (&alice_uid, 3)] {
            store.begin_create(k, &info(&[id])).unwrap();
            store.commit_create(k).unwrap();
        }
        assert_eq!(store.get(&alice).unwrap(), Some(info(&[1])));
        assert_eq!(store.get(&bob).unwrap(), Some(info(&[2])));
        assert_eq!(store.get(&alice_uid).unwrap(), Some(info(&[3])));
        assert_eq!(
            store.keys_of(&alice.application).unwrap(),
            vec![(alice.clone(), info(&[1]))]
        );
        assert_eq!(
            store.keys_of(&alice_uid.application).unwrap(),
            vec![(alice_uid.clone(), info(&[3]))]
        );
        assert_eq!(
            store.applications().unwrap(),
            vec![
                alice.application.clone(),
                bob.application.clone(),
                alice_uid.application.clone()
            ]
        );
        // Destroying one leaves the others.
        store.begin_destroy(&alice).unwrap();
        store.finish_destroy(&alice).unwrap();
        assert_eq!(store.get(&alice_uid).unwrap(), Some(info(&[3])));
        assert_eq!(store.get(&bob).unwrap(), Some(info(&[2])));
    }

    #[test]
    fn one_key_name_in_two_providers_is_two_keys() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_in(&dir);
        let in_mbed = key(Direct, "app", "mbed", "k");
        let in_tpm = key(Direct, "app", "tpm", "k");
        store.begin_create(&in_mbed, &info(&[1])).unwrap();
        store.begin_create(&in_tpm, &info(&[2])).unwrap();
        store.commit_create(&in_mbed).unwrap();
        assert_eq!(
            store.keys_in("mbed").unwrap(),
            vec![(in_mbed.clone(), info(&[1]))]
        );
        assert!(store.keys_in("tpm").unwrap().is_empty());
        assert_eq!(
            store.unfinished("tpm").unwrap(),
            vec![(in_tpm.clone(), info(&[2]), KeyState::Creating)]
        );
        assert!(store.unfinished("mbed").unwrap().is_empty());
        store.commit_create(&in_tpm).unwrap();
        assert_eq!(
            store.keys_of(&in_mbed.application).unwrap(),
            vec![(in_mbed, info(&[1])), (in_tpm, info(&[2]))]
        );
    }

    #[test]
    fn keys_and_states_survive_reopening() {
        let dir = tempfile::tempdir().unwrap();
        let ready = key(Direct, "app", "mbed", "ready");
        let creating = key(Direct, "app", "mbed", "creating");
        let destroying = key(Direct, "app", "mbed", "destroying");
        {
            let store = open_in(&dir);
            for k in [&ready, &destroying] {
                store.begin_create(k, &info(k.key_name.as_bytes())).unwrap();
                store.commit_create(k).unwrap();
            }
            store.begin_destroy(&destroying).unwrap();
            store.begin_create(&creating, &info(b"creating")).unwrap();
        }
        let store = open_in(&dir);
        assert_eq!(store.get(&ready).unwrap(), Some(info(b"ready")));
        assert_eq!(
            store.unfinished("mbed").unwrap(),
            vec![
                (creating, info(b"creating"), KeyState::Creating),
                (destroying, info(b"destroying"), KeyState::Destroying),
            ]
        );
        assert_eq!(store.get(&ready).unwrap().unwrap().attributes, attributes());
    }

    #[test]
    fn new_store_has_private_modes_and_wal_with_full_sync() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("state/psec/keys.sqlite3");
        let store = SqliteKeyStore::open(&path).unwrap();
        let k = key(Direct, "app", "mbed", "k");
        store.begin_create(&k, &info(&[1])).unwrap();
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(path.parent().unwrap()), 0o700);
        assert_eq!(mode(&side_file(&path, "-wal")), 0o600);
        assert_eq!(mode(&side_file(&path, "-shm")), 0o600);

        let connection = store.lock();
        let journal: String = connection
            .pragma_query_value(None, "journal_mode", |row| row.get(0))
            .unwrap();
        let synchronous: i64 = connection
            .pragma_query_value(None, "synchronous", |row| row.get(0))
            .unwrap();
        let version: i64 = connection
            .pragma_query_value(None, "user_version", |row| row.get(0))
            .unwrap();
        assert_eq!(journal, "wal");
        assert_eq!(synchronous, 2, "FULL");
        assert_eq!(version, SCHEMA_VERSION);
    }

    #[test]
    fn reopening_puts_loose_modes_back() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        let store_dir = dir.path().join("psec");
        let path = store_dir.join("keys.sqlite3");
        drop(SqliteKeyStore::open(&path).unwrap());
        fs_set_mode(&path, 0o644);
        fs_set_mode(&store_dir, 0o755);
        drop(SqliteKeyStore::open(&path).unwrap());
        assert_eq!(mode(&path), 0o600);
        assert_eq!(mode(&store_dir), 0o700);

        fn fs_set_mode(path: &Path, mode: u32) {
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(mode)).unwrap();
        }
    }

    #[test]
    fn a_shared_directory_keeps_its_mode() {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir().unwrap();
        std::fs::set_permissions(dir.path(), std::fs::Permissions::from_mode(0o755)).unwrap();
        std::fs::write(dir.path().join("someone-else"), b"").unwrap();
        let path = dir.path().join("keys.sqlite3");
        drop(SqliteKeyStore::open(&path).unwrap());
        assert_eq!(mode(dir.path()), 0o755);
        assert_eq!(mode(&path), 0o600);
    }

    #[test]
    fn corrupt_attributes_are_a_corrupt_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_in(&dir);
        let k = key(Direct, "app", "mbed", "k");
        store.begin_create(&k, &info(&[1])).unwrap();
        store.commit_create(&k).unwrap();
        raw(&store)
            .execute("UPDATE keys SET attributes = x'ffffffff0a'", [])
            .unwrap();

        let corrupt =
            |result: Result<_, KeyStoreError>| matches!(result, Err(KeyStoreError::Corrupt(_)));
        assert!(corrupt(store.get(&k).map(drop)));
        assert!(corrupt(store.keys_of(&k.application).map(drop)));
        assert!(corrupt(store.keys_in("mbed").map(drop)));
        assert!(corrupt(store.begin_destroy(&k).map(drop)));
        // The failed begin_destroy changed nothing.
        assert_eq!(store.applications().unwrap(), vec![k.application.clone()]);
    }

    #[test]
    fn unknown_auth_type_or_wrong_column_type_is_a_corrupt_error() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_in(&dir);
        let k = key(Direct, "app", "mbed", "k");
        store.begin_create(&k, &info(&[1])).unwrap();
        store.commit_create(&k).unwrap();
        raw(&store)
            .execute("UPDATE keys SET auth_type = 200", [])
            .unwrap();
        assert!(matches!(
            store.keys_in("mbed"),
            Err(KeyStoreError::Corrupt(_))
        ));
        assert!(matches!(
            store.applications(),
            Err(KeyStoreError::Corrupt(_))
        ));
        raw(&store)
            .execute("UPDATE keys SET auth_type = 1, backend_id = 42", [])
            .unwrap();
        assert!(matches!(
            store.keys_in("mbed"),
            Err(KeyStoreError::Corrupt(_))
        ));
    }

    #[test]
    fn a_newer_schema_version_is_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_in(&dir);
        raw(&store).pragma_update(None, "user_version", 7).unwrap();
        let path = store.path().to_owned();
        drop(store);
        match SqliteKeyStore::open(&path) {
            Err(KeyStoreError::Storage(source)) => {
                let schema = source.downcast_ref::<UnsupportedSchema>().unwrap();
                assert_eq!(schema.found, 7);
            }
            other => panic!("expected UnsupportedSchema, got {other:?}"),
        }
    }

    #[cfg(feature = "on-disk")]
    #[test]
    fn import_ready_skips_names_already_present() {
        let dir = tempfile::tempdir().unwrap();
        let store = open_in(&dir);
        let old = key(Direct, "app", "mbed", "old");
        let new = key(Direct, "app", "mbed", "new");
        store.begin_create(&old, &info(&[1])).unwrap();
        let counts = store
            .import_ready(&[(old.clone(), info(&[9])), (new.clone(), info(&[2]))])
            .unwrap();
        assert_eq!(
            counts,
            ImportCounts {
                inserted: 1,
                already_present: 1
            }
        );
        assert_eq!(store.get(&new).unwrap(), Some(info(&[2])));
        assert_eq!(store.get(&old).unwrap(), None, "still Creating, as it was");
    }

    /// Set to a database path, makes [`crash_child_creates_keys_until_killed`]
    /// run its burst.
    const CRASH_DB_ENV: &str = "PSEC_KEY_STORE_CRASH_DB";
    const CRASH_ROUND_ENV: &str = "PSEC_KEY_STORE_CRASH_ROUND";
    const CRASH_PROVIDER: &str = "burst-provider";

    fn burst_key(round: &str, index: u32) -> KeyIdentity {
        key(Direct, "burst", CRASH_PROVIDER, &format!("{round}-{index}"))
    }

    /// Not a test on its own: the child process of
    /// [`sigkill_during_a_create_burst_leaves_a_valid_store`]. Does nothing
    /// unless [`CRASH_DB_ENV`] is set.
    #[test]
    fn crash_child_creates_keys_until_killed() {
        let Some(path) = std::env::var_os(CRASH_DB_ENV) else {
            return;
        };
        let round = std::env::var(CRASH_ROUND_ENV).unwrap();
        let store = SqliteKeyStore::open(Path::new(&path)).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(60);
        for index in 0.. {
            let k = burst_key(&round, index);
            store.begin_create(&k, &info(&index.to_le_bytes())).unwrap();
            store.commit_create(&k).unwrap();
            println!("committed {index}");
            assert!(std::time::Instant::now() < deadline, "never killed");
        }
    }

    /// Runs the child on `path`, kills it with SIGKILL once it reported
    /// `commits` commits, and returns the indexes it reported.
    fn run_child_and_kill(path: &Path, round: &str, commits: u32) -> Vec<u32> {
        let test_name = module_path!()
            .split_once("::")
            .map(|(_, rest)| format!("{rest}::crash_child_creates_keys_until_killed"))
            .unwrap();
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args([
                test_name.as_str(),
                "--exact",
                "--nocapture",
                "--test-threads=1",
            ])
            .env(CRASH_DB_ENV, path)
            .env(CRASH_ROUND_ENV, round)
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        let mut committed = Vec::new();
        for line in stdout.lines() {
            if let Some(index) = line.unwrap().strip_prefix("committed ") {
                committed.push(index.parse().unwrap());
                if committed.len() >= commits as usize {
                    break;
                }
            }
        }
        // Vary the instant of the kill within the child's next steps (about
        // a millisecond each).
        let jitter = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos()
            % 3_000;
        std::thread::sleep(Duration::from_micros(u64::from(jitter)));
        child.kill().unwrap(); // SIGKILL
        let _ = child.wait().unwrap();
        assert_eq!(committed.len(), commits as usize, "the child stopped early");
        committed
    }

    #[test]
    fn sigkill_during_a_create_burst_leaves_a_valid_store() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("keys.sqlite3");
        drop(SqliteKeyStore::open(&path).unwrap());
        for round in ["a", "b", "c", "d", "e", "f"] {
            let committed = run_child_and_kill(&path, round, 25);

            let store = SqliteKeyStore::open(&path).unwrap();
            let check: String = raw(&store)
                .query_row("PRAGMA integrity_check", [], |row| row.get(0))
                .unwrap();
            assert_eq!(check, "ok");
            // Every row decodes; every commit the child reported is there.
            let ready = store.keys_in(CRASH_PROVIDER).unwrap();
            for index in &committed {
                let k = burst_key(round, *index);
                assert_eq!(store.get(&k).unwrap(), Some(info(&index.to_le_bytes())));
            }
            let unfinished = store.unfinished(CRASH_PROVIDER).unwrap();
            assert!(unfinished.len() <= 1, "{unfinished:?}");
            let states: i64 = raw(&store)
                .query_row(
                    "SELECT count(*) FROM keys WHERE state NOT IN ('creating', 'ready')",
                    [],
                    |row| row.get(0),
                )
                .unwrap();
            assert_eq!(states, 0);
            let rows: i64 = raw(&store)
                .query_row("SELECT count(*) FROM keys", [], |row| row.get(0))
                .unwrap();
            assert_eq!(
                usize::try_from(rows).unwrap(),
                ready.len() + unfinished.len()
            );
            // The provider's start-up recovery works on what the kill left.
            for (k, _, state) in unfinished {
                assert_eq!(state, KeyState::Creating);
                store.abort_create(&k).unwrap();
                store.begin_create(&k, &info(&[0])).unwrap();
                store.abort_create(&k).unwrap();
            }
        }
    }
}
