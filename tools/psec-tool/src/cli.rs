//! The command line, as clap definitions: the same definitions give the
//! parser, `--help`, the shell completions and the man page.

use clap::{Args, Parser, Subcommand, ValueEnum};
use psec_client::ProviderId;
use std::path::PathBuf;

/// The exit codes, shown at the end of `--help` and in the man page.
pub(crate) const EXIT_CODES: &str = "\
Exit codes:
  0  success
  1  a check failed: a signature does not verify, or an AEAD ciphertext
     does not authenticate
  2  usage error: bad arguments, or input that can not be read or parsed
     (nothing was sent to the service)
  3  the service refused the request (unknown key, policy, provider, admin)
  4  the service could not be reached (no socket, no answer, timeout)";

/// The application name psec sends under Direct authentication when none is
/// given. parsec-tool 0.7.0 has no option for it: it always passes its crate
/// name, `parsec-tool`, to parsec-client's `BasicClient::new`, which sends it
/// when the first authenticator the service lists that the client knows is
/// Direct. psec chooses the authenticator the same way (the service's order),
/// so with this default a key one tool makes is the other's too.
pub(crate) const DEFAULT_APP_NAME: &str = "parsec-tool";

/// Use a psec or Parsec security service from the command line.
///
/// Keys stay inside the service: psec asks it to create, use and delete them
/// for this application, and shows or converts the results.
#[derive(Debug, Parser)]
#[command(name = "psec", version, after_help = EXIT_CODES, max_term_width = 100)]
pub(crate) struct Cli {
    /// The provider to use: mbed-crypto, pkcs11, tpm, trusted-service,
    /// cryptoauthlib, or its id (1-5). Default: the service's first.
    #[arg(short = 'p', long, global = true, value_parser = parse_provider)]
    pub(crate) provider: Option<ProviderId>,

    /// Seconds a request may take; 0 waits forever.
    #[arg(short = 't', long, global = true, value_name = "SECONDS")]
    pub(crate) timeout: Option<u64>,

    /// The service's socket: a path or a unix: URI.
    #[arg(
        long,
        global = true,
        env = "PARSEC_SERVICE_ENDPOINT",
        value_name = "ENDPOINT"
    )]
    pub(crate) endpoint: Option<String>,

    /// The application name, for services using Direct authentication.
    /// Default: parsec-tool, the name Parsec's parsec-tool always sends, so
    /// that both tools see the same keys.
    #[arg(
        short = 'a',
        long,
        global = true,
        env = "PSEC_APP_NAME",
        value_name = "NAME",
        default_value = DEFAULT_APP_NAME
    )]
    pub(crate) app_name: String,

    /// Authenticate with the JWT-SVID in this file (surrounding whitespace
    /// ignored) instead of the service's first authenticator. For services
    /// with the JwtSvid authenticator; the token is never printed.
    #[arg(long, global = true, env = "PSEC_JWT_SVID_FILE", value_name = "PATH")]
    pub(crate) jwt_svid_file: Option<PathBuf>,

    /// Authenticate with JWT-SVIDs (audience "parsec") fetched from the
    /// SPIFFE Workload API at SPIFFE_ENDPOINT_SOCKET, for services with the
    /// JwtSvid authenticator; the token is never printed.
    #[arg(long, global = true, conflicts_with = "jwt_svid_file")]
    pub(crate) spiffe: bool,

    /// The Workload API endpoint for --spiffe (unix:///path/to/agent.sock),
    /// instead of SPIFFE_ENDPOINT_SOCKET; implies --spiffe.
    #[arg(
        long,
        global = true,
        value_name = "URI",
        conflicts_with = "jwt_svid_file"
    )]
    pub(crate) spiffe_endpoint: Option<String>,

    /// How list and info commands print: a table for people, JSON for scripts.
    #[arg(long, global = true, value_enum, default_value_t = Output::Table)]
    pub(crate) output: Output,

    #[command(subcommand)]
    pub(crate) command: Command,
}

/// How list and info commands print.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Aligned text.
    Table,
    /// One JSON document.
    Json,
}

/// Parses a provider name or id.
fn parse_provider(text: &str) -> Result<ProviderId, String> {
    let id = match text.to_ascii_lowercase().replace('_', "-").as_str() {
        "core" => ProviderId::Core,
        "mbed-crypto" | "mbedcrypto" | "mbed" => ProviderId::MbedCrypto,
        "pkcs11" => ProviderId::Pkcs11,
        "tpm" => ProviderId::Tpm,
        "trusted-service" => ProviderId::TrustedService,
        "cryptoauthlib" => ProviderId::CryptoAuthLib,
        other => other
            .parse::<u8>()
            .ok()
            .and_then(ProviderId::from_id)
            .ok_or_else(|| {
                format!(
                    "`{text}` is not a provider; use mbed-crypto, pkcs11, tpm, trusted-service, cryptoauthlib or 0-5"
                )
            })?,
    };
    Ok(id)
}

