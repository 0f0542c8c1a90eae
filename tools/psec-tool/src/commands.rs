//! What each command does.

use crate::cli::{
    AeadMode, Cli, Command, EccUse, Format, HashAlg, ImportUse, Output, RsaScheme, RsaUse,
    provider_name,
};
use crate::csr::{self, San};
use crate::der::{self, ParsedKey, oid};
use crate::describe;
use crate::errors::{CheckFailed, Subject, as_usage, explain, usage};
use crate::io::{self, Input};
use anyhow::{Context as _, Result};
use clap::CommandFactory as _;
use psec_client::psa_crypto::types::algorithm::{
    Aead, AeadWithDefaultLengthTag, Algorithm, AsymmetricEncryption, AsymmetricSignature, Hash,
    KeyAgreement, RawKeyAgreement, SignHash,
};
use psec_client::psa_crypto::types::key::{
    Attributes, EccFamily, Lifetime, Policy, Type, UsageFlags,
};
use psec_client::{BasicClient, Endpoint, Error, KeyInfo, ProviderId, ResponseStatus};
use serde_json::{Value, json};
use std::time::Duration;

/// Runs the command of `cli`.
pub(crate) fn run(cli: &Cli) -> Result<()> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut command = Cli::command();
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut command, "psec", &mut script);
            return io::write_out(&crate::cli::OutFile { file: None }, &script);
        }
        Command::Man { out_dir: Some(dir) } => {
            std::fs::create_dir_all(dir)
                .and_then(|()| clap_mangen::generate_to(Cli::command(), dir))
                .map_err(|e| usage(format!("can not write man pages to {}: {e}", dir.display())))?;
            return Ok(());
        }
        Command::Man { out_dir: None } => {
            let mut page = Vec::new();
            clap_mangen::Man::new(Cli::command()).render(&mut page)?;
            return io::write_out(&crate::cli::OutFile { file: None }, &page);
        }
        _ => {}
    }
    let session = Session::new(cli)?;
    match &cli.command {
        Command::Ping => session.ping(),
        Command::ListProviders => session.list_providers(),
        Command::ListAuthenticators => session.list_authenticators(),
        Command::ListOpcodes => session.list_opcodes(),
        Command::ListKeys => session.list_keys(),
        Command::ListClients => session.list_clients(),
        Command::DeleteClient {
            client,
            client_flag,
        } => {
            let client = client
                .as_ref()
                .or(client_flag.as_ref())
                .ok_or_else(|| usage("name the application to delete"))?;
            session.delete_client(client)
        }
        Command::CreateRsaKey {
            key,
            bits,
            purpose,
            for_signing,
            scheme,
            oaep,
            export,
        } => {
            let scheme = if *oaep {
                Some(RsaScheme::Oaep)
            } else {
                *scheme
            };
            let purpose = match (purpose, for_signing, scheme) {
                (Some(p), _, _) => *p,
                (None, true, _) | (None, false, Some(RsaScheme::Pss)) => RsaUse::Signing,
                (None, false, _) => RsaUse::Encryption,
            };
            let attributes = rsa_attributes(*bits, purpose, scheme, export.exportable)?;
            session.ready()?.generate(&key.name, attributes)
        }
        Command::CreateEccKey {
            key,
            curve,
            purpose,
            export,
        } => {
            let attributes = ecc_attributes(curve.bits(), *purpose, export.exportable, true)?;
            session.ready()?.generate(&key.name, attributes)
        }
        Command::CreateAesKey {
            key,
            bits,
            mode,
            export,
        } => {
            if ![128, 192, 256].contains(bits) {
                return Err(usage(format!(
                    "AES keys have 128, 192 or 256 bits, not {bits}"
                )));
            }
            let alg = Aead::AeadWithDefaultLengthTag(match mode {
                AeadMode::Gcm => AeadWithDefaultLengthTag::Gcm,
                AeadMode::Ccm => AeadWithDefaultLengthTag::Ccm,
            });
            let mut usage_flags = UsageFlags::default();
            let _ = usage_flags.set_encrypt().set_decrypt();
            let attributes =
                attributes(Type::Aes, *bits, usage_flags, alg.into(), export.exportable);
            session.ready()?.generate(&key.name, attributes)
        }
        Command::DeleteKey { key } => {
            let ready = session.ready()?;
            ready
                .client
                .psa_destroy_key(&key.name)
                .map_err(|e| ready.explain(e, Some(&key.name)))?;
            eprintln!("deleted key {}", key.name);
            Ok(())
        }
        Command::KeyInfo { key } => {
            let ready = session.ready()?;
            let info = ready.find_key(&key.name)?;
            ready.print_keys(std::slice::from_ref(&info), true)
        }
        Command::ExportPublicKey {
            key,
            pkcs1,
            der,
            out,
        } => {
            let ready = session.ready()?;
            let (label, bytes) = ready.public_key(&key.name, *pkcs1)?;
            io::write_out(out, &pem_or_der(label, &bytes, *der))
        }
        Command::ExportKey {
            key,
            pkcs1,
            der,
            out,
        } => session.ready()?.export_key(&key.name, *pkcs1, *der, out),
        Command::ImportKey {
            key,
            input,
            purpose,
            scheme,
            export,
        } => {
            let bytes = match input {
                Some(path) => io::read_file(path)?,
                None => io::read_file(std::path::Path::new("-"))?,
            };
            let parsed = der::parse_key(&bytes).map_err(as_usage)?;
            session
                .ready()?
                .import(&key.name, parsed, *purpose, *scheme, export.exportable)
        }
        Command::Sign {
            key,
            data,
            hash,
            raw_ecdsa,
            out,
        } => {
            let input = io::read_data(data)?;
            let ready = session.ready()?;
            let signature = ready.sign(&key.name, input, *hash, *raw_ecdsa)?;
            io::write_out(&out.out, &io::encode(&signature, out.format))
        }
        Command::Verify {
            key,
            data,
            signature,
            signature_file,
            hash,
        } => {
            let signature = match (signature, signature_file) {
                (Some(text), _) => Input::Text(text.clone()),
                (None, Some(path)) => Input::Bytes(io::read_file(path)?),
                (None, None) => {
                    return Err(usage("give the signature with -s or --signature-file"));
                }
            }
            .decode_binary("signature")?;
            let input = io::read_data(data)?;
            session
                .ready()?
                .verify(&key.name, input, *hash, &signature)?;
            eprintln!("the signature verifies");
            Ok(())
        }
        Command::Encrypt {
            key,
            data,
            aad,
            out,
        } => {
            let plaintext = io::read_data(data)?.into_bytes();
            let ready = session.ready()?;
            let ciphertext = ready.encrypt(&key.name, &plaintext, aad.as_deref())?;
            io::write_out(&out.out, &io::encode(&ciphertext, out.format))
        }
        Command::Decrypt {
            key,
            data,
            aad,
            out,
        } => {
            let ciphertext = io::read_data(data)?.decode_binary("ciphertext")?;
            let ready = session.ready()?;
            let plaintext = ready.decrypt(&key.name, &ciphertext, aad.as_deref())?;
            io::write_out(&out.out, &io::encode(&plaintext, out.format))
        }
        Command::Hash { data, alg, out } => {
            let input = io::read_data(data)?.into_bytes();
            let ready = session.ready()?;
            let digest = ready
                .client
                .psa_hash_compute(hash_of(*alg), &input)
                .map_err(|e| ready.explain(e, None))?;
            io::write_out(&out.out, &io::encode(&digest, out.format))
        }
        Command::GenerateRandom { nbytes, out } => {
            let ready = session.ready()?;
            let random = ready
                .client
                .psa_generate_random(*nbytes)
                .map_err(|e| ready.explain(e, None))?;
            io::write_out(&out.out, &io::encode(&random, out.format))
        }
        Command::CreateCsr {
            key,
            cn,
            organization,
            ou,
            locality,
            state,
            country,
            serial_number,
            sans,
            der,
            out,
        } => {
            let subject = csr::Subject {
                country: country.clone(),
                state: state.clone(),
                locality: locality.clone(),
                organization: organization.clone(),
                organizational_unit: ou.clone(),
                common_name: cn.clone(),
                serial_number: serial_number.clone(),
            };
            let sans = sans
                .iter()
                .map(|s| San::parse(s).map_err(usage))
                .collect::<Result<Vec<_>>>()?;
            let request = session.ready()?.create_csr(&key.name, &subject, &sans)?;
            io::write_out(out, &pem_or_der("CERTIFICATE REQUEST", &request, *der))
        }
        Command::Completions { .. } | Command::Man { .. } => Ok(()),
    }
}

