//! Beyond what Parsec's PKCS#11 provider offers, where the token has the
//! mechanism: AES ciphers (ECB, CBC, CBC with PKCS#7 padding, CTR; the
//! provider draws the IV and puts it before the ciphertext, as PSA's
//! `psa_cipher_encrypt` does), AES-GCM, HMAC (also truncated), hashing on
//! the token, and raw ECDH.

use crate::Pkcs11Provider;
use crate::keys::OpenKey;
use crate::support::{cipher_mechanism, digest_mechanism, gcm_tag_length, hmac_mechanism, hmac_of};
use crate::token::ck_error;
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::aead::GcmParams;
use cryptoki::mechanism::elliptic_curve::{EcKdf, Ecdh1DeriveParams};
use cryptoki::mechanism::vendor_defined::VendorDefinedMechanism;
use cryptoki::mechanism::{Mechanism, MechanismType};
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass};
use cryptoki_sys::CK_AES_CTR_PARAMS;
use psec_interface::ResponseStatus;
use psec_interface::operations::{
    psa_aead_decrypt, psa_aead_encrypt, psa_cipher_decrypt, psa_cipher_encrypt, psa_hash_compare,
    psa_hash_compute, psa_mac_compute, psa_mac_verify, psa_raw_key_agreement,
};
use psec_interface::psa_crypto::types::algorithm::{
    Algorithm, Cipher as CipherAlg, Hash, KeyAgreement as AgreementAlg, RawKeyAgreement,
};
use psec_provider::policy::Usage;
use psec_provider::{Aead, Application, Cipher, Hashing, KeyAgreement, Mac, ProviderError, Result};
use zeroize::Zeroizing;

/// The AES block (and CBC IV) size.
const BLOCK: usize = 16;

fn invalid(what: impl Into<String>) -> ProviderError {
    ProviderError::InvalidArgument(what.into())
}

/// Compares in time independent of where the inputs differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// PSA's CTR counts with the whole 16-byte block, as a big-endian number.
fn ctr_params(iv: [u8; BLOCK]) -> CK_AES_CTR_PARAMS {
    CK_AES_CTR_PARAMS {
        ulCounterBits: 128,
        cb: iv,
    }
}

/// The mechanism of an AES mode that takes an IV (CBC, CBC with padding,
/// CTR). cryptoki 0.12 has no AES-CTR variant: CTR goes as a mechanism with
/// its raw parameters, which cryptoki passes through as they are.
fn iv_mechanism(alg: CipherAlg, iv: [u8; BLOCK], ctr: &CK_AES_CTR_PARAMS) -> Mechanism<'_> {
    match alg {
        CipherAlg::CbcPkcs7 => Mechanism::AesCbcPad(iv),
        CipherAlg::Ctr => Mechanism::VendorDefined(VendorDefinedMechanism::new(
            MechanismType::AES_CTR,
            Some(ctr),
        )),
        _ => Mechanism::AesCbc(iv),
    }
}

fn invalid_signature(what: impl Into<String>) -> ProviderError {
    ProviderError::backend(ResponseStatus::PsaErrorInvalidSignature, what)
}

impl Pkcs11Provider {
    /// NotSupported unless the token can use keys like `key` with `alg`.
    fn check_use(&self, key: &OpenKey<'_>, alg: Algorithm) -> Result<()> {
        if self
            .support()
            .algorithm_supported(key.attributes.key_type, alg)
        {
            Ok(())
        } else {
            Err(ProviderError::NotSupported(format!(
                "this PKCS#11 token does not do {alg:?} with key `{}`",
                key.name
            )))
        }
    }

