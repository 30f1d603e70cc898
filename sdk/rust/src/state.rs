//! Keyed state (ABI §4.2) and broadcast state (§4.8), the process, co_process
//! and reduce kinds' context, and task info (ABI §4.3).

use crate::abi::Collector;
use crate::{host, json, Error, Output, Result};

const ABSENT: i32 = -1;
const UNSUPPORTED: i32 = -2;
const INVALID: i32 = -3;

/// The kind of a keyed state.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum StateKind {
    Value,
    List,
    Map,
    Reducing,
    Aggregating,
    /// A map shared by every key of a subtask, written only from a co_process
    /// function's broadcast input (ABI §4.8).
    Broadcast,
}

impl StateKind {
    pub(crate) fn name(self) -> &'static str {
        match self {
            StateKind::Value => "value",
            StateKind::List => "list",
            StateKind::Map => "map",
            StateKind::Reducing => "reducing",
            StateKind::Aggregating => "aggregating",
            StateKind::Broadcast => "broadcast",
        }
    }
}

/// One declared state, as the module description lists it.
#[derive(Clone, Debug)]
pub(crate) struct StateDecl {
    pub(crate) name: &'static str,
    pub(crate) kind: StateKind,
    pub(crate) ttl_ms: u64,
}

/// The keyed state a process function declares, in state-number order: build it
/// before registering the function, keep the handles its methods return (they
/// are `Copy`, for the closure or struct to hold), and hand it to
/// [`crate::Module::process`].
///
/// `ttl_ms` is the time to live of each entry in milliseconds, 0 for none. State
/// names are 1–128 characters from `[A-Za-z0-9_.-]`, unique in the function; they
/// map the state in checkpoints, so renaming one loses it. A bad or repeated name
/// panics at start-up.
pub struct States {
    pub(crate) decls: Vec<StateDecl>,
    /// Tells this declaration's handles from another's, so that a handle used
    /// in another function's call is refused instead of reaching that
    /// function's state of the same number. 0 is no declaration.
    pub(crate) id: u32,
}

static mut NEXT_STATES_ID: u32 = 1;

impl Default for States {
    fn default() -> States {
        States::new()
    }
}

impl States {
    pub fn new() -> States {
        // Safety: a Wasm instance is single-threaded; natively, declarations in
        // tests only need distinct ids per thread's use, and races would at worst
        // repeat an id.
        let id = unsafe {
            let id = NEXT_STATES_ID;
            NEXT_STATES_ID = NEXT_STATES_ID.wrapping_add(1).max(1);
            id
        };
        States { decls: Vec::new(), id }
    }
    fn add(&mut self, name: &'static str, kind: StateKind, ttl_ms: u64) -> Handle {
        assert!(crate::valid_name(name), "weir: bad state name {:?}", name);
        assert!(self.decls.iter().all(|d| d.name != name), "weir: state {:?} declared twice", name);
        self.decls.push(StateDecl { name, kind, ttl_ms });
        Handle { index: (self.decls.len() - 1) as u32, name, states: self.id }
    }
    /// Declares a value state.
    pub fn value(&mut self, name: &'static str, ttl_ms: u64) -> ValueState {
        ValueState(self.add(name, StateKind::Value, ttl_ms))
    }
    /// Declares a state of kind reducing, used like a value state.
    pub fn reducing(&mut self, name: &'static str, ttl_ms: u64) -> ValueState {
        ValueState(self.add(name, StateKind::Reducing, ttl_ms))
    }
    /// Declares a state of kind aggregating, used like a value state.
    pub fn aggregating(&mut self, name: &'static str, ttl_ms: u64) -> ValueState {
        ValueState(self.add(name, StateKind::Aggregating, ttl_ms))
    }
    /// Declares a list state.
    pub fn list(&mut self, name: &'static str, ttl_ms: u64) -> ListState {
        ListState(self.add(name, StateKind::List, ttl_ms))
    }
    /// Declares a map state.
    pub fn map(&mut self, name: &'static str, ttl_ms: u64) -> MapState {
        MapState(self.add(name, StateKind::Map, ttl_ms))
    }
    /// Declares a broadcast state (ABI §4.8): a map not scoped to a key, one per
    /// subtask, that a co_process function writes from its broadcast input
    /// (`process2`) and reads everywhere. It has no TTL.
    pub fn broadcast(&mut self, name: &'static str) -> BroadcastState {
        BroadcastState(self.add(name, StateKind::Broadcast, 0))
    }
}

