//! The service configuration: `config.toml` as the Parsec service reads it,
//! plus a few psec additions, each marked so below.
//!
//! A configuration written for Parsec starts psecd unchanged: every section
//! and field Parsec documents is accepted (the obsolete
//! `idle_listener_sleep_duration` is accepted and ignored). An unknown field
//! is an error, so a typo never passes silently. Every error names the
//! file, the field, and what would be valid.

use serde::Deserialize;
use std::fmt;
use std::path::{Path, PathBuf};

/// The file as parsed, before each `[[provider]]` is read by its kind.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ConfigFile {
    #[serde(default)]
    core_settings: CoreSettings,
    listener: ListenerConfig,
    authenticator: OneOrMany<AuthenticatorConfig>,
    #[serde(default)]
    key_manager: Vec<KeyManagerConfig>,
    #[serde(default)]
    provider: Vec<toml::Table>,
}

/// The whole configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// `[core_settings]`.
    pub core_settings: CoreSettings,
    /// `[listener]`.
    pub listener: ListenerConfig,
    /// `[authenticator]` (Parsec: one table) or `[[authenticator]]` (psec:
    /// several, the request's auth type picks one).
    pub authenticator: OneOrMany<AuthenticatorConfig>,
    /// `[[key_manager]]`.
    pub key_manager: Vec<KeyManagerConfig>,
    /// `[[provider]]`, in priority order.
    pub provider: Vec<ProviderConfig>,
}

/// A table that may be given once or as an array of tables.
#[derive(Debug, Clone, Deserialize)]
#[serde(untagged)]
pub enum OneOrMany<T> {
    /// `[name]`.
    One(T),
    /// `[[name]]`.
    Many(Vec<T>),
}

impl<T> OneOrMany<T> {
    /// The entries, in order.
    pub fn as_slice(&self) -> &[T] {
        match self {
            OneOrMany::One(one) => std::slice::from_ref(one),
            OneOrMany::Many(many) => many,
        }
    }
}

/// Log levels, as Parsec names them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Default)]
#[serde(rename_all = "lowercase")]
pub enum LogLevel {
    /// Only errors.
    Error,
    /// Errors and warnings (the default).
    #[default]
    Warn,
    /// Start-up, shutdown and configuration events too.
    Info,
    /// Every request.
    Debug,
    /// Everything.
    Trace,
}

impl LogLevel {
    /// The `log` crate's filter for this level.
    pub fn filter(self) -> log::LevelFilter {
        match self {
            LogLevel::Error => log::LevelFilter::Error,
            LogLevel::Warn => log::LevelFilter::Warn,
            LogLevel::Info => log::LevelFilter::Info,
            LogLevel::Debug => log::LevelFilter::Debug,
            LogLevel::Trace => log::LevelFilter::Trace,
        }
    }
}

/// `[core_settings]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct CoreSettings {
    /// Let psecd run as root (default false).
    pub allow_root: bool,
    /// How many requests are executed at once (default: the number of
    /// processors psecd may run on, as Parsec).
    pub thread_pool_size: usize,
    /// Obsolete in Parsec; accepted and ignored.
    pub idle_listener_sleep_duration: Option<u64>,
    /// Log level (default "warn").
    pub log_level: LogLevel,
    /// Prefix log lines with a timestamp (default false).
    pub log_timestamp: bool,
    /// Largest request body accepted, in bytes (default 1 MiB).
    pub body_len_limit: usize,
    /// Log the details of errors returned to clients (default false).
    pub log_error_details: bool,
    /// Largest buffer a client may ask a provider to fill (default 1 MiB).
    pub buffer_size_limit: usize,
    /// Allow deprecated algorithms and key types (default false).
    pub allow_deprecated: bool,
    /// psec: directory to run in (the Mbed Crypto provider keeps its key
    /// files in the working directory). Default: unchanged.
    pub working_directory: Option<PathBuf>,
}

/// The default body and buffer limit: 1 MiB.
pub const DEFAULT_SIZE_LIMIT: usize = 1 << 20;

