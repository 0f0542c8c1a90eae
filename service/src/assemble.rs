//! From a configuration to a running dispatcher: open the key info stores,
//! start the providers, enable the authenticators.

use crate::authenticators::Authenticators;
use crate::config::{Config, KeyManagerConfig, ManagerType, ProviderConfig};
use crate::dispatcher::{Backend, DispatchSettings, Dispatcher};
use psec_interface::AuthType;
use psec_key_store::{OnDiskKeyStore, SqliteKeyStore};
use psec_provider::{KeyStore, Provider, ProviderError};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;

/// Why the service could not start (or reload).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StartError {
    /// The configuration is wrong.
    #[error(transparent)]
    Config(#[from] crate::config::ConfigError),
    /// A setting can not be honoured.
    #[error("{0}")]
    Setting(String),
    /// A key info store could not be opened.
    #[error("key manager `{name}` ({path}): {source}")]
    Store {
        /// The `[[key_manager]]` name.
        name: String,
        /// Its file or directory.
        path: String,
        /// Why.
        source: psec_provider::KeyStoreError,
    },
    /// A provider could not start.
    #[error("provider `{name}`: {source}")]
    Provider {
        /// The provider name.
        name: String,
        /// Why.
        source: ProviderError,
    },
    /// A provider kind that this build does not contain.
    #[error(
        "provider `{name}`: provider_type = \"{kind}\" is not part of this build of psecd{hint}; \
         configure one of: {available}"
    )]
    NotCompiled {
        /// The provider name.
        name: String,
        /// Its kind.
        kind: &'static str,
        /// How to get it, if it exists.
        hint: &'static str,
        /// The kinds this build has.
        available: String,
    },
    /// The socket or another system resource.
    #[error("{what}: {source}")]
    Io {
        /// What was being done.
        what: String,
        /// Why it failed.
        source: std::io::Error,
    },
}

/// The provider kinds compiled into this build.
pub(crate) fn compiled_provider_kinds() -> Vec<&'static str> {
    let mut kinds = Vec::new();
    if cfg!(feature = "mbed-crypto") {
        kinds.push("MbedCrypto");
    }
    if cfg!(feature = "tpm") {
        kinds.push("Tpm");
    }
    if cfg!(feature = "pkcs11") {
        kinds.push("Pkcs11");
    }
    kinds
}

/// The authenticators a configuration describes. At a reload, `running`
/// are those in service (see [`Authenticators::from_config`]).
pub(crate) fn authenticators(
    config: &Config,
    running: Option<&Authenticators>,
) -> Result<Authenticators, StartError> {
    Authenticators::from_config(config.authenticator.as_slice(), running)
        .map_err(StartError::Setting)
}

/// Builds the dispatcher a configuration describes, with its
/// `authenticators` (from [`authenticators`]).
pub(crate) fn dispatcher(
    config: &Config,
    authenticators: Authenticators,
) -> Result<Dispatcher, StartError> {
    let default_auth = authenticators.primary().unwrap_or(AuthType::Direct);
    let mut stores: HashMap<&str, Arc<dyn KeyStore>> = HashMap::new();
    let mut backends = Vec::new();
    for provider_config in &config.provider {
        let manager_name = provider_config.key_info_manager();
        let store = match stores.get(manager_name) {
            Some(store) => Arc::clone(store),
            None => {
                let manager = config
                    .key_manager
                    .iter()
                    .find(|m| m.name == manager_name)
                    .ok_or_else(|| {
                        StartError::Setting(format!("no [[key_manager]] named {manager_name}"))
                    })?;
                let store = open_store(manager, default_auth, &config.provider)?;
                stores.insert(manager_name, Arc::clone(&store));
                store
            }
        };
        let name = provider_config.name();
        let provider = match start_provider(provider_config, &name, Arc::clone(&store)) {
            Ok(provider) => provider,
            Err(error) if skips_missing_tpm(provider_config, &error) => {
                log::warn!("{error}; skip_if_no_tpm = true: starting without it");
                continue;
            }
            Err(error) => return Err(error),
        };
        let info = provider.info();
        log::info!(
            "provider `{name}` ({}) started",
            provider_config.type_name()
        );
        backends.push(Backend {
            name,
            provider,
            store,
            info,
        });
    }
    if backends.is_empty() {
        log::warn!("no [[provider]] is configured: only the core operations are served");
    }
    Ok(Dispatcher::new(
        backends,
        authenticators,
        DispatchSettings {
            allow_deprecated: config.core_settings.allow_deprecated,
            buffer_size_limit: config.core_settings.buffer_size_limit,
            log_error_details: config.core_settings.log_error_details,
        },
    ))
}

