//! The status code carried by every response header.

use std::fmt;

/// Declares `ResponseStatus` from one table: variant, wire code, and the
/// sentence shown to a user. Keeping the three together means a code can not
/// gain a variant without a message, nor a message drift from its code.
macro_rules! response_statuses {
    ($( $(#[$meta:meta])* $variant:ident = $code:literal => $text:literal, )+) => {
        /// Outcome of a request, as the service reports it in the response
        /// header (`status`, two bytes little-endian).
        ///
        /// Codes below 1132 are the service's own; 1132 and above mirror the
        /// PSA Crypto API error codes (`PSA_ERROR_*`) of the backend.
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
        #[non_exhaustive]
        #[repr(u16)]
        pub enum ResponseStatus {
            $( $(#[$meta])* $variant = $code, )+
        }

        impl ResponseStatus {
            /// Every status, in code order.
            pub const ALL: &'static [ResponseStatus] = &[$(ResponseStatus::$variant,)+];

            /// The status for a wire code, or `None` if the code is not one
            /// of the protocol's.
            pub fn from_code(code: u16) -> Option<Self> {
                match code {
                    $( $code => Some(ResponseStatus::$variant), )+
                    _ => None,
                }
            }

            /// What went wrong (or right), in words a user can act on.
            pub fn description(self) -> &'static str {
                match self {
                    $( ResponseStatus::$variant => $text, )+
                }
            }
        }
    };
}

response_statuses! {
    /// The operation was done.
    Success = 0 => "the operation succeeded",
    /// The provider id in the header does not match the provider that handled it.
    WrongProviderId = 1 => "the request was sent to a provider that can not handle it; check the provider id",
    /// The body is not encoded in a format the service reads.
    ContentTypeNotSupported = 2 => "the request body's content type is not supported; only protobuf (0) is",
    /// The response format asked for is not one the service writes.
    AcceptTypeNotSupported = 3 => "the requested response content type is not supported; only protobuf (0) is",
    /// The header asks for a protocol version the service does not speak.
    WireProtocolVersionNotSupported = 4 => "the wire protocol version is not supported; this service speaks version 1.0",
    /// The provider exists in the protocol but is not running in this service.
    ProviderNotRegistered = 5 => "the requested provider is not configured in this service; see ListProviders",
    /// The provider id names no provider at all.
    ProviderDoesNotExist = 6 => "the provider id does not name any known provider",
    /// The body could not be decoded.
    DeserializingBodyFailed = 7 => "the request body could not be decoded for this operation",
    /// The response body could not be encoded.
    SerializingBodyFailed = 8 => "the response body could not be encoded",
    /// The opcode names no operation.
    OpcodeDoesNotExist = 9 => "the opcode does not name any known operation",
    /// The response would be larger than the service may send.
    ResponseTooLarge = 10 => "the response would exceed the service's size limit",
    /// The authentication data was refused.
    AuthenticationError = 11 => "authentication failed: the credentials in the request were refused",
    /// The auth type names no authenticator.
    AuthenticatorDoesNotExist = 12 => "the auth type does not name any known authenticator",
    /// The authenticator exists in the protocol but is not enabled here.
    AuthenticatorNotRegistered = 13 => "the requested authenticator is not enabled in this service; see ListAuthenticators",
    /// The key info store failed.
    KeyInfoManagerError = 14 => "the service's key info store failed; see the service log",
    /// Reading or writing the connection failed.
    ConnectionError = 15 => "the connection to the service failed while reading or writing",
    /// A value in the body is not a valid encoding (for example a bad UTF-8 string).
    InvalidEncoding = 16 => "a value in the message is not validly encoded",
    /// The fixed header is malformed.
    InvalidHeader = 17 => "the request header is malformed (magic number, header size or reserved bytes)",
    /// The provider UUID does not match the provider.
    WrongProviderUuid = 18 => "the provider UUID does not match the provider",
    /// The operation needs an authenticated application and none was given.
    NotAuthenticated = 19 => "this operation needs an authenticated application; send authentication data",
    /// The body length in the header is above the service's limit.
    BodySizeExceedsLimit = 20 => "the request body is larger than the service accepts (body_len_limit)",
    /// The operation is for administrators only.
    AdminOperation = 21 => "this operation is reserved to the service's administrators",
    /// The algorithm or key type is deprecated and the service does not allow it.
    DeprecatedPrimitive = 22 => "the algorithm or key type is deprecated and not allowed by this service",
    /// The backend failed for a reason it did not say.
    PsaErrorGenericError = 1132 => "the backend reported an unspecified error",
    /// The key's policy or the caller's rights forbid the operation.
    PsaErrorNotPermitted = 1133 => "the operation is not permitted by the key's policy",
    /// The backend does not implement the operation or parameter.
    PsaErrorNotSupported = 1134 => "the operation or one of its parameters is not supported by this provider",
    /// A parameter is invalid.
    PsaErrorInvalidArgument = 1135 => "a parameter of the operation is invalid",
    /// The key handle is not valid.
    PsaErrorInvalidHandle = 1136 => "the key handle is not valid",
    /// The operation was requested in the wrong state.
    PsaErrorBadState = 1137 => "the operation is not valid in the current state",
    /// An output buffer is too small.
    PsaErrorBufferTooSmall = 1138 => "an output buffer is too small for the result",
    /// A key of that name already exists.
    PsaErrorAlreadyExists = 1139 => "a key with that name already exists for this application",
    /// No key of that name exists (for this application).
    PsaErrorDoesNotExist = 1140 => "no key with that name exists for this application",
    /// The backend ran out of memory.
    PsaErrorInsufficientMemory = 1141 => "the backend ran out of memory",
    /// The backend ran out of storage.
    PsaErrorInsufficientStorage = 1142 => "the backend ran out of persistent storage",
    /// Not enough data was supplied.
    PsaErrorInsufficientData = 1143 => "not enough data was supplied for the operation",
    /// Communication with the backend failed.
    PsaErrorCommunicationFailure = 1145 => "communication with the backend (HSM, TPM, secure element) failed",
    /// The backend's storage failed.
    PsaErrorStorageFailure = 1146 => "the backend's storage failed",
    /// The hardware failed.
    PsaErrorHardwareFailure = 1147 => "the security hardware failed",
    /// The backend has not enough entropy.
    PsaErrorInsufficientEntropy = 1148 => "the backend does not have enough entropy",
    /// The signature does not match.
    PsaErrorInvalidSignature = 1149 => "the signature is not valid for this key and input",
    /// The decrypted padding is invalid.
    PsaErrorInvalidPadding = 1150 => "the padding of the decrypted data is invalid",
    /// Tampering was detected (for example a failed AEAD tag).
    PsaErrorCorruptionDetected = 1151 => "corruption was detected: authentication of the data failed",
    /// Stored data is corrupt.
    PsaErrorDataCorrupt = 1152 => "stored data is corrupt",
    /// Stored data is invalid.
    PsaErrorDataInvalid = 1153 => "stored data is invalid",
}

impl ResponseStatus {
    /// The two-byte code sent on the wire.
    pub fn code(self) -> u16 {
        self as u16
    }
}

impl fmt::Display for ResponseStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "{} ({:?}, code {})",
            self.description(),
            self,
            self.code()
        )
    }
}

