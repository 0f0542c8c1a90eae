//! Moving an existing Parsec install's key mappings to SQLite.

use psec_provider::{KeyStore, KeyStoreError};

use super::on_disk::OnDiskKeyStore;
use super::sqlite::SqliteKeyStore;

/// What [`migrate_on_disk_to_sqlite`] did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct MigrationReport {
    /// `Ready` keys copied into the SQLite store.
    pub migrated: usize,
    /// `Ready` keys whose name the SQLite store already had (from an earlier
    /// run, or made since), left as the store has them.
    pub already_present: usize,
    /// Keys left `Creating` or `Destroying` in the on-disk store, not copied:
    /// finish them with a psec running on the on-disk store first.
    pub unfinished_skipped: usize,
}

/// Copies every `Ready` key of `on_disk` into `sqlite`, as `Ready`.
///
/// All the copies are one SQLite transaction, and a name the SQLite store
/// already has (in any state) is skipped, so the migration can be re-run
/// after a crash or after it succeeded: it neither duplicates nor loses a
/// key. The on-disk files stay in place; removing them is left to the
/// operator, once psec runs on the SQLite store.
pub fn migrate_on_disk_to_sqlite(
    on_disk: &OnDiskKeyStore,
    sqlite: &SqliteKeyStore,
) -> Result<MigrationReport, KeyStoreError> {
    let mut keys = Vec::new();
    for application in on_disk.applications()? {
        keys.extend(on_disk.keys_of(&application)?);
    }
    let mut unfinished_skipped = 0;
    for (_, provider) in on_disk.provider_names() {
        unfinished_skipped += on_disk.unfinished(provider)?.len();
    }
    let counts = sqlite.import_ready(&keys)?;
    let report = MigrationReport {
        migrated: counts.inserted,
        already_present: counts.already_present,
        unfinished_skipped,
    };
    log::info!(
        "migrated {} keys from {} to {} ({} already there, {} unfinished skipped)",
        report.migrated,
        on_disk.root().display(),
        sqlite.path().display(),
        report.already_present,
        report.unfinished_skipped
    );
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{info, key};
    use psec_interface::AuthType::Direct;

    const MBED: &str = "mbed-crypto-provider";
    const TPM: &str = "tpm-provider";

    struct Stores {
        _dir: tempfile::TempDir,
        on_disk: OnDiskKeyStore,
        sqlite: SqliteKeyStore,
    }

    fn stores() -> Stores {
        let dir = tempfile::tempdir().unwrap();
        let on_disk = OnDiskKeyStore::open(&dir.path().join("mappings"), Direct).unwrap();
        let sqlite = SqliteKeyStore::open(&dir.path().join("psec/keys.sqlite3")).unwrap();
        Stores {
            _dir: dir,
            on_disk,
            sqlite,
        }
    }

    fn create(store: &dyn KeyStore, k: &psec_provider::KeyIdentity, id: u8) {
        store.begin_create(k, &info(&[id])).unwrap();
        store.commit_create(k).unwrap();
    }

    fn report(
        migrated: usize,
        already_present: usize,
        unfinished_skipped: usize,
    ) -> MigrationReport {
        MigrationReport {
            migrated,
            already_present,
            unfinished_skipped,
        }
    }

    #[test]
    fn migration_copies_ready_keys_only_and_leaves_the_files() {
        let s = stores();
        let a = key(Direct, "alice", MBED, "k");
        let b = key(Direct, "bob", TPM, "k");
        let pending = key(Direct, "alice", MBED, "pending");
        let going = key(Direct, "alice", MBED, "going");
        create(&s.on_disk, &a, 1);
        create(&s.on_disk, &b, 2);
        create(&s.on_disk, &going, 3);
        s.on_disk.begin_destroy(&going).unwrap();
        s.on_disk.begin_create(&pending, &info(&[4])).unwrap();

        let done = migrate_on_disk_to_sqlite(&s.on_disk, &s.sqlite).unwrap();
        assert_eq!(done, report(2, 0, 2));
        assert_eq!(s.sqlite.get(&a).unwrap(), Some(info(&[1])));
        assert_eq!(s.sqlite.get(&b).unwrap(), Some(info(&[2])));
        assert_eq!(s.sqlite.get(&pending).unwrap(), None);
        assert_eq!(s.sqlite.get(&going).unwrap(), None);
        assert!(s.sqlite.unfinished(MBED).unwrap().is_empty());
        // The on-disk store is as it was.
        assert_eq!(s.on_disk.get(&a).unwrap(), Some(info(&[1])));
        assert_eq!(s.on_disk.keys_in(TPM).unwrap(), vec![(b, info(&[2]))]);
        assert_eq!(s.on_disk.unfinished(MBED).unwrap().len(), 2);
    }

    #[test]
    fn rerunning_the_migration_neither_duplicates_nor_loses_keys() {
        let s = stores();
        let a = key(Direct, "alice", MBED, "a");
        let b = key(Direct, "alice", MBED, "b");
        create(&s.on_disk, &a, 1);
        create(&s.on_disk, &b, 2);
        assert_eq!(
            migrate_on_disk_to_sqlite(&s.on_disk, &s.sqlite).unwrap(),
            report(2, 0, 0)
        );
        assert_eq!(
            migrate_on_disk_to_sqlite(&s.on_disk, &s.sqlite).unwrap(),
            report(0, 2, 0)
        );
        assert_eq!(
            s.sqlite.keys_in(MBED).unwrap(),
            vec![(a, info(&[1])), (b, info(&[2]))]
        );
    }

    #[test]
    fn a_migration_cut_short_completes_on_the_next_run() {
        let s = stores();
        let keys: Vec<_> = (0..5u8)
            .map(|i| key(Direct, "app", MBED, &format!("k{i}")))
            .collect();
        for (i, k) in (0u8..).zip(&keys) {
            create(&s.on_disk, k, i);
        }
        // As if a run had copied the first two keys one at a time and died.
        for (i, k) in (0u8..).zip(&keys[..2]) {
            create(&s.sqlite, k, i);
        }
        // And a key created in SQLite since, with a name the on-disk store
        // also has, keeps SQLite's info.
        create(&s.sqlite, &keys[4], 99);

        let done = migrate_on_disk_to_sqlite(&s.on_disk, &s.sqlite).unwrap();
        assert_eq!(done, report(2, 3, 0));
        let migrated = s.sqlite.keys_in(MBED).unwrap();
        assert_eq!(migrated.len(), 5);
        for ((k, got), i) in migrated.iter().zip([0u8, 1, 2, 3, 99]) {
            assert_eq!(got, &info(&[i]), "{k:?}");
        }
    }

    #[test]
    fn migrating_an_empty_tree_does_nothing() {
        let s = stores();
        assert_eq!(
            migrate_on_disk_to_sqlite(&s.on_disk, &s.sqlite).unwrap(),
            report(0, 0, 0)
        );
        assert!(s.sqlite.applications().unwrap().is_empty());
    }
}