/// What every handle is: the state's number and its name, for error messages.
#[derive(Clone, Copy, Debug)]
struct Handle {
    index: u32,
    name: &'static str,
    /// The id of the States that declared it.
    states: u32,
}

fn state_error(op: &str, name: &str, code: i32) -> Error {
    state_error_why(op, name, code, "")
}

/// As state_error, with `hint` after an INVALID answer.
fn state_error_why(op: &str, name: &str, code: i32, hint: &str) -> Error {
    let why = match code {
        INVALID if !hint.is_empty() => format!("the host refused the call as invalid (INVALID): {}", hint),
        UNSUPPORTED => "the host does not support keyed state (UNSUPPORTED)".to_string(),
        INVALID => "the host refused the call as invalid (INVALID)".to_string(),
        _ => format!("unexpected return code {}", code),
    };
    Error::new(format!("weir: {} state {:?}: {}", op, name, why))
}

impl Handle {
    /// Refuses a handle of another function's declaration.
    fn usable(self, ctx: &Context, op: &str) -> Result<()> {
        if self.states == ctx.states {
            return Ok(());
        }
        Err(Error::new(format!(
            "weir: {} state {:?}: the state belongs to another function's States",
            op, self.name
        )))
    }
    /// Reads the entry for `sub` into `buf`, growing it and reading again when
    /// the value does not fit (ABI §4.2); the value's length, or None if absent.
    /// `buf`'s length is the buffer's size: it is resized only to grow.
    fn get(self, record: u32, op: &str, sub: &[u8], buf: &mut Vec<u8>) -> Result<Option<usize>> {
        // (The caller has checked the handle: get also serves the reduce loop,
        // whose state has no handle of the user's.)
        if buf.is_empty() {
            buf.resize(64, 0);
        }
        loop {
            let n = host::state_get(self.index, record, sub, buf);
            if n == ABSENT {
                return Ok(None);
            }
            if n < 0 {
                return Err(state_error(op, self.name, n));
            }
            if n as usize <= buf.len() {
                return Ok(Some(n as usize));
            }
            buf.resize(n as usize, 0);
        }
    }
    fn check(self, op: &str, code: i32) -> Result<()> {
        if code == 0 {
            Ok(())
        } else {
            Err(state_error(op, self.name, code))
        }
    }
    fn put(self, ctx: &Context, op: &str, sub: &[u8], val: &[u8]) -> Result<()> {
        self.usable(ctx, op)?;
        self.check(op, host::state_put(self.index, ctx.record, sub, val))
    }
    fn delete(self, ctx: &Context, op: &str, sub: &[u8]) -> Result<()> {
        self.usable(ctx, op)?;
        self.check(op, host::state_delete(self.index, ctx.record, sub))
    }
    /// The cursor protocol of state_iter: entry `cursor` into the iteration
    /// buffer (grown and read again when it does not fit) until -1. The buffer
    /// is taken out of the context during `f`, so that `f` may use the context
    /// (emit, other state, even a nested iteration, which then gets a buffer of
    /// its own).
    fn each<F: FnMut(&[u8], &[u8], &mut Context) -> Result<bool>>(self, ctx: &mut Context, mut f: F) -> Result<()> {
        self.usable(ctx, "iterating")?;
        let mut buf = std::mem::take(ctx.iter_buf);
        if buf.is_empty() {
            buf.resize(64, 0);
        }
        let mut cursor = 0u32;
        let r = loop {
            let n = host::state_iter(self.index, ctx.record, cursor, &mut buf);
            if n == ABSENT {
                break Ok(());
            }
            if n < 0 {
                break Err(state_error("iterating", self.name, n));
            }
            if n as usize > buf.len() {
                buf.resize(n as usize, 0);
                continue;
            }
            let (sub, val) = match decode_entry(&buf[..n as usize]) {
                Some(e) => e,
                None => {
                    break Err(Error::new(format!(
                        "weir: iterating state {:?}: the host sent a malformed entry (entry {})",
                        self.name, cursor
                    )))
                }
            };
            match f(sub, val, ctx) {
                Ok(true) => cursor += 1,
                Ok(false) => break Ok(()),
                Err(e) => break Err(e),
            }
        };
        *ctx.iter_buf = buf;
        r
    }
}