/// PEM text or DER bytes.
fn pem_or_der(label: &str, bytes: &[u8], der: bool) -> Vec<u8> {
    if der {
        bytes.to_vec()
    } else {
        der::pem_encode(label, bytes).into_bytes()
    }
}

fn hash_of(alg: HashAlg) -> Hash {
    match alg {
        HashAlg::Sha224 => Hash::Sha224,
        HashAlg::Sha256 => Hash::Sha256,
        HashAlg::Sha384 => Hash::Sha384,
        HashAlg::Sha512 => Hash::Sha512,
    }
}

/// Persistent key attributes.
fn attributes(
    key_type: Type,
    bits: usize,
    mut usage_flags: UsageFlags,
    alg: Algorithm,
    exportable: bool,
) -> Attributes {
    if exportable {
        let _ = usage_flags.set_export();
    }
    Attributes {
        lifetime: Lifetime::Persistent,
        key_type,
        bits,
        policy: Policy {
            usage_flags,
            permitted_algorithms: alg,
        },
    }
}

fn signing_usage() -> UsageFlags {
    let mut usage_flags = UsageFlags::default();
    let _ = usage_flags
        .set_sign_hash()
        .set_verify_hash()
        .set_sign_message()
        .set_verify_message();
    usage_flags
}

fn rsa_algorithm(purpose: RsaUse, scheme: Option<RsaScheme>) -> Result<(UsageFlags, Algorithm)> {
    let sha256 = SignHash::Specific(Hash::Sha256);
    match (purpose, scheme) {
        (RsaUse::Signing, None | Some(RsaScheme::Pkcs1)) => Ok((
            signing_usage(),
            AsymmetricSignature::RsaPkcs1v15Sign { hash_alg: sha256 }.into(),
        )),
        (RsaUse::Signing, Some(RsaScheme::Pss)) => Ok((
            signing_usage(),
            AsymmetricSignature::RsaPss { hash_alg: sha256 }.into(),
        )),
        (RsaUse::Encryption, scheme @ (None | Some(RsaScheme::Oaep | RsaScheme::Pkcs1))) => {
            let mut usage_flags = UsageFlags::default();
            let _ = usage_flags.set_encrypt().set_decrypt();
            let alg = if scheme == Some(RsaScheme::Oaep) {
                AsymmetricEncryption::RsaOaep {
                    hash_alg: Hash::Sha256,
                }
            } else {
                AsymmetricEncryption::RsaPkcs1v15Crypt
            };
            Ok((usage_flags, alg.into()))
        }
        (RsaUse::Signing, Some(RsaScheme::Oaep)) => Err(usage(
            "OAEP is an encryption scheme; use --for encryption, or --scheme pkcs1|pss",
        )),
        (RsaUse::Encryption, Some(RsaScheme::Pss)) => Err(usage(
            "PSS is a signature scheme; use --for signing, or --scheme pkcs1|oaep",
        )),
    }
}

