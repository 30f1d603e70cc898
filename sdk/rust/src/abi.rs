//! The guest side of ABI v1: records, outputs, the frame and the exports' bodies.

use crate::state::{reduce_one, Context};
use crate::{host, Function, Module, Registered};

const FLAG_KEY: u8 = 0x01;
const FLAG_TIMESTAMP: u8 = 0x02;
const FLAG_PAYLOAD: u8 = 0x04;
const FLAG_HEADERS: u8 = 0x08;

const CALL_OPEN: i32 = 1;
const CALL_PROCESS: i32 = 2;
const CALL_PROCESS2: i32 = 3;
const CALL_TIMER: i32 = 4;
const CALL_WINDOW: i32 = 5;
const CALL_CLOSE: i32 = 6;
const CALL_AGGREGATE: i32 = 7;
const CALL_TRIGGER: i32 = 8;
const CALL_EVICT: i32 = 9;

pub(crate) const RC_OK: i32 = 0;
const RC_ERROR: i32 = 1;
const RC_UNKNOWN_FN: i32 = 2;
pub(crate) const RC_UNSUPPORTED: i32 = 3;
pub(crate) const RC_MALFORMED: i32 = 4;

/// One input record, a view of the input buffer valid during the call.
pub struct Record<'a> {
    index: u32,
    flags: u8,
    key: &'a [u8],
    timestamp: i64,
    payload: &'a [u8],
    header_count: u32,
    headers: &'a [u8],
}

impl<'a> Record<'a> {
    /// Its index in the batch.
    pub fn index(&self) -> u32 {
        self.index
    }
    /// The payload (present in every input record, maybe empty).
    pub fn payload(&self) -> &'a [u8] {
        self.payload
    }
    /// The key, if the record has one.
    pub fn key(&self) -> Option<&'a [u8]> {
        if self.flags & FLAG_KEY != 0 {
            Some(self.key)
        } else {
            None
        }
    }
    /// The event time in ms since the Unix epoch, if the record has one.
    pub fn timestamp(&self) -> Option<i64> {
        if self.flags & FLAG_TIMESTAMP != 0 {
            Some(self.timestamp)
        } else {
            None
        }
    }
    /// The number of headers (a repeated name counts once per value).
    pub fn num_headers(&self) -> usize {
        self.header_count as usize
    }
    /// The headers as (name, value) pairs, in order.
    pub fn headers(&self) -> Headers<'a> {
        Headers { rest: self.headers, left: self.header_count }
    }
    /// The first value of header `name`.
    pub fn header(&self, name: &[u8]) -> Option<&'a [u8]> {
        self.headers().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

/// An iterator over a record's headers.
pub struct Headers<'a> {
    rest: &'a [u8],
    left: u32,
}

impl<'a> Iterator for Headers<'a> {
    type Item = (&'a [u8], &'a [u8]);
    fn next(&mut self) -> Option<Self::Item> {
        if self.left == 0 {
            return None;
        }
        self.left -= 1;
        // The record was checked when it was decoded.
        let (name, rest) = take(self.rest, 0)?;
        let (value, rest) = take(rest, 0)?;
        self.rest = rest;
        Some((name, value))
    }
}

/// A length-prefixed field at `b[off..]`: the field and what follows it.
fn take(b: &[u8], off: usize) -> Option<(&[u8], &[u8])> {
    let b = b.get(off..)?;
    if b.len() < 4 {
        return None;
    }
    let n = u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize;
    if b.len() - 4 < n {
        return None;
    }
    Some((&b[4..4 + n], &b[4 + n..]))
}

