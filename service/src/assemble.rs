//! From a configuration to a running dispatcher: open the key info stores,
//! start the providers, enable the authenticators.

use crate::authenticators::Authenticators;
use crate::config::{Config, KeyManagerConfig, ManagerType, ProviderConfig};
use crate::dispatcher::{Backend, DispatchSettings, Dispatcher};
use crate::key_store::{OnDiskKeyStore, SqliteKeyStore};
use psec_interface::AuthType;
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
pub fn compiled_provider_kinds() -> Vec<&'static str> {
    let mut kinds = Vec::new();
    if cfg!(feature = "mbed-crypto") {
        kinds.push("MbedCrypto");
    }
    kinds
}

/// Builds the dispatcher a configuration describes.
pub fn dispatcher(config: &Config) -> Result<Dispatcher, StartError> {
    let authenticators = Authenticators::from_config(config.authenticator.as_slice())
        .map_err(StartError::Setting)?;
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
                let store = open_store(manager, default_auth)?;
                stores.insert(manager_name, Arc::clone(&store));
                store
            }
        };
        let name = provider_config.name();
        let provider = start_provider(provider_config, &name, Arc::clone(&store))?;
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
    Ok(Dispatcher {
        backends,
        authenticators,
        settings: DispatchSettings {
            allow_deprecated: config.core_settings.allow_deprecated,
            buffer_size_limit: config.core_settings.buffer_size_limit,
            log_error_details: config.core_settings.log_error_details,
        },
    })
}

fn open_store(
    manager: &KeyManagerConfig,
    default_auth: AuthType,
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
        ManagerType::OnDisk => {
            let path = manager
                .store_path
                .clone()
                .unwrap_or_else(|| PathBuf::from(crate::config::DEFAULT_ON_DISK_PATH));
            Arc::new(OnDiskKeyStore::open(&path, default_auth).map_err(fail(&path))?)
        }
    })
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
        ProviderConfig::Pkcs11(_) | ProviderConfig::Tpm(_) => {
            let _ = store;
            Err(not_compiled(" yet (planned for 0.3.0, see roadmap.md)"))
        }
        ProviderConfig::TrustedService(_) | ProviderConfig::CryptoAuthLib(_) => {
            let _ = store;
            Err(not_compiled(" (not planned yet)"))
        }
    }
}
