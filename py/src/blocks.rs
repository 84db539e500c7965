//! `with breaker:` / `with bulkhead:` blocks (and `async with`): which
//! permit or slot a block's exit settles.
//!
//! A policy is shared, so its blocks' permits are kept on the policy,
//! each with its owner: the asyncio task running it, or else the thread.
//! An exit settles the newest block of its own owner. One that finds none
//! (the block was entered in another thread or task: an async generator
//! closed by the event loop's finalizer, a context manager handed to a
//! worker) settles the oldest open block in its place, so every entered
//! block settles exactly one permit and no half-open probe is lost, and
//! then raises a `RuntimeError` saying what happened.

use pyo3::gc::PyVisit;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::PyDict;
use pyo3::PyTraverseError;

/// Who entered a block.
pub enum Owner {
    /// Outside a running event loop: the thread (the address of a
    /// thread-local, unique among live threads).
    Thread(usize),
    /// The asyncio task running it.
    Task(Py<PyAny>),
}

impl Owner {
    fn is(&self, other: &Owner) -> bool {
        match (self, other) {
            (Owner::Thread(a), Owner::Thread(b)) => a == b,
            (Owner::Task(a), Owner::Task(b)) => a.is(b),
            _ => false,
        }
    }
}

thread_local! {
    static THREAD_KEY: u8 = const { 0 };
}

static GET_RUNNING_LOOP: PyOnceLock<Py<PyAny>> = PyOnceLock::new();
static CURRENT_TASK: PyOnceLock<TaskLookup> = PyOnceLock::new();

/// How to find the running task fast: `_asyncio.current_task` (C, 3.12+),
/// else the C module's `loop -> task` dict (3.9 to 3.11, where
/// `asyncio.current_task` is a Python function costing a frame), else the
/// public `asyncio.current_task`.
enum TaskLookup {
    Call(Py<PyAny>),
    Dict(Py<PyDict>),
}

fn task_lookup(py: Python<'_>) -> PyResult<&TaskLookup> {
    CURRENT_TASK.get_or_try_init(py, || {
        if let Ok(m) = py.import("_asyncio") {
            if let Ok(f) = m.getattr("current_task") {
                return Ok(TaskLookup::Call(f.unbind()));
            }
            if let Ok(d) = m.getattr("_current_tasks") {
                if let Ok(d) = d.cast_into::<PyDict>() {
                    return Ok(TaskLookup::Dict(d.unbind()));
                }
            }
        }
        let f = py.import("asyncio")?.getattr("current_task")?;
        Ok(TaskLookup::Call(f.unbind()))
    })
}

fn this_thread() -> Owner {
    Owner::Thread(THREAD_KEY.with(|k| std::ptr::from_ref(k) as usize))
}

/// The owner of a block entered now.
pub fn current(py: Python<'_>) -> PyResult<Owner> {
    let running = GET_RUNNING_LOOP
        .import(py, "asyncio", "_get_running_loop")?
        .call0()?;
    if !running.is_none() {
        let task = match task_lookup(py)? {
            TaskLookup::Call(f) => Some(f.bind(py).call1((running,))?),
            TaskLookup::Dict(d) => d.bind(py).get_item(running)?,
        };
        if let Some(task) = task.filter(|t| !t.is_none()) {
            return Ok(Owner::Task(task.unbind()));
        }
    }
    Ok(this_thread())
}

/// One open block: what its exit hands back (a breaker permit, a slot).
pub struct Block<T> {
    pub owner: Owner,
    pub held: T,
    pub started: u64,
}

/// The open blocks of one policy, oldest first, and how many of them a
/// task owns (none: an exit is its thread's, no event loop lookup needed).
pub struct Blocks<T> {
    open: Vec<Block<T>>,
    tasks: usize,
}

impl<T> Default for Blocks<T> {
    fn default() -> Self {
        Self {
            open: Vec::new(),
            tasks: 0,
        }
    }
}

/// What an exit found.
pub enum Exit<T> {
    /// Its own block.
    Own(Block<T>),
    /// Another owner's oldest block, settled in its place.
    Elsewhere(Block<T>),
    /// No open block at all.
    None,
}

/// The `RuntimeError` of a block exited in another thread or task.
pub fn exited_elsewhere(what: &Bound<'_, PyAny>, settled: bool) -> PyResult<PyErr> {
    let settled = if settled {
        "settled the oldest open block in its place"
    } else {
        "found no open block to settle"
    };
    Ok(pyo3::exceptions::PyRuntimeError::new_err(format!(
        "{}: a `with`/`async with` block was exited in another thread or asyncio task \
         than the one that entered it; fusewire {settled}. Enter and exit a block in \
         one thread or task, or take a permit or slot with `acquire()` and hand it \
         back where the call ends.",
        what.repr()?
    )))
}

impl<T> Blocks<T> {
    pub fn push(&mut self, block: Block<T>) {
        self.tasks += usize::from(matches!(block.owner, Owner::Task(_)));
        self.open.push(block);
    }

    /// An exit's block when no task owns an open block (the exit is then
    /// its thread's, no event loop lookup needed); `None` when the owner
    /// must be looked up first.
    pub fn take_own(&mut self) -> Option<Exit<T>> {
        (self.tasks == 0).then(|| self.take(None))
    }

    /// The block an exit by `owner` (`None`: this thread) settles.
    pub fn take(&mut self, owner: Option<&Owner>) -> Exit<T> {
        let thread = this_thread();
        let owner = owner.unwrap_or(&thread);
        let found = match self.open.iter().rposition(|b| b.owner.is(owner)) {
            Some(i) => Exit::Own(self.open.remove(i)),
            None if self.open.is_empty() => return Exit::None,
            None => Exit::Elsewhere(self.open.remove(0)),
        };
        if let Exit::Own(b) | Exit::Elsewhere(b) = &found {
            self.tasks -= usize::from(matches!(b.owner, Owner::Task(_)));
        }
        found
    }

    pub fn traverse(&self, visit: &PyVisit<'_>) -> Result<(), PyTraverseError> {
        for b in &self.open {
            if let Owner::Task(t) = &b.owner {
                visit.call(t)?;
            }
        }
        Ok(())
    }
}