impl std::error::Error for ResponseStatus {}

impl TryFrom<u16> for ResponseStatus {
    type Error = ResponseStatus;

    /// An unknown code is an encoding error in the response.
    fn try_from(code: u16) -> Result<Self, Self::Error> {
        ResponseStatus::from_code(code).ok_or(ResponseStatus::InvalidEncoding)
    }
}

impl From<std::io::Error> for ResponseStatus {
    fn from(_: std::io::Error) -> Self {
        ResponseStatus::ConnectionError
    }
}

impl From<prost::DecodeError> for ResponseStatus {
    fn from(_: prost::DecodeError) -> Self {
        ResponseStatus::DeserializingBodyFailed
    }
}

impl From<prost::EncodeError> for ResponseStatus {
    fn from(_: prost::EncodeError) -> Self {
        ResponseStatus::SerializingBodyFailed
    }
}

impl From<psa_crypto::types::status::Error> for ResponseStatus {
    fn from(error: psa_crypto::types::status::Error) -> Self {
        use psa_crypto::types::status::Error as Psa;
        match error {
            Psa::NotPermitted => ResponseStatus::PsaErrorNotPermitted,
            Psa::NotSupported => ResponseStatus::PsaErrorNotSupported,
            Psa::InvalidArgument => ResponseStatus::PsaErrorInvalidArgument,
            Psa::InvalidHandle => ResponseStatus::PsaErrorInvalidHandle,
            Psa::BadState => ResponseStatus::PsaErrorBadState,
            Psa::BufferTooSmall => ResponseStatus::PsaErrorBufferTooSmall,
            Psa::AlreadyExists => ResponseStatus::PsaErrorAlreadyExists,
            Psa::DoesNotExist => ResponseStatus::PsaErrorDoesNotExist,
            Psa::InsufficientMemory => ResponseStatus::PsaErrorInsufficientMemory,
            Psa::InsufficientStorage => ResponseStatus::PsaErrorInsufficientStorage,
            Psa::InsufficientData => ResponseStatus::PsaErrorInsufficientData,
            Psa::CommunicationFailure => ResponseStatus::PsaErrorCommunicationFailure,
            Psa::StorageFailure => ResponseStatus::PsaErrorStorageFailure,
            Psa::HardwareFailure => ResponseStatus::PsaErrorHardwareFailure,
            Psa::InsufficientEntropy => ResponseStatus::PsaErrorInsufficientEntropy,
            Psa::InvalidSignature => ResponseStatus::PsaErrorInvalidSignature,
            Psa::InvalidPadding => ResponseStatus::PsaErrorInvalidPadding,
            Psa::CorruptionDetected => ResponseStatus::PsaErrorCorruptionDetected,
            Psa::DataCorrupt => ResponseStatus::PsaErrorDataCorrupt,
            Psa::DataInvalid => ResponseStatus::PsaErrorDataInvalid,
            _ => ResponseStatus::PsaErrorGenericError,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_round_trips_through_its_code() {
        for &status in ResponseStatus::ALL {
            assert_eq!(ResponseStatus::from_code(status.code()), Some(status));
        }
    }

    #[test]
    fn codes_match_the_protocol_table() {
        assert_eq!(ResponseStatus::Success.code(), 0);
        assert_eq!(ResponseStatus::InvalidHeader.code(), 17);
        assert_eq!(ResponseStatus::DeprecatedPrimitive.code(), 22);
        assert_eq!(ResponseStatus::PsaErrorGenericError.code(), 1132);
        assert_eq!(ResponseStatus::PsaErrorCommunicationFailure.code(), 1145);
        assert_eq!(ResponseStatus::PsaErrorDataInvalid.code(), 1153);
        assert_eq!(ResponseStatus::ALL.len(), 23 + 21);
    }

    #[test]
    fn gaps_in_the_code_space_are_not_statuses() {
        for code in [23u16, 1131, 1144, 1154, u16::MAX] {
            assert_eq!(ResponseStatus::from_code(code), None, "code {code}");
            assert_eq!(
                ResponseStatus::try_from(code),
                Err(ResponseStatus::InvalidEncoding)
            );
        }
    }

    #[test]
    fn display_names_the_status_and_its_code() {
        let text = ResponseStatus::PsaErrorDoesNotExist.to_string();
        assert!(text.contains("no key with that name"), "{text}");
        assert!(text.contains("1140"), "{text}");
    }
}
