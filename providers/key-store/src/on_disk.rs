//! Parsec's legacy on-disk key info manager layout, as a [`KeyStore`].
//!
//! Layout, from Parsec's `src/key_info_managers/on_disk_manager/mod.rs`
//! (see [`crate::legacy`] for the encodings):
//!
//! ```text
//! mappings/                               mode 700
//! |-- <base64url(app name)>/              one per application
//! |   |-- <provider id in decimal>/       1 = Mbed Crypto, 2 = PKCS #11, 3 = TPM...
//! |   |   |-- <base64url(key name)>       bincode 1 of KeyInfo { id, attributes }, mode 600
//! |-- parsec/                             Parsec's internal keys (not read here)
//! ```
//!
//! Parsec has no auth type in this layout (one store served the one
//! configured authenticator) and no key states. So:
//!
//! - a store serves one [`AuthType`], given when opening it. Keys of other
//!   auth types are never found, and creating one fails with
//!   [`UnsupportedKey::AuthType`];
//! - psec provider names map to Parsec provider ids: by default each id's
//!   [`ProviderId::default_name`] (which are Parsec's default names too),
//!   changed with [`OnDiskKeyStore::with_provider_name`];
//! - `Ready` keys are the files above, where Parsec reads them. `Creating`
//!   and `Destroying` keys are the same files, in the same tree layout,
//!   under `mappings/.psec-pending/creating/` and
//!   `mappings/.psec-pending/destroying/`; each step is a write, rename or
//!   remove of one file. Parsec reads files only at depth 3
//!   (`mappings/A/P/file`); for it `.psec-pending` is an application whose
//!   "provider" directories (`creating`, `destroying`) hold only
//!   directories, so it never opens a pending file. psec skips names that
//!   start with a dot (the pending tree, temporary files), which are not
//!   base64.
//!
//! Writes go through a temporary file that is synced, renamed into place,
//! and its directory synced. Directories are created with mode 700, files
//! with mode 600. Like Parsec, the store assumes that no other process
//! writes the tree while it is open.

use psec_interface::{AuthType, ProviderId};
use psec_provider::{Application, KeyIdentity, KeyInfo, KeyState, KeyStore, KeyStoreError};
use std::collections::BTreeMap;
use std::fmt;
use std::fs;
use std::io::{self, Read};
use std::path::{Path, PathBuf};
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::fs_util::{
    DIR_MODE, TEMP_PREFIX, create_private_dir, ensure_mode, list_names, storage, sync_dir,
    sync_dirs_up_to, write_atomic,
};
use super::legacy::{MAX_FILE_LEN, decode_key_info, decode_name, encode_key_info, encode_name};

/// Where psec keeps keys that are not `Ready`, under the mappings directory.
const PENDING_DIR: &str = ".psec-pending";
const CREATING_DIR: &str = "creating";
const DESTROYING_DIR: &str = "destroying";
/// Parsec's directory of its own internal keys, which are not client keys.
const PARSEC_INTERNAL_DIR: &str = "parsec";

/// A key the on-disk layout cannot hold.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum UnsupportedKey {
    /// The key's authenticator is not the one the store serves.
    AuthType {
        /// The auth type the store serves.
        served: AuthType,
        /// The key's.
        requested: AuthType,
    },
    /// The key's provider name maps to no Parsec provider id.
    Provider {
        /// The provider name.
        name: String,
    },
}

impl fmt::Display for UnsupportedKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            UnsupportedKey::AuthType { served, requested } => write!(
                f,
                "the on-disk key store holds keys of the {served} authenticator only, \
                 not of the {requested} authenticator"
            ),
            UnsupportedKey::Provider { name } => write!(
                f,
                "the on-disk key store has no Parsec provider id for provider {name:?}"
            ),
        }
    }
}

impl std::error::Error for UnsupportedKey {}

/// Parsec's on-disk mappings as a key store. See the module docs.
#[derive(Debug)]
pub struct OnDiskKeyStore {
    root: PathBuf,
    auth: AuthType,
    providers: BTreeMap<ProviderId, String>,
    /// Serialises every method: each checks, then changes, several files.
    lock: Mutex<()>,
}

