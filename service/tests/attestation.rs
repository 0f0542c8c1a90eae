//! Key attestation through a real psecd on its own swtpm, with the test as
//! the verifier: it asks psecd for the attested key's TPM name and the
//! endorsement key (PrepareKeyAttestation), runs TPM2_MakeCredential in
//! software (TPM 2.0 Part 1 §24: the swtpm serves psecd alone), and checks
//! that AttestKey gives the credential back only for the key it was made
//! for.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    reason = "a test fails by panicking"
)]

mod common;

use common::{Backend, Psecd, TestConfig, p256_signing};
use psec_client::{
    AttestationOutput, AttestationParams, BasicClient, PrepareKeyAttestationOutput,
    PrepareKeyAttestationParams, ResponseStatus,
};

/// TPM2_MakeCredential in software, with psa-crypto (Mbed TLS) volatile
/// keys.
mod verifier {
    use psa_crypto::operations::{asym_encryption, cipher, hash, key_management, mac, other};
    use psa_crypto::types::algorithm::{
        Algorithm, AsymmetricEncryption, Cipher, FullLengthMac, Hash, Mac,
    };
    use psa_crypto::types::key::{Attributes, Id, Lifetime, Policy, Type, UsageFlags};
    use std::sync::{Mutex, MutexGuard};

    /// TPM_ALG_SHA256: the name algorithm of the endorsement key and of
    /// psec's keys.
    const TPM_ALG_SHA256: [u8; 2] = [0x00, 0x0b];
    const HMAC_SHA256: Mac = Mac::FullLength(FullLengthMac::Hmac {
        hash_alg: Hash::Sha256,
    });

    /// Mbed TLS is not thread-safe: every use of it holds this lock.
    static MBED_TLS: Mutex<()> = Mutex::new(());