    fn cipher_key<'a>(
        &'a self,
        app: &Application,
        name: &'a str,
        usage: Usage,
        alg: CipherAlg,
    ) -> Result<OpenKey<'a>> {
        let key = self.use_key(app, name, Some(usage), Some(alg.into()))?;
        self.check_use(&key, alg.into())?;
        if cipher_mechanism(alg).is_none() {
            return Err(ProviderError::NotSupported(format!("{alg:?}")));
        }
        Ok(key)
    }

    /// The HMAC of `input` with `key`, at the length `alg` asks.
    fn hmac(
        &self,
        key: &OpenKey<'_>,
        alg: psec_interface::psa_crypto::types::algorithm::Mac,
        input: &[u8],
    ) -> Result<Vec<u8>> {
        self.check_use(key, alg.into())?;
        let (hash, length) =
            hmac_of(alg).ok_or_else(|| ProviderError::NotSupported(format!("{alg:?}")))?;
        let mechanism = match hmac_mechanism(hash) {
            Some(m) if m == MechanismType::SHA1_HMAC => Mechanism::Sha1Hmac,
            Some(m) if m == MechanismType::SHA224_HMAC => Mechanism::Sha224Hmac,
            Some(m) if m == MechanismType::SHA256_HMAC => Mechanism::Sha256Hmac,
            Some(m) if m == MechanismType::SHA384_HMAC => Mechanism::Sha384Hmac,
            Some(m) if m == MechanismType::SHA512_HMAC => Mechanism::Sha512Hmac,
            _ => return Err(ProviderError::NotSupported(format!("{alg:?}"))),
        };
        let mut mac = key
            .secret(|secret| key.session.sign(&mechanism, secret, input))?
            .map_err(ck_error(format!("computing a MAC with key `{}`", key.name)))?;
        mac.truncate(length);
        Ok(mac)
    }
}

impl Cipher for Pkcs11Provider {
    fn cipher_encrypt(
        &self,
        app: &Application,
        op: psa_cipher_encrypt::Operation,
    ) -> Result<psa_cipher_encrypt::Result> {
        let key = self.cipher_key(app, &op.key_name, Usage::Encrypt, op.alg)?;
        let failed = ck_error(format!("encrypting with key `{}`", key.name));
        let ciphertext = match op.alg {
            CipherAlg::EcbNoPadding | CipherAlg::CbcNoPadding
                if op.plaintext.len() % BLOCK != 0 =>
            {
                return Err(invalid("the plaintext is not a whole number of blocks"));
            }
            CipherAlg::EcbNoPadding => key
                .secret(|secret| {
                    key.session
                        .encrypt(&Mechanism::AesEcb, secret, &op.plaintext)
                })?
                .map_err(failed)?,
            _ => {
                let mut iv = [0u8; BLOCK];
                key.session
                    .generate_random_slice(&mut iv)
                    .map_err(ck_error("drawing an IV"))?;
                let ctr = ctr_params(iv);
                let mechanism = iv_mechanism(op.alg, iv, &ctr);
                let body = key
                    .secret(|secret| key.session.encrypt(&mechanism, secret, &op.plaintext))?
                    .map_err(failed)?;
                let mut out = iv.to_vec();
                out.extend_from_slice(&body);
                out
            }
        };
        Ok(psa_cipher_encrypt::Result { ciphertext })
    }

    fn cipher_decrypt(
        &self,
        app: &Application,
        op: psa_cipher_decrypt::Operation,
    ) -> Result<psa_cipher_decrypt::Result> {
        let key = self.cipher_key(app, &op.key_name, Usage::Decrypt, op.alg)?;
        let failed = |error: CkError| match error {
            // SoftHSM2 answers bad padding with CKR_GENERAL_ERROR.
            CkError::Pkcs11(
                RvError::EncryptedDataInvalid
                | RvError::EncryptedDataLenRange
                | RvError::GeneralError,
                _,
            ) => ProviderError::backend(
                ResponseStatus::PsaErrorInvalidPadding,
                format!("decrypting with key `{}`: bad padding or length", key.name),
            ),
            error => ck_error(format!("decrypting with key `{}`", key.name))(error),
        };
        let plaintext = if op.alg == CipherAlg::EcbNoPadding {
            if op.ciphertext.len() % BLOCK != 0 {
                return Err(invalid("the ciphertext is not a whole number of blocks"));
            }
            key.secret(|secret| {
                key.session
                    .decrypt(&Mechanism::AesEcb, secret, &op.ciphertext)
            })?
            .map_err(failed)?
        } else {
            let (iv, body) = op
                .ciphertext
                .split_first_chunk::<BLOCK>()
                .ok_or_else(|| invalid("the ciphertext is shorter than its IV"))?;
            if op.alg != CipherAlg::Ctr && body.len() % BLOCK != 0 {
                return Err(invalid("the ciphertext is not a whole number of blocks"));
            }
            let ctr = ctr_params(*iv);
            let mechanism = iv_mechanism(op.alg, *iv, &ctr);
            key.secret(|secret| key.session.decrypt(&mechanism, secret, body))?
                .map_err(failed)?
        };
        Ok(psa_cipher_decrypt::Result {
            plaintext: plaintext.into(),
        })
    }
}