/// Splits an entry of state_iter: one record frame (ABI §5) with PAYLOAD and, for
/// a map, KEY (the sub-key).
fn decode_entry(b: &[u8]) -> Option<(&[u8], &[u8])> {
    let (&flags, mut rest) = b.split_first()?;
    if flags & !(0x01 | 0x04) != 0 {
        return None;
    }
    let mut field = |present: bool| -> Option<&[u8]> {
        if !present {
            return Some(&[]);
        }
        if rest.len() < 4 {
            return None;
        }
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if rest.len() - 4 < n {
            return None;
        }
        let f = &rest[4..4 + n];
        rest = &rest[4 + n..];
        Some(f)
    };
    let sub = field(flags & 0x01 != 0)?;
    let val = field(flags & 0x04 != 0)?;
    if rest.is_empty() {
        Some((sub, val))
    } else {
        None
    }
}

/// A value per key (kinds value, reducing, aggregating).
#[derive(Clone, Copy, Debug)]
pub struct ValueState(Handle);

impl ValueState {
    /// The current record's value, if any: a view of the context's buffer, valid
    /// until the next state call.
    pub fn get<'c>(&self, ctx: &'c mut Context) -> Result<Option<&'c [u8]>> {
        self.0.usable(ctx, "reading")?;
        let n = self.0.get(ctx.record, "reading", &[], ctx.buf)?;
        Ok(n.map(move |n| &ctx.buf[..n]))
    }
    /// Sets the current record's value to a copy of `v`.
    pub fn put(&self, ctx: &mut Context, v: &[u8]) -> Result<()> {
        self.0.put(ctx, "writing", &[], v)
    }
    /// Removes the current record's value.
    pub fn clear(&self, ctx: &mut Context) -> Result<()> {
        self.0.delete(ctx, "clearing", &[])
    }
    /// The value as an `i64` stored by [`ValueState::put_i64`] (8 bytes, little
    /// endian); None when absent. A value of another length is an error.
    pub fn get_i64(&self, ctx: &mut Context) -> Result<Option<i64>> {
        let name = self.0.name;
        match self.get(ctx)? {
            None => Ok(None),
            Some(v) if v.len() == 8 => {
                let mut b = [0u8; 8];
                b.copy_from_slice(v);
                Ok(Some(i64::from_le_bytes(b)))
            }
            Some(v) => Err(Error::new(format!(
                "weir: reading state {:?}: the value is {} bytes, not an 8-byte little-endian i64",
                name,
                v.len()
            ))),
        }
    }
    /// Stores `n` as 8 bytes, little endian.
    pub fn put_i64(&self, ctx: &mut Context, n: i64) -> Result<()> {
        self.put(ctx, &n.to_le_bytes())
    }
}

/// A list of values per key.
#[derive(Clone, Copy, Debug)]
pub struct ListState(Handle);

impl ListState {
    /// Appends a copy of `v` to the current record's list.
    pub fn append(&self, ctx: &mut Context, v: &[u8]) -> Result<()> {
        let h = self.0;
        h.usable(ctx, "appending to")?;
        h.check("appending to", host::state_append(h.index, ctx.record, v))
    }
    /// Calls `f` with each element, in insertion order, until it returns
    /// `Ok(false)` or an error (which `for_each` returns).
    pub fn for_each<F: FnMut(&[u8], &mut Context) -> Result<bool>>(&self, ctx: &mut Context, mut f: F) -> Result<()> {
        self.0.each(ctx, |_, v, ctx| f(v, ctx))
    }
    /// Empties the current record's list.
    pub fn clear(&self, ctx: &mut Context) -> Result<()> {
        self.0.delete(ctx, "clearing", &[])
    }
}