/// Decodes the record at the front of `b`; returns it and the rest.
pub(crate) fn read_record(b: &[u8], index: u32) -> Option<(Record<'_>, &[u8])> {
    let (&flags, mut rest) = b.split_first()?;
    if flags & 0xF0 != 0 {
        return None;
    }
    let mut r = Record { index, flags, key: &[], timestamp: 0, payload: &[], header_count: 0, headers: &[] };
    if flags & FLAG_KEY != 0 {
        let (k, x) = take(rest, 0)?;
        r.key = k;
        rest = x;
    }
    if flags & FLAG_TIMESTAMP != 0 {
        if rest.len() < 8 {
            return None;
        }
        let mut t = [0u8; 8];
        t.copy_from_slice(&rest[..8]);
        r.timestamp = i64::from_le_bytes(t);
        rest = &rest[8..];
    }
    if flags & FLAG_PAYLOAD != 0 {
        let (p, x) = take(rest, 0)?;
        r.payload = p;
        rest = x;
    }
    if flags & FLAG_HEADERS != 0 {
        if rest.len() < 4 {
            return None;
        }
        let n = u32::from_le_bytes([rest[0], rest[1], rest[2], rest[3]]);
        let start = &rest[4..];
        let mut x = start;
        for _ in 0..2 * (n as u64) {
            x = take(x, 0)?.1;
        }
        r.header_count = n;
        r.headers = &start[..start.len() - x.len()];
        rest = x;
    }
    Some((r, rest))
}

/// An output record. Every field not set is inherited from the input record it
/// derives from: an untouched output is the input record itself. Its buffers are
/// reused from record to record.
pub struct Output {
    tag: u32,
    flags: u8,
    key: Vec<u8>,
    timestamp: i64,
    payload: Vec<u8>,
    header_count: u32,
    headers: Vec<u8>,
}

impl Output {
    pub(crate) fn new() -> Output {
        Output { tag: 0, flags: 0, key: Vec::new(), timestamp: 0, payload: Vec::new(), header_count: 0, headers: Vec::new() }
    }
    fn reset(&mut self, tag: u32) {
        self.tag = tag;
        self.flags = 0;
    }
    /// Sets the payload to a copy of `p`.
    pub fn set_payload(&mut self, p: &[u8]) {
        self.payload_mut().extend_from_slice(p);
    }
    /// Sets the payload and returns its buffer, emptied, to write the new payload
    /// into. The buffer keeps its capacity from record to record.
    pub fn payload_mut(&mut self) -> &mut Vec<u8> {
        self.flags |= FLAG_PAYLOAD;
        self.payload.clear();
        &mut self.payload
    }
    /// Sets the key to a copy of `k`.
    pub fn set_key(&mut self, k: &[u8]) {
        self.flags |= FLAG_KEY;
        self.key.clear();
        self.key.extend_from_slice(k);
    }
    /// Sets the event time, in ms since the Unix epoch.
    pub fn set_timestamp(&mut self, ms: i64) {
        self.flags |= FLAG_TIMESTAMP;
        self.timestamp = ms;
    }
    /// Adds a header. The first call replaces every inherited header.
    pub fn add_header(&mut self, name: &[u8], value: &[u8]) {
        if self.flags & FLAG_HEADERS == 0 {
            self.clear_headers();
        }
        for f in [name, value] {
            self.headers.extend_from_slice(&(f.len() as u32).to_le_bytes());
            self.headers.extend_from_slice(f);
        }
        self.header_count += 1;
    }
    /// Gives the output no headers at all (none inherited).
    pub fn clear_headers(&mut self) {
        self.flags |= FLAG_HEADERS;
        self.headers.clear();
        self.header_count = 0;
    }
    /// Sends the output to a declared side output (tag `i + 1` for the `i`-th);
    /// 0 is the main output. Only a flat_map's outputs may go elsewhere than 0.
    pub fn set_tag(&mut self, tag: u32) {
        self.tag = tag;
    }
}

/// The outputs of a flat_map for one input record.
pub struct Collector<'f> {
    pub(crate) frame: &'f mut Frame,
    pub(crate) parent: u32,
    pub(crate) pending: bool,
    /// Set when an output left its payload unset (inherited): a window
    /// process function may not (ABI §4.6).
    pub(crate) no_payload: bool,
    pub(crate) out: &'f mut Output,
}

