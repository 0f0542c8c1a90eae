//! The [`KeyStore`] contract, written once and run against each store
//! (`every_contract_test!` at the bottom: SQLite, on-disk, and the
//! providers' in-memory test double): the steps of creation and destruction, what
//! each state shows, and readers racing a destroy. What only one store
//! does (file modes, Parsec's layout, schema versions) is tested beside it.

use super::test_support::{info, key};
use psec_interface::AuthType::Direct;
use psec_provider::{KeyState, KeyStore, KeyStoreError};
use std::path::Path;

#[cfg(feature = "on-disk")]
use crate::OnDiskKeyStore;
#[cfg(feature = "sqlite")]
use crate::SqliteKeyStore;

pub(super) fn created_key_is_visible_only_once_committed(store: &dyn KeyStore, provider: &str) {
    let k = key(Direct, "app", provider, "k1");
    store.begin_create(&k, &info(&[1])).unwrap();

    assert_eq!(store.get(&k).unwrap(), None);
    assert!(store.keys_of(&k.application).unwrap().is_empty());
    assert!(store.keys_in(provider).unwrap().is_empty());
    assert!(store.applications().unwrap().is_empty());
    assert_eq!(
        store.unfinished(provider).unwrap(),
        vec![(k.clone(), info(&[1]), KeyState::Creating)]
    );

    store.commit_create(&k).unwrap();
    assert_eq!(store.get(&k).unwrap(), Some(info(&[1])));
    assert_eq!(
        store.keys_of(&k.application).unwrap(),
        vec![(k.clone(), info(&[1]))]
    );
    assert_eq!(
        store.keys_in(provider).unwrap(),
        vec![(k.clone(), info(&[1]))]
    );
    assert_eq!(store.applications().unwrap(), vec![k.application.clone()]);
    assert!(store.unfinished(provider).unwrap().is_empty());
}

pub(super) fn begin_create_on_a_name_taken_in_any_state_is_already_exists(
    store: &dyn KeyStore,
    provider: &str,
) {
    let k = key(Direct, "app", provider, "k1");
    store.begin_create(&k, &info(&[1])).unwrap();
    let again = store.begin_create(&k, &info(&[2]));
    assert!(matches!(again, Err(KeyStoreError::AlreadyExists)));
    store.commit_create(&k).unwrap();
    let again = store.begin_create(&k, &info(&[2]));
    assert!(matches!(again, Err(KeyStoreError::AlreadyExists)));
    store.begin_destroy(&k).unwrap();
    let again = store.begin_create(&k, &info(&[2]));
    assert!(matches!(again, Err(KeyStoreError::AlreadyExists)));
    // The first key's info is untouched.
    assert_eq!(
        store.unfinished(provider).unwrap(),
        vec![(k, info(&[1]), KeyState::Destroying)]
    );
}

pub(super) fn abort_create_forgets_the_key_and_frees_the_name(
    store: &dyn KeyStore,
    provider: &str,
) {
    let k = key(Direct, "app", provider, "k1");
    store.begin_create(&k, &info(&[1])).unwrap();
    store.abort_create(&k).unwrap();
    assert!(store.unfinished(provider).unwrap().is_empty());
    assert!(matches!(
        store.commit_create(&k),
        Err(KeyStoreError::NotFound)
    ));
    store.begin_create(&k, &info(&[2])).unwrap();
    store.commit_create(&k).unwrap();
    assert_eq!(store.get(&k).unwrap(), Some(info(&[2])));
}

pub(super) fn steps_on_a_key_in_the_wrong_state_are_not_found(
    store: &dyn KeyStore,
    provider: &str,
) {
    let k = key(Direct, "app", provider, "k1");
    assert!(matches!(
        store.commit_create(&k),
        Err(KeyStoreError::NotFound)
    ));
    assert!(matches!(
        store.abort_create(&k),
        Err(KeyStoreError::NotFound)
    ));
    assert!(matches!(
        store.finish_destroy(&k),
        Err(KeyStoreError::NotFound)
    ));
    assert_eq!(store.begin_destroy(&k).unwrap(), None);

    store.begin_create(&k, &info(&[1])).unwrap();
    assert_eq!(store.begin_destroy(&k).unwrap(), None);
    assert!(matches!(
        store.finish_destroy(&k),
        Err(KeyStoreError::NotFound)
    ));
    store.commit_create(&k).unwrap();
    assert!(matches!(
        store.commit_create(&k),
        Err(KeyStoreError::NotFound)
    ));
    assert!(matches!(
        store.abort_create(&k),
        Err(KeyStoreError::NotFound)
    ));
    assert!(matches!(
        store.finish_destroy(&k),
        Err(KeyStoreError::NotFound)
    ));
    assert_eq!(store.get(&k).unwrap(), Some(info(&[1])));
}