impl Default for CoreSettings {
    fn default() -> Self {
        CoreSettings {
            allow_root: false,
            // Parsec's default: the number of processors.
            thread_pool_size: processors(),
            idle_listener_sleep_duration: None,
            log_level: LogLevel::Warn,
            log_timestamp: false,
            body_len_limit: DEFAULT_SIZE_LIMIT,
            log_error_details: false,
            buffer_size_limit: DEFAULT_SIZE_LIMIT,
            allow_deprecated: false,
            working_directory: None,
        }
    }
}

/// Listener kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ListenerType {
    /// A Unix domain stream socket.
    DomainSocket,
}

/// `[listener]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ListenerConfig {
    /// Only "DomainSocket".
    pub listener_type: ListenerType,
    /// Read and write timeout of a connection, in milliseconds.
    pub timeout: u64,
    /// Socket path (default /run/parsec/parsec.sock). Ignored when systemd
    /// passes a listening socket.
    #[serde(default = "default_socket_path")]
    pub socket_path: PathBuf,
}

/// The processors this process may run on (its CPU affinity and cgroup
/// quota count), at least one.
fn processors() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
}

fn default_socket_path() -> PathBuf {
    PathBuf::from("/run/parsec/parsec.sock")
}

/// Authenticator kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum AuthType {
    /// The application name is taken from the request, on trust.
    Direct,
    /// The application is the client's Unix UID, checked with SO_PEERCRED.
    UnixPeerCredentials,
    /// The application is the SPIFFE ID of a JWT-SVID (feature `jwt-svid`).
    JwtSvid,
}

/// An administrator.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Admin {
    /// Application name (for UnixPeerCredentials: the UID as a decimal string).
    pub name: String,
}

/// `[authenticator]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AuthenticatorConfig {
    /// Which authenticator.
    pub auth_type: AuthType,
    /// Applications allowed to call ListClients and DeleteClient.
    #[serde(default)]
    pub admins: Vec<Admin>,
    /// JwtSvid only: the SPIFFE Workload API endpoint, as in Parsec
    /// (`unix:///run/spire/sockets/agent.sock`; `tcp:` is not supported):
    /// the JWT bundles are streamed from it. Not used when
    /// `jwt_bundle_path` is set.
    pub workload_endpoint: Option<String>,
    /// JwtSvid only, a psec extension: a file of JWT bundles (a JSON
    /// object mapping each trust domain to its JWKS) to validate tokens
    /// against, read again when it changes.
    pub jwt_bundle_path: Option<PathBuf>,
}

/// Key info store kinds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
pub enum ManagerType {
    /// SQLite (recommended).
    SQLite,
    /// Parsec's legacy directory tree.
    OnDisk,
}

/// `[[key_manager]]`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KeyManagerConfig {
    /// Name the providers refer to.
    pub name: String,
    /// Which store.
    pub manager_type: ManagerType,
    /// SQLite: database file (default
    /// /var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3).
    pub sqlite_db_path: Option<PathBuf>,
    /// OnDisk: root directory (default /var/lib/parsec/mappings).
    pub store_path: Option<PathBuf>,
}

/// Default SQLite database path, as Parsec's.
pub const DEFAULT_SQLITE_PATH: &str =
    "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3";
/// Default on-disk store path, as Parsec's.
pub const DEFAULT_ON_DISK_PATH: &str = "/var/lib/parsec/mappings";

/// `[[provider]]`, by `provider_type`. Each kind's fields are checked
/// strictly, so a typo in one is named with the provider it belongs to.
#[derive(Debug, Clone)]
pub enum ProviderConfig {
    /// Mbed TLS through the PSA Crypto API.
    MbedCrypto(MbedCryptoConfig),
    /// A PKCS#11 token.
    Pkcs11(Pkcs11Config),
    /// A TPM 2.0.
    Tpm(TpmConfig),
    /// Arm Trusted Services.
    TrustedService(OtherProviderConfig),
    /// Microchip CryptoAuthLib.
    CryptoAuthLib(OtherProviderConfig),
}

