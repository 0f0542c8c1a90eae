//! Operation codes: which operation a request asks for.

use crate::ResponseStatus;

/// Declares `Opcode` from one table: variant, wire code and the properties
/// the dispatcher needs (core or crypto, authentication, admin only).
macro_rules! opcodes {
    ($( $(#[$meta:meta])* $variant:ident = $code:literal, $class:ident, $auth:ident; )+) => {
        /// The operation a request asks for (`opcode`, four bytes little-endian).
        #[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        #[non_exhaustive]
        #[repr(u32)]
        pub enum Opcode {
            $( $(#[$meta])* $variant = $code, )+
        }

        impl Opcode {
            /// Every opcode, in code order.
            pub const ALL: &'static [Opcode] = &[$(Opcode::$variant,)+];

            /// The opcode for a wire code, or `None` if the code names no operation.
            pub fn from_code(code: u32) -> Option<Self> {
                match code {
                    $( $code => Some(Opcode::$variant), )+
                    _ => None,
                }
            }

            /// Which provider kind serves this operation.
            pub fn class(self) -> OpcodeClass {
                match self {
                    $( Opcode::$variant => OpcodeClass::$class, )+
                }
            }

            /// Who may call it.
            pub fn access(self) -> Access {
                match self {
                    $( Opcode::$variant => Access::$auth, )+
                }
            }
        }
    };
}

opcodes! {
    /// Is the service there, and which wire protocol does it speak.
    Ping = 0x01, Core, Anyone;
    /// Create a key in a provider.
    PsaGenerateKey = 0x02, Crypto, Application;
    /// Delete a key.
    PsaDestroyKey = 0x03, Crypto, Application;
    /// Sign a pre-computed hash.
    PsaSignHash = 0x04, Crypto, Application;
    /// Verify a signature over a pre-computed hash.
    PsaVerifyHash = 0x05, Crypto, Application;
    /// Bring existing key material into a provider.
    PsaImportKey = 0x06, Crypto, Application;
    /// Export the public part of a key.
    PsaExportPublicKey = 0x07, Crypto, Application;
    /// List the providers the service runs.
    ListProviders = 0x08, Core, Anyone;
    /// List the opcodes a provider supports.
    ListOpcodes = 0x09, Core, Anyone;
    /// Encrypt with a public key.
    PsaAsymmetricEncrypt = 0x0A, Crypto, Application;
    /// Decrypt with a private key.
    PsaAsymmetricDecrypt = 0x0B, Crypto, Application;
    /// Export a key's material, where its policy allows.
    PsaExportKey = 0x0C, Crypto, Application;
    /// Random bytes from the provider.
    PsaGenerateRandom = 0x0D, Crypto, Anyone;
    /// List the authenticators the service accepts.
    ListAuthenticators = 0x0E, Core, Anyone;
    /// Hash a message.
    PsaHashCompute = 0x0F, Crypto, Anyone;
    /// Hash a message and compare with an expected hash.
    PsaHashCompare = 0x10, Crypto, Anyone;
    /// Authenticated encryption.
    PsaAeadEncrypt = 0x11, Crypto, Application;
    /// Authenticated decryption.
    PsaAeadDecrypt = 0x12, Crypto, Application;
    /// Key agreement, returning the raw shared secret.
    PsaRawKeyAgreement = 0x13, Crypto, Application;
    /// Symmetric encryption.
    PsaCipherEncrypt = 0x14, Crypto, Application;
    /// Symmetric decryption.
    PsaCipherDecrypt = 0x15, Crypto, Application;
    /// Compute a MAC.
    PsaMacCompute = 0x16, Crypto, Application;
    /// Verify a MAC.
    PsaMacVerify = 0x17, Crypto, Application;
    /// Hash and sign a message.
    PsaSignMessage = 0x18, Crypto, Application;
    /// Hash a message and verify its signature.
    PsaVerifyMessage = 0x19, Crypto, Application;
    /// List the caller's keys in every provider.
    ListKeys = 0x1A, Core, Application;
    /// List the applications that own keys (administrators only).
    ListClients = 0x1B, Core, Admin;
    /// Delete every key of one application (administrators only).
    DeleteClient = 0x1C, Core, Admin;
    /// Prove that a key lives in the provider's hardware.
    AttestKey = 0x1E, Crypto, Application;
    /// Get the parameters an attestation needs.
    PrepareKeyAttestation = 0x1F, Crypto, Application;
    /// Ask whether the provider can do an operation with given attributes.
    CanDoCrypto = 0x20, Crypto, Application;
}

/// Which provider kind serves an opcode.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum OpcodeClass {
    /// The core provider (id 0): service information and administration.
    Core,
    /// A crypto provider (id 1 and above).
    Crypto,
}

/// Who may call an opcode.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Access {
    /// Anyone, authenticated or not.
    Anyone,
    /// An authenticated application.
    Application,
    /// An authenticated application that the service lists as an administrator.
    Admin,
}

impl Opcode {
    /// The wire code.
    pub fn code(self) -> u32 {
        self as u32
    }

    /// Whether the core provider serves this opcode.
    pub fn is_core(self) -> bool {
        self.class() == OpcodeClass::Core
    }

    /// Whether the request must carry an authenticated application.
    pub fn needs_auth(self) -> bool {
        self.access() != Access::Anyone
    }

    /// Whether only administrators may call it.
    pub fn is_admin(self) -> bool {
        self.access() == Access::Admin
    }

    /// Whether the clients of Parsec 1.x know this opcode: their interface
    /// (parsec-interface 0.29 and 0.30) stops at CanDoCrypto and has no MAC
    /// operations. A list of opcodes sent to a client holds only these (see
    /// the crate docs).
    pub fn in_parsec_1(self) -> bool {
        !matches!(self, Opcode::PsaMacCompute | Opcode::PsaMacVerify)
    }
}

impl TryFrom<u32> for Opcode {
    type Error = ResponseStatus;

    fn try_from(code: u32) -> Result<Self, Self::Error> {
        Opcode::from_code(code).ok_or(ResponseStatus::OpcodeDoesNotExist)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn there_are_thirty_one_opcodes_and_each_round_trips() {
        assert_eq!(Opcode::ALL.len(), 31);
        for &opcode in Opcode::ALL {
            assert_eq!(Opcode::from_code(opcode.code()), Some(opcode));
        }
    }

    #[test]
    fn unknown_codes_answer_opcode_does_not_exist() {
        for code in [0u32, 0x1D, 0x21, u32::MAX] {
            assert_eq!(
                Opcode::try_from(code),
                Err(ResponseStatus::OpcodeDoesNotExist)
            );
        }
    }

    #[test]
    fn unauthenticated_opcodes_are_the_documented_ones() {
        let anyone: Vec<Opcode> = Opcode::ALL
            .iter()
            .copied()
            .filter(|o| !o.needs_auth())
            .collect();
        assert_eq!(
            anyone,
            [
                Opcode::Ping,
                Opcode::ListProviders,
                Opcode::ListOpcodes,
                Opcode::PsaGenerateRandom,
                Opcode::ListAuthenticators,
                Opcode::PsaHashCompute,
                Opcode::PsaHashCompare,
            ]
        );
    }

    #[test]
    fn only_list_clients_and_delete_client_are_admin() {
        let admin: Vec<Opcode> = Opcode::ALL
            .iter()
            .copied()
            .filter(|o| o.is_admin())
            .collect();
        assert_eq!(admin, [Opcode::ListClients, Opcode::DeleteClient]);
    }

    #[test]
    fn parsec_1_knows_every_opcode_but_the_mac_ones() {
        let newer: Vec<Opcode> = Opcode::ALL
            .iter()
            .copied()
            .filter(|o| !o.in_parsec_1())
            .collect();
        assert_eq!(newer, [Opcode::PsaMacCompute, Opcode::PsaMacVerify]);
    }

    #[test]
    fn core_opcodes_are_the_service_ones() {
        let core: Vec<Opcode> = Opcode::ALL
            .iter()
            .copied()
            .filter(|o| o.is_core())
            .collect();
        assert_eq!(
            core,
            [
                Opcode::Ping,
                Opcode::ListProviders,
                Opcode::ListOpcodes,
                Opcode::ListAuthenticators,
                Opcode::ListKeys,
                Opcode::ListClients,
                Opcode::DeleteClient,
            ]
        );
    }
}
