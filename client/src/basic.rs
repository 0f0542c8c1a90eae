//! The high level: one typed method per operation of the protocol.

use crate::auth::NO_AUTHENTICATION;
use crate::error::ResponseProblem;
use crate::ipc::IpcClient;
use crate::{Authentication, ClientErrorKind, Endpoint, Error};
use psec_interface::operations::attest_key::{AttestationOutput, AttestationParams};
use psec_interface::operations::can_do_crypto::CheckType;
use psec_interface::operations::list_authenticators::AuthenticatorInfo;
use psec_interface::operations::list_keys::KeyInfo;
use psec_interface::operations::list_providers::ProviderInfo;
use psec_interface::operations::prepare_key_attestation::{
    PrepareKeyAttestationOutput, PrepareKeyAttestationParams,
};
use psec_interface::operations::{
    attest_key, can_do_crypto, delete_client, list_authenticators, list_clients, list_keys,
    list_opcodes, list_providers, ping, prepare_key_attestation, psa_aead_decrypt,
    psa_aead_encrypt, psa_asymmetric_decrypt, psa_asymmetric_encrypt, psa_cipher_decrypt,
    psa_cipher_encrypt, psa_destroy_key, psa_export_key, psa_export_public_key, psa_generate_key,
    psa_generate_random, psa_hash_compare, psa_hash_compute, psa_import_key, psa_mac_compute,
    psa_mac_verify, psa_raw_key_agreement, psa_sign_hash, psa_sign_message, psa_verify_hash,
    psa_verify_message,
};
use psec_interface::psa_crypto::types::algorithm::{
    Aead, AsymmetricEncryption, AsymmetricSignature, Cipher, Hash, Mac, RawKeyAgreement,
};
use psec_interface::psa_crypto::types::key::Attributes;
use psec_interface::{
    AuthType, NativeOperation, NativeResult, Opcode, ProviderId, ResponseStatus, SecretBytes,
};
use std::collections::BTreeSet;
use std::time::Duration;

/// A client of a psec or Parsec service, with a typed method for every
/// operation of the protocol.
///
/// It holds no connection: each call connects, sends one request, reads
/// one response and closes, so a `BasicClient` can be cloned and shared
/// between threads freely.
///
/// Core operations (Ping, ListProviders, ListOpcodes, ListAuthenticators,
/// ListKeys, ListClients, DeleteClient) go to the Core provider; the others
/// go to the selected crypto provider. Operations open to anyone (Ping, the
/// List* of providers, opcodes and authenticators, random bytes, hashes)
/// are sent without authentication; the others carry the selected
/// [`Authentication`].
#[derive(Debug, Clone)]
pub struct BasicClient {
    ipc: IpcClient,
    provider: Option<ProviderId>,
    auth: Authentication,
}

/// The result of `$call` if it is a `$variant`, else a malformed response.
/// An error of `$call` returns from the calling method at once (`?`).
macro_rules! expect_result {
    ($call:expr, $variant:ident) => {
        match $call? {
            NativeResult::$variant(result) => Ok(result),
            other => Err(unexpected(Opcode::$variant, &other)),
        }
    };
}

/// A result for another operation than the one sent. `IpcClient::process`
/// decodes the body for the opcode sent, so this is a defence in depth.
fn unexpected(sent: Opcode, received: &NativeResult) -> Error {
    ClientErrorKind::MalformedResponse(ResponseProblem::OpcodeMismatch {
        sent,
        received: received.opcode(),
    })
    .into()
}

impl BasicClient {
    /// A client of the service named by `PARSEC_SERVICE_ENDPOINT` (or at
    /// `/run/parsec/parsec.sock`), with the provider and authentication the
    /// service offers first: see [`BasicClient::select_defaults`].
    ///
    /// `app_name` is needed when the service uses direct authentication.
    pub fn new(app_name: Option<String>) -> Result<Self, Error> {
        BasicClient::new_naked(Endpoint::from_env()?).select_defaults(app_name)
    }

    /// A client of the service at `endpoint` that has not talked to it yet:
    /// no crypto provider selected, no authentication. Set them with
    /// [`BasicClient::select_defaults`] or [`BasicClient::with_provider`] and
    /// [`BasicClient::with_auth`].
    pub fn new_naked(endpoint: Endpoint) -> Self {
        BasicClient {
            ipc: IpcClient::new(endpoint),
            provider: None,
            auth: Authentication::none(),
        }
    }

