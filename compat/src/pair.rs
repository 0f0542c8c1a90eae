//! Parsec and psecd side by side: one request to both, answers compared.

use crate::differences::Differences;
use crate::interface::operations::{NativeOperation, NativeResult};
use crate::interface::requests::ProviderId;
use crate::outcome::{Client, Detail, Outcome, canonical};
use crate::service::{Backend, Implementation, KeyStore, Service, Workspace, config_text};
use parsec_client::auth::Authentication;
use std::collections::{BTreeMap, BTreeSet};

/// Every opcode Parsec 1.x clients know (parsec-interface 0.29): each is
/// sent to every backend. The MAC opcodes, which they do not know, are
/// sent as raw bytes (`headers::run_all`).
const PARSEC_1_OPCODES: [u32; 29] = [
    0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0A, 0x0B, 0x0C, 0x0D, 0x0E, 0x0F, 0x10,
    0x11, 0x12, 0x13, 0x14, 0x15, 0x18, 0x19, 0x1A, 0x1B, 0x1C, 0x1E, 0x1F, 0x20,
];

/// The two services of one backend, their clients and the tally.
pub struct Pair {
    /// The backend both run.
    pub backend: Backend,
    parsec: Service,
    psec: Service,
    parsec_client: Client,
    psec_client: Client,
    differences: Differences,
    /// Requests compared so far.
    pub compared: usize,
    /// Deliberate differences seen, by case.
    pub listed: BTreeMap<String, String>,
    /// Differences no entry explains: the run fails with them.
    pub unlisted: Vec<String>,
    /// The results of the last comparison: Parsec's, psecd's.
    last: (Option<NativeResult>, Option<NativeResult>),
    /// The opcodes of the operations compared so far.
    opcodes: BTreeSet<u32>,
    // Kept last: dropped after the services, so their directories outlive them.
    _workspace: Workspace,
}

impl Pair {
    /// Writes the configuration for `backend` and starts both services
    /// from it.
    pub fn start(backend: Backend) -> Pair {
        let workspace = Workspace::new(backend.name());
        let config = workspace.write_config(&config_text(backend, KeyStore::Sqlite));
        let parsec_dir = workspace.dir(Implementation::Parsec);
        let psec_dir = workspace.dir(Implementation::Psecd);
        if backend == Backend::Pkcs11 {
            crate::service::make_tokens(&workspace.root().join("token"), &[&parsec_dir, &psec_dir]);
        }
        let parsec = Service::start(Implementation::Parsec, backend, &config, &parsec_dir);
        let psec = Service::start(Implementation::Psecd, backend, &config, &psec_dir);
        Pair {
            backend,
            parsec_client: Client::new(&parsec.socket),
            psec_client: Client::new(&psec.socket),
            parsec,
            psec,
            differences: Differences::load(),
            compared: 0,
            listed: BTreeMap::new(),
            unlisted: Vec::new(),
            last: (None, None),
            opcodes: BTreeSet::new(),
            _workspace: workspace,
        }
    }

    /// Sends the operation `make` builds to both services, as `app` (None:
    /// no authentication), and compares the outcomes. Each service's result
    /// is kept for [`Pair::compare_from_last`] and [`Pair::last`].
    pub fn compare(
        &mut self,
        case: &str,
        provider: ProviderId,
        app: Option<&str>,
        detail: Detail,
        make: impl Fn() -> NativeOperation,
    ) -> bool {
        let auth = authentication(app);
        self.opcodes.insert(make().opcode() as u32);
        let parsec = self.parsec_client.send(provider, &auth, make());
        let psec = self.psec_client.send(provider, &auth, make());
        let same = self.record(case, &outcome(&parsec, detail), &outcome(&psec, detail));
        self.last = (parsec.ok(), psec.ok());
        same
    }

    /// The next step of a flow: builds each service's request from that
    /// service's own result of the last [`Pair::compare`] (a signature to
    /// verify, a ciphertext to decrypt), so that the flow works whether or
    /// not the two hold the same key. Where either service has no such
    /// result, the step is skipped: the difference was already recorded.
    pub fn compare_from_last(
        &mut self,
        case: &str,
        provider: ProviderId,
        app: Option<&str>,
        detail: Detail,
        make: impl Fn(&NativeResult) -> Option<NativeOperation>,
    ) {
        let (Some(parsec_last), Some(psec_last)) = (&self.last.0, &self.last.1) else {
            return;
        };
        let (Some(parsec_op), Some(psec_op)) = (make(parsec_last), make(psec_last)) else {
            return;
        };
        let auth = authentication(app);
        self.opcodes.insert(parsec_op.opcode() as u32);
        let parsec = self.parsec_client.send(provider, &auth, parsec_op);
        let psec = self.psec_client.send(provider, &auth, psec_op);
        self.record(case, &outcome(&parsec, detail), &outcome(&psec, detail));
    }

