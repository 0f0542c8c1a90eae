//! Keys: creating and destroying them on the token in the steps the key
//! store asks for, finding an application's key, key management and
//! export.
//!
//! Every key is a pair of token objects (or one, for a lone public key)
//! sharing a random 16-byte `CKA_ID`; the key store keeps that id as the
//! key's backend id, with the attributes the key was created with.

use crate::Pkcs11Provider;
use crate::der::{self, RsaPrivateKey};
use crate::support::curve_params;
use crate::token::{PooledSession, ck_error};
use cryptoki::error::{Error as CkError, RvError};
use cryptoki::mechanism::Mechanism;
use cryptoki::object::{Attribute, AttributeType, KeyType, ObjectClass, ObjectHandle};
use cryptoki::session::Session;
use psec_interface::ResponseStatus;
use psec_interface::operations::can_do_crypto::CheckType;
use psec_interface::operations::{
    psa_destroy_key, psa_export_key, psa_export_public_key, psa_generate_key, psa_import_key,
};
use psec_interface::psa_crypto::types::algorithm::Algorithm;
use psec_interface::psa_crypto::types::key::{Attributes, EccFamily, Lifetime, Type};
use psec_provider::policy::{Usage, require};
use psec_provider::{
    Application, KeyExport, KeyInfo, KeyManagement, ProviderError, Result, check_generatable,
    check_policy_fits,
};
use zeroize::Zeroizing;

/// Length of the random `CKA_ID` of a new key.
const ID_LEN: usize = 16;
/// The same, as cryptoki's random generator takes it.
const ID_LEN_U32: u32 = 16;

/// An application's key, found in the store, with a session to use it.
pub(crate) struct OpenKey<'a> {
    /// The key's name, for messages.
    pub(crate) name: &'a str,
    /// Its attributes, as created.
    pub(crate) attributes: Attributes,
    /// Its `CKA_ID`.
    id: Vec<u8>,
    /// A session of the pool.
    pub(crate) session: PooledSession<'a>,
}

/// What an operation on a token object gave.
pub(crate) type CkResult<T> = cryptoki::error::Result<T>;