/// A map from sub-keys to values per key.
#[derive(Clone, Copy, Debug)]
pub struct MapState(Handle);

impl MapState {
    /// The entry for `sub`, if any: a view of the context's buffer, valid until
    /// the next state call.
    pub fn get<'c>(&self, ctx: &'c mut Context, sub: &[u8]) -> Result<Option<&'c [u8]>> {
        self.0.usable(ctx, "reading")?;
        let n = self.0.get(ctx.record, "reading", sub, ctx.buf)?;
        Ok(n.map(move |n| &ctx.buf[..n]))
    }
    /// Sets the entry for `sub` to a copy of `v`.
    pub fn put(&self, ctx: &mut Context, sub: &[u8], v: &[u8]) -> Result<()> {
        self.0.put(ctx, "writing", sub, v)
    }
    /// Removes the entry for `sub`. An empty sub-key is refused: to the host it
    /// means the whole map (ABI §4.2); use [`MapState::clear`] for that.
    pub fn remove(&self, ctx: &mut Context, sub: &[u8]) -> Result<()> {
        if sub.is_empty() {
            return Err(Error::new(format!(
                "weir: deleting from state {:?}: an empty sub-key cannot be deleted on its own (it would clear the whole map; use clear)",
                self.0.name
            )));
        }
        self.0.delete(ctx, "deleting from", sub)
    }
    /// Calls `f` with each entry (sub-key, value), in byte order of the sub-keys,
    /// until it returns `Ok(false)` or an error.
    pub fn for_each<F: FnMut(&[u8], &[u8], &mut Context) -> Result<bool>>(&self, ctx: &mut Context, f: F) -> Result<()> {
        self.0.each(ctx, f)
    }
    /// Empties the current record's map.
    pub fn clear(&self, ctx: &mut Context) -> Result<()> {
        self.0.delete(ctx, "clearing", &[])
    }
}

/// A broadcast state (ABI §4.8): a map from sub-keys to values shared by every
/// key of the subtask, declared with [`States::broadcast`]. Every call of its
/// function may read it (`get`, `for_each`, with any record's context); only a
/// co_process function's `process2` calls, while it reads its broadcast input,
/// may write it (`put`, `remove`, `clear`): anywhere else the host refuses the
/// write and it returns an error saying so.
///
/// Every subtask sees the broadcast records in the same order: updates that
/// depend on those records alone keep the state the same on every subtask.
#[derive(Clone, Copy, Debug)]
pub struct BroadcastState(Handle);

/// Why a broadcast write was refused (INVALID), for its error message.
const BROADCAST_WRITE: &str = "broadcast state is writable only in process2, while reading the broadcast input (ABI §4.8)";