/// `provider_type = "MbedCrypto"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MbedCryptoConfig {
    /// Provider name (default "mbed-crypto-provider").
    pub name: Option<String>,
    /// The `[[key_manager]]` holding its key info.
    pub key_info_manager: String,
}

/// `provider_type = "Pkcs11"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Pkcs11Config {
    /// Provider name (default "pkcs11-provider").
    pub name: Option<String>,
    /// The `[[key_manager]]` holding its key info.
    pub key_info_manager: String,
    /// Path of the PKCS#11 library.
    pub library_path: PathBuf,
    /// Slot to use.
    pub slot_number: Option<u64>,
    /// Token serial number to use.
    pub serial_number: Option<String>,
    /// User PIN: plain text as in Parsec, or "str:..." or "hex:...".
    pub user_pin: Option<String>,
    /// Verify and encrypt to public keys in software (Mbed TLS).
    #[serde(default)]
    pub software_public_operations: bool,
    /// Allow PsaExportKey.
    #[serde(default)]
    pub allow_export: bool,
}

/// `provider_type = "Tpm"`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TpmConfig {
    /// Provider name (default "tpm-provider").
    pub name: Option<String>,
    /// The `[[key_manager]]` holding its key info.
    pub key_info_manager: String,
    /// How to reach the TPM: device, mssim, swtpm or tabrmd.
    pub tcti: String,
    /// Owner hierarchy auth: plain text as in Parsec, or "str:..." or
    /// "hex:...".
    pub owner_hierarchy_auth: Option<String>,
    /// Endorsement hierarchy auth (for key attestation): plain text as in
    /// Parsec, or "str:..." or "hex:...".
    pub endorsement_hierarchy_auth: Option<String>,
    /// Start without the provider when no TPM answers.
    #[serde(default)]
    pub skip_if_no_tpm: bool,
}

/// Providers psec does not implement yet: their own settings are kept
/// unread, so that the start-up error is "not supported", not a parse error.
#[derive(Debug, Clone, Deserialize)]
pub struct OtherProviderConfig {
    /// Provider name.
    pub name: Option<String>,
    /// The `[[key_manager]]` holding its key info.
    pub key_info_manager: String,
    /// Everything else.
    #[serde(flatten)]
    pub settings: toml::Table,
}

/// The `provider_type` values.
const PROVIDER_TYPES: &str =
    "\"MbedCrypto\", \"Pkcs11\", \"Tpm\", \"TrustedService\", \"CryptoAuthLib\"";

impl ProviderConfig {
    /// Reads one `[[provider]]` table; `at` names it in errors.
    fn from_table(mut table: toml::Table, at: &str) -> Result<Self, String> {
        let kind = match table.remove("provider_type") {
            Some(toml::Value::String(kind)) => kind,
            Some(other) => {
                return Err(format!(
                    "{at}: provider_type = {other} must be one of {PROVIDER_TYPES}"
                ));
            }
            None => {
                return Err(format!(
                    "{at}: provider_type is missing; valid: {PROVIDER_TYPES}"
                ));
            }
        };
        let value = toml::Value::Table(table);
        let parsed = match kind.as_str() {
            "MbedCrypto" => value.try_into().map(ProviderConfig::MbedCrypto),
            "Pkcs11" => value.try_into().map(ProviderConfig::Pkcs11),
            "Tpm" => value.try_into().map(ProviderConfig::Tpm),
            "TrustedService" => value.try_into().map(ProviderConfig::TrustedService),
            "CryptoAuthLib" => value.try_into().map(ProviderConfig::CryptoAuthLib),
            other => {
                return Err(format!(
                    "{at}: provider_type = \"{other}\" is not a provider; valid: {PROVIDER_TYPES}"
                ));
            }
        };
        parsed
            .map_err(|error: toml::de::Error| format!("{at} ({kind}): {}", error.message().trim()))
    }
}