impl OpenKey<'_> {
    /// Runs `op` on this key's object of `class`, through the handle known
    /// from an earlier use if it still names that object (see
    /// `Token::known_handle`), else one searched for. Should the token
    /// call a known handle invalid (its object destroyed by another
    /// process, say), the key's handles are forgotten (and their session
    /// copies destroyed) once no operation uses a handle
    /// (`Token::changing_objects`), and `op` runs once more on the object
    /// searched for afresh. Each use runs under `Token::using_handles`, so
    /// this provider destroys no object while its handle is in use here.
    fn with_object<T>(
        &self,
        class: ObjectClass,
        op: impl Fn(ObjectHandle) -> CkResult<T>,
    ) -> Result<CkResult<T>> {
        let token = self.session.token;
        {
            let _using = token.using_handles();
            match token.known_handle(&self.session, &self.id, class) {
                None => return Ok(op(self.find_object(class)?)),
                Some(handle) => match op(handle) {
                    Err(CkError::Pkcs11(
                        RvError::ObjectHandleInvalid | RvError::KeyHandleInvalid,
                        _,
                    )) => {}
                    done => return Ok(done),
                },
            }
        }
        {
            let _changing = token.changing_objects();
            token.forget_handles(&self.id);
        }
        let _using = token.using_handles();
        Ok(op(self.find_object(class)?))
    }

    /// Searches the token for this key's object of `class`, and remembers
    /// its handle.
    fn find_object(&self, class: ObjectClass) -> Result<ObjectHandle> {
        let token = self.session.token;
        let found = find(&self.session, &self.id, Some(class)).map_err(ck_error(format!(
            "finding key `{}` on the token",
            self.name
        )))?;
        let handle = found.into_iter().next().ok_or_else(|| {
            ProviderError::backend(
                ResponseStatus::PsaErrorDoesNotExist,
                format!("the token no longer has the objects of key `{}`", self.name),
            )
        })?;
        token.remember_handle(&self.id, class, handle);
        Ok(handle)
    }

    /// Runs `op` on the private key object; a lone public key has none.
    pub(crate) fn private<T>(
        &self,
        op: impl Fn(ObjectHandle) -> CkResult<T>,
    ) -> Result<CkResult<T>> {
        if self.attributes.key_type.is_public_key() {
            return Err(ProviderError::InvalidArgument(format!(
                "key `{}` is a public key",
                self.name
            )));
        }
        self.with_object(ObjectClass::PRIVATE_KEY, op)
    }

    /// Runs `op` on the secret key object of an AES or HMAC key.
    pub(crate) fn secret<T>(
        &self,
        op: impl Fn(ObjectHandle) -> CkResult<T>,
    ) -> Result<CkResult<T>> {
        if !is_symmetric(self.attributes.key_type) {
            return Err(ProviderError::InvalidArgument(format!(
                "key `{}` is not a symmetric key",
                self.name
            )));
        }
        self.with_object(ObjectClass::SECRET_KEY, op)
    }

    /// Runs `op` on the public key object.
    pub(crate) fn public<T>(
        &self,
        op: impl Fn(ObjectHandle) -> CkResult<T>,
    ) -> Result<CkResult<T>> {
        self.with_object(ObjectClass::PUBLIC_KEY, op)
    }

    /// Reads attributes of the object of `class`, in the order asked; a
    /// missing one (sensitive, or absent) is NotPermitted.
    fn values(&self, class: ObjectClass, types: &[AttributeType]) -> Result<Vec<Vec<u8>>> {
        let found = self
            .with_object(class, |object| self.session.get_attributes(object, types))?
            .map_err(ck_error(format!("reading key `{}`", self.name)))?;
        types
            .iter()
            .map(|wanted| {
                found
                    .iter()
                    .find(|attribute| attribute.attribute_type() == *wanted)
                    .and_then(bytes_of)
                    .ok_or_else(|| {
                        ProviderError::NotPermitted(format!(
                            "the token does not reveal {wanted:?} of key `{}`",
                            self.name
                        ))
                    })
            })
            .collect()
    }
}

fn bytes_of(attribute: &Attribute) -> Option<Vec<u8>> {
    match attribute {
        Attribute::Modulus(v)
        | Attribute::PublicExponent(v)
        | Attribute::PrivateExponent(v)
        | Attribute::Prime1(v)
        | Attribute::Prime2(v)
        | Attribute::Exponent1(v)
        | Attribute::Exponent2(v)
        | Attribute::Coefficient(v)
        | Attribute::EcPoint(v)
        | Attribute::Value(v) => Some(v.clone()),
        _ => None,
    }
}

/// The token objects with `CKA_ID` `id` (of `class`, if given).
fn find(
    session: &Session,
    id: &[u8],
    class: Option<ObjectClass>,
) -> cryptoki::error::Result<Vec<ObjectHandle>> {
    let mut template = vec![Attribute::Token(true), Attribute::Id(id.to_vec())];
    if let Some(class) = class {
        template.push(Attribute::Class(class));
    }
    session.find_objects(&template)
}

/// `ID_LEN` bytes from the system's random generator.
fn system_random_id() -> Result<Vec<u8>> {
    use std::io::Read;
    let mut id = vec![0; ID_LEN];
    std::fs::File::open("/dev/urandom")
        .and_then(|mut random| random.read_exact(&mut id))
        .map_err(|error| {
            ProviderError::backend(
                ResponseStatus::PsaErrorInsufficientEntropy,
                format!("drawing a key id from /dev/urandom: {error}"),
            )
        })?;
    Ok(id)
}

