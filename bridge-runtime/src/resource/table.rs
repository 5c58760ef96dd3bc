//! The worker's table of the resources scripts hold: each value with the lock that orders the
//! calls on it, found by its token's id, and released on the worker however its script ends.
//!
//! Worker-local (`Rc`, `RefCell`): the values never leave the worker thread, so they need not be
//! `Send`, and no lock but the per-resource one is ever taken.

use crate::catch_unwind::{catch_drop_panic, CatchUnwind};
use crate::error::{CallErrorKind, CallFailure};
use crate::resource::closes::Closes;
use crate::resource::token::{NewResource, Releases, ResourceRef, TokenInner};
use crate::resource::value::{CloseHook, Resource, ScriptResource};
use crate::sync::control::CallScope;
use std::any::Any;
use std::cell::{Cell, RefCell};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::hash::{BuildHasherDefault, Hasher};
use std::pin::Pin;
use std::rc::Rc;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::RwLock;

/// A resource's value behind the lock its calls take: `&self` methods share it, `&mut self`
/// and `self` methods take it alone, in the order asked (tokio's lock is fair). `None` once a
/// `self` method took the value.
pub(crate) type Slot<T> = Arc<RwLock<Option<T>>>;

/// The table's map: every call on a resource looks its id up, and ids are the bridge's own
/// counter (no script picks one, so there is no flood of colliding keys to guard against), so
/// a multiply does where SipHash took about a tenth of a method call's own cost.
type IdMap<V> = HashMap<u64, V, BuildHasherDefault<IdHasher>>;

/// Fibonacci hashing of a `u64` id: spreads consecutive ids over both the low bits (the
/// bucket) and the high bits (the map's tag byte).
#[derive(Default)]
struct IdHasher(u64);

impl Hasher for IdHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        for byte in bytes {
            self.write_u64(self.0.rotate_left(8) ^ u64::from(*byte));
        }
    }

    fn write_u64(&mut self, id: u64) {
        self.0 = id.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    }
}

/// What the worker settles on for its resources.
#[derive(Clone, Copy, Debug)]
pub(crate) struct ResourceSettings {
    /// At most this many open resources per script.
    pub(crate) max_per_script: usize,
    /// How long a close hook may run.
    pub(crate) close_timeout: Duration,
}

impl ResourceSettings {
    /// How long a shutting-down worker lets the tasks its closed resources spawned run on (a
    /// pooled connection goes back to its pool in a task of its own).
    pub(crate) fn settle_time(&self) -> Duration {
        self.close_timeout.min(Duration::from_millis(500))
    }
}

/// Every script's resources, on the worker.
pub(crate) struct ResourceTables {
    entries: RefCell<IdMap<Entry>>,
    /// For each script holding any (keyed by its scope's address, kept alive meanwhile by the
    /// task that ends them with the script), the ids of its open resources.
    scripts: RefCell<HashMap<usize, HashSet<u64>>>,
    next_id: Cell<u64>,
    releases: Arc<Releases>,
    settings: ResourceSettings,
    closes: Closes,
}

/// One resource in the table.
struct Entry {
    /// Its script's scope address.
    owner: usize,
    state: EntryState,
}

enum EntryState {
    Open {
        /// The `OpenResource<T>`, for calls to downcast.
        typed: Rc<dyn Any>,
        /// The same, for closing without knowing `T`.
        closing: Rc<dyn Closing>,
    },
    /// A method taking `self` took the value; the token is still about.
    Consumed { by: &'static str },
}

/// A resource's value and its close hook.
struct OpenResource<T> {
    slot: Slot<T>,
    close: RefCell<Option<CloseHook<T>>>,
}

/// Closing an open resource whose type is erased.
trait Closing {
    /// Waits for the calls on it to finish, then runs its close hook (bounded by `timeout`) or
    /// drops it; a panic in either is caught and reported.
    fn close(self: Rc<Self>, timeout: Duration) -> Pin<Box<dyn Future<Output = ()>>>;
}

impl<T: 'static> Closing for OpenResource<T> {
    fn close(self: Rc<Self>, timeout: Duration) -> Pin<Box<dyn Future<Output = ()>>> {
        Box::pin(async move {
            let hook = self.close.borrow_mut().take();
            let slot = self.slot.clone();
            drop(self);
            let closing = CatchUnwind::new(async move {
                let value = slot.write().await.take();
                // The last call on it may still hold the slot: it drops the value then.
                drop(slot);
                let (Some(value), Some(hook)) = (value, hook) else {
                    return;
                };
                let mut hook = std::pin::pin!(Some(hook(value)));
                let ran = tokio::time::timeout(
                    timeout,
                    std::future::poll_fn(|cx| match hook.as_mut().as_pin_mut() {
                        Some(running) => running.poll(cx),
                        None => std::task::Poll::Ready(()),
                    }),
                )
                .await;
                if ran.is_err() {
                    crate::trace::close_timed_out(timeout);
                }
                if let Some(panic) = catch_drop_panic(|| hook.as_mut().set(None)) {
                    crate::trace::drop_panicked("a resource's close hook", &panic);
                }
            });
            if let Err(panic) = closing.await {
                crate::trace::drop_panicked("a resource", &panic);
            }
        })
    }
}

