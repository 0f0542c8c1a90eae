//! Sending a request to one service through Parsec's client library, and
//! reducing its answer to text that can be compared with the other's.

use crate::interface::operations::{NativeOperation, NativeResult};
use crate::interface::requests::{ProviderId, Response, ResponseStatus};
use parsec_client::auth::Authentication;
use parsec_client::core::ipc_handler::unix_socket;
use parsec_client::core::operation_client::OperationClient;
use parsec_client::error::{ClientErrorKind, Error};
use std::fmt;
use std::io::{Read, Write};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

/// How long a client waits for an answer.
const TIMEOUT: Duration = Duration::from_secs(30);
/// The largest response body Parsec's client reads by default.
const MAX_RESPONSE_BODY: usize = 1 << 20;

/// What a service answered, reduced to what must be the same on both.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// Success, with the deterministic part of the result (see [`Detail`]).
    Answer(String),
    /// The status of a refusal.
    Refused(ResponseStatus),
    /// Parsec's client library could not read the reply at all. From psecd
    /// this is always a defect unless listed: a Parsec 1.x client would
    /// never see the status psecd meant.
    Unreadable(String),
}

impl fmt::Display for Outcome {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Outcome::Answer(text) => write!(f, "ok {text}"),
            Outcome::Refused(status) => write!(f, "status {status:?}"),
            Outcome::Unreadable(why) => write!(f, "unreadable {why}"),
        }
    }
}

impl Outcome {
    /// The status this outcome stands for, Success for an answer.
    pub fn status(&self) -> Option<ResponseStatus> {
        match self {
            Outcome::Answer(_) => Some(ResponseStatus::Success),
            Outcome::Refused(status) => Some(*status),
            Outcome::Unreadable(_) => None,
        }
    }
}

/// How much of a successful result must be equal.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Detail {
    /// Every deterministic byte: both services hold the same key material
    /// (imported from fixtures), so public keys, decryptions, AEAD output
    /// with a given nonce and shared secrets are equal.
    Exact,
    /// The shape only (lengths): signatures, random bytes, ciphertexts
    /// under a random IV, public parts of generated keys.
    Shape,
}

/// A client of one service.
pub struct Client {
    operations: OperationClient,
    socket: std::path::PathBuf,
}

impl Client {
    /// A client of the service listening on `socket`.
    pub fn new(socket: &Path) -> Client {
        let mut operations = OperationClient::default();
        operations.request_client.ipc_handler = Box::new(
            unix_socket::Handler::new(socket.to_path_buf(), Some(TIMEOUT))
                .expect("the service's socket"),
        );
        Client {
            operations,
            socket: socket.to_path_buf(),
        }
    }

    /// Sends `operation` to `provider` as `auth`, through Parsec's client.
    pub fn send(
        &self,
        provider: ProviderId,
        auth: &Authentication,
        operation: NativeOperation,
    ) -> Result<NativeResult, Outcome> {
        self.operations
            .process_operation(operation, provider, auth)
            .map_err(|error| match error {
                Error::Service(status) => Outcome::Refused(status),
                Error::Client(ClientErrorKind::Interface(status)) => {
                    Outcome::Unreadable(format!("interface error {status:?}"))
                }
                Error::Client(kind) => Outcome::Unreadable(format!("{kind:?}")),
            })
    }