/// Destroys every token object with `CKA_ID` `id`; returns how many.
/// Waits until no operation uses a handle (`Token::changing_objects`), so
/// that none can use one of these while, or after, they are destroyed.
pub(crate) fn destroy_objects(session: &PooledSession<'_>, id: &[u8]) -> Result<usize> {
    let _changing = session.token.changing_objects();
    let objects = find(session, id, None).map_err(ck_error("finding the objects of a key"));
    let destroyed = objects.and_then(|objects| {
        for object in &objects {
            session
                .destroy_object(*object)
                .map_err(ck_error("destroying a key object"))?;
        }
        Ok(objects.len())
    });
    // Before the guard is let go: no use of the key can start in between
    // and find a handle of a destroyed object.
    session.token.forget_handles(id);
    destroyed
}

/// Where a new key comes from, parsed before any step is taken.
enum Material {
    Generate,
    RsaPair(RsaPrivateKey),
    RsaPublic {
        modulus: Vec<u8>,
        exponent: Vec<u8>,
    },
    EcPublic(Vec<u8>),
    EcPair {
        scalar: Zeroizing<Vec<u8>>,
        point: Vec<u8>,
    },
    Secret(Zeroizing<Vec<u8>>),
}

/// Parses key data in PSA's formats and finds the key's size in bits.
fn parse(key_type: Type, data: &[u8]) -> Result<(Material, usize)> {
    match key_type {
        Type::RsaKeyPair => {
            let key = der::parse_rsa_private_key(data)?;
            let bits = der::bit_length(&key.modulus);
            Ok((Material::RsaPair(key), bits))
        }
        Type::RsaPublicKey => {
            let (modulus, exponent) = der::parse_rsa_public_key(data)?;
            let bits = der::bit_length(&modulus);
            Ok((Material::RsaPublic { modulus, exponent }, bits))
        }
        Type::EccPublicKey { .. } => {
            let bits = match data {
                [0x04, rest @ ..] => match rest.len() {
                    64 => 256,
                    96 => 384,
                    132 => 521,
                    _ => 0,
                },
                _ => 0,
            };
            if bits == 0 {
                return Err(ProviderError::InvalidArgument(
                    "an EC public key is an uncompressed point (0x04, x, y)".to_owned(),
                ));
            }
            Ok((Material::EcPublic(data.to_vec()), bits))
        }
        Type::EccKeyPair { curve_family } => {
            if curve_family != EccFamily::SecpR1 {
                return Err(ProviderError::NotSupported(format!(
                    "this PKCS#11 provider does not import EC key pairs on {curve_family:?} curves"
                )));
            }
            let (bits, point) = ec_public_point(data)?;
            let scalar = Zeroizing::new(data.to_vec());
            Ok((Material::EcPair { scalar, point }, bits))
        }
        Type::Aes | Type::Hmac => Ok((
            Material::Secret(Zeroizing::new(data.to_vec())),
            data.len() * 8,
        )),
        other => Err(ProviderError::NotSupported(format!(
            "this PKCS#11 provider does not import keys of type {other:?}"
        ))),
    }
}

/// The size in bits and the uncompressed public point (0x04, x, y) of a
/// private scalar on NIST P-256, P-384 or P-521, computed in software. The
/// curve is told by the scalar's length (32, 48 or 66 bytes, big-endian);
/// a scalar of another length, zero or not below the curve's order is
/// refused.
fn ec_public_point(scalar: &[u8]) -> Result<(usize, Vec<u8>)> {
    use p256::elliptic_curve::sec1::ToEncodedPoint;
    let invalid = || {
        ProviderError::InvalidArgument(
            "the private scalar is zero or not below the order of the curve".to_owned(),
        )
    };
    // `from_slice` would also take a shorter scalar, padded: only the exact
    // lengths are asked for, so that the size is not guessed.
    match scalar.len() {
        32 => {
            let key = p256::SecretKey::from_slice(scalar).map_err(|_| invalid())?;
            let point = key.public_key().to_encoded_point(false);
            Ok((256, point.as_bytes().to_vec()))
        }
        48 => {
            let key = p384::SecretKey::from_slice(scalar).map_err(|_| invalid())?;
            let point = key.public_key().to_encoded_point(false);
            Ok((384, point.as_bytes().to_vec()))
        }
        66 => {
            let key = p521::SecretKey::from_slice(scalar).map_err(|_| invalid())?;
            let point = key.public_key().to_encoded_point(false);
            Ok((521, point.as_bytes().to_vec()))
        }
        other => Err(ProviderError::InvalidArgument(format!(
            "an EC private key is a 32, 48 or 66-byte scalar (P-256, P-384, P-521), not \
             {other} bytes"
        ))),
    }
}

