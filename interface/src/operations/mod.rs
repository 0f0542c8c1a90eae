//! Every operation of the protocol as native Rust types, and their protobuf
//! bodies.
//!
//! Each operation has a module named after its `.proto` file, holding an
//! `Operation` (what the client asks) and a `Result` (what the service
//! answers), and the conversion of both to and from the wire.
//! [`NativeOperation`] and [`NativeResult`] gather them, one variant per
//! [`Opcode`], and turn bodies into native values and back.

use crate::message::Body;
use crate::{Opcode, ResponseStatus};
use prost::Message;

pub(crate) mod algorithm;
mod key_attributes;

pub use key_attributes::{decode_key_attributes, encode_key_attributes};

pub mod attest_key;
pub mod can_do_crypto;
pub mod delete_client;
pub mod list_authenticators;
pub mod list_clients;
pub mod list_keys;
pub mod list_opcodes;
pub mod list_providers;
pub mod ping;
pub mod prepare_key_attestation;
pub mod psa_aead_decrypt;
pub mod psa_aead_encrypt;
pub mod psa_asymmetric_decrypt;
pub mod psa_asymmetric_encrypt;
pub mod psa_cipher_decrypt;
pub mod psa_cipher_encrypt;
pub mod psa_destroy_key;
pub mod psa_export_key;
pub mod psa_export_public_key;
pub mod psa_generate_key;
pub mod psa_generate_random;
pub mod psa_hash_compare;
pub mod psa_hash_compute;
pub mod psa_import_key;
pub mod psa_mac_compute;
pub mod psa_mac_verify;
pub mod psa_raw_key_agreement;
pub mod psa_sign_hash;
pub mod psa_sign_message;
pub mod psa_verify_hash;
pub mod psa_verify_message;

/// What a conversion to or from the wire gives. (The operation modules
/// each define a type named `Result`, hence this name.)
pub(crate) type WireResult<T> = Result<T, ResponseStatus>;

/// A native operation or result and the generated protobuf message that
/// carries it.
pub(crate) trait Wire: Sized {
    /// The generated message.
    type Message: Message + Default;

    /// Native to wire. Fails with [`ResponseStatus::InvalidEncoding`] for a
    /// value the wire can not carry (a length over `u32::MAX`).
    fn into_wire(self) -> WireResult<Self::Message>;

    /// Wire to native. Fails with [`ResponseStatus::InvalidEncoding`] for a
    /// missing required field or an undefined enum value.
    fn from_wire(message: Self::Message) -> WireResult<Self>;
}

fn decode<T: Wire>(body: &Body) -> Result<T, ResponseStatus> {
    T::from_wire(T::Message::decode(body.bytes())?)
}

fn encode<T: Wire>(value: T) -> Result<Body, ResponseStatus> {
    Ok(Body::new(value.into_wire()?.encode_to_vec()))
}

/// Implements [`Wire`] for a native type with no fields, carried by a
/// message with no fields.
macro_rules! empty_wire {
    ($native:ty, $message:ty) => {
        impl $crate::operations::Wire for $native {
            type Message = $message;

            fn into_wire(self) -> $crate::operations::WireResult<Self::Message> {
                Ok(<$message>::default())
            }

            fn from_wire(_: Self::Message) -> $crate::operations::WireResult<Self> {
                Ok(Self {})
            }
        }
    };
}
pub(crate) use empty_wire;

/// Declares [`NativeOperation`] and [`NativeResult`] from one list of
/// (opcode, module), so that an opcode can not lack either.
macro_rules! native_operations {
    ($( $opcode:ident => $module:ident, )+) => {
        /// Any operation, ready to send or to execute.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum NativeOperation {
            $(
                #[doc = concat!("See [`", stringify!($module), "::Operation`].")]
                $opcode($module::Operation),
            )+
        }

        /// Any result, ready to send back or to use.
        #[derive(Debug, Clone, PartialEq)]
        #[non_exhaustive]
        pub enum NativeResult {
            $(
                #[doc = concat!("See [`", stringify!($module), "::Result`].")]
                $opcode($module::Result),
            )+
        }

        impl NativeOperation {
            /// The opcode that names this operation on the wire.
            pub fn opcode(&self) -> Opcode {
                match self {
                    $( NativeOperation::$opcode(_) => Opcode::$opcode, )+
                }
            }

            /// Decodes a request body for `opcode`. A body that is not valid
            /// protobuf gives [`ResponseStatus::DeserializingBodyFailed`]; one
            /// that decodes but lacks a required field or holds an undefined
            /// value gives [`ResponseStatus::InvalidEncoding`].
            pub fn from_body(opcode: Opcode, body: &Body) -> Result<Self, ResponseStatus> {
                Ok(match opcode {
                    $( Opcode::$opcode => NativeOperation::$opcode(decode(body)?), )+
                })
            }

            /// Encodes the operation as a request body.
            pub fn into_body(self) -> Result<Body, ResponseStatus> {
                match self {
                    $( NativeOperation::$opcode(operation) => encode(operation), )+
                }
            }
        }

        impl NativeResult {
            /// The opcode of the operation this answers.
            pub fn opcode(&self) -> Opcode {
                match self {
                    $( NativeResult::$opcode(_) => Opcode::$opcode, )+
                }
            }

            /// Decodes a response body for `opcode`; errors as for
            /// [`NativeOperation::from_body`].
            pub fn from_body(opcode: Opcode, body: &Body) -> Result<Self, ResponseStatus> {
                Ok(match opcode {
                    $( Opcode::$opcode => NativeResult::$opcode(decode(body)?), )+
                })
            }

            /// Encodes the result as a response body.
            pub fn into_body(self) -> Result<Body, ResponseStatus> {
                match self {
                    $( NativeResult::$opcode(result) => encode(result), )+
                }
            }
        }
    };
}

native_operations! {
    Ping => ping,
    PsaGenerateKey => psa_generate_key,
    PsaDestroyKey => psa_destroy_key,
    PsaSignHash => psa_sign_hash,
    PsaVerifyHash => psa_verify_hash,
    PsaImportKey => psa_import_key,
    PsaExportPublicKey => psa_export_public_key,
    ListProviders => list_providers,
    ListOpcodes => list_opcodes,
    PsaAsymmetricEncrypt => psa_asymmetric_encrypt,
    PsaAsymmetricDecrypt => psa_asymmetric_decrypt,
    PsaExportKey => psa_export_key,
    PsaGenerateRandom => psa_generate_random,
    ListAuthenticators => list_authenticators,
    PsaHashCompute => psa_hash_compute,
    PsaHashCompare => psa_hash_compare,
    PsaAeadEncrypt => psa_aead_encrypt,
    PsaAeadDecrypt => psa_aead_decrypt,
    PsaRawKeyAgreement => psa_raw_key_agreement,
    PsaCipherEncrypt => psa_cipher_encrypt,
    PsaCipherDecrypt => psa_cipher_decrypt,
    PsaMacCompute => psa_mac_compute,
    PsaMacVerify => psa_mac_verify,
    PsaSignMessage => psa_sign_message,
    PsaVerifyMessage => psa_verify_message,
    ListKeys => list_keys,
    ListClients => list_clients,
    DeleteClient => delete_client,
    AttestKey => attest_key,
    PrepareKeyAttestation => prepare_key_attestation,
    CanDoCrypto => can_do_crypto,
}
