//! Saving and loading fitted artefacts (learner models, routers).
//!
//! # File format (version 1)
//! ```text
//! offset  size  field
//! 0       8     magic  b"MROUTER\0"
//! 8       4     format version, u32 little-endian (currently 1)
//! 12      4     artefact kind, u32 little-endian (see [`Kind`])
//! 16      2     length L of the crate version string, u16 LE
//! 18      L     crate version that wrote the file (UTF-8, informational)
//! 18+L    8     payload length P, u64 LE
//! 26+L    8     FNV-1a 64 checksum of the payload, u64 LE
//! 34+L    P     payload: bincode 2 (standard config) of the artefact's serde form
//! ```
//! Loading checks, in order: the magic (a foreign file), the format version (a file from a
//! newer or older format is refused with both versions named), the kind, the declared payload
//! length against the bytes present (truncation) and against a hard cap, the checksum (bit
//! flips), and finally decodes with a byte limit so a corrupt length inside the payload cannot
//! trigger an unbounded allocation. Every failure is an [`Error::ModelFile`], never a panic.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::{Error, Result};

/// The magic bytes that open every meta-router file.
pub const MAGIC: [u8; 8] = *b"MROUTER\0";
/// The current format version.
pub const FORMAT_VERSION: u32 = 1;
/// The largest payload a file may declare (4 GiB).
pub const MAX_PAYLOAD: u64 = 1 << 32;

/// What a file holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Kind {
    /// A fitted regression model ([`crate::learn::RegressorModel`]).
    Regressor = 1,
    /// A fitted classifier ([`crate::learn::ClassifierModel`]).
    Classifier = 2,
    /// A router written before thresholds and scores moved to the gold scale: its stored
    /// threshold `w` was compared with `psi_hat` on the preference scale. Still read
    /// (the router layer's `Router::from_bytes` converts it); never written.
    RouterPreferenceScale = 3,
    /// A fitted PCA.
    Pca = 4,
    /// A fitted router (feature pipeline + psi model), thresholds on the gold scale.
    Router = 5,
    /// A router among `K` models (one gain model per model, costs, `lambda`).
    MultiRouter = 6,
}

impl Kind {
    fn from_u32(v: u32) -> Option<Kind> {
        match v {
            1 => Some(Kind::Regressor),
            2 => Some(Kind::Classifier),
            3 => Some(Kind::RouterPreferenceScale),
            4 => Some(Kind::Pca),
            5 => Some(Kind::Router),
            6 => Some(Kind::MultiRouter),
            _ => None,
        }
    }
}

/// FNV-1a, 64-bit.
pub fn fnv1a64(bytes: &[u8]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        h ^= b as u64;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// Encodes an artefact with its header.
///
/// # Errors
/// [`Error::ModelFile`] if serialisation fails.
pub fn to_bytes<T: Serialize>(kind: Kind, value: &T) -> Result<Vec<u8>> {
    let payload = bincode::serde::encode_to_vec(value, bincode::config::standard())
        .map_err(|e| Error::model_file(None, format!("cannot encode: {e}")))?;
    Ok(frame(kind, &payload))
}

/// Puts the header (magic, format version, kind, crate version, length, checksum) in front of an
/// encoded payload.
pub fn frame(kind: Kind, payload: &[u8]) -> Vec<u8> {
    let version = env!("CARGO_PKG_VERSION").as_bytes();
    let mut out = Vec::with_capacity(34 + version.len() + payload.len());
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&FORMAT_VERSION.to_le_bytes());
    out.extend_from_slice(&(kind as u32).to_le_bytes());
    out.extend_from_slice(&(version.len() as u16).to_le_bytes());
    out.extend_from_slice(version);
    out.extend_from_slice(&(payload.len() as u64).to_le_bytes());
    out.extend_from_slice(&fnv1a64(payload).to_le_bytes());
    out.extend_from_slice(payload);
    out
}

fn take<'a>(bytes: &'a [u8], at: &mut usize, n: usize, what: &str) -> std::result::Result<&'a [u8], String> {
    let end = at.checked_add(n).filter(|&e| e <= bytes.len()).ok_or_else(|| format!("truncated in the {what}"))?;
    let s = &bytes[*at..end];
    *at = end;
    Ok(s)
}

fn u32_le(s: &[u8]) -> u32 {
    let mut a = [0u8; 4];
    a.copy_from_slice(s);
    u32::from_le_bytes(a)
}