/// Whether keys of `key_type` are one secret key object.
pub(crate) fn is_symmetric(key_type: Type) -> bool {
    matches!(key_type, Type::Aes | Type::Hmac)
}

/// The token's key type for a PSA key type.
fn ck_key_type(key_type: Type) -> KeyType {
    match key_type {
        Type::Aes => KeyType::AES,
        Type::Hmac => KeyType::GENERIC_SECRET,
        key_type if key_type.is_ecc_key_pair() || key_type.is_ecc_public_key() => KeyType::EC,
        _ => KeyType::RSA,
    }
}

impl Pkcs11Provider {
    /// `app`'s key `name`, once its policy allows `usage` (with `alg`, if
    /// given). A key of another application, or none, does not exist.
    pub(crate) fn use_key<'a>(
        &'a self,
        app: &Application,
        name: &'a str,
        usage: Option<Usage>,
        alg: Option<Algorithm>,
    ) -> Result<OpenKey<'a>> {
        let info = match usage {
            Some(usage) => self.keys().usable(app, name, usage, alg)?,
            None => self.keys().ready(app, name)?,
        };
        Ok(OpenKey {
            name,
            attributes: info.attributes,
            id: info.backend_id,
            session: self.token().session()?,
        })
    }

    /// A new random `CKA_ID`: from the token's generator, or from the
    /// system's (`/dev/urandom`) on a token without one. Ids must never
    /// repeat, across restarts too: two keys sharing one would share
    /// token objects.
    fn new_id(&self, session: &Session) -> Result<Vec<u8>> {
        if self.token().has_rng {
            return session
                .generate_random_vec(ID_LEN_U32)
                .map_err(ck_error("drawing a key id"));
        }
        system_random_id()
    }

    /// Creates `app`'s key `name` as objects on the token, through the
    /// key lifecycle: if the token fails, or the store after it, the
    /// objects made are destroyed and the row dropped.
    fn create(
        &self,
        app: &Application,
        name: &str,
        attributes: Attributes,
        data: Option<&[u8]>,
    ) -> Result<()> {
        let (material, attributes) = match data {
            None => {
                check_generatable(&attributes)?;
                check_policy_fits(&attributes)?;
                self.support().check(CheckType::Generate, &attributes)?;
                (Material::Generate, attributes)
            }
            Some(data) => {
                let (material, bits) = parse(attributes.key_type, data)?;
                if attributes.bits != 0 && attributes.bits != bits {
                    return Err(ProviderError::InvalidArgument(format!(
                        "the key data is a {bits}-bit key, not {} bits",
                        attributes.bits
                    )));
                }
                let attributes = Attributes { bits, ..attributes };
                check_policy_fits(&attributes)?;
                self.support().check(CheckType::Import, &attributes)?;
                (material, attributes)
            }
        };
        let attributes = Attributes {
            lifetime: Lifetime::Persistent,
            ..attributes
        };
        let session = self.token().session()?;
        let id = self.new_id(&session)?;
        let info = KeyInfo {
            backend_id: id.clone(),
            attributes,
        };
        self.keys().create(
            app,
            name,
            &info,
            || self.make_objects(&session, &id, &attributes, material),
            |()| destroy_objects(&session, &id).map(drop),
        )
    }

    fn make_objects(
        &self,
        session: &Session,
        id: &[u8],
        attributes: &Attributes,
        material: Material,
    ) -> Result<()> {
        let key_type = attributes.key_type;
        let is_rsa = matches!(key_type, Type::RsaKeyPair | Type::RsaPublicKey);
        let exportable = self.allow_export() && attributes.policy.usage_flags.export();
        if is_symmetric(key_type) {
            return make_secret(session, id, attributes, exportable, material);
        }
        let common = |class| {
            vec![
                Attribute::Class(class),
                Attribute::KeyType(ck_key_type(key_type)),
                Attribute::Token(true),
                Attribute::Id(id.to_vec()),
                Attribute::Label(b"psec".to_vec()),
            ]
        };
        let mut public = common(ObjectClass::PUBLIC_KEY);
        public.extend([Attribute::Private(false), Attribute::Verify(true)]);
        let mut private = common(ObjectClass::PRIVATE_KEY);
        private.extend([
            Attribute::Private(true),
            Attribute::Sensitive(!exportable),
            Attribute::Extractable(exportable),
            Attribute::Sign(true),
        ]);
        if is_rsa {
            public.push(Attribute::Encrypt(true));
            private.push(Attribute::Decrypt(true));
        } else {
            private.push(Attribute::Derive(true));
            let params = curve_params(key_type, attributes.bits).ok_or_else(|| {
                ProviderError::NotSupported(format!("{}-bit curves", attributes.bits))
            })?;
            let params = der::ec_params(&params)?;
            public.push(Attribute::EcParams(params.clone()));
            private.push(Attribute::EcParams(params));
        }
        let failed = ck_error("creating the key on the token");
        match material {
            Material::Generate => {
                let mechanism = if is_rsa {
                    let bits = u64::try_from(attributes.bits)
                        .map_err(|_| ProviderError::InvalidArgument("key size".to_owned()))?;
                    public.push(Attribute::ModulusBits(bits.into()));
                    public.push(Attribute::PublicExponent(vec![1, 0, 1]));
                    Mechanism::RsaPkcsKeyPairGen
                } else {
                    private.retain(|a| a.attribute_type() != AttributeType::EcParams);
                    Mechanism::EccKeyPairGen
                };
                session
                    .generate_key_pair(&mechanism, &public, &private)
                    .map_err(failed)?;
            }
            Material::RsaPair(key) => {
                public.push(Attribute::Modulus(key.modulus.clone()));
                public.push(Attribute::PublicExponent(key.public_exponent.clone()));
                private.extend([
                    Attribute::Modulus(key.modulus.clone()),
                    Attribute::PublicExponent(key.public_exponent.clone()),
                    Attribute::PrivateExponent(key.private_exponent.clone()),
                    Attribute::Prime1(key.prime1.clone()),
                    Attribute::Prime2(key.prime2.clone()),
                    Attribute::Exponent1(key.exponent1.clone()),
                    Attribute::Exponent2(key.exponent2.clone()),
                    Attribute::Coefficient(key.coefficient.clone()),
                ]);
                let made = session.create_object(&private);
                wipe(&mut private);
                made.map_err(ck_error("creating the private key on the token"))?;
                session.create_object(&public).map_err(failed)?;
            }
            Material::RsaPublic { modulus, exponent } => {
                public.push(Attribute::Modulus(modulus));
                public.push(Attribute::PublicExponent(exponent));
                session.create_object(&public).map_err(failed)?;
            }
            Material::EcPublic(point) => {
                public.push(Attribute::EcPoint(der::octet_string(&point)?));
                session.create_object(&public).map_err(failed)?;
            }
            Material::EcPair { scalar, point } => {
                private.push(Attribute::Value(scalar.to_vec()));
                drop(scalar);
                let made = session.create_object(&private);
                wipe(&mut private);
                made.map_err(ck_error("creating the private key on the token"))?;
                public.push(Attribute::EcPoint(der::octet_string(&point)?));
                session.create_object(&public).map_err(failed)?;
            }
            Material::Secret(_) => {
                return Err(ProviderError::InvalidArgument(
                    "secret key data for an asymmetric key".to_owned(),
                ));
            }
        }
        Ok(())
    }

    /// The public key of `key` in PSA's format.
    pub(crate) fn public_key_data(&self, key: &OpenKey<'_>) -> Result<Vec<u8>> {
        if is_symmetric(key.attributes.key_type) {
            return Err(ProviderError::InvalidArgument(format!(
                "key `{}` is a symmetric key: it has no public key",
                key.name
            )));
        }
        let public = ObjectClass::PUBLIC_KEY;
        if matches!(
            key.attributes.key_type,
            Type::RsaKeyPair | Type::RsaPublicKey
        ) {
            let values = key.values(
                public,
                &[AttributeType::Modulus, AttributeType::PublicExponent],
            )?;
            let [modulus, exponent] = values.as_slice() else {
                return Err(ProviderError::backend(
                    ResponseStatus::PsaErrorCommunicationFailure,
                    "the token gave an incomplete RSA public key",
                ));
            };
            der::rsa_public_key(modulus, exponent)
        } else {
            let values = key.values(public, &[AttributeType::EcPoint])?;
            let point = values
                .first()
                .map(|point| der::unwrap_octet_string(point).to_vec());
            point.ok_or_else(|| {
                ProviderError::backend(
                    ResponseStatus::PsaErrorCommunicationFailure,
                    "the token gave no EC point",
                )
            })
        }
    }
}