    /// Sends raw bytes, closes the writing half, and reads the reply with
    /// parsec-interface's own response reader.
    pub fn send_raw(&self, bytes: &[u8]) -> Outcome {
        let mut stream = UnixStream::connect(&self.socket).expect("connect");
        stream.set_read_timeout(Some(TIMEOUT)).expect("timeout");
        stream.set_write_timeout(Some(TIMEOUT)).expect("timeout");
        // A service may answer and close before taking every byte.
        let _ = stream.write_all(bytes);
        let _ = stream.shutdown(std::net::Shutdown::Write);
        let mut reply = Vec::new();
        if let Err(error) = stream.read_to_end(&mut reply) {
            if reply.is_empty() {
                return Outcome::Unreadable(format!("no reply: {error}"));
            }
        }
        // Every field of the reply header counts here: what is echoed, and
        // what a refusal carries, is what these cases test.
        match Response::read_from_stream(&mut reply.as_slice(), MAX_RESPONSE_BODY) {
            Ok(response) => Outcome::Answer(format!(
                "[{:?} provider {:?} opcode {:?} session {} content {:?} body {} bytes]",
                response.header.status,
                response.header.provider,
                response.header.opcode,
                response.header.session,
                response.header.content_type,
                response.body.len()
            )),
            Err(status) => Outcome::Unreadable(format!(
                "interface error {status:?} on {} reply bytes",
                reply.len()
            )),
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The bytes, or only their length for [`Detail::Shape`].
fn bytes(detail: Detail, what: &str, data: &[u8]) -> String {
    match detail {
        Detail::Exact => format!("{what}={}", hex(data)),
        Detail::Shape => format!("{what}: {} bytes", data.len()),
    }
}

/// The part of a result that must be equal on both services.
pub fn canonical(result: &NativeResult, detail: Detail) -> String {
    use parsec_client::core::secrecy::ExposeSecret;
    match result {
        NativeResult::Ping(r) => format!(
            "wire protocol {}.{}",
            r.wire_protocol_version_maj, r.wire_protocol_version_min
        ),
        // Descriptions, vendors and versions name the implementation.
        NativeResult::ListProviders(r) => {
            let providers: Vec<String> = r
                .providers
                .iter()
                .map(|p| format!("{:?} {}", p.id, p.uuid))
                .collect();
            format!("providers [{}]", providers.join(", "))
        }
        NativeResult::ListAuthenticators(r) => {
            let ids: Vec<String> = r
                .authenticators
                .iter()
                .map(|a| format!("{:?}", a.id))
                .collect();
            format!("authenticators [{}]", ids.join(", "))
        }
        NativeResult::ListOpcodes(r) => {
            let mut codes: Vec<u32> = r.opcodes.iter().map(|o| *o as u32).collect();
            codes.sort_unstable();
            let codes: Vec<String> = codes.iter().map(|c| format!("{c:#04x}")).collect();
            format!("opcodes [{}]", codes.join(" "))
        }
        NativeResult::ListKeys(r) => {
            let mut keys: Vec<String> = r
                .keys
                .iter()
                .map(|k| format!("{:?}/{} {:?}", k.provider_id, k.name, k.attributes))
                .collect();
            keys.sort();
            format!("keys [{}]", keys.join("; "))
        }
        NativeResult::ListClients(r) => {
            let mut clients = r.clients.clone();
            clients.sort();
            format!("clients [{}]", clients.join(", "))
        }
        NativeResult::PsaExportPublicKey(r) => bytes(detail, "public key", &r.data),
        NativeResult::PsaExportKey(r) => bytes(detail, "key", r.data.expose_secret()),
        NativeResult::PsaHashCompute(r) => bytes(Detail::Exact, "hash", &r.hash),
        NativeResult::PsaAeadEncrypt(r) => bytes(detail, "ciphertext", &r.ciphertext),
        NativeResult::PsaAeadDecrypt(r) => bytes(detail, "plaintext", r.plaintext.as_slice()),
        NativeResult::PsaCipherEncrypt(r) => bytes(Detail::Shape, "ciphertext", &r.ciphertext),
        NativeResult::PsaCipherDecrypt(r) => bytes(detail, "plaintext", r.plaintext.as_slice()),
        NativeResult::PsaAsymmetricEncrypt(r) => bytes(Detail::Shape, "ciphertext", &r.ciphertext),
        NativeResult::PsaAsymmetricDecrypt(r) => bytes(detail, "plaintext", r.plaintext.as_slice()),
        NativeResult::PsaRawKeyAgreement(r) => {
            bytes(detail, "shared secret", r.shared_secret.expose_secret())
        }
        NativeResult::PsaGenerateRandom(r) => bytes(Detail::Shape, "random", &r.random_bytes),
        NativeResult::PsaSignHash(r) => bytes(Detail::Shape, "signature", &r.signature),
        NativeResult::PsaSignMessage(r) => bytes(Detail::Shape, "signature", &r.signature),
        NativeResult::PrepareKeyAttestation(_) => "attestation parameters".to_string(),
        NativeResult::AttestKey(_) => "attestation".to_string(),
        other => format!("{:?}", other.opcode()),
    }
}
