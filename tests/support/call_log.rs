//! A writer for `BridgeBuilder::record` that a test can read back.

use std::io::Write;
use std::sync::{Arc, Mutex};

/// The bytes a bridge recorded; clones share them.
#[derive(Clone, Default)]
pub struct CallLog(Arc<Mutex<Vec<u8>>>);

impl Write for CallLog {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl CallLog {
    /// Everything recorded so far, as text.
    pub fn text(&self) -> String {
        String::from_utf8(self.0.lock().unwrap().clone()).expect("recorded lines are UTF-8")
    }

    /// Each recorded line, parsed.
    pub fn calls(&self) -> Vec<bridge_runtime::record::RecordedCall> {
        self.text()
            .lines()
            .map(|line| serde_json::from_str(line).expect("a recorded call"))
            .collect()
    }
}
