//! Provider identities: the id in the header, the default name and the UUID.

use crate::ResponseStatus;
use std::fmt;
use uuid::Uuid;

/// Which provider a request is for (`provider`, one byte).
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[non_exhaustive]
#[repr(u8)]
pub enum ProviderId {
    /// The service itself: information and administration.
    Core = 0,
    /// Mbed TLS in software, through the PSA Crypto API.
    MbedCrypto = 1,
    /// Any PKCS#11 token.
    Pkcs11 = 2,
    /// A TPM 2.0.
    Tpm = 3,
    /// Arm Trusted Services.
    TrustedService = 4,
    /// Microchip secure elements through CryptoAuthLib.
    CryptoAuthLib = 5,
}

impl ProviderId {
    /// Every provider id, in id order.
    pub const ALL: &'static [ProviderId] = &[
        ProviderId::Core,
        ProviderId::MbedCrypto,
        ProviderId::Pkcs11,
        ProviderId::Tpm,
        ProviderId::TrustedService,
        ProviderId::CryptoAuthLib,
    ];

    /// The id byte.
    pub fn id(self) -> u8 {
        self as u8
    }

    /// The provider for an id byte, or `None` if none has that id.
    pub fn from_id(id: u8) -> Option<Self> {
        ProviderId::ALL.get(usize::from(id)).copied()
    }

    /// The UUID that identifies this kind of provider in ListProviders.
    pub fn uuid(self) -> Uuid {
        let text = match self {
            ProviderId::Core => 0x47049873_2a43_4845_9d72_831eab668784_u128,
            ProviderId::MbedCrypto => 0x1c1139dc_ad7c_47dc_ad6b_db6fdb466552,
            ProviderId::Pkcs11 => 0x30e39502_eba6_4d60_a4af_c518b7f5e38f,
            ProviderId::Tpm => 0x1e4954a4_ff21_46d3_ab0c_661eeb667e1d,
            ProviderId::TrustedService => 0x71129441_508a_4da6_b6e8_7b98a777e4c0,
            ProviderId::CryptoAuthLib => 0xb8ba81e2_e9f7_4bdd_b096_a29d0019960c,
        };
        Uuid::from_u128(text)
    }

    /// The name a provider of this kind has when the configuration gives none.
    pub fn default_name(self) -> &'static str {
        match self {
            ProviderId::Core => "core-provider",
            ProviderId::MbedCrypto => "mbed-crypto-provider",
            ProviderId::Pkcs11 => "pkcs11-provider",
            ProviderId::Tpm => "tpm-provider",
            ProviderId::TrustedService => "trusted-service-provider",
            ProviderId::CryptoAuthLib => "cryptoauthlib-provider",
        }
    }
}

impl TryFrom<u8> for ProviderId {
    type Error = ResponseStatus;

    fn try_from(id: u8) -> Result<Self, Self::Error> {
        ProviderId::from_id(id).ok_or(ResponseStatus::ProviderDoesNotExist)
    }
}

impl fmt::Display for ProviderId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let name = match self {
            ProviderId::Core => "Core",
            ProviderId::MbedCrypto => "Mbed Crypto",
            ProviderId::Pkcs11 => "PKCS #11",
            ProviderId::Tpm => "TPM",
            ProviderId::TrustedService => "Trusted Service",
            ProviderId::CryptoAuthLib => "CryptoAuthentication Library",
        };
        f.write_str(name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_unknown_ids_do_not_exist() {
        for &provider in ProviderId::ALL {
            assert_eq!(ProviderId::try_from(provider.id()), Ok(provider));
        }
        assert_eq!(
            ProviderId::try_from(6),
            Err(ResponseStatus::ProviderDoesNotExist)
        );
        assert_eq!(
            ProviderId::try_from(255),
            Err(ResponseStatus::ProviderDoesNotExist)
        );
    }

    #[test]
    fn uuids_are_the_protocol_ones() {
        assert_eq!(
            ProviderId::Core.uuid().to_string(),
            "47049873-2a43-4845-9d72-831eab668784"
        );
        assert_eq!(
            ProviderId::MbedCrypto.uuid().to_string(),
            "1c1139dc-ad7c-47dc-ad6b-db6fdb466552"
        );
        assert_eq!(
            ProviderId::Pkcs11.uuid().to_string(),
            "30e39502-eba6-4d60-a4af-c518b7f5e38f"
        );
        assert_eq!(
            ProviderId::Tpm.uuid().to_string(),
            "1e4954a4-ff21-46d3-ab0c-661eeb667e1d"
        );
        assert_eq!(
            ProviderId::TrustedService.uuid().to_string(),
            "71129441-508a-4da6-b6e8-7b98a777e4c0"
        );
        assert_eq!(
            ProviderId::CryptoAuthLib.uuid().to_string(),
            "b8ba81e2-e9f7-4bdd-b096-a29d0019960c"
        );
    }
}
