//! Writes fuzz/seeds/dispatch_mbed/ (the opcode's wire code, then a
//! request body encoded by psec-interface, naming the keys dispatch_mbed
//! makes at start-up) and fuzz/seeds/import_mbed/ and import_tpm/ (a
//! 2-byte big-endian length, protobuf `KeyAttributes`, key data; RSA DER
//! taken from the pkcs11_der seeds). Existing files of the same name are
//! replaced.

#[path = "../../common/mbed_keys.rs"]
#[allow(dead_code, reason = "only dispatch_mbed makes the start-up keys")]
mod mbed_keys;
#[path = "../../common/p256.rs"]
mod p256;

use mbed_keys::{Usage, attributes};
use p256::P256_G;
use psec_interface::NativeOperation;
use psec_interface::operations::*;
use psec_interface::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, AsymmetricEncryption, AsymmetricSignature, Cipher,
    FullLengthMac, Hash, Mac, RawKeyAgreement, SignHash,
};
use psec_interface::psa_crypto::types::key::{Attributes, EccFamily, Type};
use std::path::{Path, PathBuf};

type Error = Box<dyn std::error::Error>;

fn main() -> Result<(), Error> {
    let seeds = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../seeds"));
    dispatch_seeds(&seeds.join("dispatch_mbed"))?;
    import_seeds(&seeds.join("import_mbed"), &seeds.join("pkcs11_der"))?;
    // The same inputs: the TPM must take the public keys and refuse the
    // rest cleanly.
    import_seeds(&seeds.join("import_tpm"), &seeds.join("pkcs11_der"))?;
    Ok(())
}

fn write(dir: &Path, name: &str, bytes: &[u8]) -> Result<(), Error> {
    std::fs::create_dir_all(dir)?;
    std::fs::write(dir.join(name), bytes)?;
    println!("{}", dir.join(name).display());
    Ok(())
}