fn u64_le(s: &[u8]) -> u64 {
    let mut a = [0u8; 8];
    a.copy_from_slice(s);
    u64::from_le_bytes(a)
}

/// Decodes an artefact of the expected kind, checking the header and checksum first.
///
/// # Errors
/// [`Error::ModelFile`] for a foreign, truncated, corrupt, wrong-kind or other-version file.
pub fn from_bytes<T: DeserializeOwned>(bytes: &[u8], kind: Kind) -> Result<T> {
    decode(bytes, kind).map_err(|msg| Error::model_file(None, msg))
}

fn decode<T: DeserializeOwned>(bytes: &[u8], kind: Kind) -> std::result::Result<T, String> {
    let mut at = 0;
    let magic = take(bytes, &mut at, 8, "magic bytes").map_err(|_| "not a meta-router file (too short)".to_string())?;
    if magic != MAGIC {
        return Err("not a meta-router file (wrong magic bytes)".into());
    }
    let version = u32_le(take(bytes, &mut at, 4, "header")?);
    if version != FORMAT_VERSION {
        return Err(format!(
            "format version {version}, but this build of meta-router reads format version {FORMAT_VERSION}"
        ));
    }
    let k = u32_le(take(bytes, &mut at, 4, "header")?);
    match Kind::from_u32(k) {
        Some(found) if found == kind => {}
        Some(found) => return Err(format!("holds a {found:?}, expected a {kind:?}")),
        None => return Err(format!("unknown artefact kind {k}")),
    }
    let vlen = {
        let s = take(bytes, &mut at, 2, "header")?;
        u16::from_le_bytes([s[0], s[1]]) as usize
    };
    let _writer_version = take(bytes, &mut at, vlen, "header")?;
    let plen = u64_le(take(bytes, &mut at, 8, "header")?);
    let sum = u64_le(take(bytes, &mut at, 8, "header")?);
    if plen > MAX_PAYLOAD {
        return Err(format!("declared payload of {plen} bytes exceeds the {MAX_PAYLOAD}-byte cap"));
    }
    let remaining = (bytes.len() - at) as u64;
    if plen != remaining {
        return Err(format!("truncated or padded: header declares {plen} payload bytes, file has {remaining}"));
    }
    let payload = &bytes[at..];
    if fnv1a64(payload) != sum {
        return Err("checksum mismatch: the file is corrupt".into());
    }
    let (value, used) = decode_limited::<T>(payload).map_err(|e| match e {
        bincode::error::DecodeError::LimitExceeded => format!(
            "cannot decode payload: a length in it asks for more memory than the memory limit for a \
             {}-byte payload (a corrupt or crafted file)",
            payload.len()
        ),
        e => format!("cannot decode payload: {e}"),
    })?;
    if used != payload.len() {
        return Err(format!("payload has {} trailing bytes", payload.len() - used));
    }
    Ok(value)
}

/// Decodes with a memory budget tied to the payload's size. bincode allocates a container as
/// soon as it has read its declared length, so without a budget a few crafted bytes declaring a
/// 4 GB string make the decoder allocate 4 GB before it finds the bytes missing. The budget (on
/// bincode's running count of bytes claimed: containers' memory plus bytes read) is 32 times the
/// payload, rounded up to the next tier (1 MiB, 16 MiB, 256 MiB, 4 GiB, 128 GiB): far above
/// what a genuine model needs (a forest decodes to about 1.5 times its payload), far below what
/// a crafted length can ask. bincode takes the limit as a constant, hence the tiers.
fn decode_limited<T: DeserializeOwned>(payload: &[u8]) -> std::result::Result<(T, usize), bincode::error::DecodeError> {
    fn with<T: DeserializeOwned, const LIMIT: usize>(
        payload: &[u8],
    ) -> std::result::Result<(T, usize), bincode::error::DecodeError> {
        bincode::serde::decode_from_slice::<T, _>(payload, bincode::config::standard().with_limit::<LIMIT>())
    }
    match payload.len() {
        0..=0x8000 => with::<T, { 1 << 20 }>(payload),
        0..=0x8_0000 => with::<T, { 1 << 24 }>(payload),
        0..=0x80_0000 => with::<T, { 1 << 28 }>(payload),
        0..=0x800_0000 => with::<T, { 1 << 32 }>(payload),
        #[cfg(target_pointer_width = "64")]
        _ => with::<T, { 1 << 37 }>(payload),
        #[cfg(not(target_pointer_width = "64"))]
        _ => with::<T, { usize::MAX }>(payload),
    }
}