/// Makes the secret key object of an AES or HMAC key.
fn make_secret(
    session: &Session,
    id: &[u8],
    attributes: &Attributes,
    exportable: bool,
    material: Material,
) -> Result<()> {
    let is_aes = attributes.key_type == Type::Aes;
    let mut template = vec![
        Attribute::Class(ObjectClass::SECRET_KEY),
        Attribute::KeyType(ck_key_type(attributes.key_type)),
        Attribute::Token(true),
        Attribute::Id(id.to_vec()),
        Attribute::Label(b"psec".to_vec()),
        Attribute::Private(true),
        Attribute::Sensitive(!exportable),
        Attribute::Extractable(exportable),
        Attribute::Sign(true),
        Attribute::Verify(true),
    ];
    if is_aes {
        template.extend([Attribute::Encrypt(true), Attribute::Decrypt(true)]);
    }
    let failed = ck_error("creating the key on the token");
    match material {
        Material::Generate => {
            let bytes = u64::try_from(attributes.bits / 8)
                .map_err(|_| ProviderError::InvalidArgument("key size".to_owned()))?;
            template.push(Attribute::ValueLen(bytes.into()));
            let mechanism = if is_aes {
                Mechanism::AesKeyGen
            } else {
                Mechanism::GenericSecretKeyGen
            };
            session
                .generate_key(&mechanism, &template)
                .map_err(failed)?;
        }
        Material::Secret(value) => {
            template.push(Attribute::Value(value.to_vec()));
            let made = session.create_object(&template);
            wipe(&mut template);
            made.map_err(failed)?;
        }
        _ => {
            return Err(ProviderError::InvalidArgument(
                "key data of the wrong kind".to_owned(),
            ));
        }
    }
    Ok(())
}