fn dispatch_seeds(dir: &Path) -> Result<(), Error> {
    let ecdsa = AsymmetricSignature::Ecdsa {
        hash_alg: SignHash::Specific(Hash::Sha256),
    };
    let pkcs1 = AsymmetricSignature::RsaPkcs1v15Sign {
        hash_alg: SignHash::Specific(Hash::Sha256),
    };
    let oaep = AsymmetricEncryption::RsaOaep {
        hash_alg: Hash::Sha256,
    };
    let gcm = Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm);
    let hmac = Mac::FullLength(FullLengthMac::Hmac {
        hash_alg: Hash::Sha256,
    });
    let name = |key: &str| key.to_owned();
    let new_aes = attributes(Type::Aes, 128, &[Usage::Encrypt], Cipher::Ctr.into());
    let p256 = Type::EccKeyPair {
        curve_family: EccFamily::SecpR1,
    };
    let new_ecc = attributes(p256, 256, &[Usage::SignHash], ecdsa.into());
    let ops: Vec<(&str, NativeOperation)> = vec![
        (
            "generate-aes",
            NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
                key_name: name("new"),
                attributes: new_aes,
            }),
        ),
        (
            "generate-ecc",
            NativeOperation::PsaGenerateKey(psa_generate_key::Operation {
                key_name: name("new"),
                attributes: new_ecc,
            }),
        ),
        (
            "import-aes",
            NativeOperation::PsaImportKey(psa_import_key::Operation {
                key_name: name("new"),
                attributes: new_aes,
                data: vec![0x2b; 16].into(),
            }),
        ),
        (
            "export-public-ecc",
            NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation {
                key_name: name("ecc-sign"),
            }),
        ),
        (
            "export-public-rsa",
            NativeOperation::PsaExportPublicKey(psa_export_public_key::Operation {
                key_name: name("rsa-crypt"),
            }),
        ),
        (
            "export-aes",
            NativeOperation::PsaExportKey(psa_export_key::Operation {
                key_name: name("aes-ctr"),
            }),
        ),
        (
            "destroy-hmac",
            NativeOperation::PsaDestroyKey(psa_destroy_key::Operation {
                key_name: name("hmac"),
            }),
        ),
        (
            "sign-hash-ecc",
            NativeOperation::PsaSignHash(psa_sign_hash::Operation {
                key_name: name("ecc-sign"),
                alg: ecdsa,
                hash: vec![0x11; 32],
            }),
        ),
        (
            "sign-hash-rsa",
            NativeOperation::PsaSignHash(psa_sign_hash::Operation {
                key_name: name("rsa-sign"),
                alg: pkcs1,
                hash: vec![0x11; 32],
            }),
        ),
        (
            "verify-hash-ecc",
            NativeOperation::PsaVerifyHash(psa_verify_hash::Operation {
                key_name: name("ecc-sign"),
                alg: ecdsa,
                hash: vec![0x11; 32],
                signature: vec![0x22; 64],
            }),
        ),
        (
            "sign-message-ecc",
            NativeOperation::PsaSignMessage(psa_sign_message::Operation {
                key_name: name("ecc-sign"),
                alg: ecdsa,
                message: b"message".to_vec().into(),
            }),
        ),
        (
            "verify-message-rsa",
            NativeOperation::PsaVerifyMessage(psa_verify_message::Operation {
                key_name: name("rsa-sign"),
                alg: pkcs1,
                message: b"message".to_vec().into(),
                signature: vec![0x33; 128],
            }),
        ),
        (
            "asymmetric-encrypt",
            NativeOperation::PsaAsymmetricEncrypt(psa_asymmetric_encrypt::Operation {
                key_name: name("rsa-crypt"),
                alg: oaep,
                plaintext: b"secret".to_vec().into(),
                salt: None,
            }),
        ),
        (
            "asymmetric-decrypt",
            NativeOperation::PsaAsymmetricDecrypt(psa_asymmetric_decrypt::Operation {
                key_name: name("rsa-crypt"),
                alg: oaep,
                ciphertext: vec![0x44; 128],
                salt: Some(b"label".to_vec().into()),
            }),
        ),
        (
            "aead-encrypt",
            NativeOperation::PsaAeadEncrypt(psa_aead_encrypt::Operation {
                key_name: name("aes-gcm"),
                alg: gcm,
                nonce: vec![0x55; 12],
                additional_data: b"header".to_vec(),
                plaintext: b"secret".to_vec().into(),
            }),
        ),
        (
            "aead-decrypt",
            NativeOperation::PsaAeadDecrypt(psa_aead_decrypt::Operation {
                key_name: name("aes-gcm"),
                alg: gcm,
                nonce: vec![0x55; 12],
                additional_data: b"header".to_vec(),
                ciphertext: vec![0x66; 22],
            }),
        ),
        (
            "cipher-encrypt",
            NativeOperation::PsaCipherEncrypt(psa_cipher_encrypt::Operation {
                key_name: name("aes-ctr"),
                alg: Cipher::Ctr,
                plaintext: b"secret".to_vec().into(),
            }),
        ),
        (
            "cipher-decrypt",
            NativeOperation::PsaCipherDecrypt(psa_cipher_decrypt::Operation {
                key_name: name("aes-ctr"),
                alg: Cipher::Ctr,
                ciphertext: vec![0x77; 22],
            }),
        ),
        (
            "mac-compute",
            NativeOperation::PsaMacCompute(psa_mac_compute::Operation {
                key_name: name("hmac"),
                alg: hmac,
                input: b"message".to_vec().into(),
            }),
        ),
        (
            "mac-verify",
            NativeOperation::PsaMacVerify(psa_mac_verify::Operation {
                key_name: name("hmac"),
                alg: hmac,
                input: b"message".to_vec().into(),
                mac: vec![0x88; 32],
            }),
        ),
        (
            "hash-compute",
            NativeOperation::PsaHashCompute(psa_hash_compute::Operation {
                alg: Hash::Sha256,
                input: b"message".to_vec().into(),
            }),
        ),
        (
            "hash-compare",
            NativeOperation::PsaHashCompare(psa_hash_compare::Operation {
                alg: Hash::Sha256,
                input: b"message".to_vec().into(),
                hash: vec![0x99; 32],
            }),
        ),
        (
            "raw-key-agreement",
            NativeOperation::PsaRawKeyAgreement(psa_raw_key_agreement::Operation {
                alg: RawKeyAgreement::Ecdh,
                private_key_name: name("ecdh"),
                peer_key: P256_G.to_vec(),
            }),
        ),
        (
            "generate-random",
            NativeOperation::PsaGenerateRandom(psa_generate_random::Operation { size: 32 }),
        ),
        (
            "can-do-crypto",
            NativeOperation::CanDoCrypto(can_do_crypto::Operation {
                check_type: can_do_crypto::CheckType::Generate,
                attributes: new_ecc,
            }),
        ),
    ];
    for (file, op) in ops {
        let code = u8::try_from(op.opcode().code())?;
        let body = op
            .into_body()
            .map_err(|status| format!("{file}: {status}"))?;
        let mut bytes = vec![code];
        bytes.extend_from_slice(body.bytes());
        write(dir, file, &bytes)?;
    }
    Ok(())
}