impl Aead for Pkcs11Provider {
    fn aead_encrypt(
        &self,
        app: &Application,
        op: psa_aead_encrypt::Operation,
    ) -> Result<psa_aead_encrypt::Result> {
        let key = self.use_key(app, &op.key_name, Some(Usage::Encrypt), Some(op.alg.into()))?;
        self.check_use(&key, op.alg.into())?;
        let tag = gcm_tag_length(op.alg)
            .ok_or_else(|| ProviderError::NotSupported(format!("{:?}", op.alg)))?;
        if op.nonce.is_empty() {
            return Err(invalid("AES-GCM needs a nonce"));
        }
        let mut nonce = op.nonce.clone();
        let tag_bits = u64::try_from(tag * 8).map_err(|_| invalid("tag length"))?;
        let params = GcmParams::new(&mut nonce, &op.additional_data, tag_bits.into())
            .map_err(ck_error("preparing AES-GCM"))?;
        let mechanism = Mechanism::AesGcm(params);
        let ciphertext = key
            .secret(|secret| key.session.encrypt(&mechanism, secret, &op.plaintext))?
            .map_err(ck_error(format!("encrypting with key `{}`", key.name)))?;
        Ok(psa_aead_encrypt::Result { ciphertext })
    }

    fn aead_decrypt(
        &self,
        app: &Application,
        op: psa_aead_decrypt::Operation,
    ) -> Result<psa_aead_decrypt::Result> {
        let key = self.use_key(app, &op.key_name, Some(Usage::Decrypt), Some(op.alg.into()))?;
        self.check_use(&key, op.alg.into())?;
        let tag = gcm_tag_length(op.alg)
            .ok_or_else(|| ProviderError::NotSupported(format!("{:?}", op.alg)))?;
        if op.nonce.is_empty() {
            return Err(invalid("AES-GCM needs a nonce"));
        }
        if op.ciphertext.len() < tag {
            return Err(invalid("the ciphertext is shorter than its tag"));
        }
        let mut nonce = op.nonce.clone();
        let tag_bits = u64::try_from(tag * 8).map_err(|_| invalid("tag length"))?;
        let params = GcmParams::new(&mut nonce, &op.additional_data, tag_bits.into())
            .map_err(ck_error("preparing AES-GCM"))?;
        let mechanism = Mechanism::AesGcm(params);
        let plaintext = key
            .secret(|secret| key.session.decrypt(&mechanism, secret, &op.ciphertext))?
            .map_err(|error| match error {
                CkError::Pkcs11(
                    RvError::EncryptedDataInvalid
                    | RvError::EncryptedDataLenRange
                    | RvError::GeneralError,
                    _,
                ) => invalid_signature(format!(
                    "decrypting with key `{}`: the tag does not match",
                    key.name
                )),
                error => ck_error(format!("decrypting with key `{}`", key.name))(error),
            })?;
        Ok(psa_aead_decrypt::Result {
            plaintext: plaintext.into(),
        })
    }
}

impl Mac for Pkcs11Provider {
    fn mac_compute(
        &self,
        app: &Application,
        op: psa_mac_compute::Operation,
    ) -> Result<psa_mac_compute::Result> {
        let key = self.use_key(
            app,
            &op.key_name,
            Some(Usage::SignMessage),
            Some(op.alg.into()),
        )?;
        let mac = self.hmac(&key, op.alg, &op.input)?;
        Ok(psa_mac_compute::Result { mac })
    }