/// Wipes the secret values of a template.
fn wipe(template: &mut [Attribute]) {
    use zeroize::Zeroize;
    for attribute in template {
        if let Attribute::PrivateExponent(v)
        | Attribute::Prime1(v)
        | Attribute::Prime2(v)
        | Attribute::Exponent1(v)
        | Attribute::Exponent2(v)
        | Attribute::Coefficient(v)
        | Attribute::Value(v) = attribute
        {
            v.zeroize();
        }
    }
}

impl KeyManagement for Pkcs11Provider {
    fn generate_key(
        &self,
        app: &Application,
        op: psa_generate_key::Operation,
    ) -> Result<psa_generate_key::Result> {
        self.create(app, &op.key_name, op.attributes, None)?;
        Ok(psa_generate_key::Result {})
    }

    fn import_key(
        &self,
        app: &Application,
        op: psa_import_key::Operation,
    ) -> Result<psa_import_key::Result> {
        self.create(app, &op.key_name, op.attributes, Some(&op.data))?;
        Ok(psa_import_key::Result {})
    }

    fn export_public_key(
        &self,
        app: &Application,
        op: psa_export_public_key::Operation,
    ) -> Result<psa_export_public_key::Result> {
        let key = self.use_key(app, &op.key_name, None, None)?;
        let data = self.public_key_data(&key)?;
        Ok(psa_export_public_key::Result { data })
    }