impl ProviderConfig {
    /// The `provider_type` as written in the file.
    pub fn type_name(&self) -> &'static str {
        match self {
            ProviderConfig::MbedCrypto(_) => "MbedCrypto",
            ProviderConfig::Pkcs11(_) => "Pkcs11",
            ProviderConfig::Tpm(_) => "Tpm",
            ProviderConfig::TrustedService(_) => "TrustedService",
            ProviderConfig::CryptoAuthLib(_) => "CryptoAuthLib",
        }
    }

    /// The wire provider id of this kind of provider.
    pub fn provider_id(&self) -> psec_interface::ProviderId {
        use psec_interface::ProviderId;
        match self {
            ProviderConfig::MbedCrypto(_) => ProviderId::MbedCrypto,
            ProviderConfig::Pkcs11(_) => ProviderId::Pkcs11,
            ProviderConfig::Tpm(_) => ProviderId::Tpm,
            ProviderConfig::TrustedService(_) => ProviderId::TrustedService,
            ProviderConfig::CryptoAuthLib(_) => ProviderId::CryptoAuthLib,
        }
    }

    /// The configured name, or the kind's default name.
    pub fn name(&self) -> String {
        self.common()
            .0
            .clone()
            .unwrap_or_else(|| self.provider_id().default_name().to_string())
    }

    /// The key manager it refers to.
    pub fn key_info_manager(&self) -> &str {
        self.common().1
    }

    /// The fields every kind has: name and key manager.
    fn common(&self) -> (&Option<String>, &str) {
        match self {
            ProviderConfig::MbedCrypto(c) => (&c.name, &c.key_info_manager),
            ProviderConfig::Pkcs11(c) => (&c.name, &c.key_info_manager),
            ProviderConfig::Tpm(c) => (&c.name, &c.key_info_manager),
            ProviderConfig::TrustedService(c) | ProviderConfig::CryptoAuthLib(c) => {
                (&c.name, &c.key_info_manager)
            }
        }
    }
}

/// A secret (PIN, hierarchy authorisation) as Parsec's configuration writes
/// it: `"hex:..."` is bytes in hexadecimal, `"str:..."` is the UTF-8 text
/// after the prefix, and anything else is the text itself, as Parsec reads
/// it (so `user_pin = "123456"` and `owner_hierarchy_auth = ""` work).
/// Only the PKCS#11 and TPM providers have secrets.
#[cfg_attr(
    not(any(feature = "pkcs11", feature = "tpm")),
    allow(dead_code, reason = "only the PKCS#11 and TPM providers read secrets")
)]
pub(crate) fn decode_secret(text: &str) -> Result<zeroize::Zeroizing<Vec<u8>>, String> {
    let Some(hex) = text.strip_prefix("hex:") else {
        let plain = text.strip_prefix("str:").unwrap_or(text);
        return Ok(zeroize::Zeroizing::new(plain.as_bytes().to_vec()));
    };
    let digits: Vec<u32> = hex
        .chars()
        .map(|c| c.to_digit(16))
        .collect::<Option<_>>()
        .ok_or("\"hex:\" must be followed by hexadecimal digits only")?;
    let bytes = digits
        .chunks_exact(2)
        .map(|pair| match pair {
            [high, low] => u8::try_from(high * 16 + low).map_err(|_| "not a byte"),
            _ => Err("not a byte"),
        })
        .collect::<Result<Vec<u8>, _>>()?;
    if digits.len() % 2 != 0 {
        return Err("\"hex:\" needs an even number of digits".into());
    }
    Ok(zeroize::Zeroizing::new(bytes))
}

