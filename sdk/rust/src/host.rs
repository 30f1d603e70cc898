//! The `weir` imports, and stand-ins outside WebAssembly so that the crate builds
//! and its pure parts test natively.

#[cfg(target_arch = "wasm32")]
mod imports {
    #[link(wasm_import_module = "weir")]
    extern "C" {
        #[link_name = "emit"]
        pub fn emit(ptr: *const u8, len: usize);
        #[link_name = "error"]
        pub fn error(ptr: *const u8, len: usize);
        #[link_name = "log"]
        pub fn log(level: i32, ptr: *const u8, len: usize);
    }
}

#[cfg(target_arch = "wasm32")]
pub fn emit(frame: &[u8]) {
    unsafe { imports::emit(frame.as_ptr(), frame.len()) }
}

#[cfg(target_arch = "wasm32")]
pub fn error(msg: &[u8]) {
    unsafe { imports::error(msg.as_ptr(), msg.len()) }
}

#[cfg(target_arch = "wasm32")]
pub fn log(level: i32, msg: &[u8]) {
    unsafe { imports::log(level, msg.as_ptr(), msg.len()) }
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    /// The frames `emit` was given on this thread, for native tests.
    pub static EMITTED: std::cell::RefCell<Vec<Vec<u8>>> = std::cell::RefCell::new(Vec::new());
}

#[cfg(not(target_arch = "wasm32"))]
pub fn emit(frame: &[u8]) {
    EMITTED.with(|e| e.borrow_mut().push(frame.to_vec()));
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    /// The last message `error` was given on this thread, for native tests.
    pub static LAST_ERROR: std::cell::RefCell<String> = std::cell::RefCell::new(String::new());
}

#[cfg(not(target_arch = "wasm32"))]
pub fn error(msg: &[u8]) {
    eprintln!("weir.error: {}", String::from_utf8_lossy(msg));
    LAST_ERROR.with(|e| *e.borrow_mut() = String::from_utf8_lossy(msg).into_owned());
}

#[cfg(not(target_arch = "wasm32"))]
pub fn log(level: i32, msg: &[u8]) {
    eprintln!("weir.log {}: {}", level, String::from_utf8_lossy(msg));
}

// The keyed-state imports (ABI §4.2) and weir.task_info (§4.3). Out buffers are
// passed by their whole length: the host writes at most that many bytes and
// returns the value's length either way.

#[cfg(target_arch = "wasm32")]
mod state_imports {
    #[link(wasm_import_module = "weir")]
    extern "C" {
        #[link_name = "state_get"]
        pub fn state_get(state: u32, record: u32, sub: *const u8, sub_len: usize, out: *mut u8, out_cap: usize) -> i32;
        #[link_name = "state_put"]
        pub fn state_put(state: u32, record: u32, sub: *const u8, sub_len: usize, val: *const u8, val_len: usize) -> i32;
        #[link_name = "state_append"]
        pub fn state_append(state: u32, record: u32, val: *const u8, val_len: usize) -> i32;
        #[link_name = "state_delete"]
        pub fn state_delete(state: u32, record: u32, sub: *const u8, sub_len: usize) -> i32;
        #[link_name = "state_iter"]
        pub fn state_iter(state: u32, record: u32, cursor: u32, out: *mut u8, out_cap: usize) -> i32;
        #[link_name = "task_info"]
        pub fn task_info(out: *mut u8, out_cap: usize) -> i32;
    }
}

#[cfg(target_arch = "wasm32")]
pub fn state_get(state: u32, record: u32, sub: &[u8], out: &mut [u8]) -> i32 {
    unsafe { state_imports::state_get(state, record, sub.as_ptr(), sub.len(), out.as_mut_ptr(), out.len()) }
}

#[cfg(target_arch = "wasm32")]
pub fn state_put(state: u32, record: u32, sub: &[u8], val: &[u8]) -> i32 {
    unsafe { state_imports::state_put(state, record, sub.as_ptr(), sub.len(), val.as_ptr(), val.len()) }
}

#[cfg(target_arch = "wasm32")]
pub fn state_append(state: u32, record: u32, val: &[u8]) -> i32 {
    unsafe { state_imports::state_append(state, record, val.as_ptr(), val.len()) }
}

#[cfg(target_arch = "wasm32")]
pub fn state_delete(state: u32, record: u32, sub: &[u8]) -> i32 {
    unsafe { state_imports::state_delete(state, record, sub.as_ptr(), sub.len()) }
}

#[cfg(target_arch = "wasm32")]
pub fn state_iter(state: u32, record: u32, cursor: u32, out: &mut [u8]) -> i32 {
    unsafe { state_imports::state_iter(state, record, cursor, out.as_mut_ptr(), out.len()) }
}

#[cfg(target_arch = "wasm32")]
pub fn task_info(out: &mut [u8]) -> i32 {
    unsafe { state_imports::task_info(out.as_mut_ptr(), out.len()) }
}