/// The name `-p` takes for a provider.
pub(crate) fn provider_name(id: ProviderId) -> &'static str {
    match id {
        ProviderId::Core => "core",
        ProviderId::MbedCrypto => "mbed-crypto",
        ProviderId::Pkcs11 => "pkcs11",
        ProviderId::Tpm => "tpm",
        ProviderId::TrustedService => "trusted-service",
        ProviderId::CryptoAuthLib => "cryptoauthlib",
        _ => "unknown",
    }
}

/// The commands.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Check that the service answers, and show its wire protocol version.
    Ping,
    /// List the providers the service runs.
    ListProviders,
    /// List the authenticators the service accepts.
    ListAuthenticators,
    /// List the operations a provider supports (-p, default the first).
    ListOpcodes,
    /// List this application's keys.
    ListKeys,
    /// List the applications that own keys (administrators only).
    ListClients,
    /// Delete every key of an application (administrators only).
    DeleteClient {
        /// The application.
        #[arg(
            required_unless_present = "client_flag",
            conflicts_with = "client_flag"
        )]
        client: Option<String>,
        /// The application (parsec-tool's spelling).
        #[arg(short = 'c', long = "client", value_name = "CLIENT")]
        client_flag: Option<String>,
    },
    /// Create an RSA key pair for signing or for encryption.
    CreateRsaKey {
        #[command(flatten)]
        key: KeyName,
        /// The modulus size in bits.
        #[arg(short = 'b', long, default_value_t = 2048)]
        bits: usize,
        /// What the key is for. Default: encryption, as with parsec-tool,
        /// or what --scheme implies (pss: signing, oaep: encryption).
        #[arg(long = "for", value_enum)]
        purpose: Option<RsaUse>,
        /// A signing key (parsec-tool's spelling of --for signing).
        #[arg(short = 's', long, conflicts_with = "purpose")]
        for_signing: bool,
        /// The padding scheme: pkcs1 (v1.5, the default) or pss for
        /// signing, pkcs1 (v1.5, the default) or oaep for encryption. Hashes
        /// are SHA-256.
        #[arg(long, value_enum)]
        scheme: Option<RsaScheme>,
        /// OAEP encryption (parsec-tool's spelling of --scheme oaep).
        #[arg(short = 'o', long, conflicts_with = "scheme")]
        oaep: bool,
        #[command(flatten)]
        export: Exportable,
    },
    /// Create an elliptic curve key pair for ECDSA or ECDH.
    CreateEccKey {
        #[command(flatten)]
        key: KeyName,
        /// The curve; ECDSA hashes with SHA-256, SHA-384 or SHA-512 to match.
        #[arg(long, value_enum, default_value_t = Curve::P256)]
        curve: Curve,
        /// What the key is for.
        #[arg(long = "for", value_enum, default_value_t = EccUse::Signing)]
        purpose: EccUse,
        #[command(flatten)]
        export: Exportable,
    },
    /// Create an AES key for authenticated encryption (AEAD).
    CreateAesKey {
        #[command(flatten)]
        key: KeyName,
        /// The key size in bits: 128, 192 or 256.
        #[arg(long, default_value_t = 256)]
        bits: usize,
        /// The AEAD mode.
        #[arg(long, value_enum, default_value_t = AeadMode::Gcm)]
        mode: AeadMode,
        #[command(flatten)]
        export: Exportable,
    },
    /// Delete a key.
    DeleteKey {
        #[command(flatten)]
        key: KeyName,
    },
    /// Show a key's type, size and policy.
    KeyInfo {
        #[command(flatten)]
        key: KeyName,
    },
    /// Export a public key: PEM SubjectPublicKeyInfo unless told otherwise.
    ExportPublicKey {
        #[command(flatten)]
        key: KeyName,
        /// PKCS#1 RSAPublicKey (RSA keys) instead of SubjectPublicKeyInfo.
        #[arg(long)]
        pkcs1: bool,
        /// DER instead of PEM.
        #[arg(long)]
        der: bool,
        #[command(flatten)]
        out: OutFile,
    },
    /// Export a key's private material, if its policy allows (created with
    /// --exportable): PKCS#8 PEM for RSA and EC, base64 for AES.
    ExportKey {
        #[command(flatten)]
        key: KeyName,
        /// PKCS#1 RSAPrivateKey (RSA keys) instead of PKCS#8.
        #[arg(long)]
        pkcs1: bool,
        /// DER instead of PEM.
        #[arg(long)]
        der: bool,
        #[command(flatten)]
        out: OutFile,
    },
    /// Import an RSA or EC key, private or public, from PEM or DER
    /// (PKCS#8, SubjectPublicKeyInfo, PKCS#1, SEC1).
    ImportKey {
        #[command(flatten)]
        key: KeyName,
        /// The key file; `-` or nothing reads standard input.
        #[arg(short = 'i', long = "in", value_name = "FILE")]
        input: Option<PathBuf>,
        /// What the key is for.
        #[arg(long = "for", value_enum, default_value_t = ImportUse::Signing)]
        purpose: ImportUse,
        /// The RSA padding scheme, as for create-rsa-key.
        #[arg(long, value_enum)]
        scheme: Option<RsaScheme>,
        #[command(flatten)]
        export: Exportable,
    },
    /// Sign a message (hashed with the key's algorithm) or a digest (--hash).
    Sign {
        #[command(flatten)]
        key: KeyName,
        #[command(flatten)]
        data: DataIn,
        /// The input is a precomputed digest (hex, base64 or raw bytes).
        #[arg(long)]
        hash: bool,
        /// ECDSA signatures as the raw r||s of PSA instead of DER.
        #[arg(long)]
        raw_ecdsa: bool,
        #[command(flatten)]
        out: BinOut,
    },
    /// Verify a signature over a message or a digest (--hash).
    Verify {
        #[command(flatten)]
        key: KeyName,
        #[command(flatten)]
        data: DataIn,
        /// The signature, base64 or hex.
        #[arg(short = 's', long, required_unless_present = "signature_file")]
        signature: Option<String>,
        /// A file holding the signature: raw, base64 or hex.
        #[arg(long, value_name = "FILE", conflicts_with = "signature")]
        signature_file: Option<PathBuf>,
        /// The input is a precomputed digest (hex, base64 or raw bytes).
        #[arg(long)]
        hash: bool,
    },
    /// Encrypt with an RSA key's public part, or with an AES key (AEAD; the
    /// nonce is put before the ciphertext).
    Encrypt {
        #[command(flatten)]
        key: KeyName,
        #[command(flatten)]
        data: DataIn,
        /// Additional authenticated data (AES keys).
        #[arg(long)]
        aad: Option<String>,
        #[command(flatten)]
        out: BinOut,
    },
    /// Decrypt with an RSA private key or an AES key. The ciphertext (a
    /// string or a file) may be base64, hex or raw bytes.
    Decrypt {
        #[command(flatten)]
        key: KeyName,
        #[command(flatten)]
        data: DataIn,
        /// Additional authenticated data (AES keys).
        #[arg(long)]
        aad: Option<String>,
        #[command(flatten)]
        out: PlainOut,
    },
    /// Hash data in the service.
    Hash {
        #[command(flatten)]
        data: DataIn,
        /// The hash algorithm.
        #[arg(long, value_enum, default_value_t = HashAlg::Sha256)]
        alg: HashAlg,
        #[command(flatten)]
        out: BinOut,
    },
    /// Random bytes from the provider.
    GenerateRandom {
        /// How many bytes.
        #[arg(short = 'n', long)]
        nbytes: usize,
        #[command(flatten)]
        out: BinOut,
    },
    /// Create a PKCS#10 certificate signing request, signed in the service.
    CreateCsr {
        #[command(flatten)]
        key: KeyName,
        /// Common name (CN).
        #[arg(long)]
        cn: Option<String>,
        /// Organisation (O).
        #[arg(long = "org", alias = "o")]
        organization: Option<String>,
        /// Organisational unit (OU).
        #[arg(long)]
        ou: Option<String>,
        /// Locality (L).
        #[arg(long, alias = "l")]
        locality: Option<String>,
        /// State or province (ST).
        #[arg(long, alias = "st")]
        state: Option<String>,
        /// Country (C), two letters.
        #[arg(long, alias = "c")]
        country: Option<String>,
        /// Subject serial number (serialNumber).
        #[arg(long, alias = "serialNumber")]
        serial_number: Option<String>,
        /// A subject alternative name: DNS:name or IP:address; repeat it.
        #[arg(long = "san", value_name = "SAN")]
        sans: Vec<String>,
        /// DER instead of PEM.
        #[arg(long)]
        der: bool,
        #[command(flatten)]
        out: OutFile,
    },
    /// Print a completion script for a shell.
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command to a
    /// directory.
    Man {
        /// Write psec.1 and a psec-COMMAND.1 for each command here.
        #[arg(long, value_name = "DIR")]
        out_dir: Option<PathBuf>,
    },
}