fn open_store(
    manager: &KeyManagerConfig,
    default_auth: AuthType,
    providers: &[ProviderConfig],
) -> Result<Arc<dyn KeyStore>, StartError> {
    let fail = |path: &PathBuf| {
        let name = manager.name.clone();
        let path = path.display().to_string();
        move |source| StartError::Store { name, path, source }
    };
    Ok(match manager.manager_type {
        ManagerType::SQLite => {
            let path = manager
                .sqlite_db_path
                .clone()
                .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_SQLITE_PATH));
            Arc::new(SqliteKeyStore::open(&path).map_err(fail(&path))?)
        }
        ManagerType::OnDisk => Arc::new(open_on_disk(manager, default_auth, providers)?),
    })
}

/// The legacy store files keys by provider id; the configuration's provider
/// names are the ones psec uses.
fn open_on_disk(
    manager: &KeyManagerConfig,
    auth: AuthType,
    providers: &[ProviderConfig],
) -> Result<OnDiskKeyStore, StartError> {
    let path = manager
        .store_path
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_ON_DISK_PATH));
    let store = OnDiskKeyStore::open(&path, auth).map_err(|source| StartError::Store {
        name: manager.name.clone(),
        path: path.display().to_string(),
        source,
    })?;
    Ok(providers.iter().fold(store, |store, p| {
        store.with_provider_name(p.provider_id(), p.name())
    }))
}

/// The one-shot migration of Parsec's legacy on-disk key store at `from`
/// into the SQLite key manager `into` of `config` (default: its first
/// SQLite one). Keys are filed under the configuration's first
/// authenticator, the one the legacy store served, and its provider names.
/// The legacy files are left in place; running it again is harmless.
pub fn migrate_on_disk(
    config: &Config,
    from: &std::path::Path,
    into: Option<&str>,
) -> Result<psec_key_store::MigrationReport, StartError> {
    let target = config
        .key_manager
        .iter()
        .find(|m| m.manager_type == ManagerType::SQLite && into.is_none_or(|name| m.name == name))
        .ok_or_else(|| {
            StartError::Setting(match into {
                Some(name) => format!("--into {name}: no [[key_manager]] of manager_type = \"SQLite\" has that name"),
                None => "the configuration has no [[key_manager]] with manager_type = \"SQLite\" to migrate into".into(),
            })
        })?;
    let auth = authenticators(config, None)?
        .primary()
        .unwrap_or(AuthType::Direct);
    let source_config = KeyManagerConfig {
        name: "legacy on-disk store".into(),
        manager_type: ManagerType::OnDisk,
        sqlite_db_path: None,
        store_path: Some(from.to_path_buf()),
    };
    let on_disk = open_on_disk(&source_config, auth, &config.provider)?;
    let path = target
        .sqlite_db_path
        .clone()
        .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_SQLITE_PATH));
    let store_error = |source| StartError::Store {
        name: target.name.clone(),
        path: path.display().to_string(),
        source,
    };
    let sqlite = SqliteKeyStore::open(&path).map_err(store_error)?;
    psec_key_store::migrate_on_disk_to_sqlite(&on_disk, &sqlite).map_err(store_error)
}

