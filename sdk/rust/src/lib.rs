//! Weir UDF SDK for Rust: write Weir user-defined functions (UDFs) that compile to
//! WebAssembly (`wasm32-unknown-unknown` or `wasm32-wasi`) and run on Weir.
//!
//! It implements the guest side of the Weir Wasm ABI, version 1 (`sdk/ABI.md`):
//! the exports (made by [`export!`]), batch decoding, output framing and the
//! `weir.emit`, `weir.error` and `weir.log` imports. You register functions — the
//! traits [`Map`], [`Filter`], [`FlatMap`], [`KeySelector`], [`Process`],
//! [`Reduce`], [`Aggregate`], [`WindowProcess`], [`TimestampExtractor`],
//! [`CoProcess`], [`Trigger`] and [`Evictor`], or closures, which implement them —
//! in a function that [`export!`] names; the SDK calls it once, before the first
//! description or call. Process, co_process and reduce functions reach keyed and
//! broadcast state (declared with [`States`]) and [`task_info`] through the
//! `weir.state_*` and `weir.task_info` imports.
//!
//! ```ignore
//! fn register(m: &mut weir::Module) {
//!     m.map("upper", |r: &weir::Record, out: &mut weir::Output| {
//!         out.payload_mut().extend(r.payload().iter().map(u8::to_ascii_uppercase));
//!         Ok(())
//!     });
//! }
//! weir::export!(register);
//! ```
//!
//! Memory: the input buffer (`weir_alloc`), the output frame and each output's
//! buffers are kept and reused from batch to batch, so the per-record path
//! allocates nothing once they have grown. A [`Record`] borrows the input buffer and
//! is valid only during the call.

pub mod json;

mod abi;
mod co_process;
mod evictor;
mod host;
mod state;
mod trigger;
mod window;
#[cfg(test)]
mod call_tests;
#[cfg(test)]
mod co_process_tests;
#[cfg(test)]
mod state_tests;
#[cfg(test)]
mod trigger_tests;

pub use abi::{Collector, Output, Record, Headers};
pub use co_process::CoProcess;
pub use evictor::Evictor;
pub use trigger::{Trigger, TriggerAction, TriggerEvent, TriggerEventKind, TriggerResult};
pub use state::{task_info, BroadcastState, Context, ListState, MapState, Process, Reduce, StateKind, States, TaskInfo, ValueState};
pub use window::{Aggregate, Extracted, TimeDomain, Timer, TimestampExtractor, Window, WindowProcess};
use std::fmt;

/// The version of `sdk/ABI.md` this crate implements.
pub const ABI_VERSION: i32 = 1;
/// This crate's version, reported in the module description (`"sdk":"rust/…"`).
pub const VERSION: &str = "0.1.0";

/// The error a UDF returns: its message reaches the host through `weir.error`,
/// and the task fails with it.
#[derive(Clone, PartialEq, Eq)]
pub struct Error(String);

impl Error {
    /// An error with this message.
    pub fn new<S: Into<String>>(msg: S) -> Error {
        Error(msg.into())
    }
    /// The message.
    pub fn message(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.0, f)
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<&str> for Error {
    fn from(s: &str) -> Error {
        Error(s.to_string())
    }
}

impl From<String> for Error {
    fn from(s: String) -> Error {
        Error(s)
    }
}

/// The result of a UDF.
pub type Result<T> = core::result::Result<T, Error>;

/// Severity of a log line, as numbered by the `weir.log` import.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Level {
    Debug = 0,
    Info = 1,
    Warn = 2,
    Error = 3,
}

/// Writes one line to the worker's log through the host. It costs a host call:
/// keep it off the per-record path.
pub fn log(level: Level, msg: &str) {
    host::log(level as i32, msg.as_bytes());
}