    /// Destroys a key through the key lifecycle (the token's part is the
    /// provider's `KeyBackend`).
    fn destroy_key(
        &self,
        app: &Application,
        op: psa_destroy_key::Operation,
    ) -> Result<psa_destroy_key::Result> {
        self.keys().destroy(app, &op.key_name, self)?;
        Ok(psa_destroy_key::Result {})
    }
}

impl KeyExport for Pkcs11Provider {
    fn export_key(
        &self,
        app: &Application,
        op: psa_export_key::Operation,
    ) -> Result<psa_export_key::Result> {
        let key = self.use_key(app, &op.key_name, None, None)?;
        // PSA exports a public key whatever its policy's flags; anything
        // else needs the export flag.
        if !key.attributes.key_type.is_public_key() {
            require(key.name, &key.attributes, Usage::Export, None)?;
        }
        let data: Zeroizing<Vec<u8>> = match key.attributes.key_type {
            Type::RsaPublicKey | Type::EccPublicKey { .. } => {
                Zeroizing::new(self.public_key_data(&key)?)
            }
            Type::RsaKeyPair => {
                let values = Zeroizing::new(key.values(
                    ObjectClass::PRIVATE_KEY,
                    &[
                        AttributeType::Modulus,
                        AttributeType::PublicExponent,
                        AttributeType::PrivateExponent,
                        AttributeType::Prime1,
                        AttributeType::Prime2,
                        AttributeType::Exponent1,
                        AttributeType::Exponent2,
                        AttributeType::Coefficient,
                    ],
                )?);
                let [n, e, d, p, q, dp, dq, qinv] = values.as_slice() else {
                    return Err(ProviderError::NotPermitted(format!(
                        "the token does not reveal key `{}`",
                        key.name
                    )));
                };
                der::rsa_private_key(&RsaPrivateKey {
                    modulus: n.clone(),
                    public_exponent: e.clone(),
                    private_exponent: d.clone(),
                    prime1: p.clone(),
                    prime2: q.clone(),
                    exponent1: dp.clone(),
                    exponent2: dq.clone(),
                    coefficient: qinv.clone(),
                })?
            }
            Type::EccKeyPair { .. } => {
                let values =
                    Zeroizing::new(key.values(ObjectClass::PRIVATE_KEY, &[AttributeType::Value])?);
                let scalar = values.first().map(Vec::as_slice).unwrap_or_default();
                let len = key.attributes.bits.div_ceil(8);
                let mut data = Zeroizing::new(vec![0; len.saturating_sub(scalar.len())]);
                data.extend_from_slice(scalar);
                data
            }
            Type::Aes | Type::Hmac => {
                let values =
                    Zeroizing::new(key.values(ObjectClass::SECRET_KEY, &[AttributeType::Value])?);
                Zeroizing::new(values.first().cloned().unwrap_or_default())
            }
            other => {
                return Err(ProviderError::NotSupported(format!(
                    "exporting keys of type {other:?}"
                )));
            }
        };
        Ok(psa_export_key::Result {
            data: data.to_vec().into(),
        })
    }
}