/// `skip_if_no_tpm`: a TPM provider that finds no TPM is left out rather
/// than stopping the service.
fn skips_missing_tpm(config: &ProviderConfig, error: &StartError) -> bool {
    let ProviderConfig::Tpm(tpm) = config else {
        return false;
    };
    tpm.skip_if_no_tpm
        && matches!(
            error,
            StartError::Provider { source, .. }
                if source.status() == psec_interface::ResponseStatus::PsaErrorCommunicationFailure
        )
}

fn start_provider(
    config: &ProviderConfig,
    name: &str,
    store: Arc<dyn KeyStore>,
) -> Result<Arc<dyn Provider>, StartError> {
    let not_compiled = |hint| StartError::NotCompiled {
        name: name.to_string(),
        kind: config.type_name(),
        hint,
        available: compiled_provider_kinds().join(", "),
    };
    match config {
        #[cfg(feature = "mbed-crypto")]
        ProviderConfig::MbedCrypto(_) => psec_provider_mbed_crypto::build(
            name.to_string(),
            store,
            psec_provider_mbed_crypto::MbedCryptoSettings::default(),
        )
        .map_err(|source| StartError::Provider {
            name: name.to_string(),
            source,
        }),
        #[cfg(not(feature = "mbed-crypto"))]
        ProviderConfig::MbedCrypto(_) => {
            let _ = store;
            Err(not_compiled(" (rebuild with --features mbed-crypto)"))
        }
        #[cfg(feature = "pkcs11")]
        ProviderConfig::Pkcs11(pkcs11) => {
            let failed = |source| StartError::Provider {
                name: name.to_string(),
                source,
            };
            let mut settings =
                psec_provider_pkcs11::Pkcs11Settings::new(pkcs11.library_path.clone())
                    .with_token(pkcs11.slot_number, pkcs11.serial_number.clone())
                    .with_software_public_operations(pkcs11.software_public_operations)
                    .with_allow_export(pkcs11.allow_export);
            if let Some(pin) = &pkcs11.user_pin {
                let pin = crate::config::decode_secret(pin).map_err(|why| {
                    StartError::Setting(format!("[[provider]] {name} (Pkcs11): user_pin: {why}"))
                })?;
                settings = settings.with_user_pin(pin);
            }
            psec_provider_pkcs11::build(name.to_string(), store, settings).map_err(failed)
        }
        #[cfg(not(feature = "pkcs11"))]
        ProviderConfig::Pkcs11(_) => {
            let _ = store;
            Err(not_compiled(" (rebuild with --features pkcs11)"))
        }
        #[cfg(feature = "tpm")]
        ProviderConfig::Tpm(tpm) => {
            let failed = |source| StartError::Provider {
                name: name.to_string(),
                source,
            };
            let secret = |field: &str, value: &Option<String>| match value {
                None => Ok(Default::default()),
                Some(text) => crate::config::decode_secret(text).map_err(|why| {
                    StartError::Setting(format!("[[provider]] {name} (Tpm): {field}: {why}"))
                }),
            };
            let settings = psec_provider_tpm::TpmSettings::new(tpm.tcti.clone())
                .with_owner_hierarchy_auth(secret(
                    "owner_hierarchy_auth",
                    &tpm.owner_hierarchy_auth,
                )?)
                .with_endorsement_hierarchy_auth(secret(
                    "endorsement_hierarchy_auth",
                    &tpm.endorsement_hierarchy_auth,
                )?);
            psec_provider_tpm::build(name.to_string(), store, settings).map_err(failed)
        }
        #[cfg(not(feature = "tpm"))]
        ProviderConfig::Tpm(_) => {
            let _ = store;
            Err(not_compiled(" (rebuild with --features tpm)"))
        }
        ProviderConfig::TrustedService(_) | ProviderConfig::CryptoAuthLib(_) => {
            let _ = store;
            Err(not_compiled(" (not planned yet)"))
        }
    }
}
