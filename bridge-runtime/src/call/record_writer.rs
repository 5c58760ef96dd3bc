//! The record's writer runs on a thread of its own: a writer that blocks (a stalled pipe, a slow
//! disk) or panics must never hold up a script, its deadline or its neighbours. Lines wait in a
//! bounded buffer; a call whose line finds it full is not recorded and fails with a `recording`
//! error at once, instead of waiting for the writer.

use crate::catch_unwind::{describe_panic, drop_quietly};
use crossbeam_channel::{Receiver, Sender, TrySendError};
use std::io::Write;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

/// Recorded lines that may wait for the writer before calls fail for want of room.
pub(crate) const RECORD_BUFFER_LINES: usize = 4096;

/// How long dropping the bridge waits for the writer to write what is buffered.
const FLUSH_ON_DROP: Duration = Duration::from_secs(5);

/// The engine threads' end of the record's writer thread.
pub(crate) struct RecordWriter {
    lines: Option<Sender<Vec<u8>>>,
    /// Why the writer stopped, once it has.
    failure: Arc<Mutex<Option<String>>>,
    /// Disconnected when the writer thread is done.
    done: Receiver<()>,
}

impl RecordWriter {
    /// Starts the thread that writes to `writer`.
    pub(crate) fn start(writer: Box<dyn Write + Send>) -> std::io::Result<Self> {
        let (lines, to_write) = crossbeam_channel::bounded(RECORD_BUFFER_LINES);
        let (finished, done) = crossbeam_channel::bounded::<()>(0);
        let failure = Arc::new(Mutex::new(None));
        let failed = failure.clone();
        std::thread::Builder::new()
            .name("bridge-record".to_owned())
            .spawn(move || {
                let _finished = finished;
                write_lines(writer, &to_write, &failed);
            })?;
        Ok(Self {
            lines: Some(lines),
            failure,
            done,
        })
    }

    /// Hands `line` to the writer; fails, saying why, if the writer stopped or its buffer is full.
    pub(crate) fn write(&self, line: Vec<u8>) -> Result<(), String> {
        if let Some(failure) = self.failure() {
            return Err(failure);
        }
        let Some(lines) = &self.lines else {
            return Err("the record's writer has stopped".to_owned());
        };
        match lines.try_send(line) {
            Ok(()) => Ok(()),
            Err(TrySendError::Full(_)) => Err(format!(
                "the call could not be recorded: {RECORD_BUFFER_LINES} lines already wait for a \
                 writer that is not keeping up"
            )),
            Err(TrySendError::Disconnected(_)) => Err(self
                .failure()
                .unwrap_or_else(|| "the record's writer has stopped".to_owned())),
        }
    }

    fn failure(&self) -> Option<String> {
        let failure = self.failure.lock().unwrap_or_else(PoisonError::into_inner);
        failure.as_ref().map(|why| {
            format!("the call could not be recorded: {why}; nothing is recorded after that")
        })
    }
}

impl Drop for RecordWriter {
    /// Lets the writer write what is buffered, waiting at most [`FLUSH_ON_DROP`] for it.
    fn drop(&mut self) {
        drop(self.lines.take());
        let _ = self.done.recv_timeout(FLUSH_ON_DROP);
    }
}

/// The writer thread's body: writes and flushes each line until the channel closes, or until the
/// writer fails or panics (then `failure` says why, and the thread stops).
fn write_lines(
    mut writer: Box<dyn Write + Send>,
    lines: &Receiver<Vec<u8>>,
    failure: &Mutex<Option<String>>,
) {
    for line in lines {
        let written = catch_unwind(AssertUnwindSafe(|| {
            writer.write_all(&line).and_then(|()| writer.flush())
        }));
        let why = match written {
            Ok(Ok(())) => continue,
            Ok(Err(error)) => format!("writing the record failed: {error}"),
            Err(panic) => format!("the record's writer panicked: {}", describe_panic(panic)),
        };
        *failure.lock().unwrap_or_else(PoisonError::into_inner) = Some(why);
        break;
    }
    drop_quietly(writer);
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A writer that blocks until told to go on.
    struct Stalled(Receiver<()>);

    impl Write for Stalled {
        fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
            let _ = self.0.recv();
            Ok(bytes.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_stalled_writer_fills_the_buffer_and_then_calls_fail_without_waiting() {
        let (go_on, stalled) = crossbeam_channel::unbounded();
        let writer = RecordWriter::start(Box::new(Stalled(stalled))).unwrap();
        // One line is taken by the stalled writer, the buffer holds the rest.
        let accepted = (0..RECORD_BUFFER_LINES + 10)
            .take_while(|_| writer.write(b"line\n".to_vec()).is_ok())
            .count();
        assert!(
            (RECORD_BUFFER_LINES..=RECORD_BUFFER_LINES + 1).contains(&accepted),
            "{accepted}"
        );
        let refused = writer.write(b"one more\n".to_vec()).unwrap_err();
        assert!(refused.contains("not keeping up"), "{refused}");
        drop(go_on);
    }

    struct Panicking;

    impl Write for Panicking {
        fn write(&mut self, _: &[u8]) -> std::io::Result<usize> {
            panic!("the writer broke")
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    #[test]
    fn a_panicking_writer_makes_later_calls_fail_naming_the_panic() {
        let writer = RecordWriter::start(Box::new(Panicking)).unwrap();
        writer.write(b"first\n".to_vec()).unwrap();
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        let refused = loop {
            match writer.write(b"next\n".to_vec()) {
                Err(why) => break why,
                Ok(()) if std::time::Instant::now() < deadline => {
                    std::thread::sleep(Duration::from_millis(1))
                }
                Ok(()) => panic!("the writer's panic was never reported"),
            }
        };
        assert!(refused.contains("the writer broke"), "{refused}");
    }
}
