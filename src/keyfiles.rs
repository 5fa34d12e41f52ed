//! Which key tables apply to a capture: the ones the user named
//! (`--keys FILE`, repeatable) and the ones found beside the capture.
//!
//! Beside `DIR/STEM.pcap` (also `.pcapng`, `.cap`, and those with `.gz` /
//! `.zst`) we look for `DIR/STEM.ikev2_decryption_table`,
//! `DIR/STEM.ikev1_decryption_table`, `DIR/STEM.esp_sa` (also with a
//! `responder.` or `initiator.` part before the table name, as when both
//! peers' keys were saved), and the bare names `ikev2_decryption_table` and
//! `esp_sa` that strongSwan's save-keys plugin writes into a directory.
//! Every file used is listed in the report, marked as found beside the
//! capture when it was not named by the user.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::decrypt::KeyStore;
use crate::session::KeyFileUse;

const TABLES: [&str; 3] = ["ikev2_decryption_table", "ikev1_decryption_table", "esp_sa"];

/// The stem of a capture file name: `a/b.pcap.gz` -> `b`.
fn stem(capture: &Path) -> Option<String> {
    let name = capture.file_name()?.to_str()?;
    let mut s = name;
    for ext in [".gz", ".zst", ".zstd"] {
        if let Some(x) = s.strip_suffix(ext) {
            s = x;
        }
    }
    for ext in [".pcapng", ".pcap", ".cap", ".ntar"] {
        if let Some(x) = s.strip_suffix(ext) {
            return Some(x.to_string());
        }
    }
    s.rsplit_once('.')
        .map(|(a, _)| a.to_string())
        .or(Some(s.to_string()))
}

/// Key tables beside `capture`, in a fixed order.
pub fn beside(capture: &Path) -> Vec<PathBuf> {
    let dir = match capture.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut out = Vec::new();
    if let Some(stem) = stem(capture) {
        for t in TABLES {
            for middle in ["", "initiator.", "responder."] {
                out.push(dir.join(format!("{stem}.{middle}{t}")));
            }
        }
    }
    for t in ["ikev2_decryption_table", "esp_sa"] {
        out.push(dir.join(t));
    }
    out.retain(|p| p.is_file());
    out
}

/// The named key files (`--keys`), read once for a whole run. `None`
/// when none were named.
pub type Named = Option<(Arc<KeyStore>, Vec<KeyFileUse>)>;

/// Reads the key files the user named.
pub fn load_named(paths: &[PathBuf]) -> Named {
    if paths.is_empty() {
        return None;
    }
    let mut store = KeyStore::new();
    let used = paths
        .iter()
        .map(|p| load_one(&mut store, p, false))
        .collect();
    Some((Arc::new(store), used))
}

/// The keys for one capture: the named ones plus the tables beside it
/// (those already named are not read again). The named store is shared,
/// not copied, when nothing lies beside the capture.
pub fn for_capture(named: &Named, capture: &Path) -> Named {
    let found: Vec<PathBuf> = beside(capture)
        .into_iter()
        .filter(|p| {
            named
                .as_ref()
                .is_none_or(|(_, used)| used.iter().all(|u| Path::new(&u.path) != p))
        })
        .collect();
    if found.is_empty() {
        return named.clone();
    }
    let (mut store, mut used) = match named {
        Some((s, u)) => (KeyStore::clone(s), u.clone()),
        None => (KeyStore::new(), Vec::new()),
    };
    used.extend(found.iter().map(|p| load_one(&mut store, p, true)));
    Some((Arc::new(store), used))
}

fn load_one(store: &mut KeyStore, p: &Path, found_beside_capture: bool) -> KeyFileUse {
    KeyFileUse {
        path: p.display().to_string(),
        found_beside_capture,
        entries: store.load_file(p).unwrap_or(0),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stems() {
        assert_eq!(stem(Path::new("a/b.pcap")).as_deref(), Some("b"));
        assert_eq!(stem(Path::new("b.pcapng.gz")).as_deref(), Some("b"));
        assert_eq!(stem(Path::new("x.y.pcap.zst")).as_deref(), Some("x.y"));
        assert_eq!(stem(Path::new("noext")).as_deref(), Some("noext"));
    }
}
