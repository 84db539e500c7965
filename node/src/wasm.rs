//! WebAssembly only (the `wasm32-wasip1-threads` fallback build).
//!
//! Under emnapi a typed array JavaScript passes in is *copied* into wasm
//! memory for the call; what the engine writes there does not reach the
//! JavaScript array unless it is copied back. `lib/native.js` calls
//! [`wasm_sync_back`] on each typed-array argument after every engine method
//! when the WebAssembly engine is loaded. The native builds do not have it.

use napi::bindgen_prelude::{Env, Result, Unknown};
use napi::{check_status, sys, JsValue};
use napi_derive::napi;

extern "C" {
    fn emnapi_sync_memory(
        env: sys::napi_env,
        js_to_wasm: bool,
        arraybuffer_or_view: *mut sys::napi_value,
        byte_offset: usize,
        length: usize,
    ) -> sys::napi_status;
}

/// Copies the wasm-side copy of the typed array `view` (made when it was
/// last passed to an engine method) back into the JavaScript array.
/// Taken as an untyped value: reading it as a typed array would first copy
/// JavaScript's stale contents over what the engine wrote.
#[napi(js_name = "wasmSyncBack")]
pub fn wasm_sync_back(env: Env, view: Unknown<'_>) -> Result<()> {
    let mut raw = view.value().value;
    // SAFETY: `raw` is a live argument of this call on the JS thread; emnapi
    // checks that it is an ArrayBuffer or a view it has a wasm copy of.
    check_status!(
        unsafe { emnapi_sync_memory(env.raw(), false, &mut raw, 0, usize::MAX) },
        "fusewire: could not copy the io buffer back from WebAssembly memory"
    )
}