impl<'f> Collector<'f> {
    /// Starts a new output to the main output (finishing the previous one) and
    /// returns it: set its fields; those not set are inherited.
    pub fn emit(&mut self) -> &mut Output {
        self.emit_to(0)
    }
    /// Starts a new output to output `tag`.
    pub fn emit_to(&mut self, tag: u32) -> &mut Output {
        self.flush();
        self.out.reset(tag);
        self.pending = true;
        self.out
    }
    /// Emits an output with this payload, everything else inherited.
    pub fn emit_payload(&mut self, p: &[u8]) {
        self.flush();
        self.frame.append_payload(self.parent, p);
    }
    pub(crate) fn flush(&mut self) {
        if self.pending {
            self.no_payload |= self.out.flags & FLAG_PAYLOAD == 0;
            self.frame.append(self.parent, self.out);
            self.pending = false;
        }
    }
}

/// The output frame of the current call: u32 count, then the outputs.
pub(crate) struct Frame {
    pub(crate) buf: Vec<u8>,
    pub(crate) count: u32,
}

impl Frame {
    pub(crate) fn reset(&mut self) {
        self.buf.clear();
        self.buf.extend_from_slice(&[0; 4]);
        self.count = 0;
    }
    fn header(&mut self, parent: u32, tag: u32, flags: u8) {
        self.buf.extend_from_slice(&parent.to_le_bytes());
        self.buf.extend_from_slice(&tag.to_le_bytes());
        self.buf.push(flags);
        self.count += 1;
    }
    fn bytes(&mut self, b: &[u8]) {
        self.buf.extend_from_slice(&(b.len() as u32).to_le_bytes());
        self.buf.extend_from_slice(b);
    }
    /// An output that inherits everything: the input record itself.
    fn append_kept(&mut self, parent: u32) {
        self.header(parent, 0, 0);
    }
    /// A timestamp extractor's output: TIMESTAMP or nothing, and an 8-byte
    /// watermark as payload after a punctuation (ABI §4).
    pub(crate) fn append_extracted(&mut self, parent: u32, time: Option<i64>, watermark: Option<i64>) {
        let mut flags = 0;
        if time.is_some() {
            flags |= FLAG_TIMESTAMP;
        }
        if watermark.is_some() {
            flags |= FLAG_PAYLOAD;
        }
        self.header(parent, 0, flags);
        if let Some(t) = time {
            self.buf.extend_from_slice(&t.to_le_bytes());
        }
        if let Some(w) = watermark {
            self.bytes(&w.to_le_bytes());
        }
    }
    pub(crate) fn append_payload(&mut self, parent: u32, p: &[u8]) {
        self.buf.reserve(13 + p.len());
        self.header(parent, 0, FLAG_PAYLOAD);
        self.bytes(p);
    }
    /// A key_selector's output: flags KEY only, the rest inherited (ABI §4).
    fn append_key(&mut self, parent: u32, key: &[u8]) {
        self.buf.reserve(13 + key.len());
        self.header(parent, 0, FLAG_KEY);
        self.bytes(key);
    }
    fn append(&mut self, parent: u32, o: &Output) {
        self.header(parent, o.tag, o.flags);
        if o.flags & FLAG_KEY != 0 {
            self.bytes(&o.key);
        }
        if o.flags & FLAG_TIMESTAMP != 0 {
            self.buf.extend_from_slice(&o.timestamp.to_le_bytes());
        }
        if o.flags & FLAG_PAYLOAD != 0 {
            self.bytes(&o.payload);
        }
        if o.flags & FLAG_HEADERS != 0 {
            self.buf.extend_from_slice(&o.header_count.to_le_bytes());
            self.buf.extend_from_slice(&o.headers);
        }
    }
    /// Emits the frame even when it has no output (an aggregate call with no
    /// group still answers).
    pub(crate) fn emit_always(&mut self) {
        let c = self.count.to_le_bytes();
        self.buf[..4].copy_from_slice(&c);
        host::emit(&self.buf);
    }
    pub(crate) fn emit(&mut self) {
        if self.count > 0 {
            let c = self.count.to_le_bytes();
            self.buf[..4].copy_from_slice(&c);
            host::emit(&self.buf);
        }
    }
}