/// Writes an artefact to a file.
///
/// # Errors
/// [`Error::Io`] on write failure.
pub fn save<T: Serialize>(path: impl AsRef<Path>, kind: Kind, value: &T) -> Result<()> {
    let path = path.as_ref();
    let bytes = to_bytes(kind, value)?;
    crate::outfile::write(path, bytes)
}

/// Reads an artefact from a file.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::ModelFile`] naming the file otherwise.
pub fn load<T: DeserializeOwned>(path: impl AsRef<Path>, kind: Kind) -> Result<T> {
    let path = path.as_ref();
    let bytes = read_file(path)?;
    decode(&bytes, kind).map_err(|msg| Error::model_file(Some(path.to_path_buf()), msg))
}

/// A file's bytes, refused before reading when it is larger than any artefact can be.
///
/// # Errors
/// [`Error::Io`] when the file cannot be read; [`Error::ModelFile`] for an oversized file.
pub fn read_file(path: &Path) -> Result<Vec<u8>> {
    let meta = std::fs::metadata(path).map_err(|e| Error::io(path, e))?;
    if meta.len() > MAX_PAYLOAD + 1024 {
        return Err(Error::model_file(Some(path.to_path_buf()), "file larger than any model this format allows"));
    }
    std::fs::read(path).map_err(|e| Error::io(path, e))
}

/// The artefact kind a file's header declares, or `None` when the bytes do not start with a
/// meta-router header of this format version (decoding then gives the precise error).
pub fn peek_kind(bytes: &[u8]) -> Option<Kind> {
    if bytes.len() < 16 || bytes[..8] != MAGIC || u32_le(&bytes[8..12]) != FORMAT_VERSION {
        return None;
    }
    Kind::from_u32(u32_le(&bytes[12..16]))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::learn::RegressorModel;
    use crate::learn::constant::ConstantModel;

    fn sample() -> Vec<u8> {
        to_bytes(Kind::Regressor, &RegressorModel::Constant(ConstantModel { value: 1.5, n_features: 3 })).unwrap()
    }

    #[test]
    fn round_trip() {
        let m: RegressorModel = from_bytes(&sample(), Kind::Regressor).unwrap();
        assert!(matches!(m, RegressorModel::Constant(c) if c.value == 1.5 && c.n_features == 3));
    }

    #[test]
    fn a_crafted_length_cannot_make_the_decoder_allocate_gigabytes() {
        // a Vec<String> of one string declared 4,000,000,000 bytes long (bincode varint: 0xFC
        // then a little-endian u32), and nothing after: found by the `payload` fuzz target,
        // which saw a 4 GB allocation before the missing bytes were noticed
        let mut payload = vec![1u8, 0xFC];
        payload.extend_from_slice(&4_000_000_000u32.to_le_bytes());
        let e = from_bytes::<Vec<String>>(&frame(Kind::Router, &payload), Kind::Router).unwrap_err();
        assert!(e.to_string().contains("limit"), "{e}");
        // the budget scales with the payload: a genuine 2 MiB string still decodes
        let big = "x".repeat(2 << 20);
        let bytes = to_bytes(Kind::Router, &vec![big.clone()]).unwrap();
        assert_eq!(from_bytes::<Vec<String>>(&bytes, Kind::Router).unwrap(), vec![big]);
    }

    #[test]
    fn every_corruption_is_an_error() {
        let good = sample();
        for cut in 0..good.len() {
            assert!(from_bytes::<RegressorModel>(&good[..cut], Kind::Regressor).is_err(), "cut {cut}");
        }
        for i in 0..good.len() {
            for bit in 0..8 {
                let mut b = good.clone();
                b[i] ^= 1 << bit;
                if let Ok(m) = from_bytes::<RegressorModel>(&b, Kind::Regressor) {
                    // Only the informational version string may change without detection.
                    assert!((18..18 + env!("CARGO_PKG_VERSION").len()).contains(&i), "flip at {i} accepted: {m:?}");
                }
            }
        }
        let mut future = good.clone();
        future[8..12].copy_from_slice(&2u32.to_le_bytes());
        let e = from_bytes::<RegressorModel>(&future, Kind::Regressor).unwrap_err();
        assert!(e.to_string().contains("format version 2"), "{e}");
        assert!(
            from_bytes::<RegressorModel>(&good, Kind::Router).unwrap_err().to_string().contains("expected a Router")
        );
        assert!(from_bytes::<RegressorModel>(b"hello world, not a model at all", Kind::Regressor).is_err());
    }
}