fn rsa_attributes(
    bits: usize,
    purpose: RsaUse,
    scheme: Option<RsaScheme>,
    exportable: bool,
) -> Result<Attributes> {
    if !(1024..=8192).contains(&bits) || bits % 8 != 0 {
        return Err(usage(format!(
            "RSA keys have 1024 to 8192 bits, a multiple of 8 (2048, 3072, 4096), not {bits}"
        )));
    }
    let (usage_flags, alg) = rsa_algorithm(purpose, scheme)?;
    let key_type = Type::RsaKeyPair;
    Ok(attributes(key_type, bits, usage_flags, alg, exportable))
}

/// The ECDSA hash that matches a curve size.
fn curve_hash(bits: usize) -> Hash {
    match bits {
        0..=256 => Hash::Sha256,
        257..=384 => Hash::Sha384,
        _ => Hash::Sha512,
    }
}

fn ecc_attributes(
    bits: usize,
    purpose: EccUse,
    exportable: bool,
    pair: bool,
) -> Result<Attributes> {
    let curve_family = EccFamily::SecpR1;
    let key_type = if pair {
        Type::EccKeyPair { curve_family }
    } else {
        Type::EccPublicKey { curve_family }
    };
    let (usage_flags, alg) = match purpose {
        EccUse::Signing => (
            signing_usage(),
            AsymmetricSignature::Ecdsa {
                hash_alg: SignHash::Specific(curve_hash(bits)),
            }
            .into(),
        ),
        EccUse::KeyAgreement => {
            let mut usage_flags = UsageFlags::default();
            let _ = usage_flags.set_derive();
            (usage_flags, KeyAgreement::Raw(RawKeyAgreement::Ecdh).into())
        }
    };
    Ok(attributes(key_type, bits, usage_flags, alg, exportable))
}

/// A command line session: the client before any provider is chosen.
struct Session<'a> {
    cli: &'a Cli,
    naked: BasicClient,
}

/// A client with its provider and authentication chosen.
struct Ready<'a> {
    cli: &'a Cli,
    client: BasicClient,
    provider: ProviderId,
}

impl<'a> Session<'a> {
    fn new(cli: &'a Cli) -> Result<Self> {
        let endpoint = match &cli.endpoint {
            Some(text) => Endpoint::parse(text),
            None => Endpoint::from_env(),
        }
        .map_err(|e| usage(format!("{e}")))?;
        let timeout = match cli.timeout {
            Some(0) => None,
            Some(seconds) => Some(Duration::from_secs(seconds)),
            None => Some(psec_client::ipc::DEFAULT_TIMEOUT),
        };
        Ok(Session {
            cli,
            naked: BasicClient::new_naked(endpoint).with_timeout(timeout),
        })
    }

