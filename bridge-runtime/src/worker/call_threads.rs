//! Where the calls whose futures are `Send` run: on the worker thread, or on a multi-thread
//! runtime, the bridge's own or the host's.

use crate::call::placement::CallPool;
use crate::error::Error;

/// Where a bridge runs the calls whose futures are `Send`: the worker thread (the default), a
/// multi-thread runtime of its own, or the host's runtime.
#[derive(Clone, Debug, Default)]
pub(crate) enum CallThreads {
    #[default]
    Worker,
    Own(usize),
    Host(tokio::runtime::Handle),
}

/// The runtime `Send` calls run on besides the worker's, while the worker runs: the handle to
/// spawn them with, and the runtime itself if the bridge owns it (shut down after the worker's).
pub(crate) struct CallPoolRuntime {
    pub(crate) pool: Option<CallPool>,
    pub(crate) owned: Option<tokio::runtime::Runtime>,
}

impl CallPoolRuntime {
    pub(crate) fn start(threads: CallThreads) -> Result<Self, Error> {
        Ok(match threads {
            CallThreads::Worker => Self {
                pool: None,
                owned: None,
            },
            CallThreads::Own(threads) => {
                let runtime = tokio::runtime::Builder::new_multi_thread()
                    .worker_threads(threads)
                    .thread_name("bridge-call")
                    .enable_all()
                    .build()
                    .map_err(|e| Error::Startup(format!("tokio runtime for calls: {e}")))?;
                Self {
                    pool: Some(CallPool::new(runtime.handle().clone())),
                    owned: Some(runtime),
                }
            }
            CallThreads::Host(handle) => Self {
                pool: Some(CallPool::new(handle)),
                owned: None,
            },
        })
    }
}