/// A map: exactly one output per input record. Every field of the output that the
/// function does not set is inherited from the input record.
pub trait Map {
    /// Receives the step's `config`, a JSON object (`{}` when none), before any record.
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    fn map(&mut self, input: &Record, out: &mut Output) -> Result<()>;
    /// Runs when the task ends normally.
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A filter: keeps the input records for which it returns true, unchanged.
pub trait Filter {
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    fn filter(&mut self, input: &Record) -> Result<bool>;
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A flat_map: zero or more outputs per input record, through the collector.
pub trait FlatMap {
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    fn flat_map(&mut self, input: &Record, out: &mut Collector) -> Result<()>;
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

/// A key_selector (the function of a `key_by: {module, function}` step): gives
/// each input record its key. The SDK emits exactly one output per input record,
/// in order, with only the KEY flag set (ABI §4): the host keeps the record's
/// timestamp, payload and headers and replaces its key.
pub trait KeySelector {
    fn open(&mut self, _config: &[u8]) -> Result<()> {
        Ok(())
    }
    /// Appends the key of `input` to `key`, which is empty on entry (an empty key
    /// is a key too). The buffer keeps its capacity from record to record.
    fn key(&mut self, input: &Record, key: &mut Vec<u8>) -> Result<()>;
    fn close(&mut self) -> Result<()> {
        Ok(())
    }
}

impl<F: FnMut(&Record, &mut Output) -> Result<()>> Map for F {
    fn map(&mut self, input: &Record, out: &mut Output) -> Result<()> {
        self(input, out)
    }
}

impl<F: FnMut(&Record) -> Result<bool>> Filter for F {
    fn filter(&mut self, input: &Record) -> Result<bool> {
        self(input)
    }
}

impl<F: FnMut(&Record, &mut Collector) -> Result<()>> FlatMap for F {
    fn flat_map(&mut self, input: &Record, out: &mut Collector) -> Result<()> {
        self(input, out)
    }
}

impl<F: FnMut(&Record, &mut Vec<u8>) -> Result<()>> KeySelector for F {
    fn key(&mut self, input: &Record, key: &mut Vec<u8>) -> Result<()> {
        self(input, key)
    }
}

pub(crate) enum Function {
    Map(Box<dyn Map>),
    Filter(Box<dyn Filter>),
    FlatMap(Box<dyn FlatMap>),
    KeySelector(Box<dyn KeySelector>),
    Process(Box<dyn Process>),
    Reduce(Box<dyn Reduce>),
    Aggregate(Box<dyn Aggregate>),
    WindowProcess(Box<dyn WindowProcess>),
    Timestamp(Box<dyn TimestampExtractor>),
    CoProcess(Box<dyn CoProcess>),
    Trigger(Box<dyn Trigger>),
    Evictor(Box<dyn Evictor>),
}

pub(crate) struct Registered {
    pub(crate) name: &'static str,
    pub(crate) side_outputs: Vec<&'static str>,
    pub(crate) state: Vec<state::StateDecl>,
    /// The id of the States a process function was given (0 for none).
    pub(crate) states_id: u32,
    pub(crate) f: Function,
}

/// The module's functions, numbered from 0 in registration order (the `fn` index
/// of `weir_call`).
pub struct Module {
    pub(crate) functions: Vec<Registered>,
}

impl Module {
    /// Registers a map; returns its index. Names are 1–128 characters from
    /// `[A-Za-z0-9_.-]` and unique: a bad name panics at start-up, so the module is
    /// refused at upload.
    pub fn map<M: Map + 'static>(&mut self, name: &'static str, f: M) -> usize {
        self.add(name, Function::Map(Box::new(f)))
    }
    /// Registers a filter; returns its index.
    pub fn filter<F: Filter + 'static>(&mut self, name: &'static str, f: F) -> usize {
        self.add(name, Function::Filter(Box::new(f)))
    }
    /// Registers a flat_map; returns its index.
    pub fn flat_map<F: FlatMap + 'static>(&mut self, name: &'static str, f: F) -> usize {
        self.add(name, Function::FlatMap(Box::new(f)))
    }
    /// Registers a key_selector; returns its index.
    pub fn key_selector<K: KeySelector + 'static>(&mut self, name: &'static str, f: K) -> usize {
        self.add(name, Function::KeySelector(Box::new(f)))
    }
    /// Registers a process function with the keyed state `states` declares (state
    /// number `i` is the `i`-th declared); returns its index. Its step reads a
    /// keyed stream (`process` after a `key_by`).
    pub fn process<P: Process + 'static>(&mut self, name: &'static str, states: States, f: P) -> usize {
        let i = self.add(name, Function::Process(Box::new(f)));
        self.functions[i].state = states.decls;
        self.functions[i].states_id = states.id;
        i
    }
    /// Registers a process function and its on-timer callback (ABI §4.4), for a
    /// closure or any [`Process`]: `on_timer` runs once per fired timer of a timer
    /// call, in the order the host sends them, with a context for the timer's key
    /// (its state and timers; outputs inherit the timer's key and time). It takes
    /// the place of `P`'s own [`Process::on_timer`]. Returns the function's index.
    pub fn process_with_timers<P, T>(&mut self, name: &'static str, states: States, f: P, on_timer: T) -> usize
    where
        P: Process + 'static,
        T: FnMut(&Timer, &mut Context) -> Result<()> + 'static,
    {
        self.process(name, states, window::WithTimers { f, on_timer })
    }
    /// Registers a co_process function (ABI §4.7), the function of a step with
    /// `inputs: [first, second]` and `co_process: {module, function}`, with the
    /// state `states` declares (keyed state shared by both inputs, and
    /// [`States::broadcast`] state); returns its index. `f` is any [`CoProcess`],
    /// a pair of closures `(on_first, on_second)` included.
    pub fn co_process<C: CoProcess + 'static>(&mut self, name: &'static str, states: States, f: C) -> usize {
        let i = self.add(name, Function::CoProcess(Box::new(f)));
        self.functions[i].state = states.decls;
        self.functions[i].states_id = states.id;
        i
    }
    /// Registers a co_process function and its on-timer callback (ABI §4.4,
    /// §4.7), as [`Module::process_with_timers`] does for a process function.
    pub fn co_process_with_timers<C, T>(&mut self, name: &'static str, states: States, f: C, on_timer: T) -> usize
    where
        C: CoProcess + 'static,
        T: FnMut(&Timer, &mut Context) -> Result<()> + 'static,
    {
        self.co_process(name, states, co_process::CoWithTimers { f, on_timer })
    }
    /// Registers a reduce function (ABI §4.1); returns its index. The SDK declares
    /// its state (state 0, kind reducing, named `reduce`) and, for each record in
    /// order, makes the key's running value the payload if there is none yet,
    /// else `f(running value, payload)`, stores it and emits it as the record's
    /// one output.
    pub fn reduce<R: Reduce + 'static>(&mut self, name: &'static str, f: R) -> usize {
        let i = self.add(name, Function::Reduce(Box::new(f)));
        self.functions[i].state =
            vec![state::StateDecl { name: state::REDUCE_STATE, kind: StateKind::Reducing, ttl_ms: 0 }];
        i
    }
    /// Registers an aggregate function (ABI §4.5), a window step's `aggregate:
    /// {module, function}`; returns its index.
    pub fn aggregate<A: Aggregate + 'static>(&mut self, name: &'static str, f: A) -> usize {
        self.add(name, Function::Aggregate(Box::new(f)))
    }
    /// Registers a window process function (ABI §4.6); returns its index.
    pub fn window_process<W: WindowProcess + 'static>(&mut self, name: &'static str, f: W) -> usize {
        self.add(name, Function::WindowProcess(Box::new(f)))
    }
    /// Registers a timestamp extractor, a source's `timestamps: {udf: {module,
    /// function}}` (ABI §4); returns its index.
    pub fn timestamp_extractor<T: TimestampExtractor + 'static>(&mut self, name: &'static str, f: T) -> usize {
        self.add(name, Function::Timestamp(Box::new(f)))
    }
    /// Registers a trigger function (ABI §4.9), a window step's `trigger:
    /// {module, function}`; returns its index.
    pub fn trigger<T: Trigger + 'static>(&mut self, name: &'static str, f: T) -> usize {
        self.add(name, Function::Trigger(Box::new(f)))
    }
    /// Registers an evictor function (ABI §4.10), a window step's `evictor:
    /// {module, function}`; returns its index.
    pub fn evictor<E: Evictor + 'static>(&mut self, name: &'static str, f: E) -> usize {
        self.add(name, Function::Evictor(Box::new(f)))
    }
    /// Declares the side outputs of function `index`: output tag `i + 1` is
    /// `names[i]` ([`Collector::emit_to`], [`Context::emit_to`], [`Output::set_tag`]).
    /// A key_selector, reduce, trigger or evictor function has none (ABI §2, §4:
    /// its outputs are fixed): declaring some panics at start-up.
    pub fn side_outputs(&mut self, index: usize, names: &[&'static str]) {
        assert!(
            names.is_empty()
                || !matches!(
                    self.functions[index].f,
                    Function::KeySelector(_) | Function::Reduce(_) | Function::Trigger(_) | Function::Evictor(_)
                ),
            "weir: {:?}: a key_selector, reduce, trigger or evictor function has no side outputs",
            self.functions[index].name
        );
        for n in names {
            assert!(valid_name(n), "weir: bad side output name {:?}", n);
        }
        self.functions[index].side_outputs.extend_from_slice(names);
    }

    fn add(&mut self, name: &'static str, f: Function) -> usize {
        assert!(valid_name(name), "weir: bad function name {:?}", name);
        assert!(self.functions.iter().all(|r| r.name != name), "weir: function {:?} registered twice", name);
        self.functions.push(Registered { name, side_outputs: Vec::new(), state: Vec::new(), states_id: 0, f });
        self.functions.len() - 1
    }
}

pub(crate) fn valid_name(s: &str) -> bool {
    !s.is_empty() && s.len() <= 128 && s.bytes().all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'.' | b'-'))
}

/// Makes the module's ABI exports (`weir_abi_version`, `weir_alloc`,
/// `weir_describe`, `weir_call`) around a registration function
/// `fn(&mut weir::Module)`. Use it once, in the crate built as a `cdylib`.
#[macro_export]
macro_rules! export {
    ($register:path) => {
        #[no_mangle]
        pub extern "C" fn weir_abi_version() -> i32 {
            $crate::ABI_VERSION
        }
        #[no_mangle]
        pub extern "C" fn weir_alloc(size: i32) -> i32 {
            $crate::__private::alloc($register, size)
        }
        #[no_mangle]
        pub extern "C" fn weir_describe() -> i64 {
            $crate::__private::describe($register)
        }
        #[no_mangle]
        pub extern "C" fn weir_call(kind: i32, f: i32, ptr: i32, len: i32) -> i32 {
            $crate::__private::call($register, kind, f, ptr, len)
        }
    };
}

#[doc(hidden)]
pub mod __private {
    pub use crate::abi::{alloc, call, describe};
}