    /// Pings the service and selects the provider and authentication it
    /// offers first.
    ///
    /// - Provider: the first of ListProviders that is not Core (the service
    ///   lists them in its priority order). None:
    ///   [`ClientErrorKind::NoUsableProvider`].
    /// - Authentication: the first of ListAuthenticators this client can
    ///   use: direct with `app_name` (skipped when `app_name` is `None`),
    ///   Unix peer credentials with this process's user id, or no
    ///   authentication. A service that lists no authenticator gets no
    ///   authentication. When direct was skipped and nothing else fits:
    ///   [`ClientErrorKind::MissingApplicationName`]; when nothing fits at
    ///   all (JWT-SVID only, say): [`ClientErrorKind::NoUsableAuthenticator`].
    pub fn select_defaults(self, app_name: Option<String>) -> Result<Self, Error> {
        let _version = self.ping()?;
        let provider = select_provider(&self.list_providers()?)?;
        let auth = select_authentication(&self.list_authenticators()?, app_name.as_deref())?;
        Ok(BasicClient {
            provider: Some(provider),
            auth,
            ..self
        })
    }

    /// Sets the endpoint.
    pub fn with_endpoint(mut self, endpoint: Endpoint) -> Self {
        self.ipc = self.ipc.with_endpoint(endpoint);
        self
    }

    /// Sets how long a whole request may take, from just before connecting
    /// to the last byte of the response; `None` waits forever. The default
    /// is [`DEFAULT_TIMEOUT`](crate::ipc::DEFAULT_TIMEOUT). See
    /// [`IpcClient::with_timeout`].
    pub fn with_timeout(mut self, timeout: Option<Duration>) -> Self {
        self.ipc = self.ipc.with_timeout(timeout);
        self
    }

    /// Sets the largest response body accepted, in bytes. The default is
    /// [`DEFAULT_MAX_RESPONSE_BODY_LEN`](crate::ipc::DEFAULT_MAX_RESPONSE_BODY_LEN).
    pub fn with_max_response_body_len(mut self, limit: usize) -> Self {
        self.ipc = self.ipc.with_max_response_body_len(limit);
        self
    }

    /// Sets the provider crypto operations go to.
    pub fn with_provider(mut self, provider: ProviderId) -> Self {
        self.provider = Some(provider);
        self
    }

    /// Sets the authentication sent with operations that need it.
    pub fn with_auth(mut self, auth: Authentication) -> Self {
        self.auth = auth;
        self
    }

    /// The endpoint.
    pub fn endpoint(&self) -> &Endpoint {
        self.ipc.endpoint()
    }

    /// The timeout of a whole request, if any.
    pub fn timeout(&self) -> Option<Duration> {
        self.ipc.timeout()
    }

    /// The provider crypto operations go to, if one is selected.
    pub fn provider(&self) -> Option<ProviderId> {
        self.provider
    }

    /// The authentication sent with operations that need it.
    pub fn auth(&self) -> &Authentication {
        &self.auth
    }

    /// The low-level client underneath, to send hand-built requests.
    pub fn ipc(&self) -> &IpcClient {
        &self.ipc
    }

    /// Sends any operation, to the provider and with the authentication
    /// the rules above give, and returns its result.
    pub fn process(&self, operation: NativeOperation) -> Result<NativeResult, Error> {
        let (provider, auth) = self.route(operation.opcode())?;
        self.ipc.process(provider, auth, operation)
    }

    /// Where an operation goes, and with which authentication: see
    /// [`BasicClient`].
    pub(crate) fn route(&self, opcode: Opcode) -> Result<(ProviderId, &Authentication), Error> {
        let provider = if opcode.is_core() {
            ProviderId::Core
        } else {
            self.provider
                .ok_or(ClientErrorKind::NoProviderSelected { opcode })?
        };
        let auth = if opcode.needs_auth() {
            &self.auth
        } else {
            &NO_AUTHENTICATION
        };
        Ok((provider, auth))
    }
}