    fn subject(&self) -> Subject<'static> {
        Subject {
            key: None,
            provider: self.cli.provider,
        }
    }

    /// Picks the provider (-p, checked against the service's list, or the
    /// first) and the authentication.
    fn ready(&self) -> Result<Ready<'a>> {
        let spiffe = self.cli.spiffe || self.cli.spiffe_endpoint.is_some();
        let client = match &self.cli.jwt_svid_file {
            Some(path) => self.with_jwt_svid(path)?,
            None if spiffe => {
                let auth = psec_client::Authentication::spiffe(self.cli.spiffe_endpoint.as_deref())
                    .map_err(|e| usage(format!("--spiffe: {e}")))?;
                self.with_first_provider(auth)?
            }
            None => self
                .naked
                .clone()
                .select_defaults(Some(self.cli.app_name.clone()))
                .map_err(|e| explain(e, self.subject()))?,
        };
        let client = match self.cli.provider {
            Some(provider) => {
                let providers = client
                    .list_providers()
                    .map_err(|e| explain(e, self.subject()))?;
                if provider == ProviderId::Core || !providers.iter().any(|p| p.id == provider) {
                    let running: Vec<&str> = providers
                        .iter()
                        .filter(|p| p.id != ProviderId::Core)
                        .map(|p| provider_name(p.id))
                        .collect();
                    return Err(anyhow::Error::new(Error::Service(
                        ResponseStatus::ProviderNotRegistered,
                    ))
                    .context(format!(
                        "the service does not run provider {}; it runs {}; see psec list-providers",
                        provider_name(provider),
                        running.join(", ")
                    )));
                }
                client.with_provider(provider)
            }
            None => client,
        };
        let provider = client
            .provider()
            .ok_or_else(|| usage("no provider selected"))?;
        Ok(Ready {
            cli: self.cli,
            client,
            provider,
        })
    }

    /// The client with the JWT-SVID read from `path` and the service's
    /// first provider (a `-p` provider replaces it afterwards).
    fn with_jwt_svid(&self, path: &std::path::Path) -> Result<BasicClient> {
        // Wiped when dropped: the client keeps its own wiped copy.
        let text = zeroize::Zeroizing::new(
            std::fs::read(path)
                .map_err(|e| usage(format!("--jwt-svid-file {}: {e}", path.display())))?,
        );
        let token = text.trim_ascii();
        if token.is_empty() {
            return Err(usage(format!(
                "--jwt-svid-file {}: the file is empty",
                path.display()
            )));
        }
        let auth = psec_client::Authentication::jwt_svid(token.into())
            .map_err(|e| usage(format!("--jwt-svid-file {}: {e}", path.display())))?;
        self.with_first_provider(auth)
    }

    /// The client with `auth` and the service's first provider (a `-p`
    /// provider replaces it afterwards).
    fn with_first_provider(&self, auth: psec_client::Authentication) -> Result<BasicClient> {
        let providers = self
            .naked
            .list_providers()
            .map_err(|e| explain(e, self.subject()))?;
        let client = self.naked.clone().with_auth(auth);
        Ok(match providers.iter().find(|p| p.id != ProviderId::Core) {
            Some(first) => client.with_provider(first.id),
            None => client,
        })
    }

    fn print(&self, value: &Value, table: &str) -> Result<()> {
        let text = match self.cli.output {
            Output::Json => format!("{}\n", serde_json::to_string_pretty(value)?),
            Output::Table => table.to_string(),
        };
        io::write_out(&crate::cli::OutFile { file: None }, text.as_bytes())
    }

    fn ping(&self) -> Result<()> {
        let (major, minor) = self.naked.ping().map_err(|e| explain(e, self.subject()))?;
        let json = json!({ "wire_protocol_version": format!("{major}.{minor}") });
        self.print(
            &json,
            &format!("the service speaks wire protocol {major}.{minor}\n"),
        )
    }

    fn list_providers(&self) -> Result<()> {
        let providers = self
            .naked
            .list_providers()
            .map_err(|e| explain(e, self.subject()))?;
        let mut table = String::new();
        let mut json = Vec::new();
        for p in &providers {
            let version = format!("{}.{}.{}", p.version_maj, p.version_min, p.version_rev);
            table.push_str(&format!(
                "{:<3} {:<16} {:<8} {} ({}) {}\n",
                p.id.id(),
                provider_name(p.id),
                version,
                p.description,
                p.vendor,
                p.uuid
            ));
            json.push(json!({
                "id": p.id.id(),
                "name": provider_name(p.id),
                "description": p.description,
                "vendor": p.vendor,
                "version": version,
                "uuid": p.uuid.to_string(),
            }));
        }
        self.print(&Value::Array(json), &table)
    }

    fn list_authenticators(&self) -> Result<()> {
        let authenticators = self
            .naked
            .list_authenticators()
            .map_err(|e| explain(e, self.subject()))?;
        let mut table = String::new();
        let mut json = Vec::new();
        for a in &authenticators {
            let version = format!("{}.{}.{}", a.version_maj, a.version_min, a.version_rev);
            table.push_str(&format!(
                "{:<3} {:<24} {:<8} {}\n",
                a.id as u8, a.id, version, a.description
            ));
            json.push(json!({
                "id": a.id as u8,
                "name": a.id.to_string(),
                "description": a.description,
                "version": version,
            }));
        }
        self.print(&Value::Array(json), &table)
    }

    fn list_opcodes(&self) -> Result<()> {
        let provider = match self.cli.provider {
            Some(p) => p,
            None => {
                let providers = self
                    .naked
                    .list_providers()
                    .map_err(|e| explain(e, self.subject()))?;
                providers
                    .iter()
                    .map(|p| p.id)
                    .find(|&id| id != ProviderId::Core)
                    .unwrap_or(ProviderId::Core)
            }
        };
        let subject = Subject {
            key: None,
            provider: Some(provider),
        };
        let opcodes = self
            .naked
            .list_opcodes(provider)
            .map_err(|e| explain(e, subject))?;
        let names: Vec<String> = opcodes.iter().map(|o| format!("{o:?}")).collect();
        let table: String = names.iter().map(|n| format!("{n}\n")).collect();
        let json = json!({ "provider": provider_name(provider), "opcodes": names });
        self.print(&json, &table)
    }

    fn list_keys(&self) -> Result<()> {
        let ready = self.ready()?;
        let keys = ready
            .client
            .list_keys()
            .map_err(|e| ready.explain(e, None))?;
        ready.print_keys(&keys, false)
    }

    fn list_clients(&self) -> Result<()> {
        let ready = self.ready()?;
        let clients = ready
            .client
            .list_clients()
            .map_err(|e| ready.explain(e, None))?;
        let table: String = clients.iter().map(|c| format!("{c}\n")).collect();
        self.print(&json!(clients), &table)
    }

    fn delete_client(&self, name: &str) -> Result<()> {
        let ready = self.ready()?;
        ready
            .client
            .delete_client(name)
            .map_err(|e| ready.explain(e, None))?;
        eprintln!("deleted every key of {name}");
        Ok(())
    }
}