    /// The results of the last [`Pair::compare`]: Parsec's, then psecd's.
    pub fn last(&self) -> (Option<&NativeResult>, Option<&NativeResult>) {
        (self.last.0.as_ref(), self.last.1.as_ref())
    }

    /// Sends the operation to both without comparing: tidying up, such as
    /// removing a key one side made and the other could not.
    pub fn unchecked(
        &mut self,
        provider: ProviderId,
        app: Option<&str>,
        make: impl Fn() -> NativeOperation,
    ) {
        let auth = authentication(app);
        let _ = self.parsec_client.send(provider, &auth, make());
        let _ = self.psec_client.send(provider, &auth, make());
    }

    /// Sends the same raw bytes to both and compares what Parsec's response
    /// reader makes of each reply.
    pub fn compare_raw(&mut self, case: &str, bytes: &[u8]) {
        let parsec = self.parsec_client.send_raw(bytes);
        let psec = self.psec_client.send_raw(bytes);
        self.record(case, &parsec, &psec);
    }

    /// Counts one comparison, and files a difference as listed or not.
    /// Returns whether the two agreed or the difference is listed.
    pub fn record(&mut self, case: &str, parsec: &Outcome, psec: &Outcome) -> bool {
        self.compared += 1;
        if parsec == psec && !matches!(psec, Outcome::Unreadable(_)) {
            return true;
        }
        let line = format!("{case}: Parsec {parsec} | psecd {psec}");
        match self.differences.explain(self.backend, case, parsec, psec) {
            Some(entry) => {
                self.listed.insert(case.to_string(), entry.reason.clone());
                true
            }
            None => {
                self.unlisted.push(line);
                false
            }
        }
    }

    /// Prints the figures and fails if any difference was not listed, a
    /// listed one for a fixed case did not occur, or an opcode of Parsec
    /// 1.x was never sent.
    pub fn finish(self) {
        let backend = self.backend.name();
        let missing: Vec<u32> = PARSEC_1_OPCODES
            .iter()
            .copied()
            .filter(|code| !self.opcodes.contains(code))
            .collect();
        assert!(
            missing.is_empty(),
            "{backend}: no case sent the opcodes {missing:#04x?}"
        );
        let unseen: Vec<String> = self
            .differences
            .unseen(self.backend)
            .iter()
            .map(|d| format!("{} (Parsec {} | psecd {})", d.case, d.parsec, d.psec))
            .collect();
        println!(
            "compat {backend}: {} requests compared, {} listed differences seen, {} unlisted, {} listed entries not seen",
            self.compared,
            self.listed.len(),
            self.unlisted.len(),
            unseen.len()
        );
        for (case, reason) in &self.listed {
            println!("  listed  {case}: {reason}");
        }
        for line in &self.unlisted {
            println!("  UNLISTED {line}");
        }
        for line in &unseen {
            println!("  UNSEEN  {line}");
        }
        assert!(
            self.unlisted.is_empty() && unseen.is_empty(),
            "{backend}: {} unlisted differences and {} listed entries not seen (above); Parsec's log:\n{}\npsecd's log:\n{}",
            self.unlisted.len(),
            unseen.len(),
            tail(&self.parsec.log()),
            tail(&self.psec.log())
        );
    }
}

fn authentication(app: Option<&str>) -> Authentication {
    match app {
        Some(name) => Authentication::Direct(name.to_string()),
        None => Authentication::None,
    }
}

fn outcome(result: &Result<NativeResult, Outcome>, detail: Detail) -> Outcome {
    match result {
        Ok(result) => Outcome::Answer(canonical(result, detail)),
        Err(outcome) => outcome.clone(),
    }
}

/// The last lines of a log.
fn tail(log: &str) -> String {
    let lines: Vec<&str> = log.lines().collect();
    lines[lines.len().saturating_sub(40)..].join("\n")
}