/// Everything the guest keeps across calls. The host calls an instance from one
/// thread, one call at a time.
struct State {
    module: Module,
    input: Vec<u8>,
    frame: Frame,
    out: Output,
    scratch: Scratch,
    description: Vec<u8>,
}

/// The buffers of the state calls, kept across calls so that they only grow.
#[derive(Default)]
pub(crate) struct Scratch {
    /// State reads (a value, a map entry).
    state: Vec<u8>,
    /// Entries of state_iter.
    iter: Vec<u8>,
    /// A reduce function's running value; an aggregate call's accumulator.
    acc: Vec<u8>,
    /// An aggregate's result; an evictor's output payload.
    result: Vec<u8>,
    /// The indexes an evictor evicts from a window.
    evicted: Vec<u32>,
}

impl Scratch {
    /// The context of record (or fired timer) `record` of a process function.
    pub(crate) fn context<'f>(&'f mut self, frame: &'f mut Frame, out: &'f mut Output, record: u32, states: u32) -> Context<'f> {
        Context {
            out: Collector { frame, parent: record, pending: false, no_payload: false, out },
            record,
            states,
            buf: &mut self.state,
            iter_buf: &mut self.iter,
        }
    }
}

static mut STATE: Option<State> = None;

fn state(register: fn(&mut Module)) -> &'static mut State {
    // Safety: a Wasm instance is single-threaded and the host never reenters it.
    unsafe {
        if STATE.is_none() {
            // A panic aborts (a trap); its message goes to the worker's log first
            // and, with WASI, to stderr as a "panic: " line, which the host puts
            // in the task's failure message.
            std::panic::set_hook(Box::new(|info| {
                let msg = info.to_string();
                host::log(3, msg.as_bytes());
                #[cfg(target_os = "wasi")]
                {
                    use std::io::Write;
                    let _ = writeln!(std::io::stderr(), "panic: {}", msg);
                }
            }));
            let mut module = Module { functions: Vec::new() };
            register(&mut module);
            STATE = Some(State {
                module,
                input: Vec::new(),
                frame: Frame { buf: Vec::new(), count: 0 },
                out: Output::new(),
                scratch: Scratch::default(),
                description: Vec::new(),
            });
        }
        STATE.as_mut().unwrap()
    }
}

/// `weir_alloc`: replaces the input buffer by one of at least `size` bytes.
pub fn alloc(register: fn(&mut Module), size: i32) -> i32 {
    if size < 0 {
        return 0;
    }
    let st = state(register);
    st.input = Vec::new(); // the host no longer uses the old buffer: free it first
    let n = size.max(1) as usize;
    let mut v = Vec::new();
    if v.try_reserve_exact(n).is_err() {
        return 0;
    }
    v.resize(n, 0);
    st.input = v;
    st.input.as_ptr() as usize as i32
}

/// `weir_describe`: the description (ABI §2), built once.
pub fn describe(register: fn(&mut Module)) -> i64 {
    let st = state(register);
    if st.description.is_empty() {
        write_description(&st.module, &mut st.description);
    }
    ((st.description.as_ptr() as usize as u64) << 32 | st.description.len() as u64) as i64
}

