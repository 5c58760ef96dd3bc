//! Samples, the printed table, and what the process used (CPU time, peak resident memory).

use std::time::Duration;

/// One figure measured over several rounds.
pub struct Samples(Vec<f64>);

impl Samples {
    /// Runs `measure` `rounds` times (after one warm-up round).
    pub fn collect(rounds: usize, mut measure: impl FnMut() -> f64) -> Self {
        measure();
        Self((0..rounds).map(|_| measure()).collect())
    }

    /// Figures measured elsewhere.
    pub fn from_values(values: Vec<f64>) -> Self {
        Self(values)
    }

    pub fn median(&self) -> f64 {
        let mut sorted = self.0.clone();
        sorted.sort_by(f64::total_cmp);
        sorted[sorted.len() / 2]
    }

    /// This median over `baseline`'s.
    pub fn ratio(&self, baseline: &Samples) -> f64 {
        self.median() / baseline.median()
    }

    /// Rounds that differ by more than 30% from fastest to slowest.
    pub fn is_noisy(&self) -> bool {
        let min = self.0.iter().copied().fold(f64::INFINITY, f64::min);
        let max = self.0.iter().copied().fold(0.0, f64::max);
        max > min * 1.3
    }
}

/// Two figures measured in alternating rounds, so both see the same machine noise; their ratio
/// is the median of the per-round ratios.
pub struct Pair {
    pub first: Samples,
    pub second: Samples,
    ratios: Samples,
    differences: Samples,
}

impl Pair {
    pub fn collect(
        rounds: usize,
        mut first: impl FnMut() -> f64,
        mut second: impl FnMut() -> f64,
    ) -> Self {
        first();
        second();
        let (mut a, mut b, mut ratios, mut differences) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        for _ in 0..rounds {
            let x = first();
            let y = second();
            a.push(x);
            b.push(y);
            ratios.push(y / x);
            differences.push(y - x);
        }
        Self {
            first: Samples(a),
            second: Samples(b),
            ratios: Samples(ratios),
            differences: Samples(differences),
        }
    }

    /// `second - first`, the median over rounds: what the second adds to the first.
    pub fn difference(&self) -> f64 {
        self.differences.median()
    }

    /// `second / first`, the median over rounds.
    pub fn ratio(&self) -> f64 {
        self.ratios.median()
    }

    pub fn is_noisy(&self) -> bool {
        self.ratios.is_noisy()
    }
}

/// The results table.
pub struct Table(Vec<(String, String, String)>);

impl Table {
    pub fn new() -> Self {
        Self(Vec::new())
    }

    /// A row of ns per call.
    pub fn row(&mut self, name: &str, samples: &Samples, note: String) {
        let figure = format!("{:.0} ns/call", samples.median());
        self.0.push((name.to_owned(), figure, note));
    }

    /// A row of calls per second.
    pub fn rate_row(&mut self, name: &str, samples: &Samples, note: String) {
        let figure = format!("{:.0} calls/s", samples.median());
        self.0.push((name.to_owned(), figure, note));
    }

    /// A row of milliseconds per run.
    pub fn ms_row(&mut self, name: &str, samples: &Samples, note: String) {
        let figure = format!("{:.2} ms/run", samples.median() / 1e6);
        self.0.push((name.to_owned(), figure, note));
    }

    /// A row with a note only.
    pub fn note(&mut self, name: &str, note: String) {
        self.0.push((name.to_owned(), String::new(), note));
    }

    pub fn print(&self) {
        println!(
            "\n{:<18} {:>18}  against the same run's baseline",
            "path", "median"
        );
        for (name, figure, note) in &self.0 {
            println!("{name:<18} {figure:>18}  {note}");
        }
    }
}

/// CPU time (user + system) this process has used so far.
pub fn cpu_time() -> Duration {
    // SAFETY: getrusage writes into the struct we pass and reads nothing else.
    let usage = unsafe {
        let mut usage = std::mem::zeroed::<libc::rusage>();
        libc::getrusage(libc::RUSAGE_SELF, &mut usage);
        usage
    };
    let micros = |time: libc::timeval| time.tv_sec as u64 * 1_000_000 + time.tv_usec as u64;
    Duration::from_micros(micros(usage.ru_utime) + micros(usage.ru_stime))
}

/// Resets the process's peak resident set size (Linux: `clear_refs`), so the next phase is
/// measured on its own.
pub fn reset_peak_rss() {
    // Failing (an old kernel) only means the peak includes earlier phases.
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The peak resident set size since the last reset, in KiB (`VmHWM`).
pub fn peak_rss_kib() -> u64 {
    status_kib("VmHWM:")
}

/// The resident set size now, in KiB (`VmRSS`).
pub fn resident_kib() -> u64 {
    status_kib("VmRSS:")
}

/// A memory figure of this process's `/proc/self/status`, in KiB (0 where there is none).
fn status_kib(field: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            status
                .lines()
                .find_map(|line| line.strip_prefix(field))
                .and_then(|value| value.trim().trim_end_matches("kB").trim().parse().ok())
        })
        .unwrap_or(0)
}