/// A key's place in the tree: its encoded path components.
struct Location {
    application: String,
    provider: String,
    key_name: String,
}

/// A key file found by a scan.
struct Found {
    application: String,
    provider: ProviderId,
    key_name: String,
    path: PathBuf,
}

impl OnDiskKeyStore {
    /// Opens the mappings directory `root` (Parsec's default is
    /// `/var/lib/parsec/mappings`), creating it with mode 700 if missing,
    /// for the keys of the `auth` authenticator. Removes temporary files a
    /// crash left.
    pub fn open(root: &Path, auth: AuthType) -> Result<Self, KeyStoreError> {
        create_private_dir(root).map_err(storage)?;
        ensure_mode(root, DIR_MODE).map_err(storage)?;
        let providers = ProviderId::ALL
            .iter()
            .map(|&id| (id, id.default_name().to_owned()))
            .collect();
        let store = OnDiskKeyStore {
            root: root.to_owned(),
            auth,
            providers,
            lock: Mutex::new(()),
        };
        store.remove_temp_files().map_err(storage)?;
        log::info!("key store: Parsec on-disk mappings {}", root.display());
        Ok(store)
    }

    /// Names the psec provider that holds the keys Parsec filed under
    /// `provider`'s id. If two ids get the same name, the lower id wins.
    pub fn with_provider_name(mut self, provider: ProviderId, name: impl Into<String>) -> Self {
        let _ = self.providers.insert(provider, name.into());
        self
    }

    /// The mappings directory.
    pub fn root(&self) -> &Path {
        &self.root
    }

    /// The auth type of every key in the store.
    pub fn auth_type(&self) -> AuthType {
        self.auth
    }

    /// The provider names keys can have, by Parsec provider id.
    pub fn provider_names(&self) -> impl Iterator<Item = (ProviderId, &str)> {
        self.providers.iter().map(|(&id, name)| (id, name.as_str()))
    }

    fn lock(&self) -> MutexGuard<'_, ()> {
        self.lock.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn provider_id(&self, name: &str) -> Option<ProviderId> {
        self.provider_names()
            .find(|&(_, known)| known == name)
            .map(|(id, _)| id)
    }

    fn provider_name(&self, id: ProviderId) -> String {
        self.providers
            .get(&id)
            .map_or_else(|| id.default_name().to_owned(), Clone::clone)
    }

    fn locate(&self, key: &KeyIdentity) -> Result<Location, UnsupportedKey> {
        if key.application.auth != self.auth {
            return Err(UnsupportedKey::AuthType {
                served: self.auth,
                requested: key.application.auth,
            });
        }
        let provider = self
            .provider_id(&key.provider)
            .ok_or_else(|| UnsupportedKey::Provider {
                name: key.provider.clone(),
            })?;
        Ok(Location {
            application: encode_name(&key.application.name),
            provider: provider.id().to_string(),
            key_name: encode_name(&key.key_name),
        })
    }

    /// The tree that holds keys in `state`.
    fn area(&self, state: KeyState) -> PathBuf {
        match state {
            KeyState::Ready => self.root.clone(),
            KeyState::Creating => self.root.join(PENDING_DIR).join(CREATING_DIR),
            KeyState::Destroying => self.root.join(PENDING_DIR).join(DESTROYING_DIR),
        }
    }

    fn dir(&self, state: KeyState, location: &Location) -> PathBuf {
        self.area(state)
            .join(&location.application)
            .join(&location.provider)
    }

    fn path(&self, state: KeyState, location: &Location) -> PathBuf {
        self.dir(state, location).join(&location.key_name)
    }

    /// Creates a key's directory and syncs it and its parents.
    fn make_dir(&self, dir: &Path) -> io::Result<()> {
        create_private_dir(dir)?;
        sync_dirs_up_to(dir, &self.root)
    }

