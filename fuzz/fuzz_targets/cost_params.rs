#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    servemath_fuzz::cost::params(data);
});