/// Writes the description of the module's functions (ABI §2) into `d`.
pub(crate) fn write_description(module: &Module, d: &mut Vec<u8>) {
    d.extend_from_slice(b"{\"abi_version\":1,\"sdk\":\"rust/");
    d.extend_from_slice(crate::VERSION.as_bytes());
    d.extend_from_slice(b"\",\"functions\":[");
    for (i, f) in module.functions.iter().enumerate() {
        if i > 0 {
            d.push(b',');
        }
        let kind: &[u8] = match f.f {
            Function::Map(_) => b"map",
            Function::Filter(_) => b"filter",
            Function::FlatMap(_) => b"flat_map",
            Function::KeySelector(_) => b"key_selector",
            Function::Process(_) => b"process",
            Function::Reduce(_) => b"reduce",
            Function::Aggregate(_) => b"aggregate",
            Function::WindowProcess(_) => b"window_process",
            Function::Timestamp(_) => b"timestamp_extractor",
            Function::CoProcess(_) => b"co_process",
            Function::Trigger(_) => b"trigger",
            Function::Evictor(_) => b"evictor",
        };
        d.extend_from_slice(b"{\"name\":\"");
        d.extend_from_slice(f.name.as_bytes());
        d.extend_from_slice(b"\",\"kind\":\"");
        d.extend_from_slice(kind);
        d.extend_from_slice(b"\",\"index\":");
        crate::json::append_i64(d, i as i64);
        d.extend_from_slice(b",\"side_outputs\":[");
        for (k, s) in f.side_outputs.iter().enumerate() {
            if k > 0 {
                d.push(b',');
            }
            d.push(b'"');
            d.extend_from_slice(s.as_bytes());
            d.push(b'"');
        }
        d.extend_from_slice(b"],\"state\":[");
        for (k, s) in f.state.iter().enumerate() {
            if k > 0 {
                d.push(b',');
            }
            d.extend_from_slice(b"{\"name\":\"");
            d.extend_from_slice(s.name.as_bytes());
            d.extend_from_slice(b"\",\"kind\":\"");
            d.extend_from_slice(s.kind.name().as_bytes());
            d.extend_from_slice(b"\",\"ttl_ms\":");
            crate::json::append_i64(d, s.ttl_ms.min(i64::MAX as u64) as i64);
            d.push(b'}');
        }
        d.extend_from_slice(b"]}");
    }
    d.extend_from_slice(b"]}");
}

pub(crate) fn fail(e: crate::Error) -> i32 {
    let msg = if e.message().is_empty() { "error without a message" } else { e.message() };
    host::error(msg.as_bytes());
    RC_ERROR
}

/// `weir_call`.
pub fn call(register: fn(&mut Module), kind: i32, f: i32, ptr: i32, len: i32) -> i32 {
    let st = state(register);
    // The host passes only input inside the buffer weir_alloc returned.
    let base = st.input.as_ptr() as usize;
    let (ptr, len) = (ptr as u32 as usize, len as u32 as usize);
    let input: &[u8] = if len == 0 {
        &[]
    } else if ptr >= base && ptr - base <= st.input.len() && len <= st.input.len() - (ptr - base) {
        &st.input[ptr - base..ptr - base + len]
    } else {
        return RC_MALFORMED;
    };
    dispatch(&mut st.module.functions, kind, f, input, &mut st.frame, &mut st.out, &mut st.scratch)
}

/// Whether a function of this kind takes call kind `kind` (ABI §4, the call-kind
/// table): every other call is answered 3 before its input is read.
fn takes(f: &Function, kind: i32) -> bool {
    match kind {
        CALL_OPEN | CALL_CLOSE => true,
        CALL_PROCESS => !matches!(
            f,
            Function::Aggregate(_) | Function::WindowProcess(_) | Function::Trigger(_) | Function::Evictor(_)
        ),
        CALL_PROCESS2 => matches!(f, Function::CoProcess(_)),
        CALL_TIMER => match f {
            Function::Process(p) => p.has_timers(),
            Function::CoProcess(p) => p.has_timers(),
            _ => false,
        },
        CALL_WINDOW => matches!(f, Function::WindowProcess(_)),
        CALL_AGGREGATE => matches!(f, Function::Aggregate(_) | Function::Reduce(_)),
        CALL_TRIGGER => matches!(f, Function::Trigger(_)),
        CALL_EVICT => matches!(f, Function::Evictor(_)),
        _ => false,
    }
}