    /// Moves a key file from one state's tree to another's.
    fn move_key(&self, location: &Location, from: KeyState, to: KeyState) -> io::Result<()> {
        let to_dir = self.dir(to, location);
        self.make_dir(&to_dir)?;
        fs::rename(self.path(from, location), to_dir.join(&location.key_name))?;
        sync_dir(&to_dir)?;
        sync_dir(&self.dir(from, location))
    }

    /// Removes a key file; `NotFound` if there is none.
    fn remove_key(&self, key: &KeyIdentity, state: KeyState) -> Result<(), KeyStoreError> {
        let _guard = self.lock();
        let location = self.locate(key).map_err(|_| KeyStoreError::NotFound)?;
        match fs::remove_file(self.path(state, &location)) {
            Ok(()) => sync_dir(&self.dir(state, &location)).map_err(storage),
            Err(error) if error.kind() == io::ErrorKind::NotFound => Err(KeyStoreError::NotFound),
            Err(error) => Err(storage(error)),
        }
    }

    fn exists(&self, location: &Location, state: KeyState) -> Result<bool, KeyStoreError> {
        self.path(state, location).try_exists().map_err(storage)
    }

    /// The key files of one state's tree, for one application and/or one
    /// provider.
    fn scan(
        &self,
        state: KeyState,
        application: Option<&str>,
        provider: Option<ProviderId>,
    ) -> Result<Vec<Found>, KeyStoreError> {
        let area = self.area(state);
        let applications = match application {
            Some(name) => vec![encode_name(name)],
            None => list_names(&area, true)
                .map_err(storage)?
                .into_iter()
                .filter(|name| name != PARSEC_INTERNAL_DIR)
                .collect(),
        };
        let mut found = Vec::new();
        for encoded in applications {
            scan_application(&area, &encoded, provider, &mut found)?;
        }
        Ok(found)
    }

    /// Reads the found key files into keys; files gone meanwhile are skipped.
    fn load(&self, found: Vec<Found>) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError> {
        let mut keys = Vec::new();
        for file in found {
            let Some(info) = read_info(&file.path)? else {
                continue;
            };
            let key = KeyIdentity {
                application: Application::new(self.auth, file.application),
                provider: self.provider_name(file.provider),
                key_name: file.key_name,
            };
            keys.push((key, info));
        }
        keys.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(keys)
    }