impl ResourceTables {
    pub(crate) fn new(settings: ResourceSettings) -> Rc<Self> {
        Rc::new(Self {
            entries: RefCell::default(),
            scripts: RefCell::default(),
            next_id: Cell::new(1),
            releases: Arc::default(),
            settings,
            closes: Closes::new(),
        })
    }

    /// Keeps `resource` for the script whose calls share `scope`, and gives its first token;
    /// the first resource of a script also starts the task that ends them all with the script.
    ///
    /// Refused (and closed at once) past the script's `max_resources`, or for a script already
    /// stopped, whose token would never reach it.
    pub(crate) fn keep<T: ScriptResource>(
        self: &Rc<Self>,
        resource: Resource<T>,
        scope: &Arc<CallScope>,
    ) -> Result<NewResource<T>, CallFailure> {
        let open = Rc::new(OpenResource {
            slot: Arc::new(RwLock::new(Some(resource.value))),
            close: RefCell::new(resource.close),
        });
        let owner = Arc::as_ptr(scope) as usize;
        if scope.is_set() {
            self.close_later(open);
            return Err(CallFailure::new(
                CallErrorKind::Stopped,
                "the script stopped before it could hold the resource".to_owned(),
            ));
        }
        let held = self.scripts.borrow().get(&owner).map_or(0, HashSet::len);
        let max = self.settings.max_per_script;
        if held >= max {
            self.close_later(open);
            return Err(CallFailure::new(
                CallErrorKind::Limit,
                format!(
                    "the script already holds {max} resources (max_resources); let some go \
                     (`x = ();`) or close them first"
                ),
            ));
        }
        let id = self.next_id.get();
        self.next_id.set(id + 1);
        let first = {
            let mut scripts = self.scripts.borrow_mut();
            let first = !scripts.contains_key(&owner);
            scripts.entry(owner).or_default().insert(id);
            first
        };
        let closing: Rc<dyn Closing> = open.clone();
        self.entries.borrow_mut().insert(
            id,
            Entry {
                owner,
                state: EntryState::Open {
                    typed: open,
                    closing,
                },
            },
        );
        if first {
            let tables = self.clone();
            let scope = scope.clone();
            tokio::task::spawn_local(async move {
                scope.wait().await;
                tables.end_script(owner);
            });
        }
        let token = TokenInner::new(id, scope, self.releases.clone());
        Ok(NewResource::new(token))
    }

    /// The slot of the resource `resource` refers to, for a call of the script of `scope`.
    pub(crate) fn slot<T: ScriptResource>(
        &self,
        resource: &ResourceRef<T>,
        scope: &Arc<CallScope>,
    ) -> Result<Slot<T>, CallFailure> {
        self.with_slot(resource, scope, Arc::clone)
    }

    /// `use_slot` applied to the slot of the resource `resource` refers to, for a call of the
    /// script of `scope`, while the table lends it: a lock taken at once then costs no count
    /// of the slot's own but the guard's.
    pub(crate) fn with_slot<T: ScriptResource, R>(
        &self,
        resource: &ResourceRef<T>,
        scope: &Arc<CallScope>,
        use_slot: impl FnOnce(&Slot<T>) -> R,
    ) -> Result<R, CallFailure> {
        let name = T::TYPE_NAME;
        let entries = self.entries.borrow();
        let entry = entries
            .get(&resource.id)
            .filter(|entry| entry.owner == Arc::as_ptr(scope) as usize);
        match entry.map(|entry| &entry.state) {
            Some(EntryState::Open { typed, .. }) => typed
                .downcast_ref::<OpenResource<T>>()
                .map(|open| use_slot(&open.slot))
                .ok_or_else(|| {
                    CallFailure::new(
                        CallErrorKind::Argument,
                        format!("this value is not a {name}"),
                    )
                }),
            Some(EntryState::Consumed { by }) => Err(consumed(name, by)),
            None => Err(CallFailure::new(
                CallErrorKind::Closed,
                format!("this {name} is no longer open: its script ended"),
            )),
        }
    }

    /// The error of a call on the resource `resource` refers to, found taken by a `self`
    /// method once the call had its turn.
    pub(crate) fn taken<T: ScriptResource>(&self, resource: &ResourceRef<T>) -> CallFailure {
        let by = match self.entries.borrow().get(&resource.id) {
            Some(Entry {
                state: EntryState::Consumed { by },
                ..
            }) => by,
            _ => "a method taking `self`",
        };
        consumed(T::TYPE_NAME, by)
    }