impl Ready<'_> {
    fn subject<'k>(&self, key: Option<&'k str>) -> Subject<'k> {
        Subject {
            key,
            provider: Some(self.provider),
        }
    }

    fn explain(&self, error: Error, key: Option<&str>) -> anyhow::Error {
        explain(error, self.subject(key))
    }

    fn print_keys(&self, keys: &[KeyInfo], single: bool) -> Result<()> {
        let mut table = String::new();
        let mut json = Vec::new();
        for k in keys {
            let a = k.attributes;
            let alg = describe::algorithm_text(a.policy.permitted_algorithms);
            let key_type = describe::key_type_text(a.key_type);
            if single {
                table.push_str(&format!(
                    "name:       {}\nprovider:   {}\ntype:       {}\nbits:       {}\nalgorithm:  {}\nusage:      {}\nlifetime:   {}\n",
                    k.name,
                    provider_name(k.provider_id),
                    key_type,
                    a.bits,
                    alg,
                    describe::usage_names(a.policy.usage_flags).join(", "),
                    describe::lifetime_text(a.lifetime)
                ));
            } else {
                table.push_str(&format!(
                    "{:<24} {:<12} {:<26} {:>5}  {}\n",
                    k.name,
                    provider_name(k.provider_id),
                    key_type,
                    a.bits,
                    alg
                ));
            }
            let mut object = serde_json::Map::new();
            let _ = object.insert("name".into(), json!(k.name));
            let _ = object.insert("provider".into(), json!(provider_name(k.provider_id)));
            let _ = object.insert("provider_id".into(), json!(k.provider_id.id()));
            object.extend(describe::attributes(a));
            json.push(Value::Object(object));
        }
        if !single && keys.is_empty() && self.cli.output == Output::Table {
            eprintln!("this application has no keys");
        }
        let value = match (single, json.pop()) {
            (true, Some(one)) => one,
            (_, last) => {
                json.extend(last);
                Value::Array(json)
            }
        };
        let text = match self.cli.output {
            Output::Json => format!("{}\n", serde_json::to_string_pretty(&value)?),
            Output::Table => table,
        };
        io::write_out(&crate::cli::OutFile { file: None }, text.as_bytes())
    }

    fn generate(&self, name: &str, attributes: Attributes) -> Result<()> {
        self.client
            .psa_generate_key(name, attributes)
            .map_err(|e| self.explain(e, Some(name)))?;
        eprintln!(
            "created key {name} ({}, {} bits) in provider {}",
            describe::key_type_text(attributes.key_type),
            attributes.bits,
            provider_name(self.provider)
        );
        Ok(())
    }

    /// The key `name` of this application in the selected provider.
    fn find_key(&self, name: &str) -> Result<KeyInfo> {
        let keys = self
            .client
            .list_keys()
            .map_err(|e| self.explain(e, Some(name)))?;
        if let Some(key) = keys
            .iter()
            .find(|k| k.name == name && k.provider_id == self.provider)
        {
            return Ok(key.clone());
        }
        let missing = anyhow::Error::new(Error::Service(ResponseStatus::PsaErrorDoesNotExist));
        if let Some(other) = keys.iter().find(|k| k.name == name) {
            return Err(missing.context(format!(
                "key {name} is in provider {}, not {}; pass -p {}",
                provider_name(other.provider_id),
                provider_name(self.provider),
                provider_name(other.provider_id)
            )));
        }
        Err(self.explain(
            Error::Service(ResponseStatus::PsaErrorDoesNotExist),
            Some(name),
        ))
    }

    /// The public key in SubjectPublicKeyInfo or PKCS#1, with its PEM label.
    fn public_key(&self, name: &str, pkcs1: bool) -> Result<(&'static str, Vec<u8>)> {
        let info = self.find_key(name)?;
        let psa = self
            .client
            .psa_export_public_key(name)
            .map_err(|e| self.explain(e, Some(name)))?;
        match info.attributes.key_type {
            Type::RsaKeyPair | Type::RsaPublicKey if pkcs1 => Ok(("RSA PUBLIC KEY", psa)),
            Type::RsaKeyPair | Type::RsaPublicKey => Ok(("PUBLIC KEY", der::rsa_spki(&psa)?)),
            Type::EccKeyPair { .. } | Type::EccPublicKey { .. } if pkcs1 => Err(usage(
                "--pkcs1 is for RSA keys; EC keys export as SubjectPublicKeyInfo",
            )),
            Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            }
            | Type::EccPublicKey {
                curve_family: EccFamily::SecpR1,
            } => Ok(("PUBLIC KEY", der::ec_spki(info.attributes.bits, &psa)?)),
            other => Err(usage(format!(
                "psec can not put a {} key in a SubjectPublicKeyInfo",
                describe::key_type_text(other)
            ))),
        }
    }

    fn export_key(
        &self,
        name: &str,
        pkcs1: bool,
        der_out: bool,
        out: &crate::cli::OutFile,
    ) -> Result<()> {
        let info = self.find_key(name)?;
        let material = self.client.psa_export_key(name).map_err(|e| {
            if e.service_status() == Some(ResponseStatus::PsaErrorNotPermitted) {
                anyhow::Error::new(e).context(format!(
                    "key {name} may not be exported: its policy was made without --exportable"
                ))
            } else {
                self.explain(e, Some(name))
            }
        })?;
        let bits = info.attributes.bits;
        let (label, der_bytes) = match info.attributes.key_type {
            Type::RsaKeyPair if pkcs1 => ("RSA PRIVATE KEY", material.to_vec()),
            Type::RsaKeyPair => ("PRIVATE KEY", der::rsa_pkcs8(&material)?),
            Type::EccKeyPair {
                curve_family: EccFamily::SecpR1,
            } => {
                let point = self
                    .client
                    .psa_export_public_key(name)
                    .map_err(|e| self.explain(e, Some(name)))?;
                ("PRIVATE KEY", der::ec_pkcs8(bits, &material, Some(&point))?)
            }
            Type::RsaPublicKey | Type::EccPublicKey { .. } => {
                return Err(usage(format!(
                    "key {name} is a public key; use psec export-public-key -k {name}"
                )));
            }
            _ => {
                return io::write_out(out, &io::encode(&material, Format::Base64));
            }
        };
        io::write_out(out, &pem_or_der(label, &der_bytes, der_out))
    }

    fn import(
        &self,
        name: &str,
        parsed: ParsedKey,
        purpose: ImportUse,
        scheme: Option<RsaScheme>,
        exportable: bool,
    ) -> Result<()> {
        let rsa_use = match purpose {
            ImportUse::Signing => RsaUse::Signing,
            ImportUse::Encryption => RsaUse::Encryption,
            ImportUse::KeyAgreement => RsaUse::Signing,
        };
        let ecc_use = match purpose {
            ImportUse::Encryption => {
                if matches!(
                    parsed,
                    ParsedKey::EcPrivate { .. } | ParsedKey::EcPublic { .. }
                ) {
                    return Err(usage(
                        "EC keys can not encrypt; import it --for signing or --for key-agreement",
                    ));
                }
                EccUse::Signing
            }
            ImportUse::Signing => EccUse::Signing,
            ImportUse::KeyAgreement => EccUse::KeyAgreement,
        };
        let rsa = |key_type: Type, bits: usize| -> Result<Attributes> {
            if purpose == ImportUse::KeyAgreement {
                return Err(usage("RSA keys can not do key agreement"));
            }
            let (usage_flags, alg) = rsa_algorithm(rsa_use, scheme)?;
            Ok(attributes(key_type, bits, usage_flags, alg, exportable))
        };
        let (attributes, material) = match &parsed {
            ParsedKey::RsaPrivate { der, bits } => (rsa(Type::RsaKeyPair, *bits)?, der),
            ParsedKey::RsaPublic { der, bits } => (rsa(Type::RsaPublicKey, *bits)?, der),
            ParsedKey::EcPrivate { scalar, bits } => {
                (ecc_attributes(*bits, ecc_use, exportable, true)?, scalar)
            }
            ParsedKey::EcPublic { point, bits } => {
                (ecc_attributes(*bits, ecc_use, exportable, false)?, point)
            }
        };
        self.client
            .psa_import_key(name, material, attributes)
            .map_err(|e| self.explain(e, Some(name)))?;
        eprintln!(
            "imported key {name} ({}, {} bits) into provider {}",
            describe::key_type_text(attributes.key_type),
            attributes.bits,
            provider_name(self.provider)
        );
        Ok(())
    }

    /// The signature algorithm of a key, with a specific hash.
    fn signing_algorithm(&self, info: &KeyInfo) -> Result<(AsymmetricSignature, Hash)> {
        let Algorithm::AsymmetricSignature(alg) = info.attributes.policy.permitted_algorithms
        else {
            return Err(usage(format!(
                "key {} is not a signing key (its algorithm is {}); see psec key-info -k {}",
                info.name,
                describe::algorithm_text(info.attributes.policy.permitted_algorithms),
                info.name
            )));
        };
        let pick = |h: SignHash| match h {
            SignHash::Specific(hash) => hash,
            SignHash::Any => Hash::Sha256,
        };
        let specific = |h| SignHash::Specific(h);
        Ok(match alg {
            AsymmetricSignature::RsaPkcs1v15Sign { hash_alg } => {
                let h = pick(hash_alg);
                (
                    AsymmetricSignature::RsaPkcs1v15Sign {
                        hash_alg: specific(h),
                    },
                    h,
                )
            }
            AsymmetricSignature::RsaPss { hash_alg } => {
                let h = pick(hash_alg);
                (
                    AsymmetricSignature::RsaPss {
                        hash_alg: specific(h),
                    },
                    h,
                )
            }
            AsymmetricSignature::Ecdsa { hash_alg } => {
                let h = pick(hash_alg);
                (
                    AsymmetricSignature::Ecdsa {
                        hash_alg: specific(h),
                    },
                    h,
                )
            }
            AsymmetricSignature::DeterministicEcdsa { hash_alg } => {
                let h = pick(hash_alg);
                (
                    AsymmetricSignature::DeterministicEcdsa {
                        hash_alg: specific(h),
                    },
                    h,
                )
            }
            other => (other, curve_hash(info.attributes.bits)),
        })
    }

    /// The digest to sign: the input as a digest (--hash), or its hash.
    fn digest(&self, input: Input, precomputed: bool, hash: Hash) -> Result<Vec<u8>> {
        if precomputed {
            let digest = input.decode_binary("digest")?;
            if let Some(expected) = hash_len(hash).filter(|&n| n != digest.len()) {
                return Err(usage(format!(
                    "the digest has {} bytes; the key's hash {} gives {expected}",
                    digest.len(),
                    describe::hash_name(hash)
                )));
            }
            return Ok(digest);
        }
        self.client
            .psa_hash_compute(hash, &input.into_bytes())
            .map_err(|e| self.explain(e, None))
    }

    fn is_ecdsa(alg: AsymmetricSignature) -> bool {
        matches!(
            alg,
            AsymmetricSignature::Ecdsa { .. }
                | AsymmetricSignature::EcdsaAny
                | AsymmetricSignature::DeterministicEcdsa { .. }
        )
    }

    fn sign(
        &self,
        name: &str,
        input: Input,
        precomputed: bool,
        raw_ecdsa: bool,
    ) -> Result<Vec<u8>> {
        let info = self.find_key(name)?;
        let (alg, hash) = self.signing_algorithm(&info)?;
        let digest = self.digest(input, precomputed, hash)?;
        let signature = self
            .client
            .psa_sign_hash(name, &digest, alg)
            .map_err(|e| self.explain(e, Some(name)))?;
        if Self::is_ecdsa(alg) && !raw_ecdsa {
            return der::ecdsa_raw_to_der(&signature);
        }
        Ok(signature)
    }

    fn verify(&self, name: &str, input: Input, precomputed: bool, signature: &[u8]) -> Result<()> {
        let info = self.find_key(name)?;
        let (alg, hash) = self.signing_algorithm(&info)?;
        let digest = self.digest(input, precomputed, hash)?;
        let half = info.attributes.bits.div_ceil(8);
        let signature = if Self::is_ecdsa(alg) && signature.len() != 2 * half {
            der::ecdsa_der_to_raw(signature, half)
                .context("the signature is neither DER nor raw r||s ECDSA")
                .map_err(as_usage)?
        } else {
            signature.to_vec()
        };
        self.client
            .psa_verify_hash(name, &digest, alg, &signature)
            .map_err(|e| self.explain(e, Some(name)))
    }

    fn encrypt(&self, name: &str, plaintext: &[u8], aad: Option<&str>) -> Result<Vec<u8>> {
        let info = self.find_key(name)?;
        match info.attributes.policy.permitted_algorithms {
            Algorithm::AsymmetricEncryption(alg) => self
                .client
                .psa_asymmetric_encrypt(name, alg, plaintext, None)
                .map_err(|e| self.explain(e, Some(name))),
            Algorithm::Aead(alg) => {
                let nonce = self
                    .client
                    .psa_generate_random(nonce_len(alg))
                    .map_err(|e| self.explain(e, None))?;
                let aad = aad.unwrap_or_default().as_bytes();
                let ciphertext = self
                    .client
                    .psa_aead_encrypt(name, alg, &nonce, aad, plaintext)
                    .map_err(|e| self.explain(e, Some(name)))?;
                Ok([nonce.to_vec(), ciphertext].concat())
            }
            other => Err(usage(format!(
                "key {name} is not an encryption key (its algorithm is {}); see psec key-info -k {name}",
                describe::algorithm_text(other)
            ))),
        }
    }

    fn decrypt(&self, name: &str, ciphertext: &[u8], aad: Option<&str>) -> Result<Vec<u8>> {
        let info = self.find_key(name)?;
        match info.attributes.policy.permitted_algorithms {
            Algorithm::AsymmetricEncryption(alg) => self
                .client
                .psa_asymmetric_decrypt(name, alg, ciphertext, None)
                .map(|p| p.to_vec())
                .map_err(|e| self.explain(e, Some(name))),
            Algorithm::Aead(alg) => {
                let (nonce, rest) = ciphertext
                    .split_at_checked(nonce_len(alg))
                    .ok_or_else(|| usage("the ciphertext is shorter than its nonce"))?;
                let aad = aad.unwrap_or_default().as_bytes();
                self.client
                    .psa_aead_decrypt(name, alg, nonce, aad, rest)
                    .map(|p| p.to_vec())
                    .map_err(|e| match e.service_status() {
                        Some(
                            ResponseStatus::PsaErrorInvalidSignature
                            | ResponseStatus::PsaErrorCorruptionDetected,
                        ) => CheckFailed(
                            "the ciphertext does not authenticate: wrong key or --aad, or altered"
                                .to_string(),
                        )
                        .into(),
                        _ => self.explain(e, Some(name)),
                    })
            }
            other => Err(usage(format!(
                "key {name} is not an encryption key (its algorithm is {}); see psec key-info -k {name}",
                describe::algorithm_text(other)
            ))),
        }
    }

    fn create_csr(&self, name: &str, subject: &csr::Subject, sans: &[San]) -> Result<Vec<u8>> {
        let info = self.find_key(name)?;
        let (alg, hash) = self.signing_algorithm(&info)?;
        let (_, spki) = self.public_key(name, false)?;
        let signature_algorithm = match (alg, hash) {
            (
                AsymmetricSignature::Ecdsa { .. } | AsymmetricSignature::DeterministicEcdsa { .. },
                h,
            ) => {
                let oid = match h {
                    Hash::Sha256 => oid::ECDSA_WITH_SHA256,
                    Hash::Sha384 => oid::ECDSA_WITH_SHA384,
                    Hash::Sha512 => oid::ECDSA_WITH_SHA512,
                    other => {
                        return Err(usage(format!(
                            "no CSR signature algorithm for ECDSA with {}",
                            describe::hash_name(other)
                        )));
                    }
                };
                csr::signature_algorithm(oid, false)
            }
            (AsymmetricSignature::RsaPkcs1v15Sign { .. }, h) => {
                let oid = match h {
                    Hash::Sha256 => oid::SHA256_WITH_RSA,
                    Hash::Sha384 => oid::SHA384_WITH_RSA,
                    Hash::Sha512 => oid::SHA512_WITH_RSA,
                    other => {
                        return Err(usage(format!(
                            "no CSR signature algorithm for RSA with {}",
                            describe::hash_name(other)
                        )));
                    }
                };
                csr::signature_algorithm(oid, true)
            }
            (other, _) => {
                return Err(usage(format!(
                    "key {name} signs with {}; CSRs need an ECDSA or RSA PKCS#1 v1.5 key",
                    describe::algorithm_text(other.into())
                )));
            }
        };
        let info = csr::request_info(subject, sans, &spki).map_err(as_usage)?;
        let service =
            |message: &[u8]| self.sign(name, Input::Bytes(message.to_vec()), false, false);
        csr::sign(
            info,
            &csr::ServiceSigner::new(signature_algorithm, &service),
        )
    }
}

/// The digest size of a hash, for the SHA-2 family.
fn hash_len(hash: Hash) -> Option<usize> {
    match hash {
        Hash::Sha224 => Some(28),
        Hash::Sha256 => Some(32),
        Hash::Sha384 => Some(48),
        Hash::Sha512 => Some(64),
        _ => None,
    }
}

/// The nonce size used with an AEAD algorithm.
fn nonce_len(alg: Aead) -> usize {
    let base = match alg {
        Aead::AeadWithDefaultLengthTag(a) | Aead::AeadWithShortenedTag { aead_alg: a, .. } => a,
    };
    match base {
        AeadWithDefaultLengthTag::Ccm => 13,
        _ => 12,
    }
}