/// A configuration that can not be used, and why, in words that point at
/// the file and the field.
#[derive(Debug)]
pub struct ConfigError {
    /// The file, or "built-in default configuration".
    pub source_name: String,
    /// What is wrong and what would be valid.
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "configuration {}: {}", self.source_name, self.message)
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Reads and checks a configuration file.
    pub fn from_file(path: &Path) -> Result<Config, ConfigError> {
        let source_name = path.display().to_string();
        let text = std::fs::read_to_string(path).map_err(|error| ConfigError {
            source_name: source_name.clone(),
            message: format!("can not be read: {error}"),
        })?;
        Config::from_toml(&text, &source_name)
    }

    /// Parses and checks configuration text; `source_name` names it in errors.
    pub fn from_toml(text: &str, source_name: &str) -> Result<Config, ConfigError> {
        let fail = |message| ConfigError {
            source_name: source_name.to_string(),
            message,
        };
        let file: ConfigFile =
            toml::from_str(text).map_err(|error| fail(describe_toml_error(text, &error)))?;
        let provider = file
            .provider
            .into_iter()
            .enumerate()
            .map(|(i, table)| {
                ProviderConfig::from_table(table, &format!("[[provider]] #{}", i + 1))
            })
            .collect::<Result<_, _>>()
            .map_err(fail)?;
        let config = Config {
            core_settings: file.core_settings,
            listener: file.listener,
            authenticator: file.authenticator,
            key_manager: file.key_manager,
            provider,
        };
        config.validate().map_err(fail)?;
        Ok(config)
    }

    /// The configuration psecd runs with when given no file: the Mbed Crypto
    /// provider, a SQLite store in `state_dir`, Unix peer credentials and
    /// Direct authenticators, and a socket at `socket_path`. It lets root run
    /// psecd (with a warning), since it is meant for trying psecd out.
    pub fn built_in_default(state_dir: &Path, socket_path: &Path) -> Config {
        Config {
            core_settings: CoreSettings {
                log_level: LogLevel::Info,
                working_directory: Some(state_dir.join("mbed-crypto")),
                // The default is for trying psecd out, by whoever runs it;
                // a real deployment has a file and a dedicated user.
                allow_root: true,
                ..CoreSettings::default()
            },
            listener: ListenerConfig {
                listener_type: ListenerType::DomainSocket,
                timeout: 200,
                socket_path: socket_path.to_path_buf(),
            },
            authenticator: OneOrMany::Many(vec![
                AuthenticatorConfig {
                    auth_type: AuthType::UnixPeerCredentials,
                    admins: Vec::new(),
                    workload_endpoint: None,
                    jwt_bundle_path: None,
                },
                AuthenticatorConfig {
                    auth_type: AuthType::Direct,
                    admins: Vec::new(),
                    workload_endpoint: None,
                    jwt_bundle_path: None,
                },
            ]),
            key_manager: vec![KeyManagerConfig {
                name: "sqlite-manager".into(),
                manager_type: ManagerType::SQLite,
                sqlite_db_path: Some(state_dir.join("key-info/key-info.sqlite3")),
                store_path: None,
            }],
            provider: vec![ProviderConfig::MbedCrypto(MbedCryptoConfig {
                name: None,
                key_info_manager: "sqlite-manager".into(),
            })],
        }
    }

    /// Checks what the types alone do not.
    fn validate(&self) -> Result<(), String> {
        if self.core_settings.thread_pool_size == 0 {
            return Err("[core_settings] thread_pool_size = 0: must be at least 1".into());
        }
        if self.core_settings.body_len_limit == 0 {
            return Err(
                "[core_settings] body_len_limit = 0: must be at least 1 (default 1048576)".into(),
            );
        }
        if self.listener.timeout == 0 {
            return Err("[listener] timeout = 0: must be a number of milliseconds above 0 (Parsec uses 200)".into());
        }
        let authenticators = self.authenticator.as_slice();
        if authenticators.is_empty() {
            return Err("[authenticator]: at least one authenticator is needed".into());
        }
        let mut auth_types = Vec::new();
        for a in authenticators {
            if auth_types.contains(&a.auth_type) {
                return Err(format!(
                    "[authenticator] auth_type = \"{:?}\" is given twice",
                    a.auth_type
                ));
            }
            auth_types.push(a.auth_type);
        }
        let mut managers: Vec<&str> = Vec::new();
        for name in self.key_manager.iter().map(|m| m.name.as_str()) {
            if managers.contains(&name) {
                return Err(format!(
                    "[[key_manager]] name = \"{name}\" is given twice: names must be unique"
                ));
            }
            managers.push(name);
        }
        let mut names = Vec::new();
        let mut kinds = Vec::new();
        for (i, provider) in self.provider.iter().enumerate() {
            let name = provider.name();
            let at = format!("[[provider]] #{} ({name})", i + 1);
            if !managers.contains(&provider.key_info_manager()) {
                return Err(format!(
                    "{at}: key_info_manager = \"{}\" names no [[key_manager]]; valid: {}",
                    provider.key_info_manager(),
                    quoted_list(&managers)
                ));
            }
            if names.contains(&name) {
                return Err(format!(
                    "{at}: name \"{name}\" is used by another provider; names must be unique"
                ));
            }
            if kinds.contains(&provider.provider_id()) {
                return Err(format!(
                    "{at}: a second {} provider; the wire protocol addresses providers by kind, so each kind may appear once",
                    provider.type_name()
                ));
            }
            names.push(name);
            kinds.push(provider.provider_id());
        }
        Ok(())
    }
}