/// The host side of the state imports and task_info, as a native test fakes it.
#[cfg(not(target_arch = "wasm32"))]
pub trait TestHost {
    fn state_get(&mut self, state: u32, record: u32, sub: &[u8], out: &mut [u8]) -> i32;
    fn state_put(&mut self, state: u32, record: u32, sub: &[u8], val: &[u8]) -> i32;
    fn state_append(&mut self, state: u32, record: u32, val: &[u8]) -> i32;
    fn state_delete(&mut self, state: u32, record: u32, sub: &[u8]) -> i32;
    fn state_iter(&mut self, state: u32, record: u32, cursor: u32, out: &mut [u8]) -> i32;
    fn task_info(&mut self, out: &mut [u8]) -> i32;
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    /// The test host of this thread; without one, the state imports answer
    /// UNSUPPORTED (-2), as a host without keyed state does, and task_info "{}".
    pub static TEST_HOST: std::cell::RefCell<Option<Box<dyn TestHost>>> = std::cell::RefCell::new(None);
}

#[cfg(not(target_arch = "wasm32"))]
fn with_test_host<F: FnOnce(&mut dyn TestHost) -> i32>(f: F) -> Option<i32> {
    TEST_HOST.with(|h| h.borrow_mut().as_mut().map(|h| f(h.as_mut())))
}

#[cfg(not(target_arch = "wasm32"))]
pub fn state_get(state: u32, record: u32, sub: &[u8], out: &mut [u8]) -> i32 {
    with_test_host(|h| h.state_get(state, record, sub, out)).unwrap_or(-2)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn state_put(state: u32, record: u32, sub: &[u8], val: &[u8]) -> i32 {
    with_test_host(|h| h.state_put(state, record, sub, val)).unwrap_or(-2)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn state_append(state: u32, record: u32, val: &[u8]) -> i32 {
    with_test_host(|h| h.state_append(state, record, val)).unwrap_or(-2)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn state_delete(state: u32, record: u32, sub: &[u8]) -> i32 {
    with_test_host(|h| h.state_delete(state, record, sub)).unwrap_or(-2)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn state_iter(state: u32, record: u32, cursor: u32, out: &mut [u8]) -> i32 {
    with_test_host(|h| h.state_iter(state, record, cursor, out)).unwrap_or(-2)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn task_info(out: &mut [u8]) -> i32 {
    with_test_host(|h| h.task_info(out)).unwrap_or_else(|| {
        if out.len() >= 2 {
            out[..2].copy_from_slice(b"{}");
        }
        2
    })
}

// The timer and time imports (ABI §4.4).

#[cfg(target_arch = "wasm32")]
mod timer_imports {
    #[link(wasm_import_module = "weir")]
    extern "C" {
        #[link_name = "timer_register"]
        pub fn timer_register(domain: i32, record: u32, time: i64) -> i32;
        #[link_name = "timer_delete"]
        pub fn timer_delete(domain: i32, record: u32, time: i64) -> i32;
        #[link_name = "current_watermark"]
        pub fn current_watermark() -> i64;
        #[link_name = "current_time"]
        pub fn current_time() -> i64;
    }
}

#[cfg(target_arch = "wasm32")]
pub fn timer_register(domain: i32, record: u32, time: i64) -> i32 {
    unsafe { timer_imports::timer_register(domain, record, time) }
}

#[cfg(target_arch = "wasm32")]
pub fn timer_delete(domain: i32, record: u32, time: i64) -> i32 {
    unsafe { timer_imports::timer_delete(domain, record, time) }
}

#[cfg(target_arch = "wasm32")]
pub fn current_watermark() -> i64 {
    unsafe { timer_imports::current_watermark() }
}

#[cfg(target_arch = "wasm32")]
pub fn current_time() -> i64 {
    unsafe { timer_imports::current_time() }
}

#[cfg(not(target_arch = "wasm32"))]
thread_local! {
    /// The timer imports a native test saw: (register?, domain, record, time).
    pub static TIMER_CALLS: std::cell::RefCell<Vec<(bool, i32, u32, i64)>> = std::cell::RefCell::new(Vec::new());
    /// What the fake timer imports return (0, or -2 / -3 to test their errors).
    pub static TIMER_RC: std::cell::Cell<i32> = std::cell::Cell::new(0);
    /// The fake clocks: (current_watermark, current_time).
    pub static CLOCKS: std::cell::Cell<(i64, i64)> = std::cell::Cell::new((7, 42));
}

#[cfg(not(target_arch = "wasm32"))]
pub fn timer_register(domain: i32, record: u32, time: i64) -> i32 {
    TIMER_CALLS.with(|c| c.borrow_mut().push((true, domain, record, time)));
    TIMER_RC.with(|r| r.get())
}

#[cfg(not(target_arch = "wasm32"))]
pub fn timer_delete(domain: i32, record: u32, time: i64) -> i32 {
    TIMER_CALLS.with(|c| c.borrow_mut().push((false, domain, record, time)));
    TIMER_RC.with(|r| r.get())
}

#[cfg(not(target_arch = "wasm32"))]
pub fn current_watermark() -> i64 {
    CLOCKS.with(|c| c.get().0)
}

#[cfg(not(target_arch = "wasm32"))]
pub fn current_time() -> i64 {
    CLOCKS.with(|c| c.get().1)
}