    fn mac_verify(
        &self,
        app: &Application,
        op: psa_mac_verify::Operation,
    ) -> Result<psa_mac_verify::Result> {
        let key = self.use_key(
            app,
            &op.key_name,
            Some(Usage::VerifyMessage),
            Some(op.alg.into()),
        )?;
        let mac = Zeroizing::new(self.hmac(&key, op.alg, &op.input)?);
        if same(&mac, &op.mac) {
            Ok(psa_mac_verify::Result {})
        } else {
            Err(invalid_signature(format!(
                "the MAC does not match key `{}`",
                key.name
            )))
        }
    }
}

impl Pkcs11Provider {
    fn hash(&self, hash: Hash, input: &[u8]) -> Result<Vec<u8>> {
        if !self.support().digests(hash) {
            return Err(ProviderError::NotSupported(format!(
                "this PKCS#11 token does not hash with {hash:?}"
            )));
        }
        self.token()
            .session()?
            .digest(&digest_mechanism(hash)?, input)
            .map_err(ck_error(format!("hashing with {hash:?}")))
    }
}

impl Hashing for Pkcs11Provider {
    fn hash_compute(&self, op: psa_hash_compute::Operation) -> Result<psa_hash_compute::Result> {
        let hash = self.hash(op.alg, &op.input)?;
        Ok(psa_hash_compute::Result { hash })
    }

    fn hash_compare(&self, op: psa_hash_compare::Operation) -> Result<psa_hash_compare::Result> {
        let hash = self.hash(op.alg, &op.input)?;
        if same(&hash, &op.hash) {
            Ok(psa_hash_compare::Result {})
        } else {
            Err(invalid_signature(format!(
                "the {:?} hash does not match",
                op.alg
            )))
        }
    }
}

impl KeyAgreement for Pkcs11Provider {
    fn raw_key_agreement(
        &self,
        app: &Application,
        op: psa_raw_key_agreement::Operation,
    ) -> Result<psa_raw_key_agreement::Result> {
        let alg: Algorithm = AgreementAlg::Raw(op.alg).into();
        let key = self.use_key(app, &op.private_key_name, Some(Usage::Derive), Some(alg))?;
        if op.alg != RawKeyAgreement::Ecdh {
            return Err(ProviderError::NotSupported(format!("{:?}", op.alg)));
        }
        self.check_use(&key, alg)?;
        let field = key.attributes.bits.div_ceil(8);
        if op.peer_key.len() != 2 * field + 1 || op.peer_key.first() != Some(&4) {
            return Err(invalid(
                "the peer key is an uncompressed point (0x04, x, y) on the key's curve",
            ));
        }
        let length = u64::try_from(field).map_err(|_| invalid("curve size"))?;
        let template = [
            Attribute::Class(ObjectClass::SECRET_KEY),
            Attribute::KeyType(KeyType::GENERIC_SECRET),
            Attribute::Token(false),
            Attribute::Sensitive(false),
            Attribute::Extractable(true),
            Attribute::ValueLen(length.into()),
        ];
        let params = Ecdh1DeriveParams::new(EcKdf::null(), &op.peer_key);
        let failed = ck_error(format!("ECDH with key `{}`", key.name));
        let mechanism = Mechanism::Ecdh1Derive(params);
        let secret = key
            .private(|private| key.session.derive_key(&mechanism, private, &template))?
            .map_err(failed)?;
        let values = key
            .session
            .get_attributes(secret, &[AttributeType::Value])
            .map_err(ck_error("reading the shared secret"));
        if let Err(error) = key.session.destroy_object(secret) {
            log::warn!("could not destroy a session object holding a shared secret: {error}");
        }
        let shared = values?
            .into_iter()
            .find_map(|attribute| match attribute {
                Attribute::Value(value) => Some(value),
                _ => None,
            })
            .ok_or_else(|| {
                ProviderError::backend(
                    ResponseStatus::PsaErrorCommunicationFailure,
                    "the token gave no shared secret",
                )
            })?;
        Ok(psa_raw_key_agreement::Result {
            shared_secret: shared.into(),
        })
    }
}