    fn mbed_tls() -> MutexGuard<'static, ()> {
        let guard = MBED_TLS
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        psa_crypto::init().unwrap();
        guard
    }

    /// A volatile key (psa-crypto keeps persistent ones as files).
    fn import(key_type: Type, bits: usize, alg: Algorithm, usage: UsageFlags, data: &[u8]) -> Id {
        let attributes = Attributes {
            lifetime: Lifetime::Volatile,
            key_type,
            bits,
            policy: Policy {
                usage_flags: usage,
                permitted_algorithms: alg,
            },
        };
        key_management::import(attributes, None, data).unwrap()
    }

    fn sha256(data: &[u8]) -> Vec<u8> {
        let mut digest = vec![0; 32];
        let length = hash::hash_compute(Hash::Sha256, data, &mut digest).unwrap();
        digest.truncate(length);
        digest
    }

    fn hmac_sha256(key: &[u8], data: &[u8]) -> Vec<u8> {
        let mut usage = UsageFlags::default();
        let _ = usage.set_sign_message().set_sign_hash();
        let key = import(Type::Hmac, key.len() * 8, HMAC_SHA256.into(), usage, key);
        let mut tag = vec![0; 32];
        let length = mac::compute_mac(key, HMAC_SHA256, data, &mut tag).unwrap();
        tag.truncate(length);
        tag
    }

    /// KDFa (Part 1 §11.4.10.2) with SHA-256: counter mode, HMAC(key,
    /// [i]₃₂ ‖ label ‖ 00 ‖ context_u ‖ context_v ‖ [bits]₃₂).
    fn kdfa(key: &[u8], label: &str, context_u: &[u8], context_v: &[u8], bits: u32) -> Vec<u8> {
        let bytes = usize::try_from(bits / 8).unwrap();
        let mut out = Vec::new();
        let mut counter: u32 = 0;
        while out.len() < bytes {
            counter += 1;
            let mut input = counter.to_be_bytes().to_vec();
            input.extend_from_slice(label.as_bytes());
            input.push(0);
            input.extend_from_slice(context_u);
            input.extend_from_slice(context_v);
            input.extend_from_slice(&bits.to_be_bytes());
            out.extend(hmac_sha256(key, &input));
        }
        out.truncate(bytes);
        out
    }

    /// Reads `der` as a DER RSAPublicKey (PKCS#1) with Mbed TLS's parser,
    /// and writes it back: the size of the key in bits and the bytes Mbed
    /// TLS writes.
    pub(super) fn read_rsa_public_key(der: &[u8]) -> (usize, Vec<u8>) {
        let _mbed_tls = mbed_tls();
        let mut usage = UsageFlags::default();
        let _ = usage.set_encrypt();
        let oaep = AsymmetricEncryption::RsaOaep {
            hash_alg: Hash::Sha256,
        };
        let key = import(Type::RsaPublicKey, 0, oaep.into(), usage, der);
        let bits = Attributes::from_key_id(key).unwrap().bits;
        let mut written = vec![0; der.len() + 16];
        let length = key_management::export_public(key, &mut written).unwrap();
        written.truncate(length);
        (bits, written)
    }

    /// `bytes` as a TPM2B: a big-endian u16 size, then the bytes.
    fn tpm2b(bytes: &[u8]) -> Vec<u8> {
        let mut out = u16::try_from(bytes.len()).unwrap().to_be_bytes().to_vec();
        out.extend_from_slice(bytes);
        out
    }

    /// The TPM name of the object whose marshalled TPMT_PUBLIC is
    /// `public`, with name algorithm SHA-256: the algorithm, then the
    /// digest of the public area.
    pub(super) fn name_of(public: &[u8]) -> Vec<u8> {
        let _mbed_tls = mbed_tls();
        let mut name = TPM_ALG_SHA256.to_vec();
        name.extend(sha256(public));
        name
    }

    /// TPM2_MakeCredential of `credential` for the object named `name`,
    /// to the RSA endorsement key `ek` (a DER RSAPublicKey, as
    /// PrepareKeyAttestation gives it; name algorithm SHA-256, symmetric
    /// AES-128 CFB): the credential blob (the contents of a
    /// TPM2B_ID_OBJECT) and the secret (of a TPM2B_ENCRYPTED_SECRET).
    pub(super) fn make_credential(ek: &[u8], name: &[u8], credential: &[u8]) -> (Vec<u8>, Vec<u8>) {
        let _mbed_tls = mbed_tls();
        // The seed: as long as the name algorithm's digest, RSA-OAEP
        // (SHA-256) encrypted to the endorsement key, label "IDENTITY".
        let mut seed = vec![0; 32];
        other::generate_random(&mut seed).unwrap();
        let oaep = AsymmetricEncryption::RsaOaep {
            hash_alg: Hash::Sha256,
        };
        let mut usage = UsageFlags::default();
        let _ = usage.set_encrypt();
        let ek = import(Type::RsaPublicKey, 0, oaep.into(), usage, ek);
        let mut secret = vec![0; 512];
        let length =
            asym_encryption::encrypt(ek, oaep, &seed, Some(b"IDENTITY\0"), &mut secret).unwrap();
        secret.truncate(length);

        // encIdentity: the TPM2B_DIGEST of the credential, AES-128 CFB
        // with a zero IV under KDFa(seed, "STORAGE", name).
        let storage_key = kdfa(&seed, "STORAGE", name, &[], 128);
        let mut usage = UsageFlags::default();
        let _ = usage.set_encrypt();
        let aes = import(Type::Aes, 128, Cipher::Cfb.into(), usage, &storage_key);
        let plaintext = tpm2b(credential);
        let mut enc_identity = vec![0; plaintext.len() + 16];
        let length =
            cipher::encrypt(aes, Cipher::Cfb, &plaintext, &[0; 16], &mut enc_identity).unwrap();
        enc_identity.truncate(length);
        assert_eq!(
            enc_identity.len(),
            plaintext.len(),
            "CFB is length-preserving"
        );

        // The outer HMAC binds encIdentity to the name.
        let integrity_key = kdfa(&seed, "INTEGRITY", &[], &[], 256);
        let mut hmac_input = enc_identity.clone();
        hmac_input.extend_from_slice(name);
        let outer_hmac = hmac_sha256(&integrity_key, &hmac_input);

        let mut blob = tpm2b(&outer_hmac);
        blob.extend(enc_identity);
        (blob, secret)
    }

    #[test]
    fn hmac_sha256_matches_rfc_4231_test_case_2() {
        // The primitive KDFa and the outer HMAC are built on; the rest of
        // MakeCredential is checked by the TPM, through psecd.
        let _mbed_tls = mbed_tls();
        let tag = hmac_sha256(b"Jefe", b"what do ya want for nothing?");
        let hex: String = tag.iter().map(|b| format!("{b:02x}")).collect();
        assert_eq!(
            hex,
            "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}

const TPM_ALG_ECC: [u8; 2] = [0x00, 0x23];

fn tpm_psecd() -> Psecd {
    Psecd::start_with(&TestConfig {
        backend: Backend::Tpm,
        ..Default::default()
    })
}

/// PrepareKeyAttestation for `key`: its TPM name, its marshalled public
/// area and the endorsement key's public key.
fn prepare(client: &BasicClient, key: &str) -> (Vec<u8>, Vec<u8>, Vec<u8>) {
    let output = client
        .prepare_key_attestation(PrepareKeyAttestationParams::ActivateCredential {
            attested_key_name: key.into(),
            attesting_key_name: None,
        })
        .unwrap();
    let PrepareKeyAttestationOutput::ActivateCredential {
        name,
        public,
        attesting_key_pub,
    } = output
    else {
        panic!("not an ActivateCredential output: {output:?}");
    };
    (name, public, attesting_key_pub)
}

/// AttestKey for `key` with a credential blob and secret.
fn attest(
    client: &BasicClient,
    key: &str,
    credential_blob: Vec<u8>,
    secret: Vec<u8>,
) -> Result<Vec<u8>, psec_client::Error> {
    let output = client.attest_key(
        key,
        AttestationParams::ActivateCredential {
            credential_blob,
            secret,
        },
        None,
    )?;
    let AttestationOutput::ActivateCredential { credential } = output else {
        panic!("not an ActivateCredential output: {output:?}");
    };
    Ok(credential.to_vec())
}

#[test]
fn prepare_key_attestation_gives_the_keys_name_and_public_area_and_the_endorsement_key() {
    let psecd = tpm_psecd();
    let client = psecd.client("verifier-app");
    client.psa_generate_key("attested", p256_signing()).unwrap();
    client.psa_generate_key("other", p256_signing()).unwrap();

    let (name, public, ek) = prepare(&client, "attested");
    // The name is SHA-256 and the digest of the public area: the verifier
    // can tie it to the key it was shown.
    assert_eq!(name, verifier::name_of(&public));
    assert_eq!(public[..2], TPM_ALG_ECC, "a TPMT_PUBLIC of an ECC key");
    // The endorsement key as Parsec gives it: a DER RSAPublicKey (PKCS#1),
    // of an RSA 2048 key, exactly as Mbed TLS writes it back, whose last
    // element (the public exponent) is the INTEGER 65537. That it is the
    // TPM's endorsement key, AttestKey proves (the next test).
    assert_eq!(ek[0], 0x30, "a SEQUENCE");
    let (bits, written) = verifier::read_rsa_public_key(&ek);
    assert_eq!(bits, 2048);
    assert_eq!(written, ek);
    assert!(ek.ends_with(&[0x02, 0x03, 0x01, 0x00, 0x01]), "{ek:02x?}");

    let (other_name, other_public, same_ek) = prepare(&client, "other");
    assert_eq!(other_name, verifier::name_of(&other_public));
    assert_ne!(other_name, name);
    assert_eq!(same_ek, ek, "one endorsement key for every key");
}

#[test]
fn attest_key_returns_the_credential_only_for_the_key_it_was_made_for() {
    let psecd = tpm_psecd();
    let client = psecd.client("verifier-app");
    client.psa_generate_key("attested", p256_signing()).unwrap();
    client.psa_generate_key("other", p256_signing()).unwrap();
    let (name, _, ek) = prepare(&client, "attested");
    let (other_name, _, _) = prepare(&client, "other");

    let credential = b"the verifier's challenge";
    let (blob, secret) = verifier::make_credential(&ek, &name, credential);
    assert_eq!(
        attest(&client, "attested", blob.clone(), secret.clone()).unwrap(),
        credential,
        "{}",
        psecd.log()
    );
    // Made for "attested", it does not open with "other".
    let error = attest(&client, "other", blob, secret).unwrap_err();
    assert_eq!(
        error.service_status(),
        Some(ResponseStatus::PsaErrorCorruptionDetected),
        "{error}"
    );

    // Made for "other", it does not open with "attested".
    let (blob, secret) = verifier::make_credential(&ek, &other_name, b"for the other key");
    let error = attest(&client, "attested", blob.clone(), secret.clone()).unwrap_err();
    assert_eq!(
        error.service_status(),
        Some(ResponseStatus::PsaErrorCorruptionDetected),
        "{error}"
    );
    // The refusals leaked nothing in the TPM: the right key still opens it.
    assert_eq!(
        attest(&client, "other", blob, secret).unwrap(),
        b"for the other key"
    );
}