/// The key a command works on.
#[derive(Debug, Args)]
pub(crate) struct KeyName {
    /// The key's name.
    #[arg(short = 'k', long = "key-name", value_name = "NAME")]
    pub(crate) name: String,
}

/// Whether a new key may be exported.
#[derive(Debug, Args)]
pub(crate) struct Exportable {
    /// Allow export-key on this key.
    #[arg(long)]
    pub(crate) exportable: bool,
}

/// Data to work on: a string, a file, or standard input.
#[derive(Debug, Args)]
pub(crate) struct DataIn {
    /// The data as a string; without it and without --in, standard input.
    #[arg(conflicts_with = "input")]
    pub(crate) data: Option<String>,
    /// Read the data from a file (`-`: standard input).
    #[arg(short = 'i', long = "in", value_name = "FILE")]
    pub(crate) input: Option<PathBuf>,
}

/// Where text output goes.
#[derive(Debug, Args)]
pub(crate) struct OutFile {
    /// Write to this file instead of standard output.
    #[arg(long = "out", value_name = "FILE")]
    pub(crate) file: Option<PathBuf>,
}

/// Binary output: an encoding and a destination.
#[derive(Debug, Args)]
pub(crate) struct BinOut {
    /// The encoding.
    #[arg(long, value_enum, default_value_t = Format::Base64)]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) out: OutFile,
}