impl BroadcastState {
    /// The entry for `sub`, if any: a view of the context's buffer, valid until
    /// the next state call.
    pub fn get<'c>(&self, ctx: &'c mut Context, sub: &[u8]) -> Result<Option<&'c [u8]>> {
        self.0.usable(ctx, "reading")?;
        let n = self.0.get(ctx.record, "reading", sub, ctx.buf)?;
        Ok(n.map(move |n| &ctx.buf[..n]))
    }
    /// Sets the entry for `sub` to a copy of `v`. Only in `process2`.
    pub fn put(&self, ctx: &mut Context, sub: &[u8], v: &[u8]) -> Result<()> {
        let h = self.0;
        h.usable(ctx, "writing")?;
        match host::state_put(h.index, ctx.record, sub, v) {
            0 => Ok(()),
            code => Err(state_error_why("writing", h.name, code, BROADCAST_WRITE)),
        }
    }
    /// Removes the entry for `sub`. Only in `process2`. An empty sub-key is
    /// refused: to the host it means the whole map; use [`BroadcastState::clear`].
    pub fn remove(&self, ctx: &mut Context, sub: &[u8]) -> Result<()> {
        if sub.is_empty() {
            return Err(Error::new(format!(
                "weir: deleting from state {:?}: an empty sub-key cannot be deleted on its own (it would clear the whole map; use clear)",
                self.0.name
            )));
        }
        self.delete(ctx, "deleting from", sub)
    }
    /// Empties the map. Only in `process2`.
    pub fn clear(&self, ctx: &mut Context) -> Result<()> {
        self.delete(ctx, "clearing", &[])
    }
    fn delete(&self, ctx: &mut Context, op: &str, sub: &[u8]) -> Result<()> {
        let h = self.0;
        h.usable(ctx, op)?;
        match host::state_delete(h.index, ctx.record, sub) {
            0 => Ok(()),
            code => Err(state_error_why(op, h.name, code, BROADCAST_WRITE)),
        }
    }
    /// Calls `f` with each entry (sub-key, value), in byte order of the sub-keys,
    /// until it returns `Ok(false)` or an error.
    pub fn for_each<F: FnMut(&[u8], &[u8], &mut Context) -> Result<bool>>(&self, ctx: &mut Context, f: F) -> Result<()> {
        self.0.each(ctx, f)
    }
}

/// What a process function gets besides the record: its outputs (every one
/// derives from the current record, so keeps its key unless it sets another)
/// and the keyed state of the record's key. Valid during the call only.
pub struct Context<'f> {
    pub(crate) out: Collector<'f>,
    pub(crate) record: u32,
    /// The id of the function's States, which its handles carry.
    pub(crate) states: u32,
    /// The buffer state reads land in (its length is its usable size).
    pub(crate) buf: &'f mut Vec<u8>,
    /// The buffer iteration entries land in.
    pub(crate) iter_buf: &'f mut Vec<u8>,
}

impl<'f> Context<'f> {
    /// The current record's index in the batch.
    pub fn index(&self) -> u32 {
        self.record
    }
    /// Starts a new output to the main output (finishing the previous one).
    pub fn emit(&mut self) -> &mut Output {
        self.out.emit()
    }
    /// Starts a new output to output `tag` (`i + 1` for the `i`-th side output).
    pub fn emit_to(&mut self, tag: u32) -> &mut Output {
        self.out.emit_to(tag)
    }
    /// Emits an output on the main output with this payload, all else inherited.
    pub fn emit_payload(&mut self, p: &[u8]) {
        self.out.emit_payload(p)
    }
}