/// Declares the typed methods once, for [`BasicClient`] and (with the
/// `tokio` feature) for [`AsyncBasicClient`](crate::AsyncBasicClient), so
/// the two can not differ in what they send or how they read the result.
///
/// Each entry reads `fn name(args) -> Output { Variant(operation) } =>
/// |result| output;`: the method sends `NativeOperation::Variant(operation)`
/// and maps the `NativeResult::Variant` it gets back with the closure-like
/// tail (which may use `?`).
macro_rules! typed_operations {
    ($(
        $(#[$doc:meta])*
        fn $name:ident($($arg:ident: $ty:ty),* $(,)?) -> $out:ty {
            $variant:ident($operation:expr)
        } => |$result:ident| $output:expr;
    )+) => {
        impl BasicClient {
            $(
                $(#[$doc])*
                pub fn $name(&self, $($arg: $ty),*) -> Result<$out, Error> {
                    let operation = NativeOperation::$variant($operation);
                    let $result = expect_result!(self.process(operation), $variant)?;
                    Ok($output)
                }
            )+
        }

        #[cfg(feature = "tokio")]
        impl crate::AsyncBasicClient {
            $(
                $(#[$doc])*
                pub async fn $name(&self, $($arg: $ty),*) -> Result<$out, Error> {
                    let operation = NativeOperation::$variant($operation);
                    let $result = expect_result!(self.process(operation).await, $variant)?;
                    Ok($output)
                }
            )+
        }
    };
}

typed_operations! {
    // ---------------------------------------------------------------------
    // Core operations
    // ---------------------------------------------------------------------

    /// Checks that the service answers, and returns the highest wire
    /// protocol version it speaks as (major, minor).
    fn ping() -> (u8, u8) {
        Ping(ping::Operation {})
    } => |result| (result.wire_protocol_version_maj, result.wire_protocol_version_min);

    /// The providers the service runs, in its priority order, Core last.
    fn list_providers() -> Vec<ProviderInfo> {
        ListProviders(list_providers::Operation {})
    } => |result| result.providers;

    /// The operations `provider` supports, of those Parsec 1.x clients know
    /// ([`Opcode::in_parsec_1`]): psecd serves newer ones (the MAC
    /// operations) without listing them, so that Parsec's own clients can
    /// read the list. Ask `can_do_crypto` about those.
    fn list_opcodes(provider: ProviderId) -> BTreeSet<Opcode> {
        ListOpcodes(list_opcodes::Operation { provider_id: provider })
    } => |result| result.opcodes;

    /// The authenticators the service accepts, the preferred one first.
    fn list_authenticators() -> Vec<AuthenticatorInfo> {
        ListAuthenticators(list_authenticators::Operation {})
    } => |result| result.authenticators;

    /// This application's keys, in every provider.
    fn list_keys() -> Vec<KeyInfo> {
        ListKeys(list_keys::Operation {})
    } => |result| result.keys;

    /// The applications that own keys. Administrators only (else
    /// [`ResponseStatus::AdminOperation`]).
    fn list_clients() -> Vec<String> {
        ListClients(list_clients::Operation {})
    } => |result| result.clients;

    /// Deletes every key of the application `client`. Administrators only.
    fn delete_client(client: &str) -> () {
        DeleteClient(delete_client::Operation { client: client.to_string() })
    } => |_empty| ();

    // ---------------------------------------------------------------------
    // Keys
    // ---------------------------------------------------------------------

    /// Generates a key named `key_name` with `attributes` in the provider.
    /// A name in use gives [`ResponseStatus::PsaErrorAlreadyExists`].
    fn psa_generate_key(key_name: &str, attributes: Attributes) -> () {
        PsaGenerateKey(psa_generate_key::Operation {
            key_name: key_name.to_string(),
            attributes,
        })
    } => |_empty| ();

    /// Destroys the key `key_name`. An unknown name (or another
    /// application's) gives [`ResponseStatus::PsaErrorDoesNotExist`].
    fn psa_destroy_key(key_name: &str) -> () {
        PsaDestroyKey(psa_destroy_key::Operation { key_name: key_name.to_string() })
    } => |_empty| ();

    /// Imports `key_material` (in the PSA export format for its type) as the
    /// key `key_name` with `attributes`. The copy sent is wiped once sent.
    fn psa_import_key(key_name: &str, key_material: &[u8], attributes: Attributes) -> () {
        PsaImportKey(psa_import_key::Operation {
            key_name: key_name.to_string(),
            attributes,
            data: SecretBytes::from(key_material),
        })
    } => |_empty| ();

    /// The public part of the key `key_name`, in the PSA format (DER
    /// `RSAPublicKey` for RSA, the uncompressed point for Weierstrass curves).
    fn psa_export_public_key(key_name: &str) -> Vec<u8> {
        PsaExportPublicKey(psa_export_public_key::Operation { key_name: key_name.to_string() })
    } => |result| result.data;

    /// The key material of `key_name`, if its policy allows export.
    fn psa_export_key(key_name: &str) -> SecretBytes {
        PsaExportKey(psa_export_key::Operation { key_name: key_name.to_string() })
    } => |result| result.data;

    // ---------------------------------------------------------------------
    // Signatures
    // ---------------------------------------------------------------------

    /// Signs the digest `hash` with the private key `key_name`.
    fn psa_sign_hash(key_name: &str, hash: &[u8], alg: AsymmetricSignature) -> Vec<u8> {
        PsaSignHash(psa_sign_hash::Operation {
            key_name: key_name.to_string(),
            alg,
            hash: hash.to_vec(),
        })
    } => |result| result.signature;

    /// Verifies `signature` over the digest `hash` with the key `key_name`.
    /// A wrong signature gives [`ResponseStatus::PsaErrorInvalidSignature`].
    fn psa_verify_hash(
        key_name: &str,
        hash: &[u8],
        alg: AsymmetricSignature,
        signature: &[u8],
    ) -> () {
        PsaVerifyHash(psa_verify_hash::Operation {
            key_name: key_name.to_string(),
            alg,
            hash: hash.to_vec(),
            signature: signature.to_vec(),
        })
    } => |_empty| ();

    /// Hashes and signs `message` with the private key `key_name`.
    fn psa_sign_message(key_name: &str, message: &[u8], alg: AsymmetricSignature) -> Vec<u8> {
        PsaSignMessage(psa_sign_message::Operation {
            key_name: key_name.to_string(),
            alg,
            message: SecretBytes::from(message),
        })
    } => |result| result.signature;

    /// Verifies `signature` over `message` with the key `key_name`.
    /// A wrong signature gives [`ResponseStatus::PsaErrorInvalidSignature`].
    fn psa_verify_message(
        key_name: &str,
        message: &[u8],
        alg: AsymmetricSignature,
        signature: &[u8],
    ) -> () {
        PsaVerifyMessage(psa_verify_message::Operation {
            key_name: key_name.to_string(),
            alg,
            message: SecretBytes::from(message),
            signature: signature.to_vec(),
        })
    } => |_empty| ();

    // ---------------------------------------------------------------------
    // Encryption
    // ---------------------------------------------------------------------

    /// Encrypts `plaintext` with the public part of `key_name`; `salt` is
    /// the OAEP label, if any.
    fn psa_asymmetric_encrypt(
        key_name: &str,
        alg: AsymmetricEncryption,
        plaintext: &[u8],
        salt: Option<&[u8]>,
    ) -> Vec<u8> {
        PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
            key_name: key_name.to_string(),
            alg,
            plaintext: SecretBytes::from(plaintext),
            salt: salt.map(SecretBytes::from),
        })
    } => |result| result.ciphertext;

    /// Decrypts `ciphertext` with the private key `key_name`; `salt` is the
    /// OAEP label, if any.
    fn psa_asymmetric_decrypt(
        key_name: &str,
        alg: AsymmetricEncryption,
        ciphertext: &[u8],
        salt: Option<&[u8]>,
    ) -> SecretBytes {
        PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Operation {
            key_name: key_name.to_string(),
            alg,
            ciphertext: ciphertext.to_vec(),
            salt: salt.map(SecretBytes::from),
        })
    } => |result| result.plaintext;

    /// Encrypts and authenticates `plaintext`, and authenticates
    /// `additional_data`, with the key `key_name`. Returns the ciphertext
    /// with the tag appended. Never reuse a nonce with the same key.
    fn psa_aead_encrypt(
        key_name: &str,
        alg: Aead,
        nonce: &[u8],
        additional_data: &[u8],
        plaintext: &[u8],
    ) -> Vec<u8> {
        PsaAeadEncrypt(psa_aead_encrypt::Operation {
            key_name: key_name.to_string(),
            alg,
            nonce: nonce.to_vec(),
            additional_data: additional_data.to_vec(),
            plaintext: SecretBytes::from(plaintext),
        })
    } => |result| result.ciphertext;

    /// Checks and decrypts `ciphertext` (tag appended) and checks
    /// `additional_data`. A failed check gives
    /// [`ResponseStatus::PsaErrorInvalidSignature`] or
    /// [`ResponseStatus::PsaErrorCorruptionDetected`], depending on the
    /// provider.
    fn psa_aead_decrypt(
        key_name: &str,
        alg: Aead,
        nonce: &[u8],
        additional_data: &[u8],
        ciphertext: &[u8],
    ) -> SecretBytes {
        PsaAeadDecrypt(psa_aead_decrypt::Operation {
            key_name: key_name.to_string(),
            alg,
            nonce: nonce.to_vec(),
            additional_data: additional_data.to_vec(),
            ciphertext: ciphertext.to_vec(),
        })
    } => |result| result.plaintext;

    /// Encrypts `plaintext` with the key `key_name`; the provider picks the
    /// IV and returns it first, followed by the ciphertext.
    fn psa_cipher_encrypt(key_name: &str, alg: Cipher, plaintext: &[u8]) -> Vec<u8> {
        PsaCipherEncrypt(psa_cipher_encrypt::Operation {
            key_name: key_name.to_string(),
            alg,
            plaintext: SecretBytes::from(plaintext),
        })
    } => |result| result.ciphertext;

    /// Decrypts `ciphertext` (IV first) with the key `key_name`.
    fn psa_cipher_decrypt(key_name: &str, alg: Cipher, ciphertext: &[u8]) -> SecretBytes {
        PsaCipherDecrypt(psa_cipher_decrypt::Operation {
            key_name: key_name.to_string(),
            alg,
            ciphertext: ciphertext.to_vec(),
        })
    } => |result| result.plaintext;

    // ---------------------------------------------------------------------
    // MACs, hashes, random, key agreement
    // ---------------------------------------------------------------------

    /// The MAC of `input` under the key `key_name`.
    fn psa_mac_compute(key_name: &str, alg: Mac, input: &[u8]) -> Vec<u8> {
        PsaMacCompute(psa_mac_compute::Operation {
            key_name: key_name.to_string(),
            alg,
            input: SecretBytes::from(input),
        })
    } => |result| result.mac;

    /// Checks that `mac` is the MAC of `input` under the key `key_name`. A
    /// wrong MAC gives [`ResponseStatus::PsaErrorInvalidSignature`].
    fn psa_mac_verify(key_name: &str, alg: Mac, input: &[u8], mac: &[u8]) -> () {
        PsaMacVerify(psa_mac_verify::Operation {
            key_name: key_name.to_string(),
            alg,
            input: SecretBytes::from(input),
            mac: mac.to_vec(),
        })
    } => |_empty| ();

    /// `size` random bytes from the provider. Fewer or more bytes than asked
    /// give [`ClientErrorKind::MalformedResponse`], never a short buffer.
    fn psa_generate_random(size: usize) -> SecretBytes {
        PsaGenerateRandom(psa_generate_random::Operation { size })
    } => |result| exactly(size, result.random_bytes)?;

    /// The `alg` digest of `input`.
    fn psa_hash_compute(alg: Hash, input: &[u8]) -> Vec<u8> {
        PsaHashCompute(psa_hash_compute::Operation {
            alg,
            input: SecretBytes::from(input),
        })
    } => |result| result.hash;

    /// Checks that `hash` is the `alg` digest of `input`. A mismatch gives
    /// [`ResponseStatus::PsaErrorInvalidSignature`].
    fn psa_hash_compare(alg: Hash, input: &[u8], hash: &[u8]) -> () {
        PsaHashCompare(psa_hash_compare::Operation {
            alg,
            input: SecretBytes::from(input),
            hash: hash.to_vec(),
        })
    } => |_empty| ();

    /// The raw shared secret of the private key `private_key_name` and
    /// `peer_key` (the peer's public key in the PSA format). Feed it to a
    /// key derivation before use.
    fn psa_raw_key_agreement(
        alg: RawKeyAgreement,
        private_key_name: &str,
        peer_key: &[u8],
    ) -> SecretBytes {
        PsaRawKeyAgreement(psa_raw_key_agreement::Operation {
            alg,
            private_key_name: private_key_name.to_string(),
            peer_key: peer_key.to_vec(),
        })
    } => |result| result.shared_secret;

    // ---------------------------------------------------------------------
    // Key attestation
    // ---------------------------------------------------------------------

    /// Attests the key `attested_key_name` with the mechanism of
    /// `parameters`; `attesting_key_name` is the key that vouches for it,
    /// `None` for the provider's default (the endorsement key of a TPM).
    fn attest_key(
        attested_key_name: &str,
        parameters: AttestationParams,
        attesting_key_name: Option<&str>,
    ) -> AttestationOutput {
        AttestKey(attest_key::Operation {
            attested_key_name: attested_key_name.to_string(),
            parameters,
            attesting_key_name: attesting_key_name.map(str::to_string),
        })
    } => |result| result.output;

    /// What a verifier needs to prepare an attestation with the mechanism of
    /// `parameters`.
    fn prepare_key_attestation(
        parameters: PrepareKeyAttestationParams,
    ) -> PrepareKeyAttestationOutput {
        PrepareKeyAttestation(prepare_key_attestation::Operation { parameters })
    } => |result| result.output;
}

