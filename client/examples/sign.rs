//! A whole client session: find the service, make a key, sign, verify,
//! list, clean up.
//!
//! Run psecd, then, with `PARSEC_SERVICE_ENDPOINT` pointing at its socket:
//! `cargo run -p psec-client --example sign`

use psec_client::BasicClient;
use psec_client::psa_crypto::types::algorithm::{AsymmetricSignature, Hash};
use psec_client::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let client = BasicClient::new(Some("psec-example".into()))?;
    println!(
        "connected to {} (provider {:?}, authenticator {:?})",
        client.endpoint(),
        client.provider(),
        client.auth().auth_type()
    );
    let alg = AsymmetricSignature::Ecdsa {
        hash_alg: Hash::Sha256.into(),
    };
    let mut usage = UsageFlags::default();
    let _ = usage.set_sign_hash().set_verify_hash();
    let attributes = Attributes {
        lifetime: Lifetime::Persistent,
        key_type: Type::EccKeyPair {
            curve_family: EccFamily::SecpR1,
        },
        bits: 256,
        policy: Policy {
            usage_flags: usage,
            permitted_algorithms: alg.into(),
        },
    };
    client.psa_generate_key("example-key", attributes)?;
    let hash = client.psa_hash_compute(Hash::Sha256, b"hello, psec")?;
    let signature = client.psa_sign_hash("example-key", &hash, alg)?;
    client.psa_verify_hash("example-key", &hash, alg, &signature)?;
    println!("signed and verified: {} signature bytes", signature.len());
    for key in client.list_keys()? {
        println!(
            "key {} in {:?}: {:?}, {} bits",
            key.name, key.provider_id, key.attributes.key_type, key.attributes.bits
        );
    }
    client.psa_destroy_key("example-key")?;
    println!("key destroyed");
    Ok(())
}