/// The body of `weir_call` once the input is located: function `f` of
/// `functions` answers call `kind` with the module's reused buffers.
pub(crate) fn dispatch(
    functions: &mut [Registered],
    kind: i32,
    f: i32,
    input: &[u8],
    frame: &mut Frame,
    out: &mut Output,
    scratch: &mut Scratch,
) -> i32 {
    let func: &mut Registered = match functions.get_mut(f as u32 as usize) {
        Some(func) if f >= 0 => func,
        _ => return RC_UNKNOWN_FN,
    };
    if !takes(&func.f, kind) {
        return RC_UNSUPPORTED;
    }
    match kind {
        CALL_OPEN => {
            if !crate::json::valid_object(input) {
                return RC_MALFORMED;
            }
            let r = match &mut func.f {
                Function::Map(m) => m.open(input),
                Function::Filter(m) => m.open(input),
                Function::FlatMap(m) => m.open(input),
                Function::KeySelector(m) => m.open(input),
                Function::Process(m) => m.open(input),
                Function::Reduce(m) => m.open(input),
                Function::Aggregate(m) => m.open(input),
                Function::WindowProcess(m) => m.open(input),
                Function::Timestamp(m) => m.open(input),
                Function::CoProcess(m) => m.open(input),
                Function::Trigger(m) => m.open(input),
                Function::Evictor(m) => m.open(input),
            };
            r.map_or_else(fail, |_| RC_OK)
        }
        CALL_PROCESS => process(&mut func.f, Input::First, func.states_id, input, frame, out, scratch),
        CALL_PROCESS2 => process(&mut func.f, Input::Second, func.states_id, input, frame, out, scratch),
        CALL_TIMER => match &mut func.f {
            Function::Process(m) => crate::window::timers(m.as_mut(), func.states_id, input, frame, out, scratch),
            Function::CoProcess(m) => {
                let m = m.as_mut();
                let mut on_timer = |t: &crate::Timer, ctx: &mut Context| m.on_timer(t, ctx);
                crate::window::fire_timers(&mut on_timer, func.states_id, input, frame, out, scratch)
            }
            _ => RC_UNSUPPORTED,
        },
        CALL_AGGREGATE => {
            let folder = match &mut func.f {
                Function::Aggregate(m) => crate::window::Folder::Aggregate(m.as_mut()),
                Function::Reduce(m) => crate::window::Folder::Reduce(m.as_mut()),
                _ => return RC_UNSUPPORTED,
            };
            crate::window::aggregates(folder, input, frame, &mut scratch.acc, &mut scratch.result)
        }
        CALL_WINDOW => match &mut func.f {
            Function::WindowProcess(m) => crate::window::windows(m.as_mut(), input, frame, out),
            _ => RC_UNSUPPORTED,
        },
        CALL_TRIGGER => match &mut func.f {
            Function::Trigger(m) => crate::trigger::triggers(m.as_mut(), input, frame),
            _ => RC_UNSUPPORTED,
        },
        CALL_EVICT => match &mut func.f {
            Function::Evictor(m) => {
                crate::evictor::evictions(m.as_mut(), input, frame, &mut scratch.evicted, &mut scratch.result)
            }
            _ => RC_UNSUPPORTED,
        },
        CALL_CLOSE => {
            if !input.is_empty() {
                return RC_MALFORMED;
            }
            let r = match &mut func.f {
                Function::Map(m) => m.close(),
                Function::Filter(m) => m.close(),
                Function::FlatMap(m) => m.close(),
                Function::KeySelector(m) => m.close(),
                Function::Process(m) => m.close(),
                Function::Reduce(m) => m.close(),
                Function::Aggregate(m) => m.close(),
                Function::WindowProcess(m) => m.close(),
                Function::Timestamp(m) => m.close(),
                Function::CoProcess(m) => m.close(),
                Function::Trigger(m) => m.close(),
                Function::Evictor(m) => m.close(),
            };
            r.map_or_else(fail, |_| RC_OK)
        }
        _ => RC_UNSUPPORTED,
    }
}