impl BasicClient {
    /// Whether the provider can do `check_type` with a key of `attributes`:
    /// `Ok(false)` when it answers [`ResponseStatus::PsaErrorNotSupported`]
    /// (which is also what a provider that does not implement CanDoCrypto
    /// answers).
    pub fn can_do_crypto(
        &self,
        check_type: CheckType,
        attributes: Attributes,
    ) -> Result<bool, Error> {
        can_do_answer(self.process(can_do_operation(check_type, attributes)))
    }
}

/// The CanDoCrypto request.
pub(crate) fn can_do_operation(check_type: CheckType, attributes: Attributes) -> NativeOperation {
    NativeOperation::CanDoCrypto(can_do_crypto::Operation {
        check_type,
        attributes,
    })
}

/// CanDoCrypto's answer: NotSupported is a "no".
pub(crate) fn can_do_answer(result: Result<NativeResult, Error>) -> Result<bool, Error> {
    match result {
        Ok(NativeResult::CanDoCrypto(can_do_crypto::Result {})) => Ok(true),
        Ok(other) => Err(unexpected(Opcode::CanDoCrypto, &other)),
        Err(Error::Service(ResponseStatus::PsaErrorNotSupported)) => Ok(false),
        Err(error) => Err(error),
    }
}

/// `random` if it has `size` bytes, else a malformed response.
fn exactly(size: usize, random: SecretBytes) -> Result<SecretBytes, Error> {
    if random.len() != size {
        return Err(
            ClientErrorKind::MalformedResponse(ResponseProblem::RandomLength {
                asked: size,
                received: random.len(),
            })
            .into(),
        );
    }
    Ok(random)
}