    fn remove_temp_files(&self) -> io::Result<()> {
        let area = self.area(KeyState::Creating);
        for application in list_names(&area, true)? {
            for provider in list_names(&area.join(&application), true)? {
                let dir = area.join(&application).join(provider);
                for entry in fs::read_dir(&dir)? {
                    let path = entry?.path();
                    let is_temp = path
                        .file_name()
                        .and_then(|name| name.to_str())
                        .is_some_and(|name| name.starts_with(TEMP_PREFIX));
                    if is_temp {
                        log::info!("removing leftover {}", path.display());
                        fs::remove_file(&path)?;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Adds the key files of one application directory to `found`.
fn scan_application(
    area: &Path,
    application: &str,
    provider: Option<ProviderId>,
    found: &mut Vec<Found>,
) -> Result<(), KeyStoreError> {
    let app_dir = area.join(application);
    let providers = match provider {
        Some(id) => vec![id.id().to_string()],
        None => list_names(&app_dir, true).map_err(storage)?,
    };
    for provider_dir in providers {
        let dir = app_dir.join(&provider_dir);
        let id = parse_provider_dir(&provider_dir, &dir)?;
        for file in list_names(&dir, false).map_err(storage)? {
            let path = dir.join(&file);
            let what = path.display().to_string();
            found.push(Found {
                application: decode_name(application, &what)?,
                provider: id,
                key_name: decode_name(&file, &what)?,
                path,
            });
        }
    }
    Ok(())
}

fn parse_provider_dir(name: &str, dir: &Path) -> Result<ProviderId, KeyStoreError> {
    name.parse::<u8>()
        .ok()
        .and_then(ProviderId::from_id)
        .ok_or_else(|| {
            KeyStoreError::Corrupt(format!("{}: not a Parsec provider id", dir.display()))
        })
}

/// Reads a key file; `None` if there is none.
fn read_info(path: &Path) -> Result<Option<KeyInfo>, KeyStoreError> {
    let file = match fs::File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(storage(error)),
    };
    let mut bytes = Vec::new();
    let limit = u64::try_from(MAX_FILE_LEN).unwrap_or(u64::MAX);
    let _ = file
        .take(limit.saturating_add(1))
        .read_to_end(&mut bytes)
        .map_err(storage)?;
    let what = path.display().to_string();
    if bytes.len() > MAX_FILE_LEN {
        return Err(KeyStoreError::Corrupt(format!(
            "{what}: too big for a key info"
        )));
    }
    decode_key_info(&bytes, &what).map(Some)
}

impl KeyStore for OnDiskKeyStore {
    fn begin_create(&self, key: &KeyIdentity, info: &KeyInfo) -> Result<(), KeyStoreError> {
        let _guard = self.lock();
        let location = self.locate(key).map_err(storage)?;
        for state in [KeyState::Creating, KeyState::Ready, KeyState::Destroying] {
            if self.exists(&location, state)? {
                return Err(KeyStoreError::AlreadyExists);
            }
        }
        let bytes = encode_key_info(info)?;
        let dir = self.dir(KeyState::Creating, &location);
        self.make_dir(&dir).map_err(storage)?;
        write_atomic(&dir, &location.key_name, &bytes).map_err(storage)
    }

    fn commit_create(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        let _guard = self.lock();
        let location = self.locate(key).map_err(|_| KeyStoreError::NotFound)?;
        if !self.exists(&location, KeyState::Creating)? {
            return Err(KeyStoreError::NotFound);
        }
        if self.exists(&location, KeyState::Ready)? {
            // Only another writer (a Parsec running on the same tree) can
            // have put it there; do not overwrite its key.
            return Err(KeyStoreError::AlreadyExists);
        }
        self.move_key(&location, KeyState::Creating, KeyState::Ready)
            .map_err(storage)
    }

    fn abort_create(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        self.remove_key(key, KeyState::Creating)
    }

    fn get(&self, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError> {
        let _guard = self.lock();
        match self.locate(key) {
            Ok(location) => read_info(&self.path(KeyState::Ready, &location)),
            Err(_) => Ok(None),
        }
    }

    fn begin_destroy(&self, key: &KeyIdentity) -> Result<Option<KeyInfo>, KeyStoreError> {
        let _guard = self.lock();
        let Ok(location) = self.locate(key) else {
            return Ok(None);
        };
        let Some(info) = read_info(&self.path(KeyState::Ready, &location))? else {
            return Ok(None);
        };
        if self.exists(&location, KeyState::Destroying)? {
            // As in `commit_create`: another writer made the name again
            // while an earlier key of that name is still being destroyed.
            return Err(KeyStoreError::AlreadyExists);
        }
        self.move_key(&location, KeyState::Ready, KeyState::Destroying)
            .map_err(storage)?;
        Ok(Some(info))
    }

    fn finish_destroy(&self, key: &KeyIdentity) -> Result<(), KeyStoreError> {
        self.remove_key(key, KeyState::Destroying)
    }

    fn keys_of(
        &self,
        application: &Application,
    ) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError> {
        let _guard = self.lock();
        if application.auth != self.auth {
            return Ok(Vec::new());
        }
        let found = self.scan(KeyState::Ready, Some(&application.name), None)?;
        self.load(found)
    }

    fn keys_in(&self, provider: &str) -> Result<Vec<(KeyIdentity, KeyInfo)>, KeyStoreError> {
        let _guard = self.lock();
        let Some(id) = self.provider_id(provider) else {
            return Ok(Vec::new());
        };
        let found = self.scan(KeyState::Ready, None, Some(id))?;
        self.load(found)
    }

    fn applications(&self) -> Result<Vec<Application>, KeyStoreError> {
        let _guard = self.lock();
        let mut names: Vec<String> = self
            .scan(KeyState::Ready, None, None)?
            .into_iter()
            .map(|found| found.application)
            .collect();
        names.sort();
        names.dedup();
        Ok(names
            .into_iter()
            .map(|name| Application::new(self.auth, name))
            .collect())
    }

    fn unfinished(
        &self,
        provider: &str,
    ) -> Result<Vec<(KeyIdentity, KeyInfo, KeyState)>, KeyStoreError> {
        let _guard = self.lock();
        let Some(id) = self.provider_id(provider) else {
            return Ok(Vec::new());
        };
        let mut keys = Vec::new();
        for state in [KeyState::Creating, KeyState::Destroying] {
            let found = self.scan(state, None, Some(id))?;
            keys.extend(
                self.load(found)?
                    .into_iter()
                    .map(|(key, info)| (key, info, state)),
            );
        }
        Ok(keys)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::test_support::{info, key, mode, parsec_fixture_bytes};
    use psec_interface::AuthType::{Direct, UnixPeerCredentials};

    const MBED: &str = "mbed-crypto-provider";
    const TPM: &str = "tpm-provider";

    fn b64(name: &str) -> String {
        use base64::Engine;
        base64::engine::general_purpose::URL_SAFE.encode(name)
    }

    /// The files Parsec's `OnDiskKeyInfoManager::new` would read as client
    /// keys: `root/<dir>/<dir>/<file>`, relative to `root`.
    fn parsec_reader_sees(root: &Path) -> Vec<String> {
        let mut seen = Vec::new();
        for app in fs::read_dir(root).unwrap() {
            let app = app.unwrap().path();
            if !app.is_dir() {
                continue;
            }
            for provider in fs::read_dir(&app).unwrap() {
                let provider = provider.unwrap().path();
                if !provider.is_dir() {
                    continue;
                }
                for file in fs::read_dir(&provider).unwrap() {
                    let file = file.unwrap().path();
                    if file.is_file() {
                        let relative = file.strip_prefix(root).unwrap();
                        seen.push(relative.to_str().unwrap().to_owned());
                    }
                }
            }
        }
        seen.sort();
        seen
    }

    fn write_parsec_file(root: &Path, app: &str, provider_id: &str, name: &str, bytes: &[u8]) {
        let dir = root.join(b64(app)).join(provider_id);
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(b64(name)), bytes).unwrap();
    }

    #[test]
    fn reads_a_tree_laid_out_as_parsec_writes_it() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mappings");
        let fixture = parsec_fixture_bytes();
        write_parsec_file(
            &root,
            "😀 Application One 😀",
            "1",
            "😀 Key One 😀",
            &fixture,
        );
        write_parsec_file(&root, "app two", "3", "tpm key", &fixture);
        write_parsec_file(&root, "app two", "1", "tpm key", &fixture);
        // Parsec's internal keys: `parsec/<base64("mbedcrypto" + name)>`.
        fs::create_dir_all(root.join("parsec")).unwrap();
        fs::write(
            root.join("parsec").join(b64("mbedcryptointernal")),
            &fixture,
        )
        .unwrap();

        let store = OnDiskKeyStore::open(&root, Direct).unwrap();
        let one = key(Direct, "😀 Application One 😀", MBED, "😀 Key One 😀");
        let two_tpm = key(Direct, "app two", TPM, "tpm key");
        let two_mbed = key(Direct, "app two", MBED, "tpm key");
        let expected = info(&[0x11, 0x22, 0x33, 0x44]);
        assert_eq!(store.get(&one).unwrap(), Some(expected.clone()));
        assert_eq!(store.get(&two_tpm).unwrap(), Some(expected.clone()));
        assert_eq!(
            store.keys_in(MBED).unwrap(),
            vec![
                (two_mbed.clone(), expected.clone()),
                (one.clone(), expected.clone())
            ]
        );
        assert_eq!(
            store.keys_in(TPM).unwrap(),
            vec![(two_tpm.clone(), expected.clone())]
        );
        assert_eq!(
            store.keys_of(&two_tpm.application).unwrap(),
            vec![(two_mbed, expected.clone()), (two_tpm.clone(), expected)]
        );
        assert_eq!(
            store.applications().unwrap(),
            vec![two_tpm.application.clone(), one.application.clone()]
        );
        assert!(store.unfinished(MBED).unwrap().is_empty());
        assert_eq!(mode(&root), 0o700);
    }

    #[test]
    fn written_key_is_the_file_parsec_reads() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path().join("mappings");
        let store = OnDiskKeyStore::open(&root, Direct).unwrap();
        let k = key(Direct, "app", MBED, "key");
        let expected_path = format!("{}/1/{}", b64("app"), b64("key"));

        store
            .begin_create(&k, &info(&[0x11, 0x22, 0x33, 0x44]))
            .unwrap();
        assert!(parsec_reader_sees(&root).is_empty());
        store.commit_create(&k).unwrap();
        assert_eq!(parsec_reader_sees(&root), vec![expected_path.clone()]);
        let file = root.join(&expected_path);
        assert_eq!(fs::read(&file).unwrap(), parsec_fixture_bytes());
        assert_eq!(mode(&file), 0o600);
        assert_eq!(mode(file.parent().unwrap()), 0o700);
        assert_eq!(mode(&root.join(b64("app"))), 0o700);
        assert_eq!(mode(&root.join(PENDING_DIR).join(CREATING_DIR)), 0o700);

        store.begin_destroy(&k).unwrap();
        assert!(parsec_reader_sees(&root).is_empty());
        store.finish_destroy(&k).unwrap();
        assert!(parsec_reader_sees(&root).is_empty());
    }

    #[test]
    fn other_auth_types_and_unknown_providers_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        let store = OnDiskKeyStore::open(dir.path(), Direct).unwrap();
        let direct = key(Direct, "app", MBED, "k");
        store.begin_create(&direct, &info(&[1])).unwrap();
        store.commit_create(&direct).unwrap();

        let uid = key(UnixPeerCredentials, "app", MBED, "k");
        assert_eq!(store.get(&uid).unwrap(), None);
        assert!(store.keys_of(&uid.application).unwrap().is_empty());
        assert_eq!(store.begin_destroy(&uid).unwrap(), None);
        assert!(matches!(
            store.commit_create(&uid),
            Err(KeyStoreError::NotFound)
        ));
        match store.begin_create(&uid, &info(&[2])) {
            Err(KeyStoreError::Storage(source)) => assert_eq!(
                source.downcast_ref::<UnsupportedKey>(),
                Some(&UnsupportedKey::AuthType {
                    served: Direct,
                    requested: UnixPeerCredentials
                })
            ),
            other => panic!("expected UnsupportedKey, got {other:?}"),
        }

        let elsewhere = key(Direct, "app", "no-such-provider", "k");
        assert_eq!(store.get(&elsewhere).unwrap(), None);
        assert!(store.keys_in("no-such-provider").unwrap().is_empty());
        match store.begin_create(&elsewhere, &info(&[2])) {
            Err(KeyStoreError::Storage(source)) => assert!(matches!(
                source.downcast_ref::<UnsupportedKey>(),
                Some(UnsupportedKey::Provider { .. })
            )),
            other => panic!("expected UnsupportedKey, got {other:?}"),
        }
        assert_eq!(store.get(&direct).unwrap(), Some(info(&[1])));
    }

    #[test]
    fn applications_and_providers_are_isolated() {
        let dir = tempfile::tempdir().unwrap();
        let store = OnDiskKeyStore::open(dir.path(), Direct).unwrap();
        let alice = key(Direct, "alice", MBED, "k");
        let bob = key(Direct, "bob", MBED, "k");
        let alice_tpm = key(Direct, "alice", TPM, "k");
        for (k, id) in [(&alice, 1u8), (&bob, 2), (&alice_tpm, 3)] {
            store.begin_create(k, &info(&[id])).unwrap();
            store.commit_create(k).unwrap();
        }
        assert_eq!(store.get(&alice).unwrap(), Some(info(&[1])));
        assert_eq!(store.get(&bob).unwrap(), Some(info(&[2])));
        assert_eq!(store.get(&alice_tpm).unwrap(), Some(info(&[3])));
        assert_eq!(
            store.keys_of(&alice.application).unwrap(),
            vec![(alice.clone(), info(&[1])), (alice_tpm.clone(), info(&[3]))]
        );
        assert_eq!(store.keys_in(TPM).unwrap(), vec![(alice_tpm, info(&[3]))]);
        store.begin_destroy(&alice).unwrap();
        store.finish_destroy(&alice).unwrap();
        assert_eq!(store.get(&bob).unwrap(), Some(info(&[2])));
    }

    #[test]
    fn keys_and_states_survive_reopening_with_renamed_providers() {
        let dir = tempfile::tempdir().unwrap();
        let ready = key(Direct, "app", "soft", "ready");
        let creating = key(Direct, "app", "soft", "creating");
        let destroying = key(Direct, "app", "soft", "destroying");
        {
            let store = OnDiskKeyStore::open(dir.path(), Direct)
                .unwrap()
                .with_provider_name(ProviderId::MbedCrypto, "soft");
            for k in [&ready, &destroying] {
                store.begin_create(k, &info(k.key_name.as_bytes())).unwrap();
                store.commit_create(k).unwrap();
            }
            store.begin_destroy(&destroying).unwrap();
            store.begin_create(&creating, &info(b"creating")).unwrap();
        }
        assert_eq!(
            parsec_reader_sees(dir.path()),
            vec![format!("{}/1/{}", b64("app"), b64("ready"))]
        );
        let store = OnDiskKeyStore::open(dir.path(), Direct)
            .unwrap()
            .with_provider_name(ProviderId::MbedCrypto, "soft");
        assert_eq!(store.get(&ready).unwrap(), Some(info(b"ready")));
        assert_eq!(
            store.unfinished("soft").unwrap(),
            vec![
                (creating, info(b"creating"), KeyState::Creating),
                (destroying, info(b"destroying"), KeyState::Destroying),
            ]
        );
        assert!(store.keys_in(MBED).unwrap().is_empty());
    }

    #[test]
    fn corrupt_files_and_names_are_corrupt_errors() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        write_parsec_file(root, "app", "1", "bad content", b"\x04\0\0");
        let store = OnDiskKeyStore::open(root, Direct).unwrap();
        let bad = key(Direct, "app", MBED, "bad content");
        assert!(matches!(store.get(&bad), Err(KeyStoreError::Corrupt(_))));
        assert!(matches!(
            store.keys_in(MBED),
            Err(KeyStoreError::Corrupt(_))
        ));
        assert!(matches!(
            store.begin_destroy(&bad),
            Err(KeyStoreError::Corrupt(_))
        ));
        fs::remove_file(root.join(b64("app")).join("1").join(b64("bad content"))).unwrap();

        fs::create_dir_all(root.join(b64("app")).join("99")).unwrap();
        fs::write(root.join(b64("app")).join("99").join(b64("k")), b"").unwrap();
        assert!(matches!(
            store.applications(),
            Err(KeyStoreError::Corrupt(_))
        ));
        fs::remove_dir_all(root.join(b64("app")).join("99")).unwrap();

        fs::write(root.join(b64("app")).join("1").join("not base64!"), b"").unwrap();
        assert!(matches!(
            store.keys_in(MBED),
            Err(KeyStoreError::Corrupt(_))
        ));
    }

    #[test]
    fn leftover_temporary_files_are_ignored_then_removed() {
        let dir = tempfile::tempdir().unwrap();
        let k = key(Direct, "app", MBED, "k");
        let leftover = {
            let store = OnDiskKeyStore::open(dir.path(), Direct).unwrap();
            store.begin_create(&k, &info(&[1])).unwrap();
            let pending = store.dir(KeyState::Creating, &store.locate(&k).unwrap());
            let leftover = pending.join(format!("{TEMP_PREFIX}123-0"));
            fs::write(&leftover, b"half").unwrap();
            assert_eq!(store.unfinished(MBED).unwrap().len(), 1);
            leftover
        };
        let store = OnDiskKeyStore::open(dir.path(), Direct).unwrap();
        assert!(!leftover.exists());
        assert_eq!(store.unfinished(MBED).unwrap().len(), 1);
    }
}
