//! `software_public_operations`: signatures verified and data encrypted to
//! public keys in Mbed TLS (through psec-provider-mbed-crypto) rather than
//! on the token, for tokens that lack or are slow at public key mechanisms.
//! The public key is read from the token as PSA's export format; nothing
//! private ever leaves it. Built with the `software-public-operations`
//! feature.

use crate::Pkcs11Provider;
use crate::keys::OpenKey;
use psec_interface::psa_crypto::types::algorithm::{AsymmetricEncryption, AsymmetricSignature};
use psec_provider::Result;
use psec_provider_mbed_crypto::public_key::{self, PublicKey};

impl Pkcs11Provider {
    /// Runs `f` on the public key of `key`, read from the token.
    fn with_public_key<T>(
        &self,
        key: &OpenKey<'_>,
        f: impl FnOnce(PublicKey<'_>) -> Result<T>,
    ) -> Result<T> {
        let data = self.public_key_data(key)?;
        f(PublicKey {
            key_type: key.attributes.key_type,
            data: &data,
        })
    }

    pub(crate) fn verify_hash_in_software(
        &self,
        key: &OpenKey<'_>,
        alg: AsymmetricSignature,
        hash: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        self.with_public_key(key, |public| {
            public_key::verify_hash(public, alg, hash, signature)
        })
    }

    pub(crate) fn verify_message_in_software(
        &self,
        key: &OpenKey<'_>,
        alg: AsymmetricSignature,
        message: &[u8],
        signature: &[u8],
    ) -> Result<()> {
        self.with_public_key(key, |public| {
            public_key::verify_message(public, alg, message, signature)
        })
    }

    pub(crate) fn encrypt_in_software(
        &self,
        key: &OpenKey<'_>,
        alg: AsymmetricEncryption,
        plaintext: &[u8],
        salt: Option<&[u8]>,
    ) -> Result<Vec<u8>> {
        self.with_public_key(key, |public| {
            public_key::asymmetric_encrypt(public, alg, plaintext, salt)
        })
    }
}
