//! What the PKCS#11 provider does with the key data of a PsaImportKey: the
//! RSA key pair (PKCS#1 `RSAPrivateKey`) or public key (PKCS#1
//! `RSAPublicKey`) DER is read by hand (providers/pkcs11/src/der.rs), then
//! the key is made on a SoftHSM2 token. Any bytes must give a key or an
//! error, never a panic. The first byte picks the key type, the rest is
//! the key data.
//!
//! Needs SoftHSM2 (`softhsm2-util` and /usr/lib/softhsm/libsofthsm2.so):
//! the target makes a token in a temporary directory when it starts.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psec_interface::AuthType;
use psec_interface::operations::{psa_destroy_key, psa_import_key};
use psec_interface::psa_crypto::types::algorithm::{AsymmetricSignature, SignHash};
use psec_interface::psa_crypto::types::key::{Attributes, Lifetime, Policy, Type, UsageFlags};
use psec_provider::testing::InMemoryKeyStoreForTests;
use psec_provider::{Application, KeyManagement};
use psec_provider_pkcs11::{Pkcs11Provider, Pkcs11Settings};
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, OnceLock};

const LIBRARY: &str = "/usr/lib/softhsm/libsofthsm2.so";
const USER_PIN: &str = "123456";

/// A provider over a fresh SoftHSM2 token, made once per fuzzing process.
fn provider() -> &'static Pkcs11Provider {
    static PROVIDER: OnceLock<Pkcs11Provider> = OnceLock::new();
    PROVIDER.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("psec-fuzz-pkcs11-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let tokens = dir.join("tokens");
        std::fs::create_dir_all(&tokens).expect("a token directory");
        let conf = dir.join("softhsm2.conf");
        std::fs::write(
            &conf,
            format!(
                "directories.tokendir = {}\nobjectstore.backend = file\nlog.level = ERROR\n",
                tokens.display()
            ),
        )
        .expect("writing softhsm2.conf");
        init_token(&conf);
        // SAFETY: set once, before the PKCS#11 library is loaded, while
        // libFuzzer runs inputs on this one thread and no other thread of
        // the process reads the environment.
        unsafe { std::env::set_var("SOFTHSM2_CONF", &conf) };
        let settings = Pkcs11Settings::new(LIBRARY)
            .with_user_pin(zeroize::Zeroizing::new(USER_PIN.as_bytes().to_vec()));
        Pkcs11Provider::new(
            "pkcs11-fuzz".to_owned(),
            Arc::new(InMemoryKeyStoreForTests::default()),
            settings,
        )
        .expect("a PKCS#11 provider over SoftHSM2")
    })
}

fn init_token(conf: &Path) {
    let output = Command::new("softhsm2-util")
        .args(["--init-token", "--free", "--label", "fuzz"])
        .args(["--so-pin", "12345678", "--pin", USER_PIN])
        .env("SOFTHSM2_CONF", conf)
        .output()
        .expect("running softhsm2-util (install softhsm2)");
    assert!(output.status.success(), "{output:?}");
}

fuzz_target!(|data: &[u8]| {
    let Some((&selector, key_data)) = data.split_first() else {
        return;
    };
    let key_type = if selector & 1 == 0 {
        Type::RsaKeyPair
    } else {
        Type::RsaPublicKey
    };
    let mut usage_flags = UsageFlags::default();
    let _ = usage_flags.set_verify_hash();
    let attributes = Attributes {
        lifetime: Lifetime::Persistent,
        key_type,
        bits: 0,
        policy: Policy {
            usage_flags,
            permitted_algorithms: AsymmetricSignature::RsaPkcs1v15Sign {
                hash_alg: SignHash::Any,
            }
            .into(),
        },
    };
    let app = Application::new(AuthType::Direct, "fuzz");
    let import = psa_import_key::Operation {
        key_name: "key".to_owned(),
        attributes,
        data: key_data.to_vec().into(),
    };
    if provider().import_key(&app, import).is_ok() {
        let destroy = psa_destroy_key::Operation {
            key_name: "key".to_owned(),
        };
        provider()
            .destroy_key(&app, destroy)
            .expect("an imported key is destroyed");
    }
});