    /// Marks the resource `resource` refers to as consumed by the method `by`: its value was
    /// taken, and its close hook will not run.
    pub(crate) fn consume<T: ScriptResource>(&self, resource: &ResourceRef<T>, by: &'static str) {
        let id = resource.id;
        let mut entries = self.entries.borrow_mut();
        let Some(entry) = entries.get_mut(&id) else {
            return;
        };
        if let EntryState::Open { typed, .. } = &entry.state {
            if let Ok(open) = typed.clone().downcast::<OpenResource<T>>() {
                drop_quietly_hook(open.close.borrow_mut().take());
            }
        }
        entry.state = EntryState::Consumed { by };
        if let Some(ids) = self.scripts.borrow_mut().get_mut(&entry.owner) {
            ids.remove(&id);
        }
    }

    /// Releases every resource whose last token went, if any did: called before each call is
    /// started, and by [`serve_releases`](Self::serve_releases) while no calls come.
    #[inline]
    pub(crate) fn release_dropped(&self) {
        if self.releases.any() {
            self.release_now();
        }
    }

    fn release_now(&self) {
        for id in self.releases.take() {
            let Some(entry) = self.entries.borrow_mut().remove(&id) else {
                continue;
            };
            if let Some(ids) = self.scripts.borrow_mut().get_mut(&entry.owner) {
                ids.remove(&id);
            }
            if let EntryState::Open { closing, .. } = entry.state {
                self.close_later(closing);
            }
        }
    }

    /// Runs [`release_dropped`](Self::release_dropped) each time a token's last copy goes.
    pub(crate) async fn serve_releases(self: Rc<Self>) {
        loop {
            self.releases.added().await;
            self.release_dropped();
        }
    }

    /// Closes every resource the script with the scope at `owner` still holds: it ended.
    fn end_script(&self, owner: usize) {
        self.scripts.borrow_mut().remove(&owner);
        let ended: Vec<Entry> = {
            let mut entries = self.entries.borrow_mut();
            let ids: Vec<u64> = entries
                .iter()
                .filter(|(_, entry)| entry.owner == owner)
                .map(|(id, _)| *id)
                .collect();
            ids.iter().filter_map(|id| entries.remove(id)).collect()
        };
        for entry in ended {
            if let EntryState::Open { closing, .. } = entry.state {
                self.close_later(closing);
            }
        }
    }

    fn close_later(&self, closing: Rc<dyn Closing>) {
        self.closes
            .start(closing.close(self.settings.close_timeout));
    }

    /// Runs `serving` (the worker serving calls, in a local set of its own) on `runtime`, the
    /// closes of the resources its scripts let go running beside it.
    pub(crate) fn serve<F: Future>(
        &self,
        runtime: &tokio::runtime::Runtime,
        serving: F,
    ) -> F::Output {
        self.closes.run(runtime, serving)
    }

    /// Closes every resource still in the table, and lets the closes already under way end:
    /// the bridge is shutting down, and its calls were already dropped (see
    /// [`close_all`](Self::close_all)). Returns how many it closed.
    pub(crate) fn shut_down(&self, runtime: &tokio::runtime::Runtime) -> usize {
        self.closes.run(runtime, self.close_all())
    }

    /// Closes every resource still in the table (those whose last token went but which were
    /// not released yet among them), all at once, each hook bounded by the close timeout, and
    /// waits for every close under way, the whole bounded by twice that timeout.
    async fn close_all(&self) -> usize {
        let open: Vec<Rc<dyn Closing>> = self
            .entries
            .borrow_mut()
            .drain()
            .filter_map(|(_, entry)| match entry.state {
                EntryState::Open { closing, .. } => Some(closing),
                EntryState::Consumed { .. } => None,
            })
            .collect();
        self.scripts.borrow_mut().clear();
        let count = open.len();
        for closing in open {
            self.close_later(closing);
        }
        // A call's guard that host code moved into a task of its own would hold its resource
        // past every call: waiting for that unbounded would hang the bridge's drop.
        let limit = self.settings.close_timeout.saturating_mul(2);
        if tokio::time::timeout(limit, self.closes.all_ended())
            .await
            .is_err()
        {
            crate::trace::close_all_gave_up(limit);
        }
        count
    }
}

fn consumed(name: &str, by: &str) -> CallFailure {
    CallFailure::new(
        CallErrorKind::Closed,
        format!("this {name} was closed by `{by}`"),
    )
}

fn drop_quietly_hook<T>(hook: Option<T>) {
    if let Some(panic) = catch_drop_panic(move || drop(hook)) {
        crate::trace::drop_panicked("a resource's close hook", &panic);
    }
}
