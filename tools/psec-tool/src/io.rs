//! Input from a string, a file or standard input; output in an encoding,
//! to standard output or a file.

use crate::cli::{DataIn, Format, OutFile};
use crate::errors::usage;
use anyhow::Result;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use std::io::{Read as _, Write as _};
use std::path::Path;

/// The bytes of a file, or of standard input for `-`.
pub(crate) fn read_file(path: &Path) -> Result<Vec<u8>> {
    if path == Path::new("-") {
        return read_stdin();
    }
    std::fs::read(path).map_err(|e| usage(format!("can not read {}: {e}", path.display())))
}

fn read_stdin() -> Result<Vec<u8>> {
    let mut bytes = Vec::new();
    std::io::stdin()
        .read_to_end(&mut bytes)
        .map_err(|e| usage(format!("can not read standard input: {e}")))?;
    Ok(bytes)
}

/// The data a command works on, as given.
pub(crate) fn read_data(input: &DataIn) -> Result<Input> {
    match (&input.data, &input.input) {
        (Some(text), _) => Ok(Input::Text(text.clone())),
        (None, Some(path)) => Ok(Input::Bytes(read_file(path)?)),
        (None, None) => Ok(Input::Bytes(read_stdin()?)),
    }
}

/// Data given as a command-line string, or read as bytes.
#[derive(Debug)]
pub(crate) enum Input {
    /// From the command line.
    Text(String),
    /// From a file or standard input.
    Bytes(Vec<u8>),
}

impl Input {
    /// The bytes as they are.
    pub(crate) fn into_bytes(self) -> Vec<u8> {
        match self {
            Input::Text(text) => text.into_bytes(),
            Input::Bytes(bytes) => bytes,
        }
    }

    /// Binary data that may be encoded: hex, then base64; read bytes that
    /// are neither are taken as they are, a string must be one of them.
    pub(crate) fn decode_binary(self, what: &str) -> Result<Vec<u8>> {
        let (bytes, from_text) = match self {
            Input::Text(text) => (text.into_bytes(), true),
            Input::Bytes(bytes) => (bytes, false),
        };
        if let Some(decoded) = decode_text(&bytes) {
            return Ok(decoded);
        }
        if from_text {
            return Err(usage(format!("the {what} is neither hex nor base64")));
        }
        Ok(bytes)
    }
}

/// Hex or base64 text (surrounding whitespace ignored), decoded.
pub(crate) fn decode_text(bytes: &[u8]) -> Option<Vec<u8>> {
    let text = std::str::from_utf8(bytes).ok()?;
    let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    if compact.is_empty() {
        return None;
    }
    if compact.len() % 2 == 0 && compact.chars().all(|c| c.is_ascii_hexdigit()) {
        return hex_decode(&compact);
    }
    STANDARD.decode(compact).ok()
}

fn hex_decode(text: &str) -> Option<Vec<u8>> {
    text.as_bytes()
        .chunks(2)
        .map(|pair| u8::from_str_radix(std::str::from_utf8(pair).ok()?, 16).ok())
        .collect()
}

/// Lower-case hex.
pub(crate) fn hex_encode(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `bytes` in `format`, as written out: text formats end with a newline.
pub(crate) fn encode(bytes: &[u8], format: Format) -> Vec<u8> {
    match format {
        Format::Base64 => format!("{}\n", STANDARD.encode(bytes)).into_bytes(),
        Format::Hex => format!("{}\n", hex_encode(bytes)).into_bytes(),
        Format::Raw => bytes.to_vec(),
    }
}

/// Writes `bytes` to the file of `out`, or to standard output.
pub(crate) fn write_out(out: &OutFile, bytes: &[u8]) -> Result<()> {
    match &out.file {
        Some(path) => std::fs::write(path, bytes)
            .map_err(|e| usage(format!("can not write {}: {e}", path.display()))),
        None => {
            let mut stdout = std::io::stdout().lock();
            match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
                // A reader that stopped early (`psec list-keys | head -1`)
                // is not an error of psec.
                Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
                other => Ok(other?),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, reason = "a test fails by panicking")]
    use super::*;

    #[test]
    fn hex_is_preferred_then_base64_then_raw_bytes() {
        assert_eq!(decode_text(b"00ff\n").unwrap(), [0, 0xff]);
        assert_eq!(decode_text(b"AQID").unwrap(), [1, 2, 3]);
        let raw = Input::Bytes(vec![0xff, 0, 0x80]);
        assert_eq!(raw.decode_binary("x").unwrap(), [0xff, 0, 0x80]);
        assert!(
            Input::Text("not base64!".into())
                .decode_binary("x")
                .is_err()
        );
    }
}
