//! What psecd does with its configuration file: parse and check the TOML
//! text. Any text must give a configuration or an error, never a panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use psec_service::config::Config;

fuzz_target!(|data: &[u8]| {
    // The service reads the file as UTF-8 text (`read_to_string`).
    if let Ok(text) = std::str::from_utf8(data) {
        if let Err(error) = Config::from_toml(text, "fuzz.toml") {
            // Errors quote the text; formatting them must not panic either.
            let _ = error.to_string();
        }
    }
});
