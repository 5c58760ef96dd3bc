//! Golden fixture: compiled with every warning denied, so the expansion must be lint-clean.
#![deny(warnings, unused_qualifications, unsafe_code, missing_debug_implementations)]

use bridge_runtime::Resource;

/// A running total a script holds.
#[derive(Debug)]
pub struct Tally {
    total: i64,
}

/// Each receiver form, a `Result`, `Self` in a return type, and a group for every method.
#[bridge_runtime::script_async(group = "tally")]
impl Tally {
    /// The total now.
    async fn total(&self) -> i64 {
        self.total
    }

    /// Adds `n`, failing past `limit`.
    async fn add(&mut self, n: i64, limit: i64) -> Result<i64, String> {
        if self.total + n > limit {
            return Err(format!("{} would pass {limit}", self.total + n));
        }
        self.total += n;
        Ok(self.total)
    }

    /// A second tally starting at this one's total.
    async fn fork(&self) -> Resource<Self> {
        Resource::new(Tally { total: self.total })
    }

    /// Ends the tally: its last total.
    async fn close(self) -> i64 {
        self.total
    }
}

/// A new tally, for scripts.
#[bridge_runtime::script_async]
async fn tally(start: i64) -> Resource<Tally> {
    Resource::new(Tally { total: start })
}

fn main() {}