/// The first provider that is not Core.
pub(crate) fn select_provider(providers: &[ProviderInfo]) -> Result<ProviderId, Error> {
    providers
        .iter()
        .map(|info| info.id)
        .find(|&id| id != ProviderId::Core)
        .ok_or_else(|| ClientErrorKind::NoUsableProvider.into())
}

/// The first authenticator this client can use; see
/// [`BasicClient::select_defaults`].
pub(crate) fn select_authentication(
    authenticators: &[AuthenticatorInfo],
    app_name: Option<&str>,
) -> Result<Authentication, Error> {
    let mut skipped_direct = false;
    for info in authenticators {
        match (info.id, app_name) {
            (AuthType::Direct, Some(name)) => return Authentication::direct(name),
            (AuthType::Direct, None) => skipped_direct = true,
            (AuthType::UnixPeerCredentials, _) => return Authentication::current_unix_user(),
            (AuthType::NoAuth, _) => return Ok(Authentication::none()),
            _ => {}
        }
    }
    if authenticators.is_empty() {
        Ok(Authentication::none())
    } else if skipped_direct {
        Err(ClientErrorKind::MissingApplicationName.into())
    } else {
        Err(ClientErrorKind::NoUsableAuthenticator {
            offered: authenticators.iter().map(|info| info.id).collect(),
        }
        .into())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn provider(id: ProviderId) -> ProviderInfo {
        ProviderInfo {
            uuid: id.uuid(),
            description: format!("{id}"),
            vendor: String::new(),
            version_maj: 0,
            version_min: 1,
            version_rev: 0,
            id,
        }
    }

    fn authenticator(id: AuthType) -> AuthenticatorInfo {
        AuthenticatorInfo {
            description: format!("{id}"),
            version_maj: 0,
            version_min: 1,
            version_rev: 0,
            id,
        }
    }

    fn select(ids: &[AuthType], app_name: Option<&str>) -> Result<Authentication, Error> {
        let list: Vec<_> = ids.iter().copied().map(authenticator).collect();
        select_authentication(&list, app_name)
    }

    #[test]
    fn provider_is_the_first_listed_that_is_not_core() {
        let list = [
            provider(ProviderId::Core),
            provider(ProviderId::Tpm),
            provider(ProviderId::MbedCrypto),
        ];
        assert_eq!(select_provider(&list).unwrap(), ProviderId::Tpm);
        let usual = [provider(ProviderId::Pkcs11), provider(ProviderId::Core)];
        assert_eq!(select_provider(&usual).unwrap(), ProviderId::Pkcs11);
    }

    #[test]
    fn only_core_or_nothing_is_no_usable_provider() {
        for list in [vec![], vec![provider(ProviderId::Core)]] {
            assert!(matches!(
                select_provider(&list),
                Err(Error::Client(ClientErrorKind::NoUsableProvider))
            ));
        }
    }

    #[test]
    fn direct_is_chosen_when_first_and_an_application_name_is_given() {
        let auth = select(
            &[AuthType::Direct, AuthType::UnixPeerCredentials],
            Some("app"),
        )
        .unwrap();
        assert_eq!(auth, Authentication::direct("app").unwrap());
    }

    #[test]
    fn direct_is_skipped_without_an_application_name() {
        let auth = select(&[AuthType::Direct, AuthType::UnixPeerCredentials], None).unwrap();
        assert_eq!(auth, Authentication::current_unix_user().unwrap());
    }

    #[test]
    fn unix_peer_credentials_are_chosen_when_first_even_with_a_name() {
        let auth = select(
            &[AuthType::UnixPeerCredentials, AuthType::Direct],
            Some("app"),
        )
        .unwrap();
        assert_eq!(auth.auth_type(), AuthType::UnixPeerCredentials);
    }

    #[test]
    fn unsupported_authenticators_are_skipped() {
        let auth = select(&[AuthType::JwtSvid, AuthType::Direct], Some("app")).unwrap();
        assert_eq!(auth.auth_type(), AuthType::Direct);
        let auth = select(&[AuthType::Jwt, AuthType::NoAuth], None).unwrap();
        assert_eq!(auth.auth_type(), AuthType::NoAuth);
    }

    #[test]
    fn an_empty_list_means_no_authentication() {
        assert_eq!(select(&[], Some("app")).unwrap(), Authentication::none());
    }

    #[test]
    fn direct_only_without_a_name_is_a_missing_application_name() {
        assert!(matches!(
            select(&[AuthType::JwtSvid, AuthType::Direct], None),
            Err(Error::Client(ClientErrorKind::MissingApplicationName))
        ));
    }

    #[test]
    fn nothing_usable_is_no_usable_authenticator_listing_the_offer() {
        match select(&[AuthType::JwtSvid], Some("app")) {
            Err(Error::Client(ClientErrorKind::NoUsableAuthenticator { offered })) => {
                assert_eq!(offered, [AuthType::JwtSvid]);
            }
            other => panic!("expected NoUsableAuthenticator, got {other:?}"),
        }
    }

    #[test]
    fn a_naked_client_refuses_crypto_operations_without_contacting_anyone() {
        let client = BasicClient::new_naked(Endpoint::unix_socket("/nonexistent/psec.sock"));
        assert!(matches!(
            client.psa_generate_random(4),
            Err(Error::Client(ClientErrorKind::NoProviderSelected {
                opcode: Opcode::PsaGenerateRandom
            }))
        ));
    }

    #[test]
    fn basic_client_is_send_sync_and_its_debug_hides_the_application_name() {
        fn send_sync<T: Send + Sync>() {}
        send_sync::<BasicClient>();
        let client = BasicClient::new_naked(Endpoint::default())
            .with_auth(Authentication::direct("secret-app").unwrap());
        let shown = format!("{client:?}");
        assert!(!shown.contains("secret-app"), "{shown}");
    }
}