fn import_seed(dir: &Path, file: &str, attributes: Attributes, data: &[u8]) -> Result<(), Error> {
    let encoded =
        encode_key_attributes(attributes).map_err(|status| format!("{file}: {status}"))?;
    let mut bytes = u16::try_from(encoded.len())?.to_be_bytes().to_vec();
    bytes.extend_from_slice(&encoded);
    bytes.extend_from_slice(data);
    write(dir, file, &bytes)
}

fn import_seeds(dir: &Path, der: &Path) -> Result<(), Error> {
    let ecdsa = AsymmetricSignature::Ecdsa {
        hash_alg: SignHash::Specific(Hash::Sha256),
    };
    let pkcs1 = AsymmetricSignature::RsaPkcs1v15Sign {
        hash_alg: SignHash::Any,
    };
    let gcm = Aead::AeadWithDefaultLengthTag(AeadWithDefaultLengthTag::Gcm);
    let hmac = Mac::FullLength(FullLengthMac::Hmac {
        hash_alg: Hash::Sha256,
    });
    let crypt = [Usage::Encrypt, Usage::Decrypt];
    let sign = [Usage::SignHash, Usage::VerifyHash];
    import_seed(
        dir,
        "aes-128-gcm",
        attributes(Type::Aes, 128, &crypt, gcm.into()),
        &[0x2b; 16],
    )?;
    import_seed(
        dir,
        "aes-256-ctr",
        attributes(Type::Aes, 0, &crypt, Cipher::Ctr.into()),
        &[0x2b; 32],
    )?;
    import_seed(
        dir,
        "chacha20",
        attributes(Type::Chacha20, 256, &crypt, Cipher::StreamCipher.into()),
        &[0x2b; 32],
    )?;
    import_seed(
        dir,
        "hmac-sha256",
        attributes(
            Type::Hmac,
            0,
            &[Usage::SignHash, Usage::VerifyHash],
            hmac.into(),
        ),
        &[0x3c; 32],
    )?;
    let p256_pair = Type::EccKeyPair {
        curve_family: EccFamily::SecpR1,
    };
    let p256_public = Type::EccPublicKey {
        curve_family: EccFamily::SecpR1,
    };
    let mut scalar = [0u8; 32];
    scalar[31] = 7;
    import_seed(
        dir,
        "p256-pair",
        attributes(p256_pair, 256, &sign, ecdsa.into()),
        &scalar,
    )?;
    import_seed(
        dir,
        "p256-public",
        attributes(p256_public, 256, &[Usage::VerifyHash], ecdsa.into()),
        &P256_G,
    )?;
    import_seed(
        dir,
        "x25519-pair",
        attributes(
            Type::EccKeyPair {
                curve_family: EccFamily::Montgomery,
            },
            255,
            &[Usage::Derive],
            psec_interface::psa_crypto::types::algorithm::KeyAgreement::Raw(RawKeyAgreement::Ecdh)
                .into(),
        ),
        &[0x4d; 32],
    )?;
    for (file, key_type, seed) in [
        ("rsa-1024-pair", Type::RsaKeyPair, "rsa-1024-pair"),
        ("rsa-1024-public", Type::RsaPublicKey, "rsa-1024-public"),
    ] {
        let data = std::fs::read(der.join(seed))?;
        // The pkcs11_der seeds start with the byte that picks the key type.
        let data = data.get(1..).ok_or("an empty pkcs11_der seed")?;
        import_seed(
            dir,
            file,
            attributes(key_type, 1024, &sign, pkcs1.into()),
            data,
        )?;
    }
    Ok(())
}