pub(super) fn a_key_read_before_is_gone_once_destroy_begins_and_a_new_one_is_read_anew(
    store: &dyn KeyStore,
    provider: &str,
) {
    let k = key(Direct, "app", provider, "k1");
    store.begin_create(&k, &info(&[1])).unwrap();
    store.commit_create(&k).unwrap();
    assert_eq!(store.get(&k).unwrap(), Some(info(&[1])));
    assert_eq!(store.get(&k).unwrap(), Some(info(&[1])));

    assert_eq!(store.begin_destroy(&k).unwrap(), Some(info(&[1])));
    assert_eq!(store.get(&k).unwrap(), None);
    store.finish_destroy(&k).unwrap();
    store.begin_create(&k, &info(&[2])).unwrap();
    assert_eq!(store.get(&k).unwrap(), None, "not ready yet");
    store.commit_create(&k).unwrap();
    assert_eq!(store.get(&k).unwrap(), Some(info(&[2])));
}

pub(super) fn readers_racing_a_destroy_never_see_the_key_afterwards(
    store: &dyn KeyStore,
    provider: &str,
) {
    for round in 0..20_u8 {
        let k = key(Direct, "app", provider, &format!("k{round}"));
        store.begin_create(&k, &info(&[round])).unwrap();
        store.commit_create(&k).unwrap();
        std::thread::scope(|scope| {
            for _ in 0..4 {
                scope.spawn(|| {
                    for _ in 0..50 {
                        let _ = store.get(&k).unwrap();
                    }
                });
            }
            scope.spawn(|| store.begin_destroy(&k).unwrap());
        });
        assert_eq!(store.get(&k).unwrap(), None, "round {round}");
    }
}

pub(super) fn destroy_hides_the_key_then_forgets_it(store: &dyn KeyStore, provider: &str) {
    let k = key(Direct, "app", provider, "k1");
    store.begin_create(&k, &info(&[7])).unwrap();
    store.commit_create(&k).unwrap();

    assert_eq!(store.begin_destroy(&k).unwrap(), Some(info(&[7])));
    assert_eq!(store.get(&k).unwrap(), None);
    assert!(store.keys_of(&k.application).unwrap().is_empty());
    assert!(store.keys_in(provider).unwrap().is_empty());
    assert!(store.applications().unwrap().is_empty());
    assert_eq!(store.begin_destroy(&k).unwrap(), None);
    assert_eq!(
        store.unfinished(provider).unwrap(),
        vec![(k.clone(), info(&[7]), KeyState::Destroying)]
    );

    store.finish_destroy(&k).unwrap();
    assert!(store.unfinished(provider).unwrap().is_empty());
    assert!(matches!(
        store.finish_destroy(&k),
        Err(KeyStoreError::NotFound)
    ));
    store.begin_create(&k, &info(&[8])).unwrap();
}

/// Runs each contract test named after `tests:` against the store `$open`
/// opens in a fresh directory, with keys of provider `$provider`.
macro_rules! contract {
    ($store:ident, $open:expr, $provider:expr, tests: $($test:ident),+ $(,)?) => {
        mod $store {
            use super::*;
            $(
                #[test]
                fn $test() {
                    let dir = tempfile::tempdir().unwrap();
                    let store = $open(dir.path());
                    super::$test(&store, $provider);
                }
            )+
        }
    };
}

/// Every contract test, for each store.
macro_rules! every_contract_test {
    ($store:ident, $open:expr, $provider:expr) => {
        contract!(
            $store,
            $open,
            $provider,
            tests: created_key_is_visible_only_once_committed,
            begin_create_on_a_name_taken_in_any_state_is_already_exists,
            abort_create_forgets_the_key_and_frees_the_name,
            steps_on_a_key_in_the_wrong_state_are_not_found,
            a_key_read_before_is_gone_once_destroy_begins_and_a_new_one_is_read_anew,
            readers_racing_a_destroy_never_see_the_key_afterwards,
            destroy_hides_the_key_then_forgets_it,
        );
    };
}

#[cfg(feature = "sqlite")]
every_contract_test!(
    sqlite,
    |dir: &Path| SqliteKeyStore::open(&dir.join("keys.sqlite3")).unwrap(),
    "mbed"
);
#[cfg(feature = "on-disk")]
every_contract_test!(
    on_disk,
    |dir: &Path| OnDiskKeyStore::open(dir, Direct).unwrap(),
    "mbed-crypto-provider"
);
// The in-memory store every provider's unit tests run on: if it broke the
// contract, those tests would prove nothing.
every_contract_test!(
    in_memory_for_tests,
    |_: &Path| psec_provider::testing::InMemoryKeyStoreForTests::default(),
    "mbed"
);