/// A process function: a keyed per-record function with keyed state, emitting
/// zero or more outputs per record through the [`Context`].
pub trait Process {
    /// Receives the step's `config`, a JSON object (`{}` when none), before any record.
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    fn process(&mut self, input: &crate::Record, ctx: &mut Context) -> Result<()>;
    /// Says that the function handles its timers in `on_timer` (ABI §4.4);
    /// without it a timer call is refused.
    fn has_timers(&self) -> bool {
        false
    }
    /// Handles a fired timer: `ctx` reaches the timer's key's state and timers,
    /// and emits outputs that inherit its key and time (set their payload).
    fn on_timer(&mut self, _timer: &crate::Timer, _ctx: &mut Context) -> Result<()> {
        Ok(())
    }
    /// Runs when the task ends normally.
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(&crate::Record, &mut Context) -> Result<()>> Process for F {
    fn process(&mut self, input: &crate::Record, ctx: &mut Context) -> Result<()> {
        self(input, ctx)
    }
}

/// A reduce function: combines a key's running value `acc` with the payload of
/// its next record, `value`, into the new running value, written over `acc`
/// (whose capacity is reused from record to record).
pub trait Reduce {
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    fn reduce(&mut self, acc: &mut Vec<u8>, value: &[u8]) -> Result<()>;
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(&mut Vec<u8>, &[u8]) -> Result<()>> Reduce for F {
    fn reduce(&mut self, acc: &mut Vec<u8>, value: &[u8]) -> Result<()> {
        self(acc, value)
    }
}

/// The name of the reducing state a reduce function declares (state 0): it maps
/// the running values in checkpoints.
pub(crate) const REDUCE_STATE: &str = "reduce";

/// The reduce loop of ABI §4.1 for record `record` with payload `payload`: the
/// new running value ends in `acc` (absent: the payload) and is stored.
pub(crate) fn reduce_one(f: &mut dyn Reduce, record: u32, payload: &[u8], acc: &mut Vec<u8>) -> Result<()> {
    let h = Handle { index: 0, name: REDUCE_STATE, states: 0 };
    // acc's length is its usable size while reading, as for every read buffer.
    let cap = acc.capacity().max(64);
    acc.resize(cap, 0);
    match h.get(record, "reading", &[], acc)? {
        Some(n) => {
            acc.truncate(n);
            f.reduce(acc, payload)?;
        }
        None => {
            acc.clear();
            acc.extend_from_slice(payload);
        }
    }
    h.check("writing", host::state_put(0, record, &[], acc))
}

/// The subtask's context (ABI §4.3).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TaskInfo {
    pub job_id: String,
    pub job_name: String,
    /// The step's id in the job spec.
    pub step: String,
    /// This subtask's index, from 0.
    pub subtask: i64,
    pub parallelism: i64,
    /// The job's number of key groups.
    pub max_parallelism: i64,
    /// The job's execution attempt: 1 for the first run, one more after every
    /// restart. For diagnostics and tests; results must not depend on it.
    pub attempt: i64,
}

static mut TASK_INFO: Option<TaskInfo> = None;

/// The subtask's context through `weir.task_info`, asked once and cached. Call it
/// from `open` or later. A member the host leaves out is the default value.
pub fn task_info() -> Result<&'static TaskInfo> {
    // Safety: a Wasm instance is single-threaded and the host never reenters it;
    // natively, tests that use it run on one thread.
    unsafe {
        if let Some(t) = &TASK_INFO {
            return Ok(t);
        }
        let t = read_task_info()?;
        TASK_INFO = Some(t);
        Ok(TASK_INFO.as_ref().unwrap())
    }
}

fn read_task_info() -> Result<TaskInfo> {
    let mut buf = vec![0u8; 256];
    loop {
        let n = host::task_info(&mut buf);
        if n < 0 {
            return Err(Error::new(format!("weir: reading task info: the host returned code {}", n)));
        }
        if n as usize <= buf.len() {
            buf.truncate(n as usize);
            break;
        }
        buf.resize(n as usize, 0);
    }
    parse_task_info(&buf)
}

pub(crate) fn parse_task_info(b: &[u8]) -> Result<TaskInfo> {
    if !json::valid_object(b) {
        return Err(Error::new(format!(
            "weir: reading task info: the host sent {:?}, not a JSON object",
            String::from_utf8_lossy(b)
        )));
    }
    let mut t = TaskInfo::default();
    for (name, dst) in [("job_id", &mut t.job_id), ("job_name", &mut t.job_name), ("step", &mut t.step)] {
        match json::get(b, name) {
            None | Some((_, json::Kind::Null)) => {}
            Some((raw, json::Kind::String)) => {
                let mut v = Vec::new();
                json::unquote_into(raw, &mut v);
                *dst = String::from_utf8_lossy(&v).into_owned();
            }
            Some(_) => return Err(Error::new(format!("weir: reading task info: {} is not a string", name))),
        }
    }
    for (name, dst) in [
        ("subtask", &mut t.subtask),
        ("parallelism", &mut t.parallelism),
        ("max_parallelism", &mut t.max_parallelism),
        ("attempt", &mut t.attempt),
    ] {
        match json::get(b, name) {
            None | Some((_, json::Kind::Null)) => {}
            Some(_) => {
                *dst = json::int(b, name)
                    .ok_or_else(|| Error::new(format!("weir: reading task info: {} is not an integer", name)))?
            }
        }
    }
    Ok(t)
}