#[cfg(test)]
impl Pkcs11Provider {
    /// How many token objects have `CKA_ID` `id`.
    pub(crate) fn objects_for_tests(&self, id: &[u8]) -> usize {
        let session = self
            .token()
            .session()
            .unwrap_or_else(|error| panic!("{error}"));
        find(&session, id, None)
            .unwrap_or_else(|error| panic!("{error}"))
            .len()
    }

    /// How many session objects with `CKA_ID` `id` the token holds: the
    /// session copies of the key's objects.
    pub(crate) fn session_objects_for_tests(&self, id: &[u8]) -> usize {
        let session = self
            .token()
            .session()
            .unwrap_or_else(|error| panic!("{error}"));
        session
            .find_objects(&[Attribute::Token(false), Attribute::Id(id.to_vec())])
            .unwrap_or_else(|error| panic!("{error}"))
            .len()
    }

    /// Makes the provider believe that the handle of `from`'s private key
    /// object is that of `to`'s, as a token that gave a freed handle
    /// number to a new object would.
    pub(crate) fn mix_up_private_handles_for_tests(&self, to: &[u8], from: &[u8]) {
        let session = self
            .token()
            .session()
            .unwrap_or_else(|error| panic!("{error}"));
        let handles = find(&session, from, Some(ObjectClass::PRIVATE_KEY))
            .unwrap_or_else(|error| panic!("{error}"));
        let handle = *handles
            .first()
            .unwrap_or_else(|| panic!("no private key object"));
        let token = self.token();
        {
            let _changing = token.changing_objects();
            token.forget_handles(to);
        }
        let _using = token.using_handles();
        token.remember_handle(to, ObjectClass::PRIVATE_KEY, handle);
    }

    /// How many objects the token holds, of any key.
    pub(crate) fn all_objects_for_tests(&self) -> usize {
        let session = self
            .token()
            .session()
            .unwrap_or_else(|error| panic!("{error}"));
        session
            .find_objects(&[Attribute::Token(true)])
            .unwrap_or_else(|error| panic!("{error}"))
            .len()
    }

    /// Generates token objects with `CKA_ID` `id` and no row.
    pub(crate) fn make_objects_for_tests(&self, id: &[u8], attributes: &Attributes) {
        let session = self
            .token()
            .session()
            .unwrap_or_else(|error| panic!("{error}"));
        self.make_objects(&session, id, attributes, Material::Generate)
            .unwrap_or_else(|error| panic!("{error}"));
    }

    /// Destroys the token objects with `CKA_ID` `id` as another user of
    /// the token would: behind the back of the store and of the provider's
    /// known handles.
    pub(crate) fn destroy_objects_for_tests(&self, id: &[u8]) {
        let session = self
            .token()
            .session()
            .unwrap_or_else(|error| panic!("{error}"));
        for object in find(&session, id, None).unwrap_or_else(|error| panic!("{error}")) {
            session
                .destroy_object(object)
                .unwrap_or_else(|error| panic!("{error}"));
        }
    }
}

#[cfg(test)]
mod id_tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]

    /// A counter or a clock would give ids that repeat across restarts or
    /// share a prefix; 1000 random ids differ in both halves.
    #[test]
    fn system_ids_are_full_length_and_differ_in_both_halves() {
        let ids: Vec<Vec<u8>> = (0..1000)
            .map(|_| super::system_random_id().unwrap())
            .collect();
        assert!(ids.iter().all(|id| id.len() == super::ID_LEN));
        for half in [0..8, 8..16] {
            let distinct: std::collections::HashSet<&[u8]> =
                ids.iter().map(|id| &id[half.clone()]).collect();
            assert_eq!(distinct.len(), ids.len(), "half {half:?}");
        }
    }
}
