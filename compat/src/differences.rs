//! The differences psec makes on purpose, read from `differences.toml`.
//!
//! Each entry names the backends it holds for, a case (a `*` matches any
//! run of characters), what Parsec answers and what psecd answers (the
//! outcome texts the harness prints, with `*` allowed), and the reason.
//! A difference between the two services that no entry matches fails the
//! run; an entry for a fixed case that no run matched fails it too, so the
//! list stays true.

use crate::outcome::Outcome;
use crate::service::Backend;
use serde::Deserialize;
use std::cell::Cell;

/// One deliberate difference.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Difference {
    /// The backends it holds for; every backend when absent.
    #[serde(default)]
    pub backends: Option<Vec<String>>,
    /// The case name pattern.
    pub case: String,
    /// Parsec's outcome pattern.
    pub parsec: String,
    /// psecd's outcome pattern.
    pub psec: String,
    /// Why psec differs.
    pub reason: String,
    #[serde(skip)]
    seen: Cell<bool>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    difference: Vec<Difference>,
}

/// The whole list.
pub struct Differences {
    entries: Vec<Difference>,
}

impl Differences {
    /// Reads the list shipped beside this crate.
    pub fn load() -> Differences {
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/differences.toml");
        let text = std::fs::read_to_string(path).expect("differences.toml");
        Differences::parse(&text)
    }

    /// Parses a list.
    pub fn parse(text: &str) -> Differences {
        let file: File = toml::from_str(text).expect("differences.toml is malformed");
        for entry in &file.difference {
            assert!(
                !entry.reason.trim().is_empty(),
                "the difference for {} has no reason",
                entry.case
            );
        }
        Differences {
            entries: file.difference,
        }
    }

    /// The entry that explains this difference, if any; marks it seen.
    pub fn explain(
        &self,
        backend: Backend,
        case: &str,
        parsec: &Outcome,
        psec: &Outcome,
    ) -> Option<&Difference> {
        let entry = self.entries.iter().find(|entry| {
            entry
                .backends
                .as_ref()
                .is_none_or(|names| names.iter().any(|n| n == backend.name()))
                && matches(&entry.case, case)
                && matches(&entry.parsec, &parsec.to_string())
                && matches(&entry.psec, &psec.to_string())
        })?;
        entry.seen.set(true);
        Some(entry)
    }

    /// Entries for `backend` that name fixed cases and matched nothing:
    /// the difference they describe is gone, or the entry is wrong.
    /// Generated cases (`random/...`) vary with the seed and are exempt.
    pub fn unseen(&self, backend: Backend) -> Vec<&Difference> {
        self.entries
            .iter()
            .filter(|entry| {
                entry
                    .backends
                    .as_ref()
                    .is_none_or(|names| names.iter().any(|n| n == backend.name()))
                    && !entry.case.starts_with("random/")
                    && !entry.seen.get()
            })
            .collect()
    }
}

/// Whether `text` matches `pattern`, where `*` stands for any run of
/// characters.
pub fn matches(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let first = parts.next().unwrap_or("");
    let Some(mut rest) = text.strip_prefix(first) else {
        return false;
    };
    let parts: Vec<&str> = parts.collect();
    let Some((last, middle)) = parts.split_last() else {
        return rest.is_empty();
    };
    for part in middle {
        match rest.find(part) {
            Some(at) => rest = &rest[at + part.len()..],
            None => return false,
        }
    }
    rest.len() >= last.len() && rest.ends_with(last)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn patterns_match_with_stars_and_only_then() {
        assert!(matches("core/ping", "core/ping"));
        assert!(!matches("core/ping", "core/ping2"));
        assert!(matches("core/*", "core/ping"));
        assert!(matches("*opcodes*", "core/list-opcodes/tpm"));
        assert!(matches("status *", "status PsaErrorNotSupported"));
        assert!(!matches("status *", "ok x"));
        assert!(matches("a*b*c", "a-b-c"));
        assert!(!matches("a*b*c", "a-c-b"));
        assert!(matches("*", ""));
    }

    #[test]
    fn the_shipped_list_parses_and_every_entry_has_a_reason() {
        let list = Differences::load();
        assert!(!list.entries.is_empty());
    }
}