fn quoted_list(items: &[&str]) -> String {
    if items.is_empty() {
        return "none is defined".into();
    }
    items
        .iter()
        .map(|i| format!("\"{i}\""))
        .collect::<Vec<_>>()
        .join(", ")
}

/// toml's message with the line and column it points at, and the offending
/// line itself.
fn describe_toml_error(text: &str, error: &toml::de::Error) -> String {
    let message = error.message().trim().to_string();
    let Some(span) = error.span() else {
        return message;
    };
    let before = text.get(..span.start).unwrap_or("");
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, str::len) + 1;
    let source_line = text.lines().nth(line - 1).unwrap_or("").trim();
    format!("line {line}, column {column} (`{source_line}`): {message}")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A configuration as Parsec's documentation shows it.
    const PARSEC_CONFIG: &str = r#"
[core_settings]
allow_root = false
thread_pool_size = 8
idle_listener_sleep_duration = 10
log_level = "warn"
log_timestamp = false
body_len_limit = 1048576
log_error_details = false
allow_deprecated = false
buffer_size_limit = 1048576

[listener]
listener_type = "DomainSocket"
timeout = 200
socket_path = "/run/parsec/parsec.sock"

[authenticator]
auth_type = "UnixPeerCredentials"
admins = [ { name = "0" } ]

[[key_manager]]
name = "sqlite-manager"
manager_type = "SQLite"
sqlite_db_path = "/var/lib/parsec/kim-mappings/sqlite/sqlite-key-info-manager.sqlite3"

[[key_manager]]
name = "on-disk-manager"
manager_type = "OnDisk"
store_path = "/var/lib/parsec/mappings"

[[provider]]
provider_type = "MbedCrypto"
key_info_manager = "sqlite-manager"

[[provider]]
name = "pkcs11-provider"
provider_type = "Pkcs11"
key_info_manager = "on-disk-manager"
library_path = "/usr/lib/softhsm/libsofthsm2.so"
slot_number = 123456789
user_pin = "str:123456"
software_public_operations = false
allow_export = true