/// Which input of the function a batch comes from: the second only for a
/// co_process function's `process2` calls (ABI §4.7).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Input {
    First,
    Second,
}

/// Runs `f` over one batch frame and emits all its outputs at once. Nothing is
/// emitted when the batch is malformed or the function fails.
fn process(f: &mut Function, from: Input, states: u32, input: &[u8], frame: &mut Frame, out: &mut Output, scratch: &mut Scratch) -> i32 {
    if input.len() < 4 {
        return RC_MALFORMED;
    }
    let count = u32::from_le_bytes([input[0], input[1], input[2], input[3]]);
    let mut rest = &input[4..];
    // Every record takes at least its flags byte.
    if count as usize > rest.len() {
        return RC_MALFORMED;
    }
    frame.reset();
    for i in 0..count {
        let (r, next) = match read_record(rest, i) {
            Some(x) => x,
            None => return RC_MALFORMED,
        };
        rest = next;
        match f {
            Function::Map(m) => {
                out.reset(0);
                if let Err(e) = m.map(&r, out) {
                    return fail(e);
                }
                out.tag = 0; // a map's output is its main output
                if out.flags == FLAG_PAYLOAD {
                    frame.append_payload(i, &out.payload);
                } else {
                    frame.append(i, out);
                }
            }
            Function::Filter(m) => match m.filter(&r) {
                Ok(true) => frame.append_kept(i),
                Ok(false) => {}
                Err(e) => return fail(e),
            },
            Function::FlatMap(m) => {
                let mut c = Collector { frame: &mut *frame, parent: i, pending: false, no_payload: false, out: &mut *out };
                if let Err(e) = m.flat_map(&r, &mut c) {
                    return fail(e);
                }
                c.flush();
            }
            Function::KeySelector(m) => {
                // The key is written into the reused output's key buffer, then
                // framed as an output with flags KEY and nothing else.
                out.key.clear();
                if let Err(e) = m.key(&r, &mut out.key) {
                    return fail(e);
                }
                frame.append_key(i, &out.key);
            }
            Function::Process(m) => {
                let mut ctx = scratch.context(&mut *frame, &mut *out, i, states);
                if let Err(e) = m.process(&r, &mut ctx) {
                    return fail(e);
                }
                ctx.out.flush();
            }
            Function::CoProcess(m) => {
                let mut ctx = scratch.context(&mut *frame, &mut *out, i, states);
                let res = match from {
                    Input::First => m.process1(&r, &mut ctx),
                    Input::Second => m.process2(&r, &mut ctx),
                };
                if let Err(e) = res {
                    return fail(e);
                }
                ctx.out.flush();
            }
            Function::Reduce(m) => {
                if let Err(e) = reduce_one(m.as_mut(), i, r.payload(), &mut scratch.acc) {
                    return fail(e);
                }
                frame.append_payload(i, &scratch.acc);
            }
            Function::Timestamp(m) => match m.extract(&r) {
                Ok(e) => crate::window::extracted(frame, i, e),
                Err(e) => return fail(e),
            },
            Function::Aggregate(_) | Function::WindowProcess(_) | Function::Trigger(_) | Function::Evictor(_) => {
                return RC_UNSUPPORTED
            }
        }
    }
    if !rest.is_empty() {
        return RC_MALFORMED;
    }
    frame.emit();
    RC_OK
}

/// Runs function `f` over one batch frame as a `process` call does, with fresh
/// buffers; returns the return code and the output frame (count included).
#[cfg(test)]
pub(crate) fn run_batch(f: &mut Function, states: u32, input: &[u8], scratch: &mut Scratch) -> (i32, Vec<u8>) {
    let mut frame = Frame { buf: Vec::new(), count: 0 };
    let mut out = Output::new();
    let rc = process(f, Input::First, states, input, &mut frame, &mut out, scratch);
    if frame.buf.len() >= 4 {
        let c = frame.count.to_le_bytes();
        frame.buf[..4].copy_from_slice(&c);
    }
    (rc, frame.buf)
}
