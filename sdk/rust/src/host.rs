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
pub fn emit(_frame: &[u8]) {}

#[cfg(not(target_arch = "wasm32"))]
pub fn error(msg: &[u8]) {
    eprintln!("weir.error: {}", String::from_utf8_lossy(msg));
}

#[cfg(not(target_arch = "wasm32"))]
pub fn log(level: i32, msg: &[u8]) {
    eprintln!("weir.log {}: {}", level, String::from_utf8_lossy(msg));
}