[[provider]]
provider_type = "Tpm"
key_info_manager = "on-disk-manager"
tcti = "mssim:host=127.0.0.1,port=2321"
owner_hierarchy_auth = "hex:74706d5f70617373"
skip_if_no_tpm = true
"#;

    #[test]
    fn a_parsec_configuration_is_accepted_unchanged() {
        let config = Config::from_toml(PARSEC_CONFIG, "parsec.toml").unwrap();
        assert_eq!(config.provider.len(), 3);
        assert_eq!(config.provider[0].name(), "mbed-crypto-provider");
        assert_eq!(config.authenticator.as_slice().len(), 1);
        assert_eq!(config.authenticator.as_slice()[0].admins[0].name, "0");
        assert_eq!(config.listener.timeout, 200);
    }

    #[test]
    fn the_annotated_example_configuration_is_valid() {
        let config =
            Config::from_toml(include_str!("../config.toml"), "service/config.toml").unwrap();
        assert_eq!(config.provider.len(), 1);
        assert_eq!(
            config.listener.socket_path,
            PathBuf::from("/run/parsec/parsec.sock")
        );
    }

    #[test]
    fn secrets_decode_as_parsec_reads_them_with_or_without_a_prefix() {
        assert_eq!(*decode_secret("str:tpm_pass").unwrap(), b"tpm_pass");
        assert_eq!(*decode_secret("hex:74706d").unwrap(), b"tpm");
        assert_eq!(*decode_secret("hex:").unwrap(), b"");
        // Parsec's own configurations write PINs and auth values unprefixed.
        assert_eq!(*decode_secret("123456").unwrap(), b"123456");
        assert_eq!(*decode_secret("").unwrap(), b"");
        assert_eq!(*decode_secret("HEX:1234").unwrap(), b"HEX:1234");
        assert!(decode_secret("hex:7").is_err());
        assert!(decode_secret("hex:zz").is_err());
    }

    #[test]
    fn a_malformed_hex_secret_is_refused_without_showing_it() {
        for secret in ["hex:123", "hex:zz12", "hex:12345"] {
            let why = decode_secret(secret).unwrap_err();
            assert!(!why.contains("123") && !why.contains("zz"), "{why}");
        }
    }

    #[test]
    fn several_authenticators_may_be_given() {
        let text = PARSEC_CONFIG.replace(
            "[authenticator]\nauth_type = \"UnixPeerCredentials\"",
            "[[authenticator]]\nauth_type = \"Direct\"\n\n[[authenticator]]\nauth_type = \"UnixPeerCredentials\"",
        );
        let config = Config::from_toml(&text, "two.toml").unwrap();
        assert_eq!(config.authenticator.as_slice().len(), 2);
    }

    #[test]
    fn an_unknown_field_names_the_file_the_field_and_the_valid_ones() {
        let text = PARSEC_CONFIG.replace("log_timestamp = false", "log_timestamps = false");
        let error = Config::from_toml(&text, "/etc/parsec/config.toml")
            .unwrap_err()
            .to_string();
        assert!(error.contains("/etc/parsec/config.toml"), "{error}");
        assert!(error.contains("log_timestamps"), "{error}");
        assert!(error.contains("log_timestamp`"), "{error}");
    }

    #[test]
    fn an_unknown_provider_type_lists_the_valid_ones() {
        let text = PARSEC_CONFIG.replace("provider_type = \"Tpm\"", "provider_type = \"Tmp\"");
        let error = Config::from_toml(&text, "c.toml").unwrap_err().to_string();
        assert!(error.contains("Tmp"), "{error}");
        assert!(error.contains("MbedCrypto"), "{error}");
    }

    #[test]
    fn a_provider_naming_a_missing_key_manager_is_refused_with_the_valid_names() {
        let text = PARSEC_CONFIG.replacen(
            "key_info_manager = \"sqlite-manager\"",
            "key_info_manager = \"sqlite\"",
            1,
        );
        let error = Config::from_toml(&text, "c.toml").unwrap_err().to_string();
        assert!(error.contains("[[provider]] #1"), "{error}");
        assert!(
            error.contains("\"sqlite-manager\", \"on-disk-manager\""),
            "{error}"
        );
    }

    #[test]
    fn a_wrong_type_points_at_the_line() {
        let text = PARSEC_CONFIG.replace("timeout = 200", "timeout = \"fast\"");
        let error = Config::from_toml(&text, "c.toml").unwrap_err().to_string();
        assert!(error.contains("timeout = \"fast\""), "{error}");
        assert!(error.contains("line 15"), "{error}");
    }
}