/// Plaintext output: raw unless told otherwise.
#[derive(Debug, Args)]
pub(crate) struct PlainOut {
    /// The encoding.
    #[arg(long, value_enum, default_value_t = Format::Raw)]
    pub(crate) format: Format,
    #[command(flatten)]
    pub(crate) out: OutFile,
}

/// Encodings of binary output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Format {
    /// Base64, one line.
    Base64,
    /// Lower-case hex, one line.
    Hex,
    /// The bytes as they are.
    Raw,
}

/// What an RSA key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RsaUse {
    /// Sign and verify.
    Signing,
    /// Encrypt and decrypt.
    Encryption,
}

/// RSA padding schemes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RsaScheme {
    /// PKCS#1 v1.5.
    Pkcs1,
    /// PSS (signing).
    Pss,
    /// OAEP with SHA-256 (encryption).
    Oaep,
}

/// What an EC key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum EccUse {
    /// ECDSA.
    Signing,
    /// ECDH.
    KeyAgreement,
}

/// What an imported key is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum ImportUse {
    /// Sign and verify (RSA or EC).
    Signing,
    /// Encrypt and decrypt (RSA).
    Encryption,
    /// ECDH (EC).
    KeyAgreement,
}

/// Curves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Curve {
    /// NIST P-256 (secp256r1).
    #[value(name = "p256", alias = "p-256", alias = "secp256r1")]
    P256,
    /// NIST P-384 (secp384r1).
    #[value(name = "p384", alias = "p-384", alias = "secp384r1")]
    P384,
    /// NIST P-521 (secp521r1).
    #[value(name = "p521", alias = "p-521", alias = "secp521r1")]
    P521,
}

impl Curve {
    /// The size in bits.
    pub(crate) fn bits(self) -> usize {
        match self {
            Curve::P256 => 256,
            Curve::P384 => 384,
            Curve::P521 => 521,
        }
    }
}

/// AEAD modes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AeadMode {
    /// AES-GCM, 12-byte nonce.
    Gcm,
    /// AES-CCM, 13-byte nonce.
    Ccm,
}

/// Hash algorithms.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum HashAlg {
    /// SHA-224.
    Sha224,
    /// SHA-256.
    Sha256,
    /// SHA-384.
    Sha384,
    /// SHA-512.
    Sha512,
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn the_clap_definitions_are_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn providers_parse_by_name_and_by_id() {
        assert_eq!(parse_provider("mbed-crypto"), Ok(ProviderId::MbedCrypto));
        assert_eq!(parse_provider("3"), Ok(ProviderId::Tpm));
        assert!(parse_provider("9").is_err());
        for &id in ProviderId::ALL {
            assert_eq!(parse_provider(provider_name(id)), Ok(id));
        }
    }
}
