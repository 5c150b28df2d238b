#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    servemath_fuzz::app::request_text(data);
});
