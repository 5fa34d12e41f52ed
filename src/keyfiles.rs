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
pub use crate::session::KeyFileUse;

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

/// Loads the user's key files and (unless `auto` is false) the ones beside
/// `capture`. `None` when there are no keys at all.
pub fn load(
    capture: &Path,
    explicit: &[PathBuf],
    auto: bool,
) -> Option<(Arc<KeyStore>, Vec<KeyFileUse>)> {
    let mut files: Vec<(PathBuf, bool)> = explicit.iter().map(|p| (p.clone(), false)).collect();
    if auto {
        for p in beside(capture) {
            if !files.iter().any(|(q, _)| q == &p) {
                files.push((p, true));
            }
        }
    }
    if files.is_empty() {
        return None;
    }
    let mut store = KeyStore::new();
    let mut used = Vec::new();
    for (p, found) in files {
        let entries = store.load_file(&p).unwrap_or(0);
        used.push(KeyFileUse {
            path: p.display().to_string(),
            found_beside_capture: found,
            entries,
        });
    }
    Some((Arc::new(store), used))
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
