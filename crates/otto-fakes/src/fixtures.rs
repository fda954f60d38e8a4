//! The shared protocol fixtures (`shared/protocols/fixtures/`, beside the repository checkout).
//!
//! The repository and `shared/` sit side by side (`<root>/main`, `<root>/shared`), locally and
//! in CI, so the directory is found relative to this crate's manifest.

use std::path::PathBuf;

/// Absolute path of the fixtures directory: `<crate>/../../../shared/protocols/fixtures`.
pub fn dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/protocols/fixtures")
}

/// The bytes of fixture `name` (e.g. `"openai-stream-text.sse"`).
///
/// # Panics
/// When the file cannot be read: the test environment is broken (fixtures are part of the
/// contract every test relies on), so tests should stop loudly rather than pass vacuously.
pub fn bytes(name: &str) -> Vec<u8> {
    let path = dir().join(name);
    std::fs::read(&path)
        .unwrap_or_else(|e| panic!("fixture {} is missing or unreadable: {e}", path.display()))
}

/// Fixture `name` as UTF-8 text.
///
/// # Panics
/// As [`bytes()`], and when the file is not UTF-8.
pub fn text(name: &str) -> String {
    String::from_utf8(bytes(name)).unwrap_or_else(|e| panic!("fixture {name} is not UTF-8: {e}"))
}

/// Fixture `name` parsed as JSON.
///
/// # Panics
/// As [`bytes()`], and when the file is not JSON.
pub fn json(name: &str) -> serde_json::Value {
    serde_json::from_slice(&bytes(name))
        .unwrap_or_else(|e| panic!("fixture {name} is not JSON: {e}"))
}
